//go:build !linux

package remote

import "net"

// wrapConn returns c unchanged: TCP_QUICKACK is Linux's.
func wrapConn(c net.Conn) net.Conn { return c }
