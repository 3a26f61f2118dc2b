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
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/domain"
)

// reply is a server error reply, as go-redis' proto.RedisError is.
type reply string

func (r reply) Error() string { return string(r) }
func (reply) RedisError()     {}

var _ redis.Error = reply("")

// kinds are the errors a translated error may match; exactly one must,
// except that a refusal matches ErrRefused and its parent ErrUnavailable.
var kinds = []error{
	domain.ErrRefused,
	domain.ErrNotFound,
	domain.ErrWrongType,
	domain.ErrInvalidArgument,
	domain.ErrUnavailable,
	domain.ErrNotSupported,
	domain.ErrClosed,
	context.Canceled,
	context.DeadlineExceeded,
}

// matched returns the kinds err matches.
func matched(err error) []error {
	var out []error
	for _, k := range kinds {
		if errors.Is(err, k) {
			out = append(out, k)
		}
	}
	return out
}

func TestTranslate(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	unknownAuthority := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}

	tests := []struct {
		name  string
		err   error
		want  error // the one kind it must match; nil: none
		chain bool  // the original error must stay in the chain
	}{
		{"redis.Nil", redis.Nil, domain.ErrNotFound, false},
		{"wrapped redis.Nil", fmt.Errorf("hook: %w", redis.Nil), domain.ErrNotFound, false},
		{"WRONGTYPE", reply("WRONGTYPE Operation against a key holding the wrong kind of value"), domain.ErrWrongType, false},
		{"canceled", context.Canceled, context.Canceled, true},
		{"deadline", context.DeadlineExceeded, context.DeadlineExceeded, true},
		{"wrapped canceled", fmt.Errorf("redis: %w", context.Canceled), context.Canceled, true},
		{"client closed", redis.ErrClosed, domain.ErrClosed, true},
		{"connection refused", refused, domain.ErrUnavailable, true},
		{"bare ECONNREFUSED", syscall.ECONNREFUSED, domain.ErrUnavailable, true},
		{"connection reset", reset, domain.ErrUnavailable, true},
		{"i/o timeout", timeout, domain.ErrUnavailable, true},
		{"i/o timeout text", errors.New("dial tcp 10.0.0.1:6379: i/o timeout"), domain.ErrUnavailable, true},
		{"connection refused text", errors.New("dial tcp: connection refused"), domain.ErrUnavailable, true},
		{"EOF", io.EOF, domain.ErrUnavailable, true},
		{"unexpected EOF", io.ErrUnexpectedEOF, domain.ErrUnavailable, true},
		{"pool timeout", redis.ErrPoolTimeout, domain.ErrUnavailable, true},
		{"pool exhausted", redis.ErrPoolExhausted, domain.ErrUnavailable, true},
		{"closed network connection", fmt.Errorf("write: %w", net.ErrClosed), domain.ErrUnavailable, true},
		{"dns", &net.DNSError{Err: "no such host", Name: "redis.invalid", IsNotFound: true}, domain.ErrUnavailable, true},
		{"tls", unknownAuthority, domain.ErrUnavailable, true},
		{"LOADING", reply("LOADING Redis is loading the dataset in memory"), domain.ErrRefused, true},
		{"BUSY", reply("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."), domain.ErrRefused, true},
		{"MASTERDOWN", reply("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."), domain.ErrRefused, true},
		{"READONLY", reply("READONLY You can't write against a read only replica."), domain.ErrRefused, true},
		{"OOM", reply("OOM command not allowed when used memory > 'maxmemory'."), domain.ErrRefused, true},
		{"MISCONF", reply("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."), domain.ErrRefused, true},
		{"NOPERM", reply("NOPERM this user has no permissions to run the 'set' command"), domain.ErrRefused, true},
		{"NOREPLICAS", reply("NOREPLICAS Not enough good replicas to write."), domain.ErrRefused, true},
		{"TRYAGAIN", reply("TRYAGAIN Multiple keys request during rehashing of slot"), domain.ErrRefused, true},
		{"CLUSTERDOWN", reply("CLUSTERDOWN The cluster is down"), domain.ErrRefused, true},
		{"DENIED", reply("DENIED Redis is running in protected mode because protected mode is enabled"), domain.ErrRefused, true},
		{"max clients", reply("ERR max number of clients reached"), domain.ErrRefused, true},
		{"NOAUTH", reply("NOAUTH Authentication required."), domain.ErrRefused, true},
		{"WRONGPASS", reply("WRONGPASS invalid username-password pair or user is disabled."), domain.ErrRefused, true},
		{"AUTH without password", reply("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"), domain.ErrRefused, true},
		{"old invalid password", reply("ERR invalid password"), domain.ErrRefused, true},
		{"unknown command", reply("ERR unknown command 'FT.SUGADD', with args beginning with: 'k' 'a' '1' "), domain.ErrNotSupported, true},
		{"unknown subcommand", reply("ERR unknown subcommand 'TRACKING'. Try CLIENT HELP."), domain.ErrNotSupported, true},
		{"OOMx is not OOM", reply("OOMx something"), nil, true},
		{"BUSYKEY is not BUSY", reply("BUSYKEY Target key name already exists."), nil, true},
		{"other reply", reply("ERR syntax error"), nil, true},
		{"other error", errors.New("something odd"), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translate("get", "k", tt.err)
			if got == nil {
				t.Fatal("translate returned nil")
			}
			m := matched(got)
			if tt.want == domain.ErrRefused {
				// A refusal is a kind of unavailability.
				if !errors.Is(got, domain.ErrUnavailable) {
					t.Errorf("translate(%v) = %v is a refusal that does not match ErrUnavailable", tt.err, got)
				}
				m = slices.DeleteFunc(m, func(k error) bool { return k == domain.ErrUnavailable })
			}
			switch {
			case tt.want == nil && len(m) != 0:
				t.Errorf("translate(%v) = %v matches %v, want none", tt.err, got, m)
			case tt.want != nil && (len(m) != 1 || m[0] != tt.want):
				t.Errorf("translate(%v) = %v matches %v, want exactly %v", tt.err, got, m, tt.want)
			}
			if tt.chain && !errors.Is(got, tt.err) {
				t.Errorf("translate(%v) = %v lost the original error", tt.err, got)
			}
			if !strings.HasPrefix(got.Error(), `rediscache: get "k": `) {
				t.Errorf("message %q does not start with the command and key", got)
			}
		})
	}
}

