package sentinel

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/domain"
)

// Defaults of Config. A zero field means its default. They are those of the
// standalone adapter.
const (
	// DefaultDialTimeout bounds the establishment of one connection, to a
	// sentinel or to the master.
	DefaultDialTimeout = 5 * time.Second
	// DefaultReadTimeout bounds the wait for one reply.
	DefaultReadTimeout = 3 * time.Second
	// DefaultWriteTimeout bounds the sending of one command.
	DefaultWriteTimeout = 3 * time.Second
	// DefaultProtocol is RESP2, which the invalidation stream (CLIENT
	// TRACKING with REDIRECT) and the parsing of RediSearch replies rely
	// on, as Frappe's cache connection does.
	DefaultProtocol = 2
)

// Config describes a Redis deployment behind Sentinel: where the sentinels
// are, the name of the master they monitor, and how to authenticate to each.
// MasterName and SentinelAddrs are required; every other zero field means
// its default.
//
// The store asks the sentinels for the master's address when it connects and
// follows their +switch-master announcements, so a failover costs the
// application a short pause, not a restart.
type Config struct {
	// MasterName is the name under which the sentinels monitor the master
	// (Frappe's redis_cache_master_service; "mymaster" in Redis' sample
	// configuration). Required.
	MasterName string
	// SentinelAddrs are the sentinels as "host:port": "10.0.0.5:26379",
	// "sentinel-1.internal:26379", or an IPv6 literal in brackets,
	// "[::1]:26379". The store asks them in turn and discovers the other
	// sentinels of the master from them. Required: at least one.
	SentinelAddrs []string
	// SentinelUsername is the ACL user for the sentinels (Redis 6+).
	// Default: none. Only sent together with SentinelPassword.
	SentinelUsername string
	// SentinelPassword authenticates to the sentinels (their requirepass).
	// Default: none. It never appears in errors or logs.
	SentinelPassword string
	// Username is the ACL user for the master (Frappe's
	// redis_cache_master_username). Default: none. Only sent together with
	// Password.
	Username string
	// Password authenticates to the master (Frappe's
	// redis_cache_master_password). Default: none. It never appears in
	// errors or logs.
	Password string
	// DB is the database selected on every master connection. Default 0.
	DB int
	// TLS enables TLS with this configuration, towards the sentinels and
	// the master alike. Default: nil, no TLS.
	TLS *tls.Config
	// DialTimeout bounds the establishment of one connection, to a
	// sentinel or to the master. Default DefaultDialTimeout.
	DialTimeout time.Duration
	// ReadTimeout bounds the wait for one reply. Default
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds the sending of one command. Default
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// PoolSize is the number of pooled connections to the master. Default:
	// go-redis' default, 10 per GOMAXPROCS.
	PoolSize int
	// MaxRetries is how many times a command that failed on a network
	// error (or on READONLY, LOADING, MASTERDOWN during a failover) is
	// retried; -1 disables retries. Default: go-redis' default, 3.
	MaxRetries int
	// Protocol is the RESP version, 2 or 3. Default DefaultProtocol (2).
	Protocol int
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
	if c.Username != "" && c.Password == "" {
		add("Username is set without Password")
	}
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
	protocol := pick(c.Protocol, DefaultProtocol)
	if protocol != 2 && protocol != 3 {
		add("Protocol %d is neither 2 nor 3", protocol)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}

	return &redis.FailoverOptions{
		MasterName:       c.MasterName,
		SentinelAddrs:    addrs,
		SentinelUsername: c.SentinelUsername,
		SentinelPassword: c.SentinelPassword,
		Username:         c.Username,
		Password:         c.Password,
		DB:               c.DB,
		TLSConfig:        c.TLS,
		DialTimeout:      pick(c.DialTimeout, DefaultDialTimeout),
		ReadTimeout:      pick(c.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:     pick(c.WriteTimeout, DefaultWriteTimeout),
		PoolSize:         c.PoolSize,
		MaxRetries:       c.MaxRetries,
		Protocol:         protocol,
		// One dial per attempt: go-redis would otherwise dial up to five
		// times, 100 ms apart, inside every attempt, and a cache must fail
		// fast.
		DialerRetries: 1,
	}, nil
}

// NormalizeAddr checks a sentinel address and returns it in the form
// net.Dial expects: "host:port" with a numeric port in 1-65535, an IPv6
// literal in brackets ("[::1]:26379"). Unlike Frappe's "host:port".split(":"),
// it accepts IPv6 literals. Its errors quote the address, which holds no
// secret.
func NormalizeAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var aerr *net.AddrError
		if errors.As(err, &aerr) {
			return "", fmt.Errorf("%q is not host:port (%s; write IPv6 literals as [::1]:26379)", addr, aerr.Err)
		}
		return "", fmt.Errorf("%q is not host:port: %v", addr, err)
	}
	if host == "" {
		return "", fmt.Errorf("%q has no host", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: port %q is not a number in 1-65535", addr, port)
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// pick returns v when set, else def.
func pick[T comparable](v, def T) T {
	var zero T
	if v != zero {
		return v
	}
	return def
}
