package clientcache

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/rediscache/rediscache/domain"
)

// Defaults of Config, those of Frappe's ClientCache.
const (
	DefaultMaxEntries  = 1024
	DefaultLocalTTL    = 10 * time.Minute
	DefaultWaitTimeout = 5 * time.Second
)

// Config bounds a ClientCache. The zero value gives Frappe's defaults.
type Config struct {
	// MaxEntries bounds the number of local entries. 0 means
	// DefaultMaxEntries (1024).
	MaxEntries int
	// MaxBytes bounds the accounted size of the local entries (the length
	// of each encoded value plus its key). 0 means no byte bound.
	MaxBytes int64
	// LocalTTL bounds how long a local copy is served without asking the
	// backend, even when no invalidation arrives. 0 means DefaultLocalTTL
	// (10 minutes).
	LocalTTL time.Duration
	// WaitTimeout bounds how long a read waits for another goroutine's
	// fetch of the same key before fetching itself. 0 means
	// DefaultWaitTimeout (5 s).
	WaitTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.LocalTTL == 0 {
		c.LocalTTL = DefaultLocalTTL
	}
	if c.WaitTimeout == 0 {
		c.WaitTimeout = DefaultWaitTimeout
	}
	return c
}

// Validate reports every unusable setting.
func (c Config) Validate() error {
	var errs []error
	if c.MaxEntries < 0 {
		errs = append(errs, fmt.Errorf("%w: negative MaxEntries %d", domain.ErrInvalidArgument, c.MaxEntries))
	}
	if c.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("%w: negative MaxBytes %d", domain.ErrInvalidArgument, c.MaxBytes))
	}
	if c.LocalTTL < 0 {
		errs = append(errs, fmt.Errorf("%w: negative LocalTTL %v", domain.ErrInvalidArgument, c.LocalTTL))
	}
	if c.WaitTimeout < 0 {
		errs = append(errs, fmt.Errorf("%w: negative WaitTimeout %v", domain.ErrInvalidArgument, c.WaitTimeout))
	}
	return joinErrors(errs)
}

// Option sets a collaborator of a ClientCache.
type Option func(*options)

type options struct {
	log       *zap.Logger
	broadcast broadcaster
	now       func() time.Time
}

// WithLogger sets the logger for state changes (tracking lost, recovered).
// The default is zap.NewNop().
func WithLogger(l *zap.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithClock replaces time.Now for local TTLs, for tests.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}
