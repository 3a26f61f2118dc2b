package connection

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// NormalizeAddr checks the address of a server (a sentinel, a cluster node)
// and returns it in the form net.Dial expects: "host:port" with a numeric
// port in 1-65535, an IPv6 literal in brackets ("[::1]:6379"). Unlike
// Frappe's "host:port".split(":"), it accepts IPv6 literals. Its errors
// quote the address, which holds no secret.
func NormalizeAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var aerr *net.AddrError
		if errors.As(err, &aerr) {
			return "", fmt.Errorf("%q is not host:port (%s; write IPv6 literals in brackets, as [::1]:6379)", addr, aerr.Err)
		}
		return "", fmt.Errorf("%q is not host:port: %v", addr, err)
	}
	if host == "" {
		return "", fmt.Errorf("%q has no host", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: port %q is not a number in 1-65535", addr, port)
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}
