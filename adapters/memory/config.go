package memory

import (
	"time"

	"go.uber.org/zap"
)

// Config tunes a memory backend. The zero value is ready to use; it has no
// settings yet, and is kept so that adding one later breaks no caller.
type Config struct{}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config { return c }

// Option configures the collaborators of a memory backend; see WithClock and
// WithLogger.
type Option interface {
	apply(*options)
}

// options are the collaborators set by Option values.
type options struct {
	clock       func() time.Time
	customClock bool
	logger      *zap.Logger
}

// optionFunc adapts a function to Option.
type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithClock makes the backend read the time from now instead of time.Now, so
// tests can drive expiry deterministically. With a custom clock the expiry
// timer polls every few milliseconds while keys have a ttl, so that advancing
// the clock makes expired keys disappear (and their invalidations go out)
// promptly. A nil now keeps time.Now.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) {
		if now != nil {
			o.clock = now
			o.customClock = true
		}
	})
}

// WithLogger sets the logger; the default is zap.NewNop(). The backend logs
// only lifecycle and degraded-mode events (subscription overflow), never
// values.
func WithLogger(l *zap.Logger) Option {
	return optionFunc(func(o *options) {
		if l != nil {
			o.logger = l
		}
	})
}
