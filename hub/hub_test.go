package hub_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/baco-go/baco/hub"
	"github.com/baco-go/baco/hub/hubtest"
)

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// tinyRepo is a transformers-style repository with files Pull should take
// and files it should leave.
func tinyRepo() *hubtest.Repo {
	return &hubtest.Repo{Files: map[string][]byte{
		"config.json":           []byte(`{"architectures": ["LlamaForCausalLM"]}`),
		"tokenizer.json":        []byte(`{"model": {"type": "BPE"}}`),
		"tokenizer_config.json": []byte(`{"eos_token": "</s>"}`),
		"model.safetensors":     randomBytes(100_000, 1),
		"README.md":             []byte("# tiny\n"),
		"onnx/model.onnx":       randomBytes(5000, 2),
		"pytorch_model.bin":     randomBytes(3000, 3),
	}}
}

// newClient returns a client of srv with a fresh cache.
func newClient(t *testing.T, srv *hubtest.Server, o hub.Options) (*hub.Client, *bytes.Buffer) {
	t.Helper()
	var progress bytes.Buffer
	o.Endpoint = srv.URL
	if o.CacheDir == "" {
		o.CacheDir = t.TempDir()
	}
	o.Progress = &progress
	c, err := hub.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, &progress
}

// filesIn lists the regular files under dir, relative, sorted.
func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func TestPullModelThenResolveFromCache(t *testing.T) {
	srv := hubtest.NewServer(t)
	repo := tinyRepo()
	srv.Add("org/tiny", repo)
	c, progress := newClient(t, srv, hub.Options{})
	ctx := context.Background()
	dir, err := c.Pull(ctx, hub.Ref{Repo: "org/tiny"})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.CacheDir(), "org", "tiny"); dir != want {
		t.Errorf("dir %s, want %s", dir, want)
	}
	want := []string{".baco-manifest.json", ".baco-pull.lock", "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
	if got := filesIn(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("cache holds %v, want %v", got, want)
	}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !bytes.Equal(b, repo.Files[f]) {
			t.Errorf("%s differs from the hub's (%v)", f, err)
		}
	}
	if !strings.Contains(progress.String(), "pulling model.safetensors (97.7 KiB)") {
		t.Errorf("progress output %q lacks the weights line", progress.String())
	}
	before := len(srv.Requests())
	for _, ref := range []string{"hf:org/tiny", "hf.co/org/tiny", "https://huggingface.co/org/tiny"} {
		p, err := c.Resolve(ctx, ref)
		if err != nil || p != dir {
			t.Errorf("Resolve(%s) = %q, %v; want %s", ref, p, err, dir)
		}
	}
	if n := len(srv.Requests()); n != before {
		t.Errorf("Resolve of a cached model made %d requests", n-before)
	}
	// A second pull of the same commit transfers nothing.
	progress.Reset()
	if _, err := c.Pull(ctx, hub.Ref{Repo: "org/tiny"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests()[before:] {
		if strings.Contains(r.Path, "/resolve/") || strings.HasPrefix(r.Path, "/cdn/") {
			t.Errorf("up-to-date pull downloaded %s", r.Path)
		}
	}
	if !strings.Contains(progress.String(), "up to date") {
		t.Errorf("progress %q does not say up to date", progress.String())
	}
}

func TestPullShardedModel(t *testing.T) {
	srv := hubtest.NewServer(t)
	repo := tinyRepo()
	delete(repo.Files, "model.safetensors")
	repo.Files["model.safetensors.index.json"] = []byte(`{"metadata": {"total_size": 3000}, "weight_map": {
		"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors", "c": "model-00001-of-00002.safetensors"}}`)
	repo.Files["model-00001-of-00002.safetensors"] = randomBytes(2000, 4)
	repo.Files["model-00002-of-00002.safetensors"] = randomBytes(1000, 5)
	repo.Files["model-00003-of-00003.safetensors"] = randomBytes(10, 6) // not in the index
	srv.Add("org/sharded", repo)
	srv.SetPageSize(3) // the tree listing comes in pages
	c, _ := newClient(t, srv, hub.Options{})
	dir, err := c.Pull(context.Background(), hub.Ref{Repo: "org/sharded"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".baco-manifest.json", ".baco-pull.lock", "config.json", "model-00001-of-00002.safetensors",
		"model-00002-of-00002.safetensors", "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json"}
	if got := filesIn(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("cache holds %v, want %v", got, want)
	}
}

// TestResumeAfterInterruptedTransfer drops the connection in the middle of
// the weights: the first pull fails and leaves only a .part file (the model
// is not cached); the second resumes with a Range request and verifies.
func TestResumeAfterInterruptedTransfer(t *testing.T) {
	srv := hubtest.NewServer(t)
	repo := tinyRepo()
	srv.Add("org/tiny", repo)
	srv.DropAfter("model.safetensors", 70_000)
	c, progress := newClient(t, srv, hub.Options{})
	ctx := context.Background()
	ref := hub.Ref{Repo: "org/tiny"}
	_, err := c.Pull(ctx, ref)
	if err == nil || !strings.Contains(err.Error(), "interrupted after 70000 of 100000 bytes") {
		t.Fatalf("first pull: %v, want an interruption after 70000 bytes", err)
	}
	dir := c.Dir(ref)
	if st, err := os.Stat(filepath.Join(dir, "model.safetensors.part")); err != nil || st.Size() != 70_000 {
		t.Fatalf("partial file: %v, %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the weights exist under their final name after an interrupted transfer: %v", err)
	}
	if p, ok := c.Cached(ref); ok {
		t.Fatalf("an interrupted pull is cached as %s", p)
	}
	progress.Reset()
	if _, err := c.Pull(ctx, ref); err != nil {
		t.Fatal(err)
	}
	var ranges []string
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/cdn/") && r.Range != "" {
			ranges = append(ranges, r.Range)
		}
	}
	if !reflect.DeepEqual(ranges, []string{"bytes=70000-"}) {
		t.Errorf("range requests %v, want [bytes=70000-]", ranges)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil || !bytes.Equal(b, repo.Files["model.safetensors"]) {
		t.Errorf("resumed weights differ from the hub's (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors.part")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the .part file remains: %v", err)
	}
	if !strings.Contains(progress.String(), "resuming model.safetensors at 68.4 KiB of 97.7 KiB") {
		t.Errorf("progress %q does not report the resume", progress.String())
	}
	if _, ok := c.Cached(ref); !ok {
		t.Error("the resumed model is not cached")
	}
}

// TestRetriesResumeWithinOnePull lets one pull retry two drops.
func TestRetriesResumeWithinOnePull(t *testing.T) {
	srv := hubtest.NewServer(t)
	repo := tinyRepo()
	srv.Add("org/tiny", repo)
	srv.DropAfter("model.safetensors", 1000, 5000)
	c, _ := newClient(t, srv, hub.Options{Retries: 2})
	dir, err := c.Pull(context.Background(), hub.Ref{Repo: "org/tiny"})
	if err != nil {
		t.Fatal(err)
	}
	var ranges []string
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/cdn/") {
			ranges = append(ranges, r.Range)
		}
	}
	if !reflect.DeepEqual(ranges, []string{"", "bytes=1000-", "bytes=6000-"}) {
		t.Errorf("weight requests with ranges %q, want none, 1000-, 6000-", ranges)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "model.safetensors")); !bytes.Equal(b, repo.Files["model.safetensors"]) {
		t.Error("weights differ from the hub's")
	}
}

