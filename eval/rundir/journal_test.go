package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type rec struct {
	K string `json:"k"`
	V int    `json:"v"`
}

func keyOf(r *rec) string { return r.K }

func open(t *testing.T, p string) *Journal[rec] {
	t.Helper()
	j, err := OpenJournal(p, keyOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestJournalAppendReopen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "g.jsonl")
	j := open(t, p)
	for i, k := range []string{"a", "b", "c"} {
		if err := j.Append(rec{K: k, V: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Append(rec{K: "b", V: 9}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate append: %v", err)
	}
	j.Close()
	b, _ := os.ReadFile(p)
	if want := "{\"k\":\"a\",\"v\":0}\n{\"k\":\"b\",\"v\":1}\n{\"k\":\"c\",\"v\":2}\n"; string(b) != want {
		t.Fatalf("file %q, want %q", b, want)
	}
	j = open(t, p)
	defer j.Close()
	if j.Len() != 3 || !j.Has("c") {
		t.Fatalf("reopened: %d records", j.Len())
	}
	if r, ok := j.Get("b"); !ok || r.V != 1 {
		t.Fatalf("Get(b) = %v, %v", r, ok)
	}
	if err := j.Append(rec{K: "d", V: 3}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(p)
	if !strings.HasSuffix(string(b), "{\"k\":\"c\",\"v\":2}\n{\"k\":\"d\",\"v\":3}\n") {
		t.Fatalf("append after reopen: %q", b)
	}
}

// A writer killed mid-line leaves a torn last line: reopening drops it,
// keeps every complete record and appends after them.
func TestJournalTornLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "g.jsonl")
	full := "{\"k\":\"a\",\"v\":0}\n{\"k\":\"b\",\"v\":1}\n"
	if err := os.WriteFile(p, []byte(full+`{"k":"c","v`), 0o644); err != nil {
		t.Fatal(err)
	}
	j := open(t, p)
	if j.Len() != 2 || j.Has("c") {
		t.Fatalf("%d records, has c %v", j.Len(), j.Has("c"))
	}
	if err := j.Append(rec{K: "c", V: 2}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	b, _ := os.ReadFile(p)
	if want := full + "{\"k\":\"c\",\"v\":2}\n"; string(b) != want {
		t.Fatalf("file %q, want %q", b, want)
	}
}

func TestJournalErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(p, []byte("{\"k\":\"a\"}\nnot json\n{\"k\":\"b\"}\n"), 0o644)
	_, err := OpenJournal(p, keyOf, nil)
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "bad.jsonl") {
		t.Fatalf("bad line: %v", err)
	}
	// A repeated key (never written by Append) keeps the first record.
	p = filepath.Join(dir, "dup.jsonl")
	os.WriteFile(p, []byte("{\"k\":\"a\",\"v\":1}\n{\"k\":\"a\",\"v\":2}\n"), 0o644)
	j := open(t, p)
	defer j.Close()
	if r, _ := j.Get("a"); j.Len() != 1 || r.V != 1 {
		t.Fatalf("dup: %d records, a = %v", j.Len(), r)
	}
	if _, err := OpenJournal(filepath.Join(dir, "missing", "x.jsonl"), keyOf, nil); err == nil {
		t.Fatal("missing directory: no error")
	}
}

func TestLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "run.lock")
	l, err := TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(p); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second lock: %v", err)
	}
	l.Unlock()
	l2, err := TryLock(p)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	l2.Unlock()
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.json")
	for _, s := range []string{"one", "two"} {
		if err := WriteFileAtomic(p, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != s {
			t.Fatalf("got %q", b)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
			t.Fatalf("mode %v, want 0644", st.Mode().Perm())
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}
