package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ManifestFile is the name of the manifest in a repository's cache folder.
const ManifestFile = ".baco-manifest.json"

// lockFile serialises pulls of one repository.
const lockFile = ".baco-pull.lock"

// maxManifestBytes bounds a manifest read from the cache.
const maxManifestBytes = 16 << 20

// Manifest records what a cache folder holds; it is rewritten atomically
// after each verified file.
type Manifest struct {
	// Repo is "owner/name".
	Repo string `json:"repo"`
	// Revision is the revision pulled (branch, tag or commit).
	Revision string `json:"revision"`
	// Commit is the commit the whole-model files come from ("" when only
	// single files were pulled).
	Commit string `json:"commit,omitempty"`
	// Complete is true once every file of the model (config, tokenizer,
	// weights) is present and verified.
	Complete bool `json:"complete"`
	// Model lists the files of the model pulled as a whole.
	Model []string `json:"model,omitempty"`
	// Files are the verified files in the folder.
	Files []FileInfo `json:"files"`
	// Updated is when the manifest was last written.
	Updated time.Time `json:"updated"`
}

// FileInfo is one verified file of a cache folder.
type FileInfo struct {
	// Path is the path inside the repository (and the folder).
	Path string `json:"path"`
	// Size is its size in bytes.
	Size int64 `json:"size"`
	// SHA256 is its sha256 (LFS files), or "".
	SHA256 string `json:"sha256,omitempty"`
	// GitOID is its git blob id (small files), or "".
	GitOID string `json:"git_oid,omitempty"`
	// Commit is the commit it was downloaded from.
	Commit string `json:"commit"`
}

// file returns the entry for path.
func (m *Manifest) file(path string) (FileInfo, bool) {
	for _, f := range m.Files {
		if f.Path == path {
			return f, true
		}
	}
	return FileInfo{}, false
}

// put records a verified file, replacing an older entry.
func (m *Manifest) put(fi FileInfo) {
	for i := range m.Files {
		if m.Files[i].Path == fi.Path {
			m.Files[i] = fi
			return
		}
	}
	m.Files = append(m.Files, fi)
}

// drop forgets path.
func (m *Manifest) drop(path string) {
	m.Files = slices.DeleteFunc(m.Files, func(f FileInfo) bool { return f.Path == path })
}

// readManifest reads dir's manifest; a missing one is an empty manifest.
func readManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &Manifest{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if len(b) > maxManifestBytes {
		return nil, fmt.Errorf("hub: %s is larger than %d bytes", filepath.Join(dir, ManifestFile), maxManifestBytes)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("hub: %s: %w (remove the folder and pull again)", filepath.Join(dir, ManifestFile), err)
	}
	return &m, nil
}

// writeManifest writes m into dir atomically (temporary file, rename).
func writeManifest(dir string, m *Manifest) error {
	m.Updated = time.Now().UTC().Truncate(time.Second)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ManifestFile+".tmp*")
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("hub: write manifest: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, ManifestFile)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("hub: %w", err)
	}
	return nil
}

// present reports whether every listed file exists with its recorded size.
func present(dir string, m *Manifest, paths []string) bool {
	for _, p := range paths {
		fi, ok := m.file(p)
		if !ok {
			return false
		}
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil || !st.Mode().IsRegular() || st.Size() != fi.Size {
			return false
		}
	}
	return true
}

// Cached returns the local path of ref when the cache holds it complete
// and verified: the folder of a whole model, or the file of a file
// reference. It does not use the network.
func (c *Client) Cached(ref Ref) (string, bool) {
	dir := c.Dir(ref)
	m, err := readManifest(dir)
	if err != nil {
		return "", false
	}
	if ref.File != "" {
		if present(dir, m, []string{ref.File}) {
			return filepath.Join(dir, filepath.FromSlash(ref.File)), true
		}
		return "", false
	}
	if m.Complete && len(m.Model) > 0 && present(dir, m, m.Model) {
		return dir, true
	}
	return "", false
}

// Model describes one cache folder.
type Model struct {
	// Ref is the repository and revision (File is "").
	Ref Ref
	// Dir is the folder.
	Dir string
	// Commit is the commit of the whole-model files ("" if none).
	Commit string
	// Complete is true when the folder holds the whole model, verified.
	Complete bool
	// Files are the verified files.
	Files []FileInfo
	// Bytes is the size of the verified files.
	Bytes int64
	// PartialBytes is the size of unfinished downloads (*.part files).
	PartialBytes int64
}

// List returns every repository folder of the cache, sorted by reference.
func (c *Client) List() ([]Model, error) {
	owners, err := os.ReadDir(c.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	var out []Model
	for _, o := range owners {
		if !o.IsDir() || checkName(o.Name()) != nil {
			continue
		}
		repos, err := os.ReadDir(filepath.Join(c.root, o.Name()))
		if err != nil {
			return nil, fmt.Errorf("hub: %w", err)
		}
		for _, r := range repos {
			name, rev, _ := strings.Cut(r.Name(), "@")
			ref := Ref{Repo: o.Name() + "/" + name, Revision: strings.ReplaceAll(rev, "%2F", "/")}
			if !r.IsDir() || ref.Validate() != nil {
				continue
			}
			dir := filepath.Join(c.root, o.Name(), r.Name())
			m, err := readManifest(dir)
			if err != nil {
				return nil, err
			}
			md := Model{Ref: ref, Dir: dir, Commit: m.Commit, Files: m.Files}
			_, md.Complete = c.Cached(ref)
			for _, f := range m.Files {
				md.Bytes += f.Size
			}
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.HasSuffix(p, PartSuffix) {
					if info, err := d.Info(); err == nil {
						md.PartialBytes += info.Size()
					}
				}
				return nil
			})
			out = append(out, md)
		}
	}
	slices.SortFunc(out, func(a, b Model) int { return strings.Compare(a.Ref.String(), b.Ref.String()) })
	return out, nil
}

// Remove deletes ref from the cache: the repository folder (at ref's
// revision), or only ref.File (and its .part) when set. It fails with
// ErrNotCached when there is nothing to remove.
func (c *Client) Remove(ctx context.Context, ref Ref) error {
	if err := ref.Validate(); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	dir := c.Dir(ref)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("hub: %s: %w (%s)", ref, ErrNotCached, c.root)
	}
	if ref.File == "" {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("hub: %w", err)
		}
		os.Remove(filepath.Dir(dir)) // the owner folder, if now empty
		return nil
	}
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return err
	}
	defer unlock()
	m, err := readManifest(dir)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, filepath.FromSlash(ref.File))
	_, known := m.file(ref.File)
	rmErr := os.Remove(path)
	partErr := os.Remove(path + PartSuffix)
	if !known && rmErr != nil && partErr != nil {
		return fmt.Errorf("hub: %s: %w (%s)", ref, ErrNotCached, c.root)
	}
	m.drop(ref.File)
	if slices.Contains(m.Model, ref.File) {
		m.Complete = false
	}
	return writeManifest(dir, m)
}

// lockDir takes the pull lock of dir, waiting (and honouring ctx) while
// another pull holds it.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("hub: lock %s: %w", dir, err)
		}
		if ok {
			return func() { unlockFile(f); f.Close() }, nil
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("hub: waiting for another pull into %s: %w", dir, ctx.Err())
		case <-t.C:
		}
	}
}
