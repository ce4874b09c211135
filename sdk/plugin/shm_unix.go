//go:build unix

package plugin

import (
	"fmt"
	"os"
	"syscall"
)

// createArena creates a shared-memory file (in /dev/shm when it exists)
// and maps it. The caller removes the file once the plugin has mapped it.
func createArena(slots, slotSize int) (*arena, string, error) {
	dir := os.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		dir = "/dev/shm"
	}
	f, err := os.CreateTemp(dir, "baco-plugin-*.shm")
	if err != nil {
		return nil, "", fmt.Errorf("shared memory: %w", err)
	}
	defer f.Close()
	size := slots * slotSize
	fail := func(err error) (*arena, string, error) {
		os.Remove(f.Name())
		return nil, "", fmt.Errorf("shared memory: %w", err)
	}
	if err := f.Truncate(int64(size)); err != nil {
		return fail(err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fail(err)
	}
	return newArenaFrom(mem, slots, slotSize), f.Name(), nil
}

// mapArena maps the host's shared-memory file (plugin side).
func mapArena(path string, slots, slotSize int) (*arena, error) {
	size := slots * slotSize
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() != int64(size) {
		return nil, fmt.Errorf("shared memory %s holds %d bytes, want %d", path, st.Size(), size)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return newArenaFrom(mem, slots, slotSize), nil
}

func unmap(mem []byte) error { return syscall.Munmap(mem) }
