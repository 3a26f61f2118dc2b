package fxmodule

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/adapters/redislog"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// ModuleName names the module in fx's logs.
const ModuleName = "rediscache"

// Module provides, from a Config the host supplies (fx.Supply(cfg), or
// FromEnv):
//
//   - *Backend and ports.Store, ports.KeyValue, ports.Hash, ports.Set,
//     ports.List, ports.Suggest, ports.Tracker: the chosen store (every
//     write made through any of them is seen by the ClientCache before it
//     returns);
//   - *app.Cache for Config.Site and *app.Search (its FT("") handle);
//   - *clientcache.ClientCache, the process's one (for every site), and
//     *clientcache.Site for Config.Site, built only when something asks
//     for them.
//
// The store is pinged on start (a failure is logged, not fatal: a cache
// outage must not stop the host; a bad Config fails at once) and closed on
// stop. The logger is the host's *zap.Logger when it provides one, a no-op
// otherwise. When the host provides one, the lines go-redis logs on its own
// (a failed dial at Warn, the master a Sentinel client selected at Info,
// ...) go through it too, from start to stop (redislog.Route, named
// "rediscache.go-redis"); KeepRedisLogger turns that off. To put the
// ClientCache in front of the Cache, add ClientCache beside Module.
//
// The store, the Cache and the ClientCache report their metrics and spans
// to the metric.MeterProvider and trace.TracerProvider of the graph when
// the host provides them (fx.Provide(func() metric.MeterProvider { return
// mp })), else to OpenTelemetry's global providers; Config's Telemetry*
// fields and CommandSpans say how much.
var Module = fx.Module(ModuleName,
	fx.Provide(
		newBackend,
		storePorts,
		newCache,
		newSearch,
		newClientCache,
		newSite,
	),
)

// ClientCache makes the *app.Cache and ports.KeyValue the host receives go
// through the ClientCache: value reads are served from process memory and
// kept correct by invalidations. Place it at the root of fx.New, beside
// Module: fx.Decorate only affects the module it is declared in, so inside
// Module it would not reach the host's constructors.
var ClientCache = fx.Decorate(decorateCache)

// FromEnv supplies the Config read by ConfigFromEnv.
var FromEnv = fx.Provide(ConfigFromEnv)

// UseMemory replaces whatever backend the Config names by the in-memory one:
// for a host app's tests. Place it at the root of fx.New.
var UseMemory = fx.Decorate(func(cfg Config) Config {
	cfg.Backend = BackendMemory
	return cfg
})

// KeepRedisLogger stops Module from routing go-redis' own log lines
// through the host's logger: for a host that sets go-redis' process-wide
// logger itself (redis.SetLogger). Place it at the root of fx.New.
var KeepRedisLogger = fx.Supply(RedisLogging{Keep: true})

// RedisLogging says what Module does with the lines go-redis logs on its
// own. The zero value, the default, routes them through the host's
// *zap.Logger when it provides one.
type RedisLogging struct {
	// Keep leaves go-redis' logger alone.
	Keep bool
}

// Params are the dependencies of the module's constructors.
type Params struct {
	fx.In

	Lifecycle fx.Lifecycle
	Config    Config
	Logger    *zap.Logger `optional:"true"`
	// RedisLogging is KeepRedisLogger's, when the host supplies it.
	RedisLogging RedisLogging `optional:"true"`
	// MeterProvider and TracerProvider receive the metrics and spans of
	// the store, the Cache and the ClientCache when the host provides
	// them; else OpenTelemetry's global providers (no-ops until the host
	// installs its own).
	MeterProvider  metric.MeterProvider `optional:"true"`
	TracerProvider trace.TracerProvider `optional:"true"`
}

// telemetry is the app.Telemetry of cfg with the host's providers.
func telemetry(cfg Config, mp metric.MeterProvider, tp trace.TracerProvider) app.Telemetry {
	return app.Telemetry{MeterProvider: mp, TracerProvider: tp, SiteLimit: cfg.TelemetrySiteLimit,
		HitSpans: cfg.TelemetryHitSpans, KeyAttributes: cfg.TelemetryKeyAttributes}
}

func logger(l *zap.Logger) *zap.Logger {
	if l == nil {
		return zap.NewNop()
	}
	return l
}

