package remote

import (
	"net"
	"syscall"
)

// tcpQuickAck is Linux's TCP_QUICKACK socket option.
const tcpQuickAck = 12

// quickAckConn re-arms TCP_QUICKACK before every read, so the kernel
// acknowledges each answer segment at once instead of delaying the ACK
// up to 40ms. Servers that write an answer's headers and body in two
// sends without TCP_NODELAY (llama-server's cpp-httplib does) otherwise
// wait for that delayed ACK under Nagle's algorithm on every request of a
// kept-alive connection: 45ms a step instead of 1.6ms, measured on
// stories260K (docs/performance.md).
type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

// Read re-arms TCP_QUICKACK, then reads.
func (c *quickAckConn) Read(p []byte) (int, error) {
	c.raw.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpQuickAck, 1) // best effort
	})
	return c.TCPConn.Read(p)
}

// wrapConn returns c with quick ACKs when it is a TCP connection.
func wrapConn(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &quickAckConn{TCPConn: tc, raw: raw}
}
