package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PartSuffix ends the name of a file being downloaded. Such a file is never
// read as a model; it is resumed by the next pull.
const PartSuffix = ".part"

// interruptedErr is a transfer that stopped before the end; what was
// received stays in the .part file for the next attempt.
type interruptedErr struct {
	file     string
	got, all int64
	err      error
}

// Error says how far the transfer got and that a pull resumes it.
func (e *interruptedErr) Error() string {
	all := "?"
	if e.all >= 0 {
		all = strconv.FormatInt(e.all, 10)
	}
	return fmt.Sprintf("hub: download of %s interrupted after %d of %s bytes (run the pull again to resume): %v", e.file, e.got, all, e.err)
}

// Unwrap returns the transfer error.
func (e *interruptedErr) Unwrap() error { return e.err }

// download fetches e into dest through dest.part: resuming a .part left by
// an earlier attempt, retrying interrupted transfers c.retries times, then
// verifying size and checksum before renaming. A file that fails
// verification is deleted.
func (c *Client) download(ctx context.Context, ref Ref, commit string, e fileEntry, dest string) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	part := dest + PartSuffix
	u := c.fileURL(ref.Repo, commit, e.Path)
	delay := c.retryDelay
	for attempt := 0; ; attempt++ {
		err := c.fetch(ctx, ref, u, part, e)
		if err == nil {
			break
		}
		if !retryable(err) || attempt >= c.retries || ctx.Err() != nil {
			return err
		}
		c.log.Debug("hub: retrying download", "file", e.Path, "attempt", attempt+1, "err", err)
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("hub: download of %s: %w", e.Path, ctx.Err())
			case <-t.C:
			}
			delay *= 2
		}
	}
	if err := verify(part, e); err != nil {
		os.Remove(part)
		return err
	}
	if err := os.Rename(part, dest); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	return nil
}

// fetch runs one transfer of u into part, from part's current size on.
func (c *Client) fetch(ctx context.Context, ref Ref, u, part string, e fileEntry) error {
	var off int64
	if st, err := os.Stat(part); err == nil {
		off = st.Size()
	}
	if e.Size >= 0 && off > e.Size {
		off = 0 // longer than the file: not a prefix of it
	}
	if e.Size >= 0 && off == e.Size && off > 0 {
		return nil // all there; verify decides
	}
	// identity: byte offsets must be those of the file, not of an encoding.
	hdr := http.Header{"Accept-Encoding": {"identity"}}
	if off > 0 {
		hdr.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	r := ref
	r.File = e.Path
	resp, err := c.request(ctx, http.MethodGet, u, hdr, r, "download "+ref.Repo+"/"+e.Path)
	var se *statusErr
	if errors.As(err, &se) && se.code == http.StatusRequestedRangeNotSatisfiable {
		// The .part does not fit the file: start over.
		os.Remove(part)
		off = 0
		hdr.Del("Range")
		resp, err = c.request(ctx, http.MethodGet, u, hdr, r, "download "+ref.Repo+"/"+e.Path)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != off {
			return fmt.Errorf("hub: download %s: asked for bytes from %d, got Content-Range %q", e.Path, off, resp.Header.Get("Content-Range"))
		}
		if e.Size >= 0 && total >= 0 && total != e.Size {
			return fmt.Errorf("hub: download %s: the server holds %d bytes, the listing says %d", e.Path, total, e.Size)
		}
	case http.StatusOK:
		off = 0
	default:
		return fmt.Errorf("hub: download %s: unexpected status %s", e.Path, resp.Status)
	}
	size := e.Size
	if size < 0 && resp.ContentLength >= 0 {
		size = off + resp.ContentLength
	}
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if err := f.Truncate(off); err != nil {
		f.Close()
		return fmt.Errorf("hub: %w", err)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("hub: %w", err)
	}
	bar := newBar(c.progress, e.Path, size, off)
	var src io.Reader = resp.Body
	if size >= 0 {
		src = io.LimitReader(resp.Body, size-off+1) // one more byte shows an overlong body
	}
	n, copyErr := io.Copy(f, io.TeeReader(src, bar))
	syncErr := f.Sync()
	closeErr := f.Close()
	got := off + n
	switch {
	case copyErr != nil:
		bar.end("interrupted")
		if ctx.Err() != nil {
			return fmt.Errorf("hub: download of %s: %w", e.Path, ctx.Err())
		}
		return &interruptedErr{file: e.Path, got: got, all: size, err: copyErr}
	case syncErr != nil || closeErr != nil:
		bar.end("failed")
		return fmt.Errorf("hub: write %s: %w", part, errors.Join(syncErr, closeErr))
	case size >= 0 && got > size:
		bar.end("failed")
		os.Remove(part)
		return fmt.Errorf("hub: download %s: the server sent more than the %d bytes announced", e.Path, size)
	case size >= 0 && got < size:
		bar.end("interrupted")
		return &interruptedErr{file: e.Path, got: got, all: size, err: io.ErrUnexpectedEOF}
	}
	bar.end("")
	return nil
}

// parseContentRange reads "bytes START-END/TOTAL" (TOTAL may be "*", given
// as -1).
func parseContentRange(s string) (start, total int64, ok bool) {
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, 0, false
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, false
	}
	a, _, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}

// verify checks the size of path and its sha256 (LFS files) or git blob id
// (small files) against e.
func verify(path string, e fileEntry) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if e.Size >= 0 && st.Size() != e.Size {
		return fmt.Errorf("hub: %s: %d bytes received, %d published; the file was deleted: %w", e.Path, st.Size(), e.Size, ErrChecksum)
	}
	var h hash.Hash
	var want, kind string
	switch {
	case e.SHA256 != "":
		h, want, kind = sha256.New(), e.SHA256, "sha256"
	case e.GitOID != "":
		h, want, kind = sha1.New(), e.GitOID, "git blob id"
		fmt.Fprintf(h, "blob %d\x00", st.Size())
	default:
		return nil
	}
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hub: read %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("hub: %s: %s %s, but the hub publishes %s; the download was deleted (run the pull again): %w",
			e.Path, kind, got, want, ErrChecksum)
	}
	return nil
}
