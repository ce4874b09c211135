//go:build !unix

package plugin

import "errors"

var errNoShm = errors.New("shared memory not supported on this platform")

func createArena(int, int) (*arena, string, error) { return nil, "", errNoShm }
func mapArena(string, int, int) (*arena, error)    { return nil, errNoShm }
func unmap([]byte) error                           { return nil }
