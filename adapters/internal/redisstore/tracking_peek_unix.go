//go:build unix

package redisstore

import (
	"net"
	"syscall"
)

// peek looks at cn's socket without blocking and without consuming
// anything (MSG_PEEK|MSG_DONTWAIT): closed when it reads end of file or
// fails, pending when bytes wait to be read. It runs inside
// RawConn.Control, which does not take the descriptor's read lock, so it
// never waits for a reader go-redis has blocked on the socket and never
// takes its data. Connections without a descriptor look open and quiet.
func peek(cn net.Conn) (closed, pending bool) {
	sc, ok := rawSyscallConn(cn)
	if !ok {
		return false, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true, false
	}
	err = raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0:
			pending = true
		case err == nil:
			closed = true // end of file
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
		default:
			closed = true
		}
	})
	return closed || err != nil, pending
}

// rawSyscallConn unwraps cn (through NetConn, as for *tls.Conn) down to a
// connection with a file descriptor.
func rawSyscallConn(cn net.Conn) (syscall.Conn, bool) {
	for range 8 {
		if sc, ok := cn.(syscall.Conn); ok {
			return sc, true
		}
		u, ok := cn.(interface{ NetConn() net.Conn })
		if !ok {
			return nil, false
		}
		if cn = u.NetConn(); cn == nil {
			return nil, false
		}
	}
	return nil, false
}
