// Package hub downloads models from the Hugging Face hub into a local cache
// and finds them there again.
//
// Pull fetches a model repository (the files the engine needs: config.json,
// tokenizer files, safetensors weights, sharded or not) or one file of it
// (e.g. a GGUF). Downloads resume where an interrupted one stopped (HTTP
// Range), show a progress bar, and are verified against the checksum the
// hub publishes (the sha256 of LFS files from the tree API, or the git blob
// id of small files) before they take their final name: until then they
// are "<name>.part", which nothing reads as a model. A repository's cache
// folder counts as complete only once its manifest says so, which is
// written after every file verified.
//
// The cache lives under os.UserCacheDir()/baco/models (XDG_CACHE_HOME on
// Linux) as OWNER/NAME[@REVISION]/. HF_ENDPOINT, HF_TOKEN and
// HF_HUB_OFFLINE are honoured (OptionsFromEnv).
package hub

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultEndpoint is the Hugging Face hub.
const DefaultEndpoint = "https://huggingface.co"

// The default base/aligned pair: two models sharing one tokenizer.
const (
	DefaultBase    = "HuggingFaceTB/SmolLM2-135M"
	DefaultAligned = "HuggingFaceTB/SmolLM2-135M-Instruct"
)

// DefaultPair returns the references of the default base and aligned
// models ("hf:HuggingFaceTB/SmolLM2-135M" and
// "hf:HuggingFaceTB/SmolLM2-135M-Instruct"), for Resolve.
func DefaultPair() (base, aligned string) { return "hf:" + DefaultBase, "hf:" + DefaultAligned }

// Errors the client wraps, for errors.Is.
var (
	// ErrOffline: the hub cannot be reached (network error, or
	// HF_HUB_OFFLINE set) and the model is not in the cache.
	ErrOffline = errors.New("hub unreachable")
	// ErrUnauthorized: the hub answered 401 or 403 (gated or private
	// repository, missing or refused HF_TOKEN).
	ErrUnauthorized = errors.New("not authorised")
	// ErrNotFound: the repository, revision or file does not exist.
	ErrNotFound = errors.New("not found")
	// ErrChecksum: a downloaded file does not match the published checksum;
	// it was deleted.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNotCached: the model is not in the cache (List, Remove).
	ErrNotCached = errors.New("not in the model cache")
)

// Options configure a Client.
type Options struct {
	// Endpoint is the hub's base URL (DefaultEndpoint when "").
	Endpoint string
	// Token is sent as a bearer token to the endpoint ("" for none).
	Token string
	// CacheDir is the model cache (DefaultCacheDir() when "").
	CacheDir string
	// Offline forbids network access: only cached models resolve.
	Offline bool
	// HTTPClient makes the requests (a client with connect and header
	// timeouts when nil).
	HTTPClient *http.Client
	// Progress receives progress bars and one line per file (nil: none).
	// A terminal gets a live bar; anything else plain lines.
	Progress io.Writer
	// Logger receives debug information (slog.Default() when nil).
	Logger *slog.Logger
	// Retries is how many times an interrupted download is resumed within
	// one Pull (negative: 0; default 0 — set e.g. 3 for interactive use).
	Retries int
	// RetryDelay is the wait before the first retry, doubled each time.
	RetryDelay time.Duration
}

// OptionsFromEnv reads HF_ENDPOINT, HF_TOKEN (or the older
// HUGGING_FACE_HUB_TOKEN), HF_HUB_OFFLINE and BACO_MODELS_DIR through
// getenv (os.Getenv in production).
func OptionsFromEnv(getenv func(string) string) Options {
	o := Options{Endpoint: getenv("HF_ENDPOINT"), Token: getenv("HF_TOKEN"), CacheDir: getenv("BACO_MODELS_DIR")}
	if o.Token == "" {
		o.Token = getenv("HUGGING_FACE_HUB_TOKEN")
	}
	switch strings.ToLower(strings.TrimSpace(getenv("HF_HUB_OFFLINE"))) {
	case "1", "true", "yes", "on":
		o.Offline = true
	}
	return o
}

// DefaultCacheDir returns os.UserCacheDir()/baco/models.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("hub: no user cache directory (set BACO_MODELS_DIR): %w", err)
	}
	return filepath.Join(d, "baco", "models"), nil
}

// Client talks to one hub and keeps one cache. It is safe for concurrent
// use; pulls of one repository are serialised by a lock file in its cache
// folder (also across processes, where the OS supports it).
type Client struct {
	endpoint   string
	token      string
	root       string
	offline    bool
	http       *http.Client
	progress   io.Writer
	log        *slog.Logger
	retries    int
	retryDelay time.Duration
}

// New returns a client for o.
func New(o Options) (*Client, error) {
	c := &Client{endpoint: strings.TrimRight(o.Endpoint, "/"), token: o.Token, root: o.CacheDir, offline: o.Offline,
		http: o.HTTPClient, progress: o.Progress, log: o.Logger, retries: max(o.Retries, 0), retryDelay: o.RetryDelay}
	if c.endpoint == "" {
		c.endpoint = DefaultEndpoint
	}
	if !strings.HasPrefix(c.endpoint, "http://") && !strings.HasPrefix(c.endpoint, "https://") {
		return nil, fmt.Errorf("hub: endpoint %q is not an http(s) URL (HF_ENDPOINT)", o.Endpoint)
	}
	if c.root == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		c.root = d
	}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: 20 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		tr.TLSHandshakeTimeout = 20 * time.Second
		tr.ResponseHeaderTimeout = 60 * time.Second
		c.http = &http.Client{Transport: tr}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// Endpoint returns the hub URL the client uses.
func (c *Client) Endpoint() string { return c.endpoint }

// CacheDir returns the cache root.
func (c *Client) CacheDir() string { return c.root }

// Dir returns the cache folder of ref's repository at its revision:
// CacheDir/OWNER/NAME, with "@REVISION" appended for revisions other than
// DefaultRevision ("/" in a revision written as "%2F").
func (c *Client) Dir(ref Ref) string {
	owner, name, _ := strings.Cut(ref.Repo, "/")
	if rev := ref.Rev(); rev != DefaultRevision {
		name += "@" + strings.ReplaceAll(rev, "/", "%2F")
	}
	return filepath.Join(c.root, owner, name)
}
