// Package fxmodule is the composition root of rediscache: it turns a
// configuration into a backend (memory, standalone Redis, Redis Sentinel or
// Redis Cluster), the Go form of Frappe's setup_cache and
// get_sentinel_connection. Everything
// in it works without go.uber.org/fx; the fx wiring builds on [NewBackend].
//
//	cfg, err := fxmodule.ConfigFromEnv() // or fill a Config from your own settings
//	if err != nil {
//		return err
//	}
//	b, err := fxmodule.NewBackend(cfg, logger) // validates; connects to nothing
//	if err != nil {
//		return err // every configuration problem at once
//	}
//	defer b.Close()
//	if err := b.Pinger.Ping(ctx); err != nil {
//		return err // says what is wrong: address, master name, credentials
//	}
//	cache, err := app.New(b.Store, app.Config{Site: cfg.Site})
//
// # Choosing the backend
//
// Config.Backend names the backend. Left empty it follows Frappe's
// setup_cache: Sentinel when redis_cache_sentinel_enabled, otherwise a
// Redis Cluster when ClusterNodes is set (Frappe has no cluster setting),
// otherwise the standalone server of redis_cache, which must then be set
// (Frappe fails obscurely in from_url(None); here Validate says so). The
// in-process memory backend shares nothing between processes, so it is
// never chosen implicitly: ask for it by name, in tests or single-process
// tools.
//
// # Settings
//
// Every setting, its environment variable (read by [ConfigFromEnv]), its
// Frappe site_config key, and its default:
//
//	Go field               Environment variable                 Frappe key                     Default
//	Backend                REDISCACHE_BACKEND                   -                              sentinel if SentinelEnabled, else cluster if ClusterNodes, else standalone
//	Site                   REDISCACHE_SITE                      db_name                        none (optional)
//	RedisCache             REDIS_CACHE                          redis_cache                    none (required by standalone)
//	SentinelEnabled        REDIS_CACHE_SENTINEL_ENABLED         redis_cache_sentinel_enabled   false
//	Sentinels              REDIS_CACHE_SENTINELS                redis_cache_sentinels          none (required by sentinel)
//	SentinelUsername       REDIS_CACHE_SENTINEL_USERNAME        redis_cache_sentinel_username  none
//	SentinelPassword       REDIS_CACHE_SENTINEL_PASSWORD        redis_cache_sentinel_password  none
//	MasterUsername         REDIS_CACHE_MASTER_USERNAME          redis_cache_master_username    none
//	MasterPassword         REDIS_CACHE_MASTER_PASSWORD          redis_cache_master_password    none
//	MasterService          REDIS_CACHE_MASTER_SERVICE           redis_cache_master_service     none (required by sentinel)
//	ClusterNodes           REDIS_CACHE_CLUSTER_NODES            -                              none (required by cluster)
//	ClusterUsername        REDIS_CACHE_CLUSTER_USERNAME         -                              none
//	ClusterPassword        REDIS_CACHE_CLUSTER_PASSWORD         -                              none
//	TLS                    REDISCACHE_TLS                       - (rediss:// in redis_cache)   false
//	TLSCAFile              REDISCACHE_TLS_CA_FILE               -                              none: the system's roots
//	TLSInsecureSkipVerify  REDISCACHE_TLS_INSECURE_SKIP_VERIFY  -                              false
//	DialTimeout            REDISCACHE_DIAL_TIMEOUT              -                              5s
//	ReadTimeout            REDISCACHE_READ_TIMEOUT              -                              3s
//	WriteTimeout           REDISCACHE_WRITE_TIMEOUT             -                              3s
//	PoolSize               REDISCACHE_POOL_SIZE                 -                              10 per GOMAXPROCS (cluster: 5 per GOMAXPROCS per node)
//	TrackingPoolSize       REDISCACHE_TRACKING_POOL_SIZE        -                              4
//	DisableContextTimeout  REDISCACHE_DISABLE_CONTEXT_TIMEOUT   -                              false
//	TelemetrySiteLimit     REDISCACHE_TELEMETRY_SITE_LIMIT      -                              256 (negative: no site attribute)
//	TelemetryHitSpans      REDISCACHE_TELEMETRY_HIT_SPANS       -                              false
//	TelemetryKeyAttributes REDISCACHE_TELEMETRY_KEY_ATTRIBUTES  -                              false
//	CommandSpans           REDISCACHE_COMMAND_SPANS             -                              false
//
// Variables named after a Frappe key are the key in upper case. Booleans
// take true/false (also 1/0, yes/no, on/off); durations are Go durations
// ("500ms", "5s"); REDIS_CACHE_SENTINELS and REDIS_CACHE_CLUSTER_NODES are
// comma-separated host:port, IPv6 literals in brackets
// ("10.0.0.5:26379,[::1]:26379"), where Frappe's
// "host:port".split(":") breaks on IPv6 and keeps the port a string. An
// unset or empty variable means the default. Passwords are read as they
// are and never appear in errors or logs.
//
// The redis_cache URL may carry the database, credentials and go-redis
// options of its own (redis://user:pass@host:6379/1?protocol=2); the fields
// above override what it says. In Sentinel mode redis_cache is ignored, as
// in Frappe, and so it is by the cluster backend.
package fxmodule
