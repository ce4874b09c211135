package hub

import (
	"fmt"
	"strings"
)

// DefaultRevision is the branch pulled when a reference names none.
const DefaultRevision = "main"

// hubPrefixes are the prefixes that mark a model reference as a Hugging
// Face hub reference (Resolve treats anything else as a local path).
func hubPrefixes() []string {
	return []string{"hf:", "https://huggingface.co/", "huggingface.co/", "hf.co/"}
}

// Ref names a model repository on the hub, optionally at a revision and
// optionally one file of it.
type Ref struct {
	// Repo is "owner/name".
	Repo string
	// Revision is a branch, tag or commit ("" means DefaultRevision).
	Revision string
	// File is a path inside the repository, or "" for the whole model.
	File string
}

// Rev returns the revision, DefaultRevision when unset.
func (r Ref) Rev() string {
	if r.Revision == "" {
		return DefaultRevision
	}
	return r.Revision
}

// String formats the reference as ParseRef reads it:
// owner/name[@revision][/file].
func (r Ref) String() string {
	s := r.Repo
	if r.Revision != "" && r.Revision != DefaultRevision {
		s += "@" + r.Revision
	}
	if r.File != "" {
		s += "/" + r.File
	}
	return s
}

// IsHubRef reports whether s carries one of the hub prefixes ("hf:",
// "hf.co/", "huggingface.co/", "https://huggingface.co/").
func IsHubRef(s string) bool {
	for _, p := range hubPrefixes() {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// ParseRef reads owner/name[@revision][/path/to/file], with or without one
// of the hub prefixes. A revision ends at the next "/" (give revisions
// that contain "/" through Ref.Revision). Every part is checked, so a
// reference can never name a path outside its cache folder.
func ParseRef(s string) (Ref, error) {
	orig := s
	for _, p := range hubPrefixes() {
		if rest, ok := strings.CutPrefix(s, p); ok {
			s = rest
			break
		}
	}
	parts := strings.SplitN(s, "/", 3)
	if len(parts) < 2 {
		return Ref{}, fmt.Errorf("hub: model reference %q: want OWNER/NAME[@REVISION][/FILE]", orig)
	}
	owner, name := parts[0], parts[1]
	var r Ref
	if n, rev, ok := strings.Cut(name, "@"); ok {
		name, r.Revision = n, rev
		if rev == "" {
			return Ref{}, fmt.Errorf("hub: model reference %q: empty revision after @", orig)
		}
	}
	// "owner/name/resolve/main/file" and ".../blob/main/file", as copied
	// from a browser.
	if len(parts) == 3 {
		r.File = parts[2]
		for _, kind := range []string{"resolve/", "blob/", "tree/"} {
			if rest, ok := strings.CutPrefix(r.File, kind); ok && r.Revision == "" {
				rev, file, _ := strings.Cut(rest, "/")
				r.Revision, r.File = rev, file
				break
			}
		}
	}
	r.Repo = owner + "/" + name
	if err := r.Validate(); err != nil {
		return Ref{}, fmt.Errorf("hub: model reference %q: %w", orig, err)
	}
	return r, nil
}

// Validate checks each part of the reference: owner and name are 1 to 96
// letters, digits, '-', '_' or '.', not starting with '.' or '-'; the
// revision has no empty, "." or ".." segment; the file path is relative,
// with no empty, "." or ".." segment and no backslash.
func (r Ref) Validate() error {
	owner, name, ok := strings.Cut(r.Repo, "/")
	if !ok {
		return fmt.Errorf("repository %q is not OWNER/NAME", r.Repo)
	}
	for _, p := range []struct{ what, v string }{{"owner", owner}, {"name", name}} {
		if err := checkName(p.v); err != nil {
			return fmt.Errorf("repository %s %q: %w", p.what, p.v, err)
		}
	}
	if r.Revision != "" {
		if len(r.Revision) > 256 {
			return fmt.Errorf("revision of %d bytes is too long", len(r.Revision))
		}
		if err := checkPath(r.Revision, "-_./"); err != nil {
			return fmt.Errorf("revision %q: %w", r.Revision, err)
		}
	}
	if r.File != "" {
		if len(r.File) > 1024 {
			return fmt.Errorf("file path of %d bytes is too long", len(r.File))
		}
		if err := checkPath(r.File, ""); err != nil {
			return fmt.Errorf("file %q: %w", r.File, err)
		}
	}
	return nil
}

func checkName(s string) error {
	if s == "" || len(s) > 96 {
		return fmt.Errorf("want 1 to 96 characters")
	}
	if s[0] == '.' || s[0] == '-' {
		return fmt.Errorf("must not start with %q", s[0])
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("character %q not allowed", c)
		}
	}
	return nil
}

// checkPath checks a "/"-separated relative path; allowed, when not "",
// lists the only non-alphanumeric characters permitted.
func checkPath(s, allowed string) error {
	for _, seg := range strings.Split(s, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("empty, \".\" or \"..\" path segment")
		}
	}
	for _, c := range s {
		if c < 0x20 || c == '\\' || c == 0x7f {
			return fmt.Errorf("character %q not allowed", c)
		}
		if allowed != "" && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(allowed, c)) {
			return fmt.Errorf("character %q not allowed", c)
		}
	}
	return nil
}
