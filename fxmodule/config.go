package fxmodule

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/rediscache/rediscache/adapters/cluster"
	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/sentinel"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/domain"
)

// The backends Config.Backend can name.
const (
	// BackendMemory is the in-process store (adapters/memory): nothing is
	// shared between processes. Meant for tests and single-process tools;
	// never chosen implicitly.
	BackendMemory = "memory"
	// BackendStandalone is one redis-server reached through
	// Config.RedisCache (adapters/standalone).
	BackendStandalone = "standalone"
	// BackendSentinel is Redis behind Sentinel (adapters/sentinel).
	BackendSentinel = "sentinel"
	// BackendCluster is a Redis Cluster reached through
	// Config.ClusterNodes (adapters/cluster).
	BackendCluster = "cluster"
)

// Config is the cache configuration of a host, with the settings of Frappe's
// site_config.json (see setup_cache and get_sentinel_connection in
// frappe/utils/redis_wrapper.py) plus the connection tuning Frappe leaves to
// redis-py. Every field documents its Frappe key and its environment
// variable (see ConfigFromEnv); the table in doc.go lists them all. The zero
// value is not usable: set RedisCache, or enable Sentinel, or give the
// cluster nodes, or choose the memory backend.
type Config struct {
	// Backend chooses the store: "memory", "standalone", "sentinel" or
	// "cluster" (BackendMemory, BackendStandalone, BackendSentinel,
	// BackendCluster). Empty, the default, decides as Frappe's setup_cache
	// does: sentinel when SentinelEnabled, else cluster when ClusterNodes
	// is set, else standalone on RedisCache. The memory backend is never
	// chosen implicitly. No Frappe key; REDISCACHE_BACKEND.
	Backend string
	// Site is the site every key of the host's Cache is prefixed with
	// (Frappe's db_name). Optional here: a host that serves several sites
	// builds one app.Cache per site over the same store. When set it must
	// be a valid site name (no "|"). REDISCACHE_SITE.
	Site string
	// RedisCache is the URL of the standalone server (Frappe's
	// redis_cache), e.g. "redis://127.0.0.1:13000",
	// "rediss://:password@cache.internal:6380/0" or
	// "unix:///run/redis.sock?db=1". Required by the standalone backend;
	// the sentinel backend ignores it, as Frappe does. REDIS_CACHE.
	RedisCache string
	// SentinelEnabled selects the sentinel backend when Backend is empty
	// (Frappe's redis_cache_sentinel_enabled). Default false.
	// REDIS_CACHE_SENTINEL_ENABLED.
	SentinelEnabled bool
	// Sentinels are the sentinels as "host:port", IPv6 literals in
	// brackets ("[::1]:26379") (Frappe's redis_cache_sentinels). Required
	// by the sentinel backend. REDIS_CACHE_SENTINELS, comma-separated.
	Sentinels []string
	// SentinelUsername is the ACL user for the sentinels (Frappe's
	// redis_cache_sentinel_username). Default none.
	// REDIS_CACHE_SENTINEL_USERNAME.
	SentinelUsername string
	// SentinelPassword authenticates to the sentinels (Frappe's
	// redis_cache_sentinel_password). Default none. Never logged or shown
	// in errors. REDIS_CACHE_SENTINEL_PASSWORD.
	SentinelPassword string
	// MasterUsername is the ACL user for the master found through the
	// sentinels (Frappe's redis_cache_master_username). Default none.
	// REDIS_CACHE_MASTER_USERNAME.
	MasterUsername string
	// MasterPassword authenticates to that master (Frappe's
	// redis_cache_master_password). Default none. Never logged or shown in
	// errors. REDIS_CACHE_MASTER_PASSWORD.
	MasterPassword string
	// MasterService is the name the sentinels monitor the master under
	// (Frappe's redis_cache_master_service). Required by the sentinel
	// backend. REDIS_CACHE_MASTER_SERVICE.
	MasterService string
	// ClusterNodes are nodes of a Redis Cluster as "host:port", IPv6
	// literals in brackets ("[fd00::5]:6379"), from which the store
	// discovers the others (no Frappe key: Frappe has no cluster support).
	// Setting it selects the cluster backend when Backend is empty;
	// required by the cluster backend, which ignores RedisCache.
	// REDIS_CACHE_CLUSTER_NODES, comma-separated.
	ClusterNodes []string
	// ClusterUsername is the ACL user for every node of the cluster.
	// Default none. REDIS_CACHE_CLUSTER_USERNAME.
	ClusterUsername string
	// ClusterPassword authenticates to every node of the cluster. Default
	// none. Never logged or shown in errors. REDIS_CACHE_CLUSTER_PASSWORD.
	ClusterPassword string
	// TLS turns TLS on: towards the sentinels and the master, towards the
	// cluster nodes, or towards the standalone server (where a rediss://
	// URL does the same). Default false. REDISCACHE_TLS.
	TLS bool
	// TLSCAFile is a PEM file of the certificate authorities to trust
	// instead of the system's. Default none (system roots). Implies TLS.
	// REDISCACHE_TLS_CA_FILE.
	TLSCAFile string
	// TLSInsecureSkipVerify accepts any server certificate. For tests
	// only. Default false. Implies TLS. REDISCACHE_TLS_INSECURE_SKIP_VERIFY.
	TLSInsecureSkipVerify bool
	// DialTimeout bounds the establishment of one connection. Default 5s
	// (standalone.DefaultDialTimeout, sentinel.DefaultDialTimeout).
	// REDISCACHE_DIAL_TIMEOUT.
	DialTimeout time.Duration
	// ReadTimeout bounds the wait for one reply. Default 3s.
	// REDISCACHE_READ_TIMEOUT.
	ReadTimeout time.Duration
	// WriteTimeout bounds the sending of one command. Default 3s.
	// REDISCACHE_WRITE_TIMEOUT.
	WriteTimeout time.Duration
	// PoolSize is the number of pooled connections (per node on a
	// cluster). Default: go-redis' default, 10 per GOMAXPROCS (5 per
	// GOMAXPROCS per node on a cluster). REDISCACHE_POOL_SIZE.
	PoolSize int
	// TrackingPoolSize is the number of connections per server on which
	// the ClientCache's tracked reads run, apart from PoolSize. Default 4.
	// REDISCACHE_TRACKING_POOL_SIZE.
	TrackingPoolSize int
	// DisableContextTimeout makes calls wait for ReadTimeout/WriteTimeout
	// even when their context's deadline is sooner. Default false: a call
	// returns at its ctx deadline. REDISCACHE_DISABLE_CONTEXT_TIMEOUT.
	DisableContextTimeout bool
	// TelemetrySiteLimit bounds the site attribute of the metrics
	// (app.Telemetry.SiteLimit): 0 means app.DefaultSiteLimit (256),
	// negative leaves the attribute out. REDISCACHE_TELEMETRY_SITE_LIMIT.
	TelemetrySiteLimit int
	// TelemetryHitSpans makes a local hit start a span too
	// (app.Telemetry.HitSpans). Default false.
	// REDISCACHE_TELEMETRY_HIT_SPANS.
	TelemetryHitSpans bool
	// TelemetryKeyAttributes puts the caller's key in spans as
	// rediscache.key (app.Telemetry.KeyAttributes). Default false: keys
	// may hold personal data. REDISCACHE_TELEMETRY_KEY_ATTRIBUTES.
	TelemetryKeyAttributes bool
	// CommandSpans adds a span per Redis command under the Cache's spans
	// (connection.Options.CommandSpans). Default false.
	// REDISCACHE_COMMAND_SPANS.
	CommandSpans bool
}

