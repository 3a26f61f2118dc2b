// Package connection holds the connection settings every Redis adapter
// shares (standalone, sentinel, cluster): credentials, TLS, timeouts, pool
// sizes and retries, with their defaults and their validation. Each adapter's
// Config embeds one Options as its Connection field and adds only what is
// particular to it (a URL, sentinel addresses, cluster nodes).
package connection

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/rediscache/rediscache/domain"
)

// Defaults of Options. A zero field means its default.
const (
	// DefaultDialTimeout bounds the establishment of one connection.
	DefaultDialTimeout = 5 * time.Second
	// DefaultReadTimeout bounds the wait for one reply.
	DefaultReadTimeout = 3 * time.Second
	// DefaultWriteTimeout bounds the sending of one command.
	DefaultWriteTimeout = 3 * time.Second
	// DefaultProtocol is RESP2. The invalidation stream (CLIENT TRACKING
	// with REDIRECT to a Pub/Sub connection) and the parsing of RediSearch
	// replies rely on it, as Frappe's cache connection does.
	DefaultProtocol = 2
	// DefaultTrackingPoolSize is the number of connections, per server,
	// on which the ClientCache's tracked reads run.
	DefaultTrackingPoolSize = 4
)

// Options are the connection settings of a Redis adapter. The zero value is
// usable: no credentials, no TLS, and the defaults below.
type Options struct {
	// Username is the ACL user (Redis 6+). Default: none (the default
	// user).
	Username string
	// Password authenticates every connection (AUTH). Default: none. It
	// never appears in errors, logs or the String of a config.
	Password string
	// TLS enables TLS with this configuration. Default: nil, no TLS (a
	// standalone rediss:// URL enables it too).
	TLS *tls.Config
	// DialTimeout bounds the establishment of one connection. Default
	// DefaultDialTimeout. A connection is dialled once per attempt, so an
	// unreachable server fails a call after about (MaxRetries+1) ×
	// DialTimeout.
	DialTimeout time.Duration
	// ReadTimeout bounds the wait for one reply. Default
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds the sending of one command. Default
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// PoolSize is the number of pooled connections per server for the
	// host's commands. Default: go-redis' default, 10 per GOMAXPROCS.
	PoolSize int
	// TrackingPoolSize is the number of connections per server on which
	// the ClientCache's tracked reads run, apart from PoolSize, so that
	// closing one of the host's connections never costs the local cache
	// anything. Default DefaultTrackingPoolSize.
	TrackingPoolSize int
	// MaxRetries is how many times a command that failed on a network
	// error is retried; -1 disables retries. Default: go-redis' default, 3.
	MaxRetries int
	// Protocol is the RESP version, 2 or 3. Default DefaultProtocol (2),
	// which the invalidation stream and the RediSearch suggestion replies
	// require; use 3 only for a store that needs neither.
	Protocol int
	// DisableContextTimeout makes calls ignore their context's deadline
	// and wait for ReadTimeout/WriteTimeout instead. Default false: a call
	// returns within its ctx deadline (plus a few milliseconds), failing
	// with an error matching context.DeadlineExceeded, even when the server
	// is paused or slow (go-redis' ContextTimeoutEnabled).
	DisableContextTimeout bool
	// ClientName names every connection (CLIENT SETNAME), so that CLIENT
	// LIST on the server tells the host's connections apart. Default: none.
	ClientName string
	// ConnMaxLifetime closes a connection of the host's pool after this age.
	// Default 0: no limit. The tracked connections are not rotated: closing
	// one costs every value fetched on it.
	ConnMaxLifetime time.Duration
	// ConnMaxIdleTime closes a connection of the host's pool idle for this
	// long. Default 0: go-redis' default, 30 minutes. It does not apply to
	// the tracked connections either.
	ConnMaxIdleTime time.Duration
	// MeterProvider receives the db.client.operation.duration histogram
	// of every command the adapter sends (OpenTelemetry's database client
	// conventions), except the listeners' Pub/Sub traffic, connection
	// handshakes and diagnostics (ARCHITECTURE.md, Backend telemetry).
	// Default nil: otel.GetMeterProvider(), a no-op until the host
	// installs one.
	MeterProvider metric.MeterProvider
	// TracerProvider receives the command spans when CommandSpans is
	// set. Default nil: otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// CommandSpans adds a span per Redis command (go-redis' redisotel)
	// under the caller's span. Default false: the Cache and the
	// ClientCache already trace each operation that reaches the backend,
	// and a span per command costs microseconds on every call.
	CommandSpans bool
}

