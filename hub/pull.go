package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// modelFiles are the files of a transformers model repository that Pull
// fetches besides the weights: required ones, and those used when present.
func modelFiles() (required, optional []string) {
	return []string{"config.json", "tokenizer.json"},
		[]string{"tokenizer_config.json", "generation_config.json", "special_tokens_map.json", "chat_template.jinja"}
}

const (
	weightsFile = "model.safetensors"
	indexFile   = "model.safetensors.index.json"
)

// Pull downloads ref into the cache, or brings it up to date, and returns
// its local path: the model folder, or the file for a file reference. For
// a whole model it fetches config.json, the tokenizer files and the
// safetensors weights (model.safetensors, or the shards
// model.safetensors.index.json lists) of the commit ref's revision points
// at. Files already verified are kept; an interrupted download resumes.
func (c *Client) Pull(ctx context.Context, ref Ref) (p string, err error) {
	if err := ref.Validate(); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	if c.offline {
		return "", fmt.Errorf("hub: pull %s: HF_HUB_OFFLINE is set: %w", ref, ErrOffline)
	}
	dir := c.Dir(ref)
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return "", err
	}
	defer func() {
		unlock()
		if err != nil {
			c.tidy(dir)
		}
	}()
	commit, err := c.commit(ctx, ref)
	if err != nil {
		return "", err
	}
	m, err := readManifest(dir)
	if err != nil {
		return "", err
	}
	m.Repo, m.Revision = ref.Repo, ref.Rev()
	if ref.File != "" {
		return c.pullFile(ctx, ref, commit, dir, m)
	}
	return c.pullModel(ctx, ref, commit, dir, m)
}

// pullFile fetches the single file ref.File.
func (c *Client) pullFile(ctx context.Context, ref Ref, commit, dir string, m *Manifest) (string, error) {
	folder := path.Dir(ref.File)
	if folder == "." {
		folder = ""
	}
	entries, err := c.tree(ctx, ref, commit, folder)
	if err != nil {
		return "", err
	}
	var fe *fileEntry
	var names []string
	for _, e := range entries {
		if e.Type != "file" {
			continue
		}
		if e.Path == ref.File {
			f := e.file()
			fe = &f
		}
		names = append(names, e.Path)
	}
	if fe == nil {
		return "", fmt.Errorf("hub: %s: file %q not found in %s at %s (it holds: %s): %w",
			ref, ref.File, ref.Repo, ref.Rev(), summarize(names), ErrNotFound)
	}
	dest := filepath.Join(dir, filepath.FromSlash(ref.File))
	if err := c.fetchVerified(ctx, ref, commit, dir, m, *fe); err != nil {
		return "", err
	}
	return dest, nil
}

// pullModel fetches the files of a transformers model.
func (c *Client) pullModel(ctx context.Context, ref Ref, commit, dir string, m *Manifest) (string, error) {
	if m.Complete && m.Commit == commit && present(dir, m, m.Model) {
		if c.progress != nil {
			fmt.Fprintf(c.progress, "%s is up to date (commit %.12s)\n", ref, commit)
		}
		return dir, nil
	}
	entries, err := c.tree(ctx, ref, commit, "")
	if err != nil {
		return "", err
	}
	files := map[string]fileEntry{}
	var ggufs []string
	for _, e := range entries {
		if e.Type == "file" {
			files[e.Path] = e.file()
			if strings.HasSuffix(strings.ToLower(e.Path), ".gguf") {
				ggufs = append(ggufs, e.Path)
			}
		}
	}
	hint := ""
	if len(ggufs) > 0 {
		hint = fmt.Sprintf("; it holds GGUF files: pull one with `bacoctl models pull %s/%s`", ref.Repo, ggufs[0])
	}
	required, optional := modelFiles()
	for _, f := range required {
		if _, ok := files[f]; !ok {
			return "", fmt.Errorf("hub: %s has no %s, so it is not a transformers model the engine can load%s: %w", ref, f, hint, ErrNotFound)
		}
	}
	_, single := files[weightsFile]
	_, sharded := files[indexFile]
	if !single && !sharded {
		return "", fmt.Errorf("hub: %s has no safetensors weights (%s or %s)%s: %w", ref, weightsFile, indexFile, hint, ErrNotFound)
	}

	// Until every file verified, the folder is not a model.
	m.Complete, m.Commit = false, commit
	if err := writeManifest(dir, m); err != nil {
		return "", err
	}
	model := slices.Clone(required)
	for _, f := range optional {
		if _, ok := files[f]; ok {
			model = append(model, f)
		}
	}
	if single {
		model = append(model, weightsFile)
	} else {
		if err := c.fetchVerified(ctx, ref, commit, dir, m, files[indexFile]); err != nil {
			return "", err
		}
		shards, err := readShards(filepath.Join(dir, indexFile))
		if err != nil {
			return "", err
		}
		model = append(model, indexFile)
		for _, s := range shards {
			if _, ok := files[s]; !ok {
				return "", fmt.Errorf("hub: %s: %s lists shard %q, which the repository does not hold", ref, indexFile, s)
			}
			model = append(model, s)
		}
	}
	for _, f := range model {
		if err := c.fetchVerified(ctx, ref, commit, dir, m, files[f]); err != nil {
			return "", err
		}
	}
	// Files of an earlier commit that the model no longer has.
	for _, old := range m.Model {
		if !slices.Contains(model, old) {
			os.Remove(filepath.Join(dir, filepath.FromSlash(old)))
			m.drop(old)
		}
	}
	m.Model, m.Complete = model, true
	if err := writeManifest(dir, m); err != nil {
		return "", err
	}
	return dir, nil
}

