// Package remote is the machinery the HTTP backends (llamacpp, openai)
// share: client-side sequences (a remote server is stateless per request,
// so each sequence's tokens live here and every step sends them all),
// a bounded fan-out of one request per sequence, retries with exponential
// backoff on transient failures, a tuned HTTP client with body limits and
// the server's own error message, the conversion of returned candidates
// into a dist.Dist, and the reconstruction of a model's raw vocabulary
// from the decoded token texts a server exposes.
package remote
