// Package hubtest runs an HTTP server that imitates the Hugging Face hub's
// file and metadata endpoints, for tests of hub clients:
//
//	GET  /api/models/{repo}                      {"id", "sha", "siblings"}
//	GET  /api/models/{repo}/revision/{rev}       the same for a revision
//	GET  /api/models/{repo}/tree/{rev}[/{dir}]   [{"type","oid","size","path","lfs"}], paged with Link
//	HEAD|GET /{repo}/resolve/{rev}/{file}        small files: 200 with ETag (git blob id);
//	                                             LFS files: 302 to /cdn/{sha256} with X-Linked-Etag,
//	                                             X-Linked-Size and X-Repo-Commit
//	GET  /cdn/{sha256}                           LFS content, with Range support
//
// Errors carry X-Error-Code like the hub's (RepoNotFound, RevisionNotFound,
// EntryNotFound, GatedRepo). Faults can be injected per file: a connection
// dropped after some bytes, or a wrong published sha256.
package hubtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Repo is one model repository the server holds.
type Repo struct {
	// Files maps paths ("config.json", "sub/x.gguf") to contents.
	Files map[string][]byte
	// Commit is the commit sha of "main" (derived from the files when "").
	Commit string
	// Token, when set, is required as "Authorization: Bearer <Token>" on
	// the API and resolve endpoints; other requests get 401.
	Token string
}

// Request is one request the server received.
type Request struct {
	Method, Path, Range string
	// Auth is the Authorization header.
	Auth string
}

// Server is the imitation hub. Its fields are guarded by its methods; set
// faults before the requests they should affect.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	repos    map[string]*Repo
	drops    map[string][]int64 // file path → byte counts at which to cut the next GETs
	badSHA   map[string]bool
	pageSize int
	requests []Request
}

// NewServer starts a server, closed when the test ends.
func NewServer(tb testing.TB) *Server {
	s := &Server{repos: map[string]*Repo{}, drops: map[string][]int64{}, badSHA: map[string]bool{}, pageSize: 1000}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Add serves repo under name ("owner/name").
func (s *Server) Add(name string, r *Repo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Commit == "" {
		h := sha1.New()
		keys := make([]string, 0, len(r.Files))
		for k := range r.Files {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(h, "%s\x00%d\x00", k, len(r.Files[k]))
			h.Write(r.Files[k])
		}
		r.Commit = hex.EncodeToString(h.Sum(nil))
	}
	s.repos[name] = r
}

// DropAfter makes the next GETs of file's content (one per count) close
// the connection after that many body bytes.
func (s *Server) DropAfter(file string, counts ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops[file] = append(s.drops[file], counts...)
}

// PublishWrongSHA makes the server publish a wrong sha256 for file (in the
// tree listing and the resolve headers).
func (s *Server) PublishWrongSHA(file string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.badSHA[file] = true
}

// SetPageSize sets how many entries one tree page holds (default 1000).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// IsLFS reports whether the server stores path with Git LFS (weights and
// other binaries, as the hub's default .gitattributes does).
func IsLFS(p string) bool {
	for _, ext := range []string{".safetensors", ".gguf", ".bin", ".pt", ".onnx"} {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
}

// SHA256 returns the hex sha256 of b.
func SHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// GitOID returns the git blob id of b.
func GitOID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) publishedSHA(file string, b []byte) string {
	if s.badSHA[file] {
		return strings.Repeat("0", 64)
	}
	return SHA256(b)
}

func hubError(w http.ResponseWriter, code int, errCode, msg string) {
	if errCode != "" {
		w.Header().Set("X-Error-Code", errCode)
	}
	w.Header().Set("X-Error-Message", msg)
	http.Error(w, `{"error":`+strconv.Quote(msg)+`}`, code)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"), Auth: r.Header.Get("Authorization")})
	s.mu.Unlock()
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/cdn/"):
		s.serveCDN(w, r, strings.TrimPrefix(p, "/cdn/"))
	case strings.HasPrefix(p, "/api/models/"):
		s.serveAPI(w, r, strings.TrimPrefix(p, "/api/models/"))
	default:
		s.serveResolve(w, r, strings.TrimPrefix(p, "/"))
	}
}