func TestTranslateNil(t *testing.T) {
	if err := translate("get", "k", nil); err != nil {
		t.Fatalf("translate(nil) = %v", err)
	}
}

func TestTranslateKeepsDomainErrors(t *testing.T) {
	in := fmt.Errorf("rediscache: set %q: %w", "k", domain.ErrInvalidArgument)
	if got := translate("set", "k", in); got != in {
		t.Fatalf("translate changed a domain error: %v", got)
	}
}

func TestTranslateAuthMessage(t *testing.T) {
	err := translate("ping 127.0.0.1:6379", "", reply("WRONGPASS invalid username-password pair or user is disabled."))
	want := "rediscache: ping 127.0.0.1:6379: rediscache: refused by the server: authentication failed (check the username and password): WRONGPASS"
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("message = %q, want prefix %q", err, want)
	}
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		t.Fatal("the redis error is not in the chain")
	}
}

func TestTranslateNoKey(t *testing.T) {
	err := translate("unlink", "", io.EOF)
	if want := "rediscache: unlink: rediscache: backend unavailable: EOF"; err.Error() != want {
		t.Fatalf("message = %q, want %q", err, want)
	}
}

// TestTranslateRefusalMessage checks that a refusal's message names the
// command and key, says what the reply usually means, and keeps the
// server's own words.
func TestTranslateRefusalMessage(t *testing.T) {
	err := translate("set", "k", reply("OOM command not allowed when used memory > 'maxmemory'."))
	want := `rediscache: set "k": rediscache: refused by the server (out of memory: maxmemory is reached and maxmemory-policy evicts nothing; a cache wants allkeys-lru): OOM command not allowed when used memory > 'maxmemory'.`
	if err.Error() != want {
		t.Fatalf("message = %q\nwant      %q", err, want)
	}
	for _, r := range refusals {
		if got := translate("get", "k", reply(r.prefix+"x")); !errors.Is(got, domain.ErrRefused) {
			t.Errorf("refusal %q: %v does not match ErrRefused", r.prefix, got)
		}
	}
}
