package domain

import "errors"

// The sentinel errors below are the only error kinds that cross a port. Every
// adapter wraps driver errors so that errors.Is matches exactly one of them
// (or context.Canceled / context.DeadlineExceeded for a cancelled call), with
// one refinement: ErrRefused is a kind of ErrUnavailable, so an error that
// matches ErrRefused matches ErrUnavailable too.
var (
	// ErrNotFound means the key (or hash field, or list/set element) does not
	// exist or has expired. It plays the role of redis.Nil.
	ErrNotFound = errors.New("rediscache: not found")
	// ErrWrongType means the key holds a value of another Redis type
	// (Redis' WRONGTYPE error).
	ErrWrongType = errors.New("rediscache: wrong type")
	// ErrInvalidArgument means the caller passed an unusable value: an empty
	// key or site, a negative TTL, an unencodable value and the like.
	ErrInvalidArgument = errors.New("rediscache: invalid argument")
	// ErrUnavailable means the backend cannot serve the call now: it could
	// not be reached or did not answer in time (connection refused or
	// reset, pool timeout, I/O timeout, a TLS handshake that failed), or
	// it answered with a refusal (ErrRefused). A cache that is unavailable
	// behaves like no cache: app.GetOrGenerate serves the generated value.
	ErrUnavailable = errors.New("rediscache: backend unavailable")
	// ErrRefused means the server was reached and answered, but refused to
	// run the command: it is out of memory under a noeviction policy (OOM),
	// cannot persist (MISCONF), the ACL user may not run the command
	// (NOPERM) or the credentials were rejected (NOAUTH, WRONGPASS), it is
	// a read-only replica (READONLY), still loading its data set (LOADING),
	// busy with a script (BUSY), a replica without its master (MASTERDOWN),
	// or a master without the replicas min-replicas-to-write asks for
	// (NOREPLICAS). The error's message keeps the server's reply, for
	// humans.
	//
	// ErrRefused is a kind of ErrUnavailable: errors.Is(err,
	// ErrUnavailable) is true for a refusal too, so code that treats an
	// unavailable cache as no cache needs nothing more. Test for ErrRefused
	// (errors.Is(err, domain.ErrRefused)) only to tell a server that said
	// no, which reconnecting does not cure and an operator usually must
	// (maxmemory, ACLs, replication settings), from one that did not
	// answer. The in-memory adapter never refuses.
	ErrRefused error = &kindError{msg: "rediscache: refused by the server", parent: ErrUnavailable}
	// ErrNotSupported means the backend lacks the feature, for example
	// FT.SUG* on a redis-server without the RediSearch module.
	ErrNotSupported = errors.New("rediscache: not supported")
	// ErrClosed means the adapter or cache was closed.
	ErrClosed = errors.New("rediscache: closed")
)

// kindError is a sentinel that is a refinement of another: errors.Is
// matches both.
type kindError struct {
	msg    string
	parent error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.parent }