func newBackend(p Params) (*Backend, error) {
	b, err := NewBackend(p.Config, logger(p.Logger), WithProviders(p.MeterProvider, p.TracerProvider))
	if err != nil {
		return nil, fmt.Errorf("rediscache: %w", err)
	}
	log := logger(p.Logger).Named(ModuleName)
	if p.Logger != nil && !p.RedisLogging.Keep && b.Name != BackendMemory {
		// Before the ping hook, so the dials of the first ping are
		// routed; restored after the store is closed.
		restore := func() {}
		p.Lifecycle.Append(fx.Hook{
			OnStart: func(context.Context) error {
				restore = redislog.Route(log)
				return nil
			},
			OnStop: func(context.Context) error {
				restore()
				return nil
			},
		})
	}
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := b.Pinger.Ping(ctx); err != nil {
				if errors.Is(err, domain.ErrInvalidArgument) {
					return err
				}
				log.Warn("cache backend not reachable at start; calls fail with ErrUnavailable until it is",
					zap.String("backend", b.Name), zap.Error(err))
			}
			return nil
		},
		OnStop: func(context.Context) error { return b.Close() },
	})
	return b, nil
}

// Ports are the store's ports, as the module provides them.
type Ports struct {
	fx.Out

	Store    ports.Store
	KeyValue ports.KeyValue
	Hash     ports.Hash
	Set      ports.Set
	List     ports.List
	Suggest  ports.Suggest
	Tracker  ports.Tracker
}

func storePorts(b *Backend) Ports {
	return Ports{Store: b.Store, KeyValue: b.Store, Hash: b.Store, Set: b.Store,
		List: b.Store, Suggest: b.Store, Tracker: b.Store}
}

func newCache(p Params, b *Backend) (*app.Cache, error) {
	if p.Config.Site == "" {
		return nil, fmt.Errorf("rediscache: %w: Config.Site (REDISCACHE_SITE) is required for the Cache", domain.ErrInvalidArgument)
	}
	return app.New(b.Store, app.Config{Site: p.Config.Site}, app.WithLogger(logger(p.Logger)),
		app.WithTelemetry(telemetry(p.Config, p.MeterProvider, p.TracerProvider)))
}

func newSearch(c *app.Cache) *app.Search { return c.FT("") }

// ClientCacheParams are the dependencies of the ClientCache.
type ClientCacheParams struct {
	fx.In

	Lifecycle fx.Lifecycle
	Config    Config
	Backend   *Backend
	Logger    *zap.Logger `optional:"true"`
	// Bounds is the ClientCache's configuration; the host may supply one
	// (fx.Supply(clientcache.Config{...})). Zero: Frappe's defaults.
	Bounds clientcache.Config `optional:"true"`
	// MeterProvider and TracerProvider: as in Params.
	MeterProvider  metric.MeterProvider `optional:"true"`
	TracerProvider trace.TracerProvider `optional:"true"`
}

// newClientCache builds the process's ClientCache over the backend's store
// and ties it to the lifecycle: OnStart registers it with the store's
// tracking (and, if Redis is down, it keeps passing reads through while the
// store retries in the background: the host still starts), OnStop stops it
// before the store is closed (hooks stop in reverse order).
func newClientCache(p ClientCacheParams) (*clientcache.ClientCache, error) {
	cc, err := clientcache.New(p.Backend.Store, p.Bounds, clientcache.WithLogger(logger(p.Logger)),
		clientcache.WithTelemetry(telemetry(p.Config, p.MeterProvider, p.TracerProvider)))
	if err != nil {
		return nil, fmt.Errorf("rediscache: %w", err)
	}
	p.Lifecycle.Append(fx.StartStopHook(cc.Start, cc.Stop))
	return cc, nil
}

// newSite returns the ClientCache's handle of Config.Site.
func newSite(cc *clientcache.ClientCache, cfg Config) (*clientcache.Site, error) {
	if cfg.Site == "" {
		return nil, fmt.Errorf("rediscache: %w: Config.Site (REDISCACHE_SITE) is required for the ClientCache's Site; multi-site hosts call ClientCache.Site(name)", domain.ErrInvalidArgument)
	}
	return cc.Site(cfg.Site)
}

// decorateCache replaces the host's Cache by its site's ClientCache Cache.
func decorateCache(c *app.Cache, cc *clientcache.ClientCache) (*app.Cache, error) {
	s, err := cc.Site(c.Site())
	if err != nil {
		return nil, err
	}
	return s.Cache(), nil
}

// Compile-time check: the memory store offers everything the module wires.
var _ interface {
	ports.TrackedStore
	ports.Broadcast
} = (*memory.Store)(nil)
