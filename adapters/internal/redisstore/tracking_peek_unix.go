//go:build unix

package redisstore

import (
	"net"
	"syscall"
)

// peerClosed reports whether the server closed cn: a non-blocking,
// non-consuming peek (MSG_PEEK|MSG_DONTWAIT) at the socket reads end of
// file or fails. It runs inside RawConn.Control, which does not take the
// descriptor's read lock, so it never waits for a reader go-redis has
// blocked on the socket and never takes its data. Connections without a
// descriptor are assumed open.
func peerClosed(cn net.Conn) bool {
	sc, ok := rawSyscallConn(cn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	err = raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0:
		case err == nil:
			closed = true // end of file
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
		default:
			closed = true
		}
	})
	return closed || err != nil
}
