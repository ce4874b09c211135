//go:build !unix

package hf

import (
	"io"
	"os"
)

// mapFile reads the file into memory where mmap is unavailable.
func mapFile(fd *os.File, size int) ([]byte, error) {
	b := make([]byte, size)
	if _, err := io.ReadFull(fd, b); err != nil {
		return nil, err
	}
	return b, nil
}

// unmapFile is a no-op for memory read by mapFile.
func unmapFile([]byte) error { return nil }
