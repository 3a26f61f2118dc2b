package redisstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/domain"
)

// translate turns an error of go-redis into one that matches exactly one
// domain sentinel (or context.Canceled / context.DeadlineExceeded), with the
// command and key as context. It is the only place where driver errors are
// classified; go-redis errors never cross a port bare.
//
//   - nil stays nil; an error that already matches a domain sentinel is
//     returned unchanged;
//   - context.Canceled and context.DeadlineExceeded are wrapped and still
//     match;
//   - redis.Nil becomes domain.ErrNotFound and WRONGTYPE domain.ErrWrongType;
//   - a closed client becomes domain.ErrClosed;
//   - a server's refusal (every prefix of refusals: OOM, MISCONF, NOPERM,
//     READONLY, LOADING, BUSY, MASTERDOWN, NOREPLICAS, ...) and rejected
//     credentials (NOAUTH, WRONGPASS) become domain.ErrRefused, which is a
//     kind of domain.ErrUnavailable, with a hint of what the reply usually
//     means before the server's own message;
//   - unreachable servers (network errors, EOF, pool timeouts) become
//     domain.ErrUnavailable; so do failed TLS handshakes, with a hint
//     naming the cause (an unknown CA, a wrong host name, a client
//     certificate the server requires, a plain-text port);
//   - unknown commands (a missing module) become domain.ErrNotSupported,
//     with a hint naming the module for its commands (FT.*);
//   - the RediSearch module's replies to bad arguments ("Invalid query",
//     "ERR invalid score") become domain.ErrInvalidArgument;
//   - any other error is wrapped as is.
//
// Except for redis.Nil and WRONGTYPE, the go-redis error stays in the chain.
// Messages carry the command name and key, never a password: neither
// go-redis nor Redis echo credentials in their errors.
func translate(op, key string, err error) error {
	if err == nil || isDomain(err) {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return wrap(op, key, err)
	case errors.Is(err, redis.Nil):
		return wrap(op, key, domain.ErrNotFound)
	case errors.Is(err, redis.ErrClosed):
		return wrap2(op, key, domain.ErrClosed, err)
	}

	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		switch {
		case strings.HasPrefix(msg, "WRONGTYPE"):
			return wrap(op, key, domain.ErrWrongType)
		case isAuthError(msg):
			return fmt.Errorf("%s: %w: authentication failed (check the username and password): %w",
				prefix(op, key), domain.ErrRefused, err)
		case refusalHint(msg) != "":
			return fmt.Errorf("%s: %w (%s): %w", prefix(op, key), domain.ErrRefused, refusalHint(msg), err)
		case isUnknownCommand(msg):
			if hint := moduleHint(msg); hint != "" {
				return fmt.Errorf("%s: %w: %s: %w", prefix(op, key), domain.ErrNotSupported, hint, err)
			}
			return wrap2(op, key, domain.ErrNotSupported, err)
		case isInvalidArgumentReply(msg):
			return wrap2(op, key, domain.ErrInvalidArgument, err)
		}
		return wrap(op, key, err)
	}

	if hint := tlsHint(err); hint != "" {
		return fmt.Errorf("%s: %w (%s): %w", prefix(op, key), domain.ErrUnavailable, hint, err)
	}
	if isNetworkError(err) {
		return wrap2(op, key, domain.ErrUnavailable, err)
	}
	return wrap(op, key, err)
}

// tlsHint says what a failed TLS handshake usually means, or "" when err is
// no TLS failure. The crypto/tls error stays in the chain (errors.As finds
// *tls.CertificateVerificationError, x509.UnknownAuthorityError,
// x509.HostnameError, tls.AlertError, tls.RecordHeaderError).
func tlsHint(err error) string {
	var (
		certErr   *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		alert     tls.AlertError
		record    tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &authority):
		return "TLS: the server's certificate is not signed by a trusted CA; check the CA file (tls.Config.RootCAs)"
	case errors.As(err, &hostname):
		return "TLS: the server's certificate is not valid for this host name; check the address (tls.Config.ServerName)"
	case errors.As(err, &invalid):
		return "TLS: the server's certificate is invalid (expired, not yet valid, or not for a server)"
	case errors.As(err, &certErr):
		return "TLS: the server's certificate did not verify"
	case errors.As(err, &alert), strings.Contains(err.Error(), "remote error: tls:"):
		return "TLS: the server rejected the handshake; does it require a client certificate (tls.Config.Certificates)?"
	case errors.As(err, &record):
		return "TLS: the server did not answer in TLS; is this its plain-text port?"
	}
	return ""
}

// isReply reports whether err is a reply of the server (redis.Nil
// included) rather than a failure to get one.
func isReply(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr)
}

