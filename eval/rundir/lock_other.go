//go:build !unix

package rundir

// Lock is a no-op on systems without flock: do not run two evals in one
// directory there.
type Lock struct{}

// TryLock always succeeds on systems without flock.
func TryLock(string) (*Lock, error) { return &Lock{}, nil }

// Unlock does nothing.
func (l *Lock) Unlock() error { return nil }