// Validate reports every unusable setting, each matching
// domain.ErrInvalidArgument and naming the field. It never quotes the
// password.
func (o Options) Validate() []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{domain.ErrInvalidArgument}, args...)...))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"DialTimeout", o.DialTimeout},
		{"ReadTimeout", o.ReadTimeout},
		{"WriteTimeout", o.WriteTimeout},
		{"ConnMaxLifetime", o.ConnMaxLifetime},
		{"ConnMaxIdleTime", o.ConnMaxIdleTime},
	} {
		if d.v < 0 {
			add("negative %s %v", d.name, d.v)
		}
	}
	if o.PoolSize < 0 {
		add("negative PoolSize %d", o.PoolSize)
	}
	if o.TrackingPoolSize < 0 {
		add("negative TrackingPoolSize %d", o.TrackingPoolSize)
	}
	if o.MaxRetries < -1 {
		add("MaxRetries %d below -1", o.MaxRetries)
	}
	if p := o.WithDefaults().Protocol; p != 2 && p != 3 {
		add("Protocol %d is neither 2 nor 3", p)
	}
	if o.Username != "" && o.Password == "" {
		add("Username is set without Password")
	}
	return errs
}

// WithDefaults returns o with every zero field that has a default set to it.
func (o Options) WithDefaults() Options {
	o.DialTimeout = or(o.DialTimeout, DefaultDialTimeout)
	o.ReadTimeout = or(o.ReadTimeout, DefaultReadTimeout)
	o.WriteTimeout = or(o.WriteTimeout, DefaultWriteTimeout)
	o.Protocol = or(o.Protocol, DefaultProtocol)
	o.TrackingPoolSize = or(o.TrackingPoolSize, DefaultTrackingPoolSize)
	return o
}

// Or returns o with each of its zero fields taken from fallback: explicit
// settings win over fallback's (for a standalone store, those of its URL).
func (o Options) Or(fallback Options) Options {
	o.Username = or(o.Username, fallback.Username)
	o.Password = or(o.Password, fallback.Password)
	if o.TLS == nil {
		o.TLS = fallback.TLS
	}
	o.DialTimeout = or(o.DialTimeout, fallback.DialTimeout)
	o.ReadTimeout = or(o.ReadTimeout, fallback.ReadTimeout)
	o.WriteTimeout = or(o.WriteTimeout, fallback.WriteTimeout)
	o.PoolSize = or(o.PoolSize, fallback.PoolSize)
	o.TrackingPoolSize = or(o.TrackingPoolSize, fallback.TrackingPoolSize)
	o.MaxRetries = or(o.MaxRetries, fallback.MaxRetries)
	o.Protocol = or(o.Protocol, fallback.Protocol)
	o.DisableContextTimeout = o.DisableContextTimeout || fallback.DisableContextTimeout
	o.ClientName = or(o.ClientName, fallback.ClientName)
	o.ConnMaxLifetime = or(o.ConnMaxLifetime, fallback.ConnMaxLifetime)
	o.ConnMaxIdleTime = or(o.ConnMaxIdleTime, fallback.ConnMaxIdleTime)
	if o.MeterProvider == nil {
		o.MeterProvider = fallback.MeterProvider
	}
	if o.TracerProvider == nil {
		o.TracerProvider = fallback.TracerProvider
	}
	o.CommandSpans = o.CommandSpans || fallback.CommandSpans
	return o
}

// FromRedis returns the connection settings of go-redis options (as
// redis.ParseURL fills them), for Or.
func FromRedis(ro *redis.Options) Options {
	return Options{
		Username:        ro.Username,
		Password:        ro.Password,
		TLS:             ro.TLSConfig,
		DialTimeout:     ro.DialTimeout,
		ReadTimeout:     ro.ReadTimeout,
		WriteTimeout:    ro.WriteTimeout,
		PoolSize:        ro.PoolSize,
		MaxRetries:      ro.MaxRetries,
		Protocol:        ro.Protocol,
		ClientName:      ro.ClientName,
		ConnMaxLifetime: ro.ConnMaxLifetime,
		ConnMaxIdleTime: ro.ConnMaxIdleTime,
	}
}

// Universal returns go-redis options carrying o's settings with their
// defaults; the adapter adds the addresses and converts them with Simple,
// Failover or Cluster. Every command is dialled once per attempt (go-redis
// would otherwise dial up to five times, 100 ms apart, inside each attempt,
// and a cache must fail fast).
func (o Options) Universal() *redis.UniversalOptions {
	o = o.WithDefaults()
	return &redis.UniversalOptions{
		Username:              o.Username,
		Password:              o.Password,
		TLSConfig:             o.TLS,
		DialTimeout:           o.DialTimeout,
		ReadTimeout:           o.ReadTimeout,
		WriteTimeout:          o.WriteTimeout,
		ContextTimeoutEnabled: !o.DisableContextTimeout,
		PoolSize:              o.PoolSize,
		MaxRetries:            o.MaxRetries,
		Protocol:              o.Protocol,
		ClientName:            o.ClientName,
		ConnMaxLifetime:       o.ConnMaxLifetime,
		ConnMaxIdleTime:       o.ConnMaxIdleTime,
		DialerRetries:         1,
	}
}

func or[T comparable](v, def T) T {
	var zero T
	if v != zero {
		return v
	}
	return def
}