// fetchVerified downloads e unless the folder already holds it verified,
// then records it in the manifest.
func (c *Client) fetchVerified(ctx context.Context, ref Ref, commit, dir string, m *Manifest, e fileEntry) error {
	dest := filepath.Join(dir, filepath.FromSlash(e.Path))
	if fi, ok := m.file(e.Path); ok && sameFile(fi, e, commit) && present(dir, m, []string{e.Path}) {
		return nil
	}
	if err := c.download(ctx, ref, commit, e, dest); err != nil {
		return err
	}
	m.put(FileInfo{Path: e.Path, Size: fileSize(dest), SHA256: e.SHA256, GitOID: e.GitOID, Commit: commit})
	return writeManifest(dir, m)
}

// sameFile reports whether a recorded file is the one e describes.
func sameFile(fi FileInfo, e fileEntry, commit string) bool {
	if e.Size >= 0 && fi.Size != e.Size {
		return false
	}
	switch {
	case e.SHA256 != "":
		return fi.SHA256 == e.SHA256
	case e.GitOID != "":
		return fi.GitOID == e.GitOID
	}
	return fi.Commit == commit
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return -1
	}
	return st.Size()
}

// readShards returns the shard files a safetensors index lists, sorted.
func readShards(p string) ([]string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("hub: %s: %w", indexFile, err)
	}
	var shards []string
	for _, s := range idx.WeightMap {
		if err := checkPath(s, ""); err != nil {
			return nil, fmt.Errorf("hub: %s: shard %q: %w", indexFile, s, err)
		}
		if !slices.Contains(shards, s) {
			shards = append(shards, s)
		}
	}
	if len(shards) == 0 {
		return nil, fmt.Errorf("hub: %s lists no shards", indexFile)
	}
	slices.Sort(shards)
	return shards, nil
}

// summarize lists up to eight names.
func summarize(names []string) string {
	if len(names) == 0 {
		return "no files"
	}
	if len(names) > 8 {
		return strings.Join(names[:8], ", ") + fmt.Sprintf(" and %d more", len(names)-8)
	}
	return strings.Join(names, ", ")
}

// tidy removes a cache folder that a failed pull left holding nothing of
// value (no verified file, no partial download), and its owner folder if
// empty.
func (c *Client) tidy(dir string) {
	m, err := readManifest(dir)
	if err != nil || len(m.Files) > 0 {
		return
	}
	keep := false
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if n := d.Name(); n != lockFile && n != ManifestFile {
				keep = true
			}
		}
		return nil
	})
	if !keep {
		os.RemoveAll(dir)
		os.Remove(filepath.Dir(dir))
	}
}

// Resolve returns a local path for a model reference. An existing file or
// folder is returned as it is. A hub reference (hf:OWNER/NAME[@REV][/FILE],
// or the hf.co/ and huggingface.co/ forms) comes from the cache, pulled
// first when the cache does not hold it complete; without network the
// error says what to pull and wraps ErrOffline.
func (c *Client) Resolve(ctx context.Context, s string) (string, error) {
	if !IsHubRef(s) {
		if _, err := os.Stat(s); err != nil {
			hint := ""
			if r, perr := ParseRef(s); perr == nil && r.File == "" {
				hint = fmt.Sprintf(" (for the Hugging Face model write hf:%s)", r.Repo)
			}
			return "", fmt.Errorf("hub: model %q: no such file or folder%s: %w", s, hint, fs.ErrNotExist)
		}
		return s, nil
	}
	ref, err := ParseRef(s)
	if err != nil {
		return "", err
	}
	if p, ok := c.Cached(ref); ok {
		return p, nil
	}
	p, err := c.Pull(ctx, ref)
	if errors.Is(err, ErrOffline) {
		return "", fmt.Errorf("model %s is not in the model cache (%s) and the hub cannot be reached: "+
			"run `bacoctl models pull %s` where %s is reachable (set HF_ENDPOINT for a mirror; copy the cache folder %s over), "+
			"or give a local .gguf file or model folder instead: %w", ref, c.root, ref, c.endpoint, c.Dir(ref), err)
	}
	return p, err
}
