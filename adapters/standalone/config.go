package standalone

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"

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
	// protocol are honoured. Default: empty (use Addr).
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
		parsed, err := redis.ParseURL(c.URL)
		if err != nil {
			add("URL: %s", urlProblem(err))
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
