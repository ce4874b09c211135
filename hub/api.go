package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxJSONBytes bounds a metadata answer of the hub.
const maxJSONBytes = 64 << 20

// maxTreePages bounds how many pages of a tree listing are followed.
const maxTreePages = 200

// treeEntry is one entry of /api/models/{repo}/tree/{rev}.
type treeEntry struct {
	Type string `json:"type"`
	OID  string `json:"oid"`
	Size int64  `json:"size"`
	Path string `json:"path"`
	LFS  *struct {
		OID  string `json:"oid"`
		Size int64  `json:"size"`
	} `json:"lfs"`
}

// fileEntry is what is known of one file to download.
type fileEntry struct {
	Path   string
	Size   int64  // -1 when unknown
	SHA256 string // LFS content sha256, "" when unknown
	GitOID string // git blob sha1 of a non-LFS file, "" when unknown
}

func (e treeEntry) file() fileEntry {
	f := fileEntry{Path: e.Path, Size: e.Size}
	if e.LFS != nil {
		f.Size = e.LFS.Size
		if isHex(e.LFS.OID, 64) {
			f.SHA256 = strings.ToLower(e.LFS.OID)
		}
	} else if isHex(e.OID, 40) {
		f.GitOID = strings.ToLower(e.OID)
	}
	return f
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// escapePath escapes each "/"-separated segment of p for a URL path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// request performs one request to the hub, with the token and a user agent;
// transport failures wrap ErrOffline, HTTP errors are turned into errors
// naming what was asked (see statusError). what describes the request for
// messages. The caller closes the body of a 2xx response.
func (c *Client) request(ctx context.Context, method, rawURL string, hdr http.Header, ref Ref, what string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("hub: %s: %w", what, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "baco-hub/1")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("hub: %s: %w", what, ctx.Err())
		}
		return nil, fmt.Errorf("hub: %s: cannot reach %s: %w: %w", what, c.endpoint, ErrOffline, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return nil, c.statusError(resp, ref, what)
}

// statusError turns a non-2xx answer into an error that says what to do.
func (c *Client) statusError(resp *http.Response, ref Ref, what string) error {
	code := resp.Header.Get("X-Error-Code")
	msg := resp.Header.Get("X-Error-Message")
	detail := ""
	if msg != "" {
		detail = " (" + msg + ")"
	}
	page := c.endpoint + "/" + ref.Repo
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		if c.token == "" {
			return fmt.Errorf("hub: %s: %s answered 401 Unauthorized%s: %s is gated, private or does not exist; "+
				"if it exists, set HF_TOKEN to an access token that can read it (create one at https://huggingface.co/settings/tokens): %w",
				what, c.endpoint, detail, ref.Repo, ErrUnauthorized)
		}
		return fmt.Errorf("hub: %s: %s answered 401 Unauthorized%s: the token in HF_TOKEN was refused, or %s does not exist; check the token and the name: %w",
			what, c.endpoint, detail, ref.Repo, ErrUnauthorized)
	case http.StatusForbidden:
		if code == "GatedRepo" || c.token != "" {
			return fmt.Errorf("hub: %s: access to %s is restricted%s: accept its conditions at %s while logged in, and set HF_TOKEN to a token of that account: %w",
				what, ref.Repo, detail, page, ErrUnauthorized)
		}
		return fmt.Errorf("hub: %s: %s answered 403 Forbidden%s: set HF_TOKEN to an access token that can read %s: %w", what, c.endpoint, detail, ref.Repo, ErrUnauthorized)
	case http.StatusNotFound:
		switch code {
		case "RevisionNotFound":
			return fmt.Errorf("hub: %s: revision %q of %s not found%s: %w", what, ref.Rev(), ref.Repo, detail, ErrNotFound)
		case "EntryNotFound":
			return fmt.Errorf("hub: %s: file %q not found in %s at %s%s: %w", what, ref.File, ref.Repo, ref.Rev(), detail, ErrNotFound)
		}
		return fmt.Errorf("hub: %s: %s answered 404 Not Found%s: check the repository name %q (see %s): %w", what, c.endpoint, detail, ref.Repo, page, ErrNotFound)
	}
	return &statusErr{what: what, code: resp.StatusCode, status: resp.Status, detail: detail}
}