// TestChecksumMismatchRefused publishes a wrong sha256: the pull fails,
// and neither the file nor a .part of it is left.
func TestChecksumMismatchRefused(t *testing.T) {
	srv := hubtest.NewServer(t)
	srv.Add("org/tiny", tinyRepo())
	srv.PublishWrongSHA("model.safetensors")
	c, _ := newClient(t, srv, hub.Options{Retries: 3})
	ref := hub.Ref{Repo: "org/tiny"}
	_, err := c.Pull(context.Background(), ref)
	if !errors.Is(err, hub.ErrChecksum) {
		t.Fatalf("pull: %v, want ErrChecksum", err)
	}
	want := "model.safetensors: sha256 " + hubtest.SHA256(tinyRepo().Files["model.safetensors"]) + ", but the hub publishes " + strings.Repeat("0", 64)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	for _, f := range filesIn(t, c.Dir(ref)) {
		if strings.HasPrefix(f, "model.safetensors") {
			t.Errorf("%s left in the cache", f)
		}
	}
	if _, ok := c.Cached(ref); ok {
		t.Error("model cached despite the mismatch")
	}
}

func TestHTTPErrors(t *testing.T) {
	srv := hubtest.NewServer(t)
	gated := tinyRepo()
	gated.Token = "hf_secret"
	srv.Add("org/gated", gated)
	srv.Add("org/tiny", tinyRepo())
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		token string
		ref   hub.Ref
		is    error
		parts []string
	}{
		{"gated without token", "", hub.Ref{Repo: "org/gated"}, hub.ErrUnauthorized, []string{"401 Unauthorized", "set HF_TOKEN", "org/gated"}},
		{"gated wrong token", "hf_wrong", hub.Ref{Repo: "org/gated"}, hub.ErrUnauthorized, []string{"401 Unauthorized", "HF_TOKEN was refused"}},
		{"missing repository", "", hub.Ref{Repo: "org/nope"}, hub.ErrNotFound, []string{"404 Not Found", `"org/nope"`}},
		{"missing revision", "", hub.Ref{Repo: "org/tiny", Revision: "v9"}, hub.ErrNotFound, []string{`revision "v9" of org/tiny not found`}},
		{"missing file", "", hub.Ref{Repo: "org/tiny", File: "model-Q4.gguf"}, hub.ErrNotFound,
			[]string{`file "model-Q4.gguf" not found in org/tiny at main`, "README.md, config.json"}},
		{"missing file in folder", "", hub.Ref{Repo: "org/tiny", File: "gguf/x.gguf"}, hub.ErrNotFound, []string{`file "gguf/x.gguf" not found in org/tiny at main`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl, _ := newClient(t, srv, hub.Options{Token: c.token})
			_, err := cl.Pull(ctx, c.ref)
			if !errors.Is(err, c.is) {
				t.Fatalf("error %v, want %v", err, c.is)
			}
			for _, p := range c.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q lacks %q", err, p)
				}
			}
			if _, err := os.Stat(cl.Dir(c.ref)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a failed pull left the folder %s", cl.Dir(c.ref))
			}
		})
	}
	t.Run("gated with token", func(t *testing.T) {
		cl, _ := newClient(t, srv, hub.Options{Token: "hf_secret"})
		if _, err := cl.Pull(ctx, hub.Ref{Repo: "org/gated"}); err != nil {
			t.Fatal(err)
		}
		for _, r := range srv.Requests() {
			if strings.Contains(r.Path, "org/gated") && r.Auth == "Bearer hf_secret" {
				return
			}
		}
		t.Error("no request carried the token")
	})
}

