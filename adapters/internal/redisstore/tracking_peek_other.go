//go:build !unix

package redisstore

import "net"

// peek cannot look at a socket on this platform: connections closed by the
// server are noticed when they are next used.
func peek(net.Conn) (closed, pending bool) { return false, false }
