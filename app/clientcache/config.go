package clientcache

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// Defaults of Config, those of Frappe's ClientCache.
const (
	DefaultMaxEntries  = 1024
	DefaultLocalTTL    = 10 * time.Minute
	DefaultWaitTimeout = 5 * time.Second
)

// Config bounds a ClientCache. The zero value gives Frappe's defaults. The
// bounds are the process's: one ClientCache serves every site.
type Config struct {
	// MaxEntries bounds the number of local entries (remembered misses
	// included). 0 means DefaultMaxEntries (1024).
	MaxEntries int
	// MaxBytes bounds the accounted size of the local entries (the length
	// of each encoded value plus its key). 0 means no byte bound.
	MaxBytes int64
	// MaxEntryBytes is the largest accounted size of one entry: a larger
	// value is served but not kept. 0 means MaxBytes/8 when MaxBytes is
	// set, no cap otherwise; a cap above MaxBytes counts as MaxBytes.
	MaxEntryBytes int64
	// LocalTTL bounds how long a local copy is served without asking the
	// backend, even when no invalidation arrives. A key's own TTL bounds
	// it further. 0 means DefaultLocalTTL (10 minutes).
	LocalTTL time.Duration
	// WaitTimeout bounds how long a read waits for another goroutine's
	// fetch of the same key before reading the backend itself. 0 means
	// DefaultWaitTimeout (5 s).
	WaitTimeout time.Duration
	// Codec turns values into bytes and back, for every site. nil means
	// app.JSONCodec, the app.Cache's default.
	Codec ports.Codec
}

func (c Config) withDefaults() Config {
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.MaxEntryBytes == 0 && c.MaxBytes > 0 {
		c.MaxEntryBytes = c.MaxBytes / 8
	}
	if c.MaxBytes > 0 && c.MaxEntryBytes > c.MaxBytes {
		// Kept, such a value would evict every entry, then itself.
		c.MaxEntryBytes = c.MaxBytes
	}
	if c.LocalTTL == 0 {
		c.LocalTTL = DefaultLocalTTL
	}
	if c.WaitTimeout == 0 {
		c.WaitTimeout = DefaultWaitTimeout
	}
	if c.Codec == nil {
		c.Codec = app.JSONCodec{}
	}
	return c
}

// Validate reports every unusable setting, each matching
// domain.ErrInvalidArgument.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{domain.ErrInvalidArgument}, args...)...))
	}
	if c.MaxEntries < 0 {
		add("negative MaxEntries %d", c.MaxEntries)
	}
	if c.MaxBytes < 0 {
		add("negative MaxBytes %d", c.MaxBytes)
	}
	if c.MaxEntryBytes < 0 {
		add("negative MaxEntryBytes %d", c.MaxEntryBytes)
	}
	if c.LocalTTL < 0 {
		add("negative LocalTTL %v", c.LocalTTL)
	}
	if c.WaitTimeout < 0 {
		add("negative WaitTimeout %v", c.WaitTimeout)
	}
	return errors.Join(errs...)
}

// Option sets a collaborator of a ClientCache.
type Option func(*options)

type options struct {
	log *zap.Logger
	now func() time.Time
	tel app.Telemetry
}

// WithLogger sets the logger for state changes (tracking lost, recovered)
// and for the values served while the backend refused to store them. The
// default is zap.NewNop().
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

// WithTelemetry says where the ClientCache reports its metrics and spans
// (see app.Telemetry; the default is its zero value: OpenTelemetry's global
// providers).
func WithTelemetry(t app.Telemetry) Option {
	return func(o *options) { o.tel = t }
}