// Validate reports every problem of c at once, each matching
// domain.ErrInvalidArgument and naming the setting by its Frappe key (or
// Go field) and its environment variable. Messages never contain a
// password.
func (c Config) Validate() error {
	_, err := c.resolve()
	return err
}

// resolved is a validated Config turned into the adapter's own config.
type resolved struct {
	backend    string
	standalone standalone.Config
	sentinel   sentinel.Config
	cluster    cluster.Config
}

// resolve decides the backend and builds its adapter Config, or reports
// every problem of c.
func (c Config) resolve() (resolved, error) {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("rediscache: config: %w: "+format,
			append([]any{domain.ErrInvalidArgument}, args...)...))
	}

	r := resolved{backend: c.Backend}
	switch c.Backend {
	case "":
		switch {
		case c.SentinelEnabled && len(c.ClusterNodes) > 0:
			add("redis_cache_sentinel_enabled (REDIS_CACHE_SENTINEL_ENABLED) is true and ClusterNodes (REDIS_CACHE_CLUSTER_NODES) is set: choose one")
		case c.SentinelEnabled:
			r.backend = BackendSentinel
		case len(c.ClusterNodes) > 0:
			r.backend = BackendCluster
		default:
			r.backend = BackendStandalone
		}
	case BackendMemory, BackendSentinel:
	case BackendStandalone, BackendCluster:
		if c.SentinelEnabled {
			add("Backend (REDISCACHE_BACKEND) is %s but redis_cache_sentinel_enabled (REDIS_CACHE_SENTINEL_ENABLED) is true: choose one", c.Backend)
		}
	default:
		add("Backend (REDISCACHE_BACKEND) %q is not one of memory, standalone, sentinel, cluster (or empty)", c.Backend)
	}
	if c.Site != "" {
		if err := domain.ValidateSite(c.Site); err != nil {
			add("db_name (REDISCACHE_SITE): %s", bare(err.Error()))
		}
	}
	if c.DialTimeout < 0 {
		add("DialTimeout (REDISCACHE_DIAL_TIMEOUT) is negative: %v", c.DialTimeout)
	}
	if c.ReadTimeout < 0 {
		add("ReadTimeout (REDISCACHE_READ_TIMEOUT) is negative: %v", c.ReadTimeout)
	}
	if c.WriteTimeout < 0 {
		add("WriteTimeout (REDISCACHE_WRITE_TIMEOUT) is negative: %v", c.WriteTimeout)
	}
	if c.PoolSize < 0 {
		add("PoolSize (REDISCACHE_POOL_SIZE) is negative: %d", c.PoolSize)
	}
	if c.TrackingPoolSize < 0 {
		add("TrackingPoolSize (REDISCACHE_TRACKING_POOL_SIZE) is negative: %d", c.TrackingPoolSize)
	}

	var tlsCfg *tls.Config
	if r.backend != BackendMemory && (c.TLS || c.TLSCAFile != "" || c.TLSInsecureSkipVerify) {
		var err error
		if tlsCfg, err = c.tlsConfig(); err != nil {
			add("TLSCAFile (REDISCACHE_TLS_CA_FILE): %v", err)
		}
	}

	switch r.backend {
	case BackendStandalone:
		r.standalone = standalone.Config{URL: c.RedisCache, Connection: c.connection(tlsCfg)}
		if c.RedisCache == "" {
			add("redis_cache (REDIS_CACHE) is not set: give the URL of the cache server (redis://host:port), enable Sentinel, or choose the memory backend")
		} else if err := r.standalone.Validate(); err != nil {
			// Only the URL (and its query options) can be wrong here:
			// the rest was checked above.
			for _, line := range strings.Split(err.Error(), "\n") {
				add("redis_cache (REDIS_CACHE): %s", bare(line))
			}
		}
	case BackendSentinel:
		if len(c.Sentinels) == 0 {
			add("redis_cache_sentinels (REDIS_CACHE_SENTINELS) is empty: give the sentinels as host:port, comma-separated")
		}
		for i, s := range c.Sentinels {
			if _, err := sentinel.NormalizeAddr(s); err != nil {
				add("redis_cache_sentinels (REDIS_CACHE_SENTINELS) entry %d: %v", i+1, err)
			}
		}
		if c.MasterService == "" {
			add("redis_cache_master_service (REDIS_CACHE_MASTER_SERVICE) is not set: give the name the sentinels monitor the master under")
		}
		if c.SentinelUsername != "" && c.SentinelPassword == "" {
			add("redis_cache_sentinel_username (REDIS_CACHE_SENTINEL_USERNAME) is set without redis_cache_sentinel_password (REDIS_CACHE_SENTINEL_PASSWORD)")
		}
		if c.MasterUsername != "" && c.MasterPassword == "" {
			add("redis_cache_master_username (REDIS_CACHE_MASTER_USERNAME) is set without redis_cache_master_password (REDIS_CACHE_MASTER_PASSWORD)")
		}
		r.sentinel = sentinel.Config{
			MasterName:       c.MasterService,
			SentinelAddrs:    c.Sentinels,
			SentinelUsername: c.SentinelUsername,
			SentinelPassword: c.SentinelPassword,
			Connection:       c.connection(tlsCfg),
		}
		r.sentinel.Connection.Username = c.MasterUsername
		r.sentinel.Connection.Password = c.MasterPassword
	case BackendCluster:
		if len(c.ClusterNodes) == 0 {
			add("ClusterNodes (REDIS_CACHE_CLUSTER_NODES) is empty: give nodes of the cluster as host:port, comma-separated")
		}
		for i, n := range c.ClusterNodes {
			if _, err := connection.NormalizeAddr(n); err != nil {
				add("ClusterNodes (REDIS_CACHE_CLUSTER_NODES) entry %d: %v", i+1, err)
			}
		}
		if c.ClusterUsername != "" && c.ClusterPassword == "" {
			add("ClusterUsername (REDIS_CACHE_CLUSTER_USERNAME) is set without ClusterPassword (REDIS_CACHE_CLUSTER_PASSWORD)")
		}
		r.cluster = cluster.Config{Addrs: c.ClusterNodes, Connection: c.connection(tlsCfg)}
		r.cluster.Connection.Username = c.ClusterUsername
		r.cluster.Connection.Password = c.ClusterPassword
	}
	if len(problems) > 0 {
		return resolved{}, errors.Join(problems...)
	}
	return r, nil
}