// TestOffline points the client at a closed server: the pull fails with
// ErrOffline, Resolve says what to pull, and nothing is left in the cache.
func TestOffline(t *testing.T) {
	srv := hubtest.NewServer(t)
	srv.Close()
	cache := t.TempDir()
	c, _ := newClient(t, srv, hub.Options{CacheDir: cache})
	base, _ := hub.DefaultPair()
	_, err := c.Resolve(context.Background(), base)
	if !errors.Is(err, hub.ErrOffline) {
		t.Fatalf("Resolve: %v, want ErrOffline", err)
	}
	for _, p := range []string{"bacoctl models pull HuggingFaceTB/SmolLM2-135M", "not in the model cache (" + cache + ")", "local .gguf file or model folder"} {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q lacks %q", err, p)
		}
	}
	if got := filesIn(t, cache); len(got) != 0 {
		t.Errorf("offline resolve left %v in the cache", got)
	}
	off, _ := newClient(t, srv, hub.Options{Offline: true})
	if _, err := off.Pull(context.Background(), hub.Ref{Repo: "org/tiny"}); !errors.Is(err, hub.ErrOffline) || !strings.Contains(err.Error(), "HF_HUB_OFFLINE") {
		t.Errorf("pull with Offline: %v", err)
	}
}

func TestPullSingleFileAndRemove(t *testing.T) {
	srv := hubtest.NewServer(t)
	repo := &hubtest.Repo{Files: map[string][]byte{"README.md": []byte("gguf repo"), "q8/model-Q8_0.gguf": randomBytes(4000, 7), "model-F16.gguf": randomBytes(3000, 8)}}
	srv.Add("org/gguf", repo)
	c, _ := newClient(t, srv, hub.Options{})
	ctx := context.Background()
	p, err := c.Resolve(ctx, "hf:org/gguf/q8/model-Q8_0.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.CacheDir(), "org", "gguf", "q8", "model-Q8_0.gguf"); p != want {
		t.Errorf("path %s, want %s", p, want)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, repo.Files["q8/model-Q8_0.gguf"]) {
		t.Error("file differs")
	}
	// A GGUF-only repository is not a transformers model; the error points
	// at its GGUF files.
	_, err = c.Pull(ctx, hub.Ref{Repo: "org/gguf"})
	if !errors.Is(err, hub.ErrNotFound) || !strings.Contains(err.Error(), "bacoctl models pull org/gguf/model-F16.gguf") {
		t.Errorf("whole pull of a GGUF repo: %v", err)
	}
	models, err := c.List()
	if err != nil || len(models) != 1 || models[0].Ref.Repo != "org/gguf" || models[0].Complete || models[0].Bytes != 4000 {
		t.Fatalf("List = %+v, %v", models, err)
	}
	if err := c.Remove(ctx, hub.Ref{Repo: "org/gguf", File: "q8/model-Q8_0.gguf"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Cached(hub.Ref{Repo: "org/gguf", File: "q8/model-Q8_0.gguf"}); ok {
		t.Error("removed file still cached")
	}
	if err := c.Remove(ctx, hub.Ref{Repo: "org/gguf"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(ctx, hub.Ref{Repo: "org/gguf"}); !errors.Is(err, hub.ErrNotCached) {
		t.Errorf("second Remove: %v, want ErrNotCached", err)
	}
	if models, _ := c.List(); len(models) != 0 {
		t.Errorf("List after Remove = %+v", models)
	}
}

func TestResolveLocalPaths(t *testing.T) {
	c, err := hub.New(hub.Options{CacheDir: t.TempDir(), Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if p, err := c.Resolve(context.Background(), dir); err != nil || p != dir {
		t.Errorf("Resolve(existing dir) = %q, %v", p, err)
	}
	_, err = c.Resolve(context.Background(), "HuggingFaceTB/SmolLM2-135M")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "write hf:HuggingFaceTB/SmolLM2-135M") {
		t.Errorf("Resolve(bare repo name) = %v", err)
	}
}

func TestParseRef(t *testing.T) {
	for _, c := range []struct {
		in   string
		want hub.Ref
		err  string
	}{
		{"HuggingFaceTB/SmolLM2-135M", hub.Ref{Repo: "HuggingFaceTB/SmolLM2-135M"}, ""},
		{"hf:org/m@v1.0", hub.Ref{Repo: "org/m", Revision: "v1.0"}, ""},
		{"hf.co/org/m/sub/f.gguf", hub.Ref{Repo: "org/m", File: "sub/f.gguf"}, ""},
		{"https://huggingface.co/org/m/resolve/main/f.gguf", hub.Ref{Repo: "org/m", Revision: "main", File: "f.gguf"}, ""},
		{"https://huggingface.co/org/m/blob/abc123/f.gguf", hub.Ref{Repo: "org/m", Revision: "abc123", File: "f.gguf"}, ""},
		{"org/m@dev/f.gguf", hub.Ref{Repo: "org/m", Revision: "dev", File: "f.gguf"}, ""},
		{"org", hub.Ref{}, "want OWNER/NAME"},
		{"org/../x", hub.Ref{}, `name ".."`},
		{"org/m/../../etc/passwd", hub.Ref{}, `".." path segment`},
		{"org/m/a\\b", hub.Ref{}, `character '\\'`},
		{"org/m@", hub.Ref{}, "empty revision"},
		{"-org/m", hub.Ref{}, "must not start"},
		{"org/m name", hub.Ref{}, "character ' '"},
	} {
		got, err := hub.ParseRef(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseRef(%q) = %+v, %v; want an error containing %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestOptionsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		env  map[string]string
		want hub.Options
	}{
		{map[string]string{}, hub.Options{}},
		{map[string]string{"HF_ENDPOINT": "https://mirror.example", "HF_TOKEN": "t1", "HF_HUB_OFFLINE": "1", "BACO_MODELS_DIR": "/m"},
			hub.Options{Endpoint: "https://mirror.example", Token: "t1", Offline: true, CacheDir: "/m"}},
		{map[string]string{"HUGGING_FACE_HUB_TOKEN": "t2", "HF_HUB_OFFLINE": "0"}, hub.Options{Token: "t2"}},
	} {
		if got := hub.OptionsFromEnv(env(c.env)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("OptionsFromEnv(%v) = %+v, want %+v", c.env, got, c.want)
		}
	}
	if _, err := hub.New(hub.Options{Endpoint: "ftp://x", CacheDir: "/tmp"}); err == nil || !strings.Contains(err.Error(), "HF_ENDPOINT") {
		t.Errorf("New with an ftp endpoint: %v", err)
	}
}

func ExampleDefaultPair() {
	base, aligned := hub.DefaultPair()
	fmt.Println(base)
	fmt.Println(aligned)
	// Output:
	// hf:HuggingFaceTB/SmolLM2-135M
	// hf:HuggingFaceTB/SmolLM2-135M-Instruct
}
