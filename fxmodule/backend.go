package fxmodule

import (
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/adapters/cluster"
	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/adapters/sentinel"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/ports"
)

// BackendOption adjusts NewBackend.
type BackendOption func(*backendOptions)

type backendOptions struct {
	mp metric.MeterProvider
	tp trace.TracerProvider
}

// WithProviders makes the store report its backend call durations to mp
// and its command spans (Config.CommandSpans) to tp; nil means
// OpenTelemetry's global provider.
func WithProviders(mp metric.MeterProvider, tp trace.TracerProvider) BackendOption {
	return func(o *backendOptions) { o.mp, o.tp = mp, tp }
}

// Backend is the store NewBackend built, with what a host needs to run it.
type Backend struct {
	// Name is the backend chosen: BackendMemory, BackendStandalone,
	// BackendSentinel or BackendCluster.
	Name string
	// Store is the store, for app.New and the ClientCache (clientcache.New):
	// every write made through it is seen by the ClientCache at once, and
	// its tracking keeps the ClientCache's copies exact.
	Store ports.TrackedStore
	// Pinger checks the backend: call it at startup (Frappe's
	// connected()). Its errors say what is wrong (for Sentinel: no
	// sentinel reachable, an unknown master, rejected credentials; for a
	// cluster: no node reachable, the cluster down, a master that does not
	// answer).
	Pinger ports.Pinger
	// Close closes the store. It is idempotent.
	Close func() error
}

// NewBackend builds the store chosen by cfg, the Go form of Frappe's
// setup_cache: the sentinel backend when cfg.Backend is "sentinel" or empty
// with SentinelEnabled, the cluster backend on cfg.ClusterNodes when it is
// "cluster" or empty with ClusterNodes set, the standalone backend on
// cfg.RedisCache when it is "standalone" or empty, the memory backend only
// when asked for by name.
// It validates cfg first and returns every problem at once (see
// Config.Validate). It connects to nothing: call Backend.Pinger.Ping to
// check the server. log (nil for none) receives the adapters'
// connection-level events under the name "rediscache". go-redis' own log
// lines are process-wide and not routed here: call redislog.Route(log) (fx
// hosts get it from Module).
//
// Every Redis store it builds can track reads, the cluster's on every
// master: the ClientCache works on each. WithProviders says where its
// db.client.operation.duration histogram and command spans go (default:
// OpenTelemetry's global providers).
func NewBackend(cfg Config, log *zap.Logger, opts ...BackendOption) (*Backend, error) {
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("rediscache")
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	var bo backendOptions
	for _, o := range opts {
		if o != nil {
			o(&bo)
		}
	}
	for _, c := range []*connection.Options{&r.standalone.Connection, &r.sentinel.Connection, &r.cluster.Connection} {
		c.MeterProvider, c.TracerProvider = bo.mp, bo.tp
	}
	switch r.backend {
	case BackendMemory:
		s := memory.New(memory.Config{}, memory.WithLogger(log))
		return &Backend{Name: r.backend, Store: s, Pinger: s, Close: s.Close}, nil
	case BackendSentinel:
		s, err := sentinel.New(r.sentinel, sentinel.WithLogger(log))
		if err != nil {
			return nil, err
		}
		log.Info("cache backend: sentinel",
			zap.String("master", r.sentinel.MasterName), zap.Strings("sentinels", r.sentinel.SentinelAddrs))
		return &Backend{Name: r.backend, Store: s, Pinger: s, Close: s.Close}, nil
	case BackendCluster:
		s, err := cluster.New(r.cluster, cluster.WithLogger(log))
		if err != nil {
			return nil, err
		}
		log.Info("cache backend: cluster", zap.Strings("nodes", r.cluster.Addrs))
		return &Backend{Name: r.backend, Store: s, Pinger: s, Close: s.Close}, nil
	default:
		s, err := standalone.New(r.standalone, standalone.WithLogger(log))
		if err != nil {
			return nil, err
		}
		log.Info("cache backend: standalone")
		return &Backend{Name: r.backend, Store: s, Pinger: s, Close: s.Close}, nil
	}
}