// repo finds the repository of "owner/name/rest" and checks the token.
func (s *Server) repo(w http.ResponseWriter, r *http.Request, p string) (name string, repo *Repo, rest string, ok bool) {
	parts := strings.SplitN(p, "/", 3)
	if len(parts) < 2 {
		hubError(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
		return "", nil, "", false
	}
	name = parts[0] + "/" + parts[1]
	if len(parts) == 3 {
		rest = parts[2]
	}
	s.mu.Lock()
	repo = s.repos[name]
	s.mu.Unlock()
	if repo == nil {
		hubError(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
		return "", nil, "", false
	}
	if repo.Token != "" && r.Header.Get("Authorization") != "Bearer "+repo.Token {
		hubError(w, http.StatusUnauthorized, "GatedRepo", "Access to model "+name+" is restricted. You must be authenticated to access it.")
		return "", nil, "", false
	}
	return name, repo, rest, true
}

// revOK reports whether rev names the repository's only commit.
func revOK(repo *Repo, rev string) bool { return rev == "main" || rev == repo.Commit }

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, p string) {
	name, repo, rest, ok := s.repo(w, r, p)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	kind, arg, _ := strings.Cut(rest, "/")
	switch kind {
	case "", "revision":
		if kind == "revision" && !revOK(repo, arg) {
			hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+arg)
			return
		}
		type sibling struct {
			RFilename string `json:"rfilename"`
		}
		var sib []sibling
		for _, f := range sortedKeys(repo.Files) {
			sib = append(sib, sibling{f})
		}
		json.NewEncoder(w).Encode(map[string]any{"id": name, "modelId": name, "sha": repo.Commit, "private": false, "gated": repo.Token != "", "siblings": sib})
	case "tree":
		rev, dir, _ := strings.Cut(arg, "/")
		if !revOK(repo, rev) {
			hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
			return
		}
		s.serveTree(w, r, repo, dir)
	default:
		hubError(w, http.StatusNotFound, "", "Not found")
	}
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// serveTree lists the files and folders directly inside dir.
func (s *Server) serveTree(w http.ResponseWriter, r *http.Request, repo *Repo, dir string) {
	var entries []map[string]any
	seenDirs := map[string]bool{}
	for _, f := range sortedKeys(repo.Files) {
		rel := f
		if dir != "" {
			var ok bool
			if rel, ok = strings.CutPrefix(f, dir+"/"); !ok {
				continue
			}
		}
		if sub, _, nested := strings.Cut(rel, "/"); nested {
			full := strings.TrimPrefix(dir+"/"+sub, "/")
			if !seenDirs[full] {
				seenDirs[full] = true
				entries = append(entries, map[string]any{"type": "directory", "oid": GitOID([]byte(full)), "size": 0, "path": full})
			}
			continue
		}
		b := repo.Files[f]
		e := map[string]any{"type": "file", "size": len(b), "path": f}
		if IsLFS(f) {
			s.mu.Lock()
			sha := s.publishedSHA(f, b)
			s.mu.Unlock()
			pointer := fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", sha, len(b))
			e["oid"] = GitOID([]byte(pointer))
			e["lfs"] = map[string]any{"oid": sha, "size": len(b), "pointerSize": len(pointer)}
		} else {
			e["oid"] = GitOID(b)
		}
		entries = append(entries, e)
	}
	if entries == nil && dir != "" {
		hubError(w, http.StatusNotFound, "EntryNotFound", "Entry not found: "+dir)
		return
	}
	s.mu.Lock()
	size := s.pageSize
	s.mu.Unlock()
	start, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	start = min(max(start, 0), len(entries))
	end := min(start+size, len(entries))
	if end < len(entries) {
		next := *r.URL
		q := next.Query()
		q.Set("cursor", strconv.Itoa(end))
		next.RawQuery = q.Encode()
		w.Header().Set("Link", "<"+s.URL+next.RequestURI()+`>; rel="next"`)
	}
	page := entries[start:end]
	if page == nil {
		page = []map[string]any{}
	}
	json.NewEncoder(w).Encode(page)
}

func (s *Server) serveResolve(w http.ResponseWriter, r *http.Request, p string) {
	_, repo, rest, ok := s.repo(w, r, p)
	if !ok {
		return
	}
	kind, rest, _ := strings.Cut(rest, "/")
	rev, file, _ := strings.Cut(rest, "/")
	if kind != "resolve" {
		hubError(w, http.StatusNotFound, "", "Not found")
		return
	}
	if !revOK(repo, rev) {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	b, ok := repo.Files[file]
	if !ok {
		hubError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	w.Header().Set("X-Repo-Commit", repo.Commit)
	if IsLFS(file) {
		s.mu.Lock()
		sha := s.publishedSHA(file, b)
		s.mu.Unlock()
		w.Header().Set("X-Linked-Etag", `"`+sha+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(b)))
		w.Header().Set("ETag", `"`+sha+`"`)
		http.Redirect(w, r, "/cdn/"+SHA256(b)+"?file="+file, http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+GitOID(b)+`"`)
	s.content(w, r, file, b)
}

func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request, sha string) {
	file := r.URL.Query().Get("file")
	s.mu.Lock()
	var b []byte
	found := false
	for _, repo := range s.repos {
		if c, ok := repo.Files[file]; ok && SHA256(c) == sha {
			b, found = c, true
		}
	}
	s.mu.Unlock()
	if !found {
		http.Error(w, "no such object", http.StatusNotFound)
		return
	}
	s.content(w, r, file, b)
}

// content serves b with Range support, cutting the connection where a
// fault asks.
func (s *Server) content(w http.ResponseWriter, r *http.Request, file string, b []byte) {
	cut := int64(-1)
	if r.Method == http.MethodGet {
		s.mu.Lock()
		if d := s.drops[file]; len(d) > 0 {
			cut, s.drops[file] = d[0], d[1:]
		}
		s.mu.Unlock()
	}
	if cut >= 0 {
		w = &cutWriter{ResponseWriter: w, left: cut}
	}
	http.ServeContent(w, r, path.Base(file), time.Time{}, bytes.NewReader(b))
}

// cutWriter passes left bytes of the body, then aborts the connection.
type cutWriter struct {
	http.ResponseWriter
	left int64
}

// Write passes bytes until the budget is spent, then aborts.
func (c *cutWriter) Write(p []byte) (int, error) {
	if int64(len(p)) <= c.left {
		c.left -= int64(len(p))
		return c.ResponseWriter.Write(p)
	}
	c.ResponseWriter.Write(p[:c.left])
	c.left = 0
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
}
