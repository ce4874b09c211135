// Package rundir keeps the files of an eval run directory safe to resume:
// append-only JSONL journals whose every record is written with one write
// and an fsync (a run killed at any moment loses at most the record being
// written, and a torn last line is dropped on reopen), an exclusive lock so
// two runs never share a directory, and atomic replacement of derived files.
package rundir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// MaxLine bounds one journal line (a record larger than this is refused on
// write and reported on read).
const MaxLine = 64 << 20

// Journal is an append-only JSONL file of records of type T, each with a
// unique key. It is not safe for concurrent use.
type Journal[T any] struct {
	path string
	f    *os.File
	key  func(*T) string
	keys map[string]int // key → index in the records read or appended
	recs []T
}

// OpenJournal opens (creating it if needed) the journal at path, drops a
// torn last line left by a killed writer (truncating the file to its last
// newline), and reads every record. A complete line that does not parse is
// an error naming the file and line; a repeated key keeps the first record
// and is logged.
func OpenJournal[T any](path string, key func(*T) string, log *slog.Logger) (*Journal[T], error) {
	if log == nil {
		log = slog.Default()
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal[T]{path: path, f: f, key: key, keys: map[string]int{}}
	if err := j.load(log); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

func (j *Journal[T]) load(log *slog.Logger) error {
	st, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if st.Size() > 1<<34 {
		return fmt.Errorf("journal %s: %d bytes, larger than the 16 GiB this reader accepts", j.path, st.Size())
	}
	data, err := io.ReadAll(j.f)
	if err != nil {
		return fmt.Errorf("journal %s: read: %w", j.path, err)
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	if end < len(data) {
		log.Warn("dropping the torn last line of a journal (the previous run was killed while writing it)",
			"file", j.path, "bytes", len(data)-end)
		if err := j.f.Truncate(int64(end)); err != nil {
			return fmt.Errorf("journal %s: truncate the torn last line: %w", j.path, err)
		}
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("journal %s: sync: %w", j.path, err)
		}
		data = data[:end]
	}
	line := 0
	for len(data) > 0 {
		line++
		i := bytes.IndexByte(data, '\n')
		raw := data[:i]
		data = data[i+1:]
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var rec T
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("journal %s line %d: %w", j.path, line, err)
		}
		k := j.key(&rec)
		if _, dup := j.keys[k]; dup {
			log.Warn("journal holds a repeated record; keeping the first", "file", j.path, "line", line, "key", k)
			continue
		}
		j.keys[k] = len(j.recs)
		j.recs = append(j.recs, rec)
	}
	if _, err := j.f.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

// Path is the journal's file.
func (j *Journal[T]) Path() string { return j.path }

// Records returns every record, in file order (the slice is shared; do not
// modify it).
func (j *Journal[T]) Records() []T { return j.recs }

// Len counts the records.
func (j *Journal[T]) Len() int { return len(j.recs) }

// Get returns the record with key k.
func (j *Journal[T]) Get(k string) (T, bool) {
	i, ok := j.keys[k]
	if !ok {
		var zero T
		return zero, false
	}
	return j.recs[i], true
}

// Has reports whether a record with key k exists.
func (j *Journal[T]) Has(k string) bool {
	_, ok := j.keys[k]
	return ok
}

// ErrDuplicate is returned by Append for a key already in the journal.
var ErrDuplicate = errors.New("journal: record already present")

// Append writes rec as one line with a single write call and syncs the file
// before returning, so a record is either wholly in the journal or (after a
// kill mid-write) a torn line that the next OpenJournal drops.
func (j *Journal[T]) Append(rec T) error {
	k := j.key(&rec)
	if _, dup := j.keys[k]; dup {
		return fmt.Errorf("%w: %s in %s", ErrDuplicate, k, j.path)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("journal %s: encode %s: %w", j.path, k, err)
	}
	if len(b)+1 > MaxLine {
		return fmt.Errorf("journal %s: record %s is %d bytes, more than %d", j.path, k, len(b), MaxLine)
	}
	b = append(b, '\n')
	n, err := j.f.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("journal %s: write %s: %w", j.path, k, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: sync: %w", j.path, err)
	}
	j.keys[k] = len(j.recs)
	j.recs = append(j.recs, rec)
	return nil
}

// Close closes the file.
func (j *Journal[T]) Close() error { return j.f.Close() }

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, synced and renamed over path, so a reader never sees a half
// written file.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
