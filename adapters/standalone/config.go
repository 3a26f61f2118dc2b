package standalone

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/domain"
)

// Defaults of Config. A zero field means its default.
const (
	// DefaultAddr is the server address used when neither Config.URL nor
	// Config.Addr is set.
	DefaultAddr = "127.0.0.1:6379"
	// DefaultDialTimeout bounds the establishment of one connection.
	DefaultDialTimeout = 5 * time.Second
	// DefaultReadTimeout bounds the wait for one reply.
	DefaultReadTimeout = 3 * time.Second
	// DefaultWriteTimeout bounds the sending of one command.
	DefaultWriteTimeout = 3 * time.Second
	// DefaultProtocol is RESP2. The invalidation stream (CLIENT TRACKING
	// with REDIRECT to a Pub/Sub connection) and the parsing of RediSearch
	// replies rely on RESP2, as Frappe's cache connection does.
	DefaultProtocol = 2
)

// Config describes how to reach one redis-server. The zero value connects to
// DefaultAddr with the defaults below.
//
// The server can be given as a URL or as Addr. Every other field that is set
// (non-zero) overrides what the URL says; a zero field keeps the URL's value,
// or the default when the URL has none.
type Config struct {
	// URL is a redis:// (plain TCP), rediss:// (TLS) or unix:// (Unix
	// socket) URL, as parsed by go-redis' redis.ParseURL:
	//
	//	redis://[[username]:password@]host[:port][/db][?option=value...]
	//	unix://[[username]:password@]/path/to.sock[?db=n&option=value...]
	//
	// Query options such as dial_timeout, read_timeout, pool_size and
	// protocol are honoured. Default: empty (use Addr).
	URL string
	// Addr is "host:port", or the path of a Unix socket (starting with
	// "/"). It overrides the URL's address. Default: DefaultAddr when URL
	// is empty too.
	Addr string
	// Username is the ACL user (Redis 6+). Default: none (the default user).
	Username string
	// Password authenticates the connection (AUTH). Default: none. It never
	// appears in errors or logs.
	Password string
	// DB is the database selected on every connection. Default 0 (or the
	// URL's database); a zero DB cannot override a URL's database.
	DB int
	// TLS enables TLS with this configuration. Default: nil, no TLS unless
	// the URL is rediss://.
	TLS *tls.Config
	// DialTimeout bounds the establishment of one connection. Default
	// DefaultDialTimeout. A connection is dialled once per attempt (not
	// retried within the attempt), so an unreachable server fails a call
	// after at most about (MaxRetries+1) × DialTimeout.
	DialTimeout time.Duration
	// ReadTimeout bounds the wait for one reply. Default
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds the sending of one command. Default
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// PoolSize is the number of pooled connections. Default: go-redis'
	// default, 10 per GOMAXPROCS.
	PoolSize int
	// MaxRetries is how many times a command that failed on a network
	// error is retried; -1 disables retries. Default: go-redis' default, 3.
	MaxRetries int
	// Protocol is the RESP version, 2 or 3. Default DefaultProtocol (2),
	// which the invalidation stream (CLIENT TRACKING REDIRECT) and the
	// RediSearch suggestion replies require; use 3 only for a store that
	// needs neither.
	Protocol int
}

// Validate reports every problem of c at once, each matching
// domain.ErrInvalidArgument. Messages never contain the password.
func (c Config) Validate() error {
	_, err := c.options()
	return err
}

// options merges c, its URL and the defaults into go-redis options, or
// reports every problem.
func (c Config) options() (*redis.Options, error) {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("rediscache: standalone config: %w: "+format,
			append([]any{domain.ErrInvalidArgument}, args...)...))
	}

	opts := &redis.Options{}
	if c.URL != "" {
		parsed, err := redis.ParseURL(c.URL)
		if err != nil {
			add("URL: %s", urlProblem(err))
		} else {
			opts = parsed
		}
	}
	switch {
	case c.Addr != "":
		opts.Addr = c.Addr
		opts.Network = "" // go-redis picks unix for a path, tcp otherwise
	case opts.Addr == "":
		opts.Addr = DefaultAddr
	}
	if c.Username != "" {
		opts.Username = c.Username
	}
	if c.Password != "" {
		opts.Password = c.Password
	}
	if c.DB != 0 {
		opts.DB = c.DB
	}
	if c.TLS != nil {
		opts.TLSConfig = c.TLS
	}
	opts.DialTimeout = pick(c.DialTimeout, opts.DialTimeout, DefaultDialTimeout)
	opts.ReadTimeout = pick(c.ReadTimeout, opts.ReadTimeout, DefaultReadTimeout)
	opts.WriteTimeout = pick(c.WriteTimeout, opts.WriteTimeout, DefaultWriteTimeout)
	opts.PoolSize = pick(c.PoolSize, opts.PoolSize, 0)
	opts.MaxRetries = pick(c.MaxRetries, opts.MaxRetries, 0)
	opts.Protocol = pick(c.Protocol, opts.Protocol, DefaultProtocol)
	// One dial per attempt: go-redis would otherwise dial up to five times,
	// 100 ms apart, inside every attempt, and a cache must fail fast.
	opts.DialerRetries = 1

	if c.DialTimeout < 0 {
		add("negative DialTimeout %v", c.DialTimeout)
	}
	if c.ReadTimeout < 0 {
		add("negative ReadTimeout %v", c.ReadTimeout)
	}
	if c.WriteTimeout < 0 {
		add("negative WriteTimeout %v", c.WriteTimeout)
	}
	if c.PoolSize < 0 {
		add("negative PoolSize %d", c.PoolSize)
	}
	if c.MaxRetries < -1 {
		add("MaxRetries %d below -1", c.MaxRetries)
	}
	if c.DB < 0 {
		add("negative DB %d", c.DB)
	}
	if opts.Protocol != 2 && opts.Protocol != 3 {
		add("Protocol %d is neither 2 nor 3", opts.Protocol)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return opts, nil
}

// pick returns explicit when set, else fromURL when set, else def.
func pick[T comparable](explicit, fromURL, def T) T {
	var zero T
	switch {
	case explicit != zero:
		return explicit
	case fromURL != zero:
		return fromURL
	}
	return def
}

// urlProblem describes why a URL did not parse without quoting it: the URL
// may hold a password. go-redis' own messages name the scheme, the path or
// the option, never the user information; net/url's quote the whole URL, so
// only their inner error is kept, and a bad escape, which may lie in the
// password, is not quoted at all.
func urlProblem(err error) string {
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		return err.Error()
	}
	var esc url.EscapeError
	if errors.As(uerr.Err, &esc) {
		return "invalid percent-encoding"
	}
	msg := uerr.Err.Error()
	if strings.Contains(msg, "@") {
		// Paranoia: never echo anything that may hold user information.
		return "malformed URL"
	}
	return msg
}

// endpoint names the server in messages, without credentials.
func endpoint(opts *redis.Options) string {
	if opts.Network == "unix" || strings.HasPrefix(opts.Addr, "/") {
		return "unix:" + opts.Addr
	}
	return opts.Addr
}