// statusErr is an unexpected HTTP status; 429 and 5xx are worth a retry.
type statusErr struct {
	what, status, detail string
	code                 int
}

// Error says what was asked and what the hub answered.
func (e *statusErr) Error() string {
	return fmt.Sprintf("hub: %s: the hub answered %s%s", e.what, e.status, e.detail)
}

func (e *statusErr) retryable() bool { return e.code == http.StatusTooManyRequests || e.code >= 500 }

// getJSON fetches a metadata URL into v and returns the response headers.
func (c *Client) getJSON(ctx context.Context, rawURL string, ref Ref, what string, v any) (http.Header, error) {
	resp, err := c.request(ctx, http.MethodGet, rawURL, nil, ref, what)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBytes+1))
	if err != nil {
		return nil, fmt.Errorf("hub: %s: %w", what, err)
	}
	if len(b) > maxJSONBytes {
		return nil, fmt.Errorf("hub: %s: answer larger than %d bytes", what, maxJSONBytes)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("hub: %s: bad JSON answer: %w", what, err)
	}
	return resp.Header, nil
}

// commit returns the commit sha ref's revision points at
// (/api/models/{repo} for the default branch,
// /api/models/{repo}/revision/{rev} otherwise).
func (c *Client) commit(ctx context.Context, ref Ref) (string, error) {
	u := c.endpoint + "/api/models/" + ref.Repo
	if ref.Rev() != DefaultRevision {
		u += "/revision/" + url.PathEscape(ref.Rev())
	}
	var info struct {
		SHA string `json:"sha"`
	}
	if _, err := c.getJSON(ctx, u, Ref{Repo: ref.Repo, Revision: ref.Revision}, "look up "+ref.Repo+"@"+ref.Rev(), &info); err != nil {
		return "", err
	}
	if !isHex(info.SHA, 40) {
		return "", fmt.Errorf("hub: look up %s@%s: the answer has no commit sha", ref.Repo, ref.Rev())
	}
	return strings.ToLower(info.SHA), nil
}

// tree lists the files of folder dir ("" for the root) of repo at commit,
// following the listing's pages (Link: <...>; rel="next").
func (c *Client) tree(ctx context.Context, ref Ref, commit, dir string) ([]treeEntry, error) {
	u := c.endpoint + "/api/models/" + ref.Repo + "/tree/" + url.PathEscape(commit)
	if dir != "" {
		u += "/" + escapePath(dir)
	}
	var all []treeEntry
	for page := 0; u != ""; page++ {
		if page >= maxTreePages {
			return nil, fmt.Errorf("hub: list %s: more than %d pages", ref.Repo, maxTreePages)
		}
		var entries []treeEntry
		hdr, err := c.getJSON(ctx, u, ref, "list the files of "+ref.Repo, &entries)
		if err != nil {
			return nil, err
		}
		all = append(all, entries...)
		u = nextLink(hdr.Get("Link"), c.endpoint)
	}
	return all, nil
}

// nextLink returns the rel="next" URL of a Link header, if it points to
// the endpoint's host.
func nextLink(h, endpoint string) string {
	for _, part := range strings.Split(h, ",") {
		l, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.Contains(params, `rel="next"`) {
			continue
		}
		l = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(l), "<"), ">")
		next, err := url.Parse(l)
		base, err2 := url.Parse(endpoint)
		if err != nil || err2 != nil {
			return ""
		}
		next = base.ResolveReference(next)
		if next.Host != base.Host {
			return ""
		}
		return next.String()
	}
	return ""
}

// fileURL is the download URL of file at commit.
func (c *Client) fileURL(repo, commit, file string) string {
	return c.endpoint + "/" + repo + "/resolve/" + url.PathEscape(commit) + "/" + escapePath(file)
}

// retryable reports whether a failed download is worth resuming.
func retryable(err error) bool {
	var se *statusErr
	if errors.As(err, &se) {
		return se.retryable()
	}
	var ie *interruptedErr
	return errors.As(err, &ie) || errors.Is(err, ErrOffline)
}
