package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// Retry is a retry policy with exponential backoff and full jitter.
type Retry struct {
	// Attempts is the most tries of one call, the first included (< 1: 1).
	Attempts int
	// Base is the backoff before the second try; it doubles each try.
	Base time.Duration
	// Max caps one backoff (and a server's Retry-After).
	Max time.Duration
	// Timeout bounds one try (0: only the caller's context bounds it).
	Timeout time.Duration
}

// DefaultRetry is 4 tries, 100ms doubling to at most 2s, 60s per try.
var DefaultRetry = Retry{Attempts: 4, Base: 100 * time.Millisecond, Max: 2 * time.Second, Timeout: 60 * time.Second}

// Transient marks an error worth retrying: a connection failure, a 5xx or
// 429 answer, a body cut short. After, when positive, is the server's
// Retry-After.
type Transient struct {
	Err   error
	After time.Duration
}

// Error is the underlying error's message.
func (e *Transient) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Transient) Unwrap() error { return e.Err }

// Do calls f until it succeeds, returns an error that is not transient
// (see IsTransient), the tries run out or ctx is done. Each try gets its
// own context bounded by r.Timeout. The error of the last try is returned,
// prefixed with op when op is not empty and with the number of tries when
// there were several.
func (r Retry) Do(ctx context.Context, op string, f func(ctx context.Context) error) error {
	tries := max(1, r.Attempts)
	wrap := func(format string, args ...any) error {
		err := fmt.Errorf(format, args...)
		if op != "" {
			return fmt.Errorf("%s: %w", op, err)
		}
		return err
	}
	for try := 1; ; try++ {
		err := r.once(ctx, f)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return wrap("%w (%v)", ctx.Err(), err)
		}
		after, transient := IsTransient(err)
		if !transient {
			return wrap("%w", err)
		}
		if try >= tries {
			if tries > 1 {
				return wrap("gave up after %d tries: %w", tries, err)
			}
			return wrap("%w", err)
		}
		wait := r.backoff(try)
		if after > 0 {
			wait = min(after, max(r.Max, r.Base))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return wrap("%w (after %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

func (r Retry) once(ctx context.Context, f func(ctx context.Context) error) error {
	if r.Timeout <= 0 {
		return f(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	err := f(ctx)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// A try that ran out of time is worth another (the caller's own
		// context is checked separately).
		return &Transient{Err: fmt.Errorf("no answer within %v: %w", r.Timeout, err)}
	}
	return err
}

// backoff is the wait after try (1-based): a random duration in
// [d/2, d] with d = Base·2^(try-1) capped at Max.
func (r Retry) backoff(try int) time.Duration {
	d := r.Base
	for i := 1; i < try && d < r.Max; i++ {
		d *= 2
	}
	if r.Max > 0 {
		d = min(d, r.Max)
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// IsTransient reports whether err is worth retrying, and the wait the
// server asked for. Transient errors are those marked *Transient,
// connection failures (refused, reset, closed early, DNS temporary
// errors) and a body cut short. Context errors are not.
func IsTransient(err error) (time.Duration, bool) {
	if err == nil || errors.Is(err, context.Canceled) {
		return 0, false
	}
	var t *Transient
	if errors.As(err, &t) {
		return t.After, true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return 0, false
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return 0, true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return 0, true // the request never got an answer
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return 0, true
	}
	return 0, false
}

// retryAfter reads a Retry-After header given in seconds.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	var s int
	if _, err := fmt.Sscanf(v, "%d", &s); err != nil || s < 0 {
		return 0
	}
	return time.Duration(min(s, 3600)) * time.Second
}