// isDomain reports whether err already matches a domain sentinel.
func isDomain(err error) bool {
	return errors.Is(err, domain.ErrNotFound) ||
		errors.Is(err, domain.ErrWrongType) ||
		errors.Is(err, domain.ErrInvalidArgument) ||
		errors.Is(err, domain.ErrUnavailable) || // ErrRefused included
		errors.Is(err, domain.ErrNotSupported) ||
		errors.Is(err, domain.ErrClosed)
}

// isAuthError recognises the replies of a server that refuses the
// connection's credentials, or wants some.
func isAuthError(msg string) bool {
	for _, p := range []string{
		"NOAUTH",               // password required, none sent
		"WRONGPASS",            // Redis >= 6
		"ERR invalid password", // Redis < 6
		"ERR AUTH",             // AUTH sent to a server without a password (Redis >= 6)
		"ERR Client sent AUTH", // same, Redis < 6
		"ERR invalid username-password pair",
	} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// refusals are the replies of a server that is up but refuses to run the
// command, each with what it usually means. translate turns them into
// domain.ErrRefused; the server's own message follows the hint.
var refusals = []struct{ prefix, hint string }{
	{"OOM ", "out of memory: maxmemory is reached and maxmemory-policy evicts nothing; a cache wants allkeys-lru"},
	{"MISCONF ", "the server cannot persist to disk and refuses writes (stop-writes-on-bgsave-error)"},
	{"NOPERM ", "the ACL user lacks the permission for this command or key"},
	{"READONLY ", "the server is a read-only replica"},
	{"LOADING ", "the server is loading its data set"},
	{"BUSY ", "the server is running a script or function past busy-reply-threshold"},
	{"MASTERDOWN ", "the replica lost its master and replica-serve-stale-data is no"},
	{"NOREPLICAS ", "fewer good replicas than min-replicas-to-write"},
	{"TRYAGAIN ", "the cluster is migrating the key"},
	{"CLUSTERDOWN ", "the cluster is down"},
	{"ERR max number of clients reached", "the server has maxclients connections"},
	{"DENIED ", "the server is in protected mode"},
}

// refusalHint returns the hint of the refusal msg starts with, or "" when
// msg is no refusal.
func refusalHint(msg string) string {
	for _, r := range refusals {
		if strings.HasPrefix(msg, r.prefix) {
			return r.hint
		}
	}
	return ""
}

// isUnknownCommand recognises the reply to a command the server does not
// have, such as FT.SUGADD without the RediSearch module.
func isUnknownCommand(msg string) bool {
	lower := strings.ToLower(msg)
	return strings.HasPrefix(lower, "err unknown command") ||
		strings.HasPrefix(lower, "err unknown subcommand")
}

// isNetworkError recognises failures to reach or talk to the server.
func isNetworkError(err error) bool {
	if errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, redis.ErrPoolExhausted) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ETIMEDOUT) ||
		errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.ENOENT) { // unix socket path missing
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var (
		certErr   *tls.CertificateVerificationError
		recordErr tls.RecordHeaderError
		alertErr  tls.AlertError
	)
	if errors.As(err, &certErr) || errors.As(err, &recordErr) || errors.As(err, &alertErr) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"i/o timeout", "connection refused", "connection reset", "broken pipe", "no route to host"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// prefix is the start of every message: "rediscache: <op> <key>".
func prefix(op, key string) string {
	if key == "" {
		return "rediscache: " + op
	}
	return fmt.Sprintf("rediscache: %s %q", op, key)
}

// wrap returns err with the command and key in front.
func wrap(op, key string, err error) error {
	return fmt.Errorf("%s: %w", prefix(op, key), err)
}

// wrap2 returns kind, then the original err, with the command and key in
// front; errors.Is matches both.
func wrap2(op, key string, kind, err error) error {
	return fmt.Errorf("%s: %w: %w", prefix(op, key), kind, err)
}

// moduleHint returns how to get the module whose command the unknown
// command reply msg names, or "" for a command of no known module.
func moduleHint(msg string) string {
	// "ERR unknown command 'FT.SUGADD', with args beginning with: ..."
	_, rest, ok := strings.Cut(msg, "'")
	if !ok {
		return ""
	}
	name, _, ok := strings.Cut(rest, "'")
	if !ok || !strings.HasPrefix(strings.ToUpper(name), "FT.") {
		return ""
	}
	return fmt.Sprintf("RediSearch module not loaded (%s): install redis-redisearch and load it with --loadmodule",
		strings.ToUpper(name))
}

// isInvalidArgumentReply recognises the RediSearch module's replies to
// arguments it rejects: a suggestion prefix that is too long, a score that
// is not a number.
func isInvalidArgumentReply(msg string) bool {
	return strings.HasPrefix(msg, "Invalid query") || strings.HasPrefix(msg, "ERR invalid score")
}
