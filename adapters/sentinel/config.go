package sentinel

import (
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zapcore"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/domain"
)

// Config describes a Redis deployment behind Sentinel: where the sentinels
// are, the name of the master they monitor, and how to authenticate to each.
// MasterName and SentinelAddrs are required; every other zero field means
// its default.
//
// The store asks the sentinels for the master's address when it connects,
// and watches every sentinel of SentinelAddrs for failovers, so a failover
// costs the application a short pause, not a restart (see the package
// documentation, Failover).
type Config struct {
	// MasterName is the name under which the sentinels monitor the master
	// (Frappe's redis_cache_master_service; "mymaster" in Redis' sample
	// configuration). Required.
	MasterName string
	// SentinelAddrs are the sentinels as "host:port": "10.0.0.5:26379",
	// "sentinel-1.internal:26379", or an IPv6 literal in brackets,
	// "[::1]:26379". The store asks them in turn and discovers the other
	// sentinels of the master from them; it watches the failover events of
	// these only, so list them all. Required: at least one.
	SentinelAddrs []string
	// SentinelUsername is the ACL user for the sentinels (Redis 6+).
	// Default: none. Only sent together with SentinelPassword.
	SentinelUsername string
	// SentinelPassword authenticates to the sentinels (their requirepass).
	// Default: none. It never appears in errors or logs.
	SentinelPassword string
	// DB is the database selected on every master connection. Default 0.
	DB int
	// Connection holds the credentials of the master (Frappe's
	// redis_cache_master_username and redis_cache_master_password), TLS
	// (towards the sentinels and the master alike: go-redis has one TLS
	// configuration for both, so TLS data nodes need sentinels that speak
	// TLS, on the addresses given in SentinelAddrs), timeouts and pool
	// settings, shared with the other Redis adapters. Default: the zero
	// connection.Options.
	Connection connection.Options
}

// Validate reports every problem of c at once, each matching
// domain.ErrInvalidArgument and naming the field. Messages never contain a
// password.
func (c Config) Validate() error {
	_, err := c.options()
	return err
}

// options merges c and the defaults into go-redis failover options, with
// the sentinel addresses normalised, or reports every problem.
func (c Config) options() (*redis.FailoverOptions, error) {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("rediscache: sentinel config: %w: "+format,
			append([]any{domain.ErrInvalidArgument}, args...)...))
	}

	if c.MasterName == "" {
		add("MasterName is empty: set the name the sentinels monitor the master under")
	}
	if len(c.SentinelAddrs) == 0 {
		add("SentinelAddrs is empty: give at least one sentinel as host:port")
	}
	addrs := make([]string, 0, len(c.SentinelAddrs))
	seen := make(map[string]bool, len(c.SentinelAddrs))
	for i, a := range c.SentinelAddrs {
		norm, err := NormalizeAddr(a)
		if err != nil {
			add("SentinelAddrs[%d]: %v", i, err)
			continue
		}
		if !seen[norm] {
			seen[norm] = true
			addrs = append(addrs, norm)
		}
	}
	if c.SentinelUsername != "" && c.SentinelPassword == "" {
		add("SentinelUsername is set without SentinelPassword")
	}
	for _, err := range c.Connection.Validate() {
		problems = append(problems, fmt.Errorf("rediscache: sentinel config: Connection: %w", err))
	}
	if c.DB < 0 {
		add("negative DB %d", c.DB)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}

	u := c.Connection.Universal()
	u.MasterName = c.MasterName
	u.Addrs = addrs
	u.SentinelUsername = c.SentinelUsername
	u.SentinelPassword = c.SentinelPassword
	u.DB = c.DB
	return u.Failover(), nil
}

// NormalizeAddr checks a sentinel address and returns it in the form
// net.Dial expects: "host:port" with a numeric port in 1-65535, an IPv6
// literal in brackets ("[::1]:26379"). It is connection.NormalizeAddr, the
// check every Redis adapter applies to the addresses it is given.
func NormalizeAddr(addr string) (string, error) { return connection.NormalizeAddr(addr) }

// view is the printable form of c: the sentinel and master passwords
// redacted.
func (c Config) view() connection.View {
	return connection.View{Type: "sentinel.Config", Fields: []connection.Field{
		{Name: "MasterName", Value: c.MasterName},
		{Name: "SentinelAddrs", Value: c.SentinelAddrs},
		{Name: "SentinelUsername", Value: c.SentinelUsername},
		{Name: "SentinelPassword", Value: connection.Secret(c.SentinelPassword)},
		{Name: "DB", Value: c.DB},
		{Name: "Connection", Value: c.Connection.View()},
	}}
}

// String shows c with SentinelPassword and Connection.Password redacted
// (%v, %+v, %s).
func (c Config) String() string { return c.view().String() }

// GoString is String in Go-like syntax (%#v).
func (c Config) GoString() string { return c.view().GoString() }

// MarshalLogObject logs c as zap.Object or zap.Any do, the sentinel and
// master passwords redacted. (zap.Reflect would bypass it.)
func (c Config) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return c.view().MarshalLogObject(enc)
}
