package domain

import "errors"

// The sentinel errors below are the only error kinds that cross a port. Every
// adapter wraps driver errors so that errors.Is matches exactly one of them
// (or context.Canceled / context.DeadlineExceeded for a cancelled call).
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
	// ErrUnavailable means the backend could not be reached or did not
	// answer in time: connection refused or reset, pool timeout, I/O timeout,
	// a server still loading its data set.
	ErrUnavailable = errors.New("rediscache: backend unavailable")
	// ErrNotSupported means the backend lacks the feature, for example
	// FT.SUG* on a redis-server without the RediSearch module.
	ErrNotSupported = errors.New("rediscache: not supported")
	// ErrClosed means the adapter or cache was closed.
	ErrClosed = errors.New("rediscache: closed")
)
