//go:build unix

package rundir

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Lock is an exclusive lock on a run directory, held until Unlock (or the
// process dies: the kernel releases it, so a killed run never leaves a stale
// lock behind).
type Lock struct{ f *os.File }

// TryLock takes the exclusive lock file at path without waiting; it fails
// when another process holds it.
func TryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: another process is using this run directory", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error { return l.f.Close() }