// connection returns the connection settings c gives every Redis backend
// (the credentials are each backend's business).
func (c Config) connection(tlsCfg *tls.Config) connection.Options {
	return connection.Options{
		TLS:          tlsCfg,
		DialTimeout:  c.DialTimeout,
		ReadTimeout:  c.ReadTimeout,
		WriteTimeout: c.WriteTimeout,
		PoolSize:     c.PoolSize,

		TrackingPoolSize:      c.TrackingPoolSize,
		DisableContextTimeout: c.DisableContextTimeout,
		CommandSpans:          c.CommandSpans,
	}
}

// tlsConfig builds the TLS configuration of c.
func (c Config) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: c.TLSInsecureSkipVerify, //nolint:gosec // an explicit, documented test setting
	}
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", c.TLSCAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// bare drops what precedes "rediscache: invalid argument: " in the message
// of an adapter's or the domain's validation error, which is about to be
// wrapped in one of ours.
func bare(msg string) string {
	marker := domain.ErrInvalidArgument.Error() + ": "
	if i := strings.LastIndex(msg, marker); i >= 0 {
		return msg[i+len(marker):]
	}
	return msg
}

// view is the printable form of c: the passwords, and the one in
// RedisCache, redacted.
func (c Config) view() connection.View {
	return connection.View{Type: "fxmodule.Config", Fields: []connection.Field{
		{Name: "Backend", Value: c.Backend},
		{Name: "Site", Value: c.Site},
		{Name: "RedisCache", Value: connection.RedactURL(c.RedisCache)},
		{Name: "SentinelEnabled", Value: c.SentinelEnabled},
		{Name: "Sentinels", Value: c.Sentinels},
		{Name: "SentinelUsername", Value: c.SentinelUsername},
		{Name: "SentinelPassword", Value: connection.Secret(c.SentinelPassword)},
		{Name: "MasterUsername", Value: c.MasterUsername},
		{Name: "MasterPassword", Value: connection.Secret(c.MasterPassword)},
		{Name: "MasterService", Value: c.MasterService},
		{Name: "ClusterNodes", Value: c.ClusterNodes},
		{Name: "ClusterUsername", Value: c.ClusterUsername},
		{Name: "ClusterPassword", Value: connection.Secret(c.ClusterPassword)},
		{Name: "TLS", Value: c.TLS},
		{Name: "TLSCAFile", Value: c.TLSCAFile},
		{Name: "TLSInsecureSkipVerify", Value: c.TLSInsecureSkipVerify},
		{Name: "DialTimeout", Value: c.DialTimeout},
		{Name: "ReadTimeout", Value: c.ReadTimeout},
		{Name: "WriteTimeout", Value: c.WriteTimeout},
		{Name: "PoolSize", Value: c.PoolSize},
		{Name: "TrackingPoolSize", Value: c.TrackingPoolSize},
		{Name: "DisableContextTimeout", Value: c.DisableContextTimeout},
		{Name: "TelemetrySiteLimit", Value: c.TelemetrySiteLimit},
		{Name: "TelemetryHitSpans", Value: c.TelemetryHitSpans},
		{Name: "TelemetryKeyAttributes", Value: c.TelemetryKeyAttributes},
		{Name: "CommandSpans", Value: c.CommandSpans},
	}}
}

// String shows c with every password redacted (%v, %+v, %s): safe to log
// or print at start.
func (c Config) String() string { return c.view().String() }

// GoString shows c with every password redacted (%#v).
func (c Config) GoString() string { return c.view().GoString() }

// MarshalLogObject logs c with every password redacted (zap.Object,
// zap.Any). Log configs this way, never with zap.Reflect, which bypasses
// it.
func (c Config) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return c.view().MarshalLogObject(enc)
}
