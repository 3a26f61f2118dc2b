//go:build !unix

package redisstore

import "net"

// peerClosed cannot peek at a socket on this platform: connections closed
// by the server are noticed when go-redis next uses them.
func peerClosed(net.Conn) bool { return false }
