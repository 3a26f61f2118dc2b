package standalone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zapcore"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/domain"
)

// DefaultAddr is the server address used when neither Config.URL nor
// Config.Addr is set.
const DefaultAddr = "127.0.0.1:6379"

// Config describes how to reach one redis-server. The zero value connects to
// DefaultAddr with the defaults of package connection.
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
	// protocol are honoured. The password may be percent-encoded or
	// written as it is, with / # ? @ : % & = + spaces or Unicode (see
	// connection.ParseURL); it never shows in errors, logs or String.
	// Default: empty (use Addr).
	URL string
	// Addr is "host:port", or the path of a Unix socket (starting with
	// "/"). It overrides the URL's address. Default: DefaultAddr when URL
	// is empty too.
	Addr string
	// DB is the database selected on every connection. Default 0 (or the
	// URL's database); a zero DB cannot override a URL's database.
	DB int
	// Connection holds the credentials, TLS, timeouts and pool settings,
	// shared with the other Redis adapters. Its set fields override the
	// URL's. Default: the zero connection.Options (no credentials, no TLS
	// unless the URL is rediss://, the package's default timeouts).
	Connection connection.Options
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
		parsed, err := connection.ParseURL(c.URL)
		if err != nil {
			add("URL: %v", err)
		} else {
			opts = parsed
		}
	}
	for _, err := range c.Connection.Validate() {
		problems = append(problems, fmt.Errorf("rediscache: standalone config: Connection: %w", err))
	}
	if c.DB < 0 {
		add("negative DB %d", c.DB)
	}
	addr, network, db := opts.Addr, opts.Network, opts.DB
	switch {
	case c.Addr != "":
		addr, network = c.Addr, "" // go-redis picks unix for a path, tcp otherwise
	case addr == "":
		addr = DefaultAddr
	}
	if c.DB != 0 {
		db = c.DB
	}
	opts = c.Connection.Or(connection.FromRedis(opts)).Universal().Simple()
	opts.Addr, opts.Network, opts.DB = addr, network, db
	if c.Connection.Protocol == 0 && opts.Protocol != 2 && opts.Protocol != 3 {
		add("URL: protocol %d is neither 2 nor 3", opts.Protocol)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return opts, nil
}

// endpoint names the server in messages, without credentials.
func endpoint(opts *redis.Options) string {
	if opts.Network == "unix" || strings.HasPrefix(opts.Addr, "/") {
		return "unix:" + opts.Addr
	}
	return opts.Addr
}

// view is the printable form of c: the URL's password and the connection
// password redacted.
func (c Config) view() connection.View {
	return connection.View{Type: "standalone.Config", Fields: []connection.Field{
		{Name: "URL", Value: connection.RedactURL(c.URL)},
		{Name: "Addr", Value: c.Addr},
		{Name: "DB", Value: c.DB},
		{Name: "Connection", Value: c.Connection.View()},
	}}
}

// String shows c with the URL's password and Connection.Password
// redacted (%v, %+v, %s).
func (c Config) String() string { return c.view().String() }

// GoString is String in Go-like syntax (%#v): a config printed in a test
// failure or a panic shows no password either.
func (c Config) GoString() string { return c.view().GoString() }

// MarshalLogObject logs c as zap.Object or zap.Any do, without the
// server's password. Log configs this way: zap.Reflect bypasses it.
func (c Config) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return c.view().MarshalLogObject(enc)
}
