package fxmodule

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rediscache/rediscache/domain"
)

// The environment variables ConfigFromEnv reads, one per Config field. The
// variables named after a Frappe key are that key in upper case; the others
// start with REDISCACHE_.
const (
	EnvBackend                = "REDISCACHE_BACKEND"
	EnvSite                   = "REDISCACHE_SITE"
	EnvRedisCache             = "REDIS_CACHE"
	EnvSentinelEnabled        = "REDIS_CACHE_SENTINEL_ENABLED"
	EnvSentinels              = "REDIS_CACHE_SENTINELS"
	EnvSentinelUsername       = "REDIS_CACHE_SENTINEL_USERNAME"
	EnvSentinelPassword       = "REDIS_CACHE_SENTINEL_PASSWORD"
	EnvMasterUsername         = "REDIS_CACHE_MASTER_USERNAME"
	EnvMasterPassword         = "REDIS_CACHE_MASTER_PASSWORD"
	EnvMasterService          = "REDIS_CACHE_MASTER_SERVICE"
	EnvClusterNodes           = "REDIS_CACHE_CLUSTER_NODES"
	EnvClusterUsername        = "REDIS_CACHE_CLUSTER_USERNAME"
	EnvClusterPassword        = "REDIS_CACHE_CLUSTER_PASSWORD"
	EnvTLS                    = "REDISCACHE_TLS"
	EnvTLSCAFile              = "REDISCACHE_TLS_CA_FILE"
	EnvTLSInsecureSkipVerify  = "REDISCACHE_TLS_INSECURE_SKIP_VERIFY"
	EnvDialTimeout            = "REDISCACHE_DIAL_TIMEOUT"
	EnvReadTimeout            = "REDISCACHE_READ_TIMEOUT"
	EnvWriteTimeout           = "REDISCACHE_WRITE_TIMEOUT"
	EnvPoolSize               = "REDISCACHE_POOL_SIZE"
	EnvTrackingPoolSize       = "REDISCACHE_TRACKING_POOL_SIZE"
	EnvDisableContextTimeout  = "REDISCACHE_DISABLE_CONTEXT_TIMEOUT"
	EnvTelemetrySiteLimit     = "REDISCACHE_TELEMETRY_SITE_LIMIT"
	EnvTelemetryHitSpans      = "REDISCACHE_TELEMETRY_HIT_SPANS"
	EnvTelemetryKeyAttributes = "REDISCACHE_TELEMETRY_KEY_ATTRIBUTES"
	EnvCommandSpans           = "REDISCACHE_COMMAND_SPANS"
)

// ConfigFromEnv reads a Config from the environment variables listed in
// the table of the package documentation. An unset or empty variable leaves
// its field at the zero value (its default). Booleans take 1, t, true, yes,
// on and 0, f, false, no, off in any case; durations are Go durations
// ("500ms", "5s"); REDIS_CACHE_SENTINELS and REDIS_CACHE_CLUSTER_NODES are
// comma-separated lists of host:port ("10.0.0.5:26379,[::1]:26379").
//
// It reports every variable it cannot parse at once, each error matching
// domain.ErrInvalidArgument and never quoting a password. It does not
// validate the result: NewBackend (or Config.Validate) does.
func ConfigFromEnv() (Config, error) {
	return configFrom(os.LookupEnv)
}

// configFrom reads a Config through lookup (os.LookupEnv in ConfigFromEnv).
func configFrom(lookup func(string) (string, bool)) (Config, error) {
	var (
		c        Config
		problems []error
	)
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf("rediscache: environment: %w: %s: "+format,
			append([]any{domain.ErrInvalidArgument, name}, args...)...))
	}
	boolean := func(name string, dst *bool) {
		v := get(name)
		if v == "" {
			return
		}
		switch strings.ToLower(v) {
		case "1", "t", "true", "yes", "y", "on":
			*dst = true
		case "0", "f", "false", "no", "n", "off":
			*dst = false
		default:
			bad(name, "%q is not a boolean (true or false)", v)
		}
	}
	duration := func(name string, dst *time.Duration) {
		v := get(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			bad(name, "%q is not a duration such as 500ms or 5s", v)
			return
		}
		*dst = d
	}
	integer := func(name string, dst *int) {
		v := get(name)
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			bad(name, "%q is not an integer", v)
			return
		}
		*dst = n
	}
	// Passwords are taken as they are: spaces may belong to them.
	secret := func(name string) string {
		v, _ := lookup(name)
		return v
	}

	c.Backend = strings.ToLower(get(EnvBackend))
	c.Site = get(EnvSite)
	c.RedisCache = get(EnvRedisCache)
	boolean(EnvSentinelEnabled, &c.SentinelEnabled)
	list := func(name string) []string {
		var out []string
		if v := get(name); v != "" {
			for i, s := range strings.Split(v, ",") {
				s = strings.TrimSpace(s)
				if s == "" {
					bad(name, "entry %d is empty", i+1)
					continue
				}
				out = append(out, s)
			}
		}
		return out
	}
	c.Sentinels = list(EnvSentinels)
	c.SentinelUsername = get(EnvSentinelUsername)
	c.SentinelPassword = secret(EnvSentinelPassword)
	c.MasterUsername = get(EnvMasterUsername)
	c.MasterPassword = secret(EnvMasterPassword)
	c.MasterService = get(EnvMasterService)
	c.ClusterNodes = list(EnvClusterNodes)
	c.ClusterUsername = get(EnvClusterUsername)
	c.ClusterPassword = secret(EnvClusterPassword)
	boolean(EnvTLS, &c.TLS)
	c.TLSCAFile = get(EnvTLSCAFile)
	boolean(EnvTLSInsecureSkipVerify, &c.TLSInsecureSkipVerify)
	duration(EnvDialTimeout, &c.DialTimeout)
	duration(EnvReadTimeout, &c.ReadTimeout)
	duration(EnvWriteTimeout, &c.WriteTimeout)
	integer(EnvPoolSize, &c.PoolSize)
	integer(EnvTrackingPoolSize, &c.TrackingPoolSize)
	boolean(EnvDisableContextTimeout, &c.DisableContextTimeout)
	integer(EnvTelemetrySiteLimit, &c.TelemetrySiteLimit)
	boolean(EnvTelemetryHitSpans, &c.TelemetryHitSpans)
	boolean(EnvTelemetryKeyAttributes, &c.TelemetryKeyAttributes)
	boolean(EnvCommandSpans, &c.CommandSpans)

	if len(problems) > 0 {
		return c, errors.Join(problems...)
	}
	return c, nil
}
