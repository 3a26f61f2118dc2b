package standalone

import (
	"context"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/adapters/internal/redisstore"
	"github.com/rediscache/rediscache/ports"
)

var (
	_ ports.Store            = (*Store)(nil)
	_ ports.Pinger           = (*Store)(nil)
	_ ports.Tracker          = (*Store)(nil)
	_ ports.TrackingSessions = (*Store)(nil)
	_ ports.Broadcast        = (*Store)(nil)
)

// Store is a store on one redis-server. It implements the data ports
// ([ports.KeyValue], [ports.Hash], [ports.Set], [ports.List],
// [ports.Suggest]), [ports.Pinger] (Ping's error names the address),
// [ports.Tracker] (client tracking for the ClientCache: Track, Fetch,
// Tracking, and TrackingID, the CLIENT ID of the invalidation connection,
// 0 while tracking is not live) and [ports.Broadcast] (Publish,
// Subscribe). Close ends tracking and subscriptions and closes the
// connections; it is idempotent, and calls made after it fail with an
// error matching domain.ErrClosed. Client returns the underlying go-redis
// client (a *redis.Client), for features beyond the ports and for tests.
//
// The port interfaces document the behaviour; every error matches one of
// the domain errors (or context.Canceled / context.DeadlineExceeded). A
// Store is safe for concurrent use.
type Store struct {
	rs *redisstore.Store
}

// Option configures New.
type Option interface {
	apply(*options)
}

type options struct {
	logger *zap.Logger
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithLogger sets the logger for connection-level events. The default, and
// a nil logger, is zap.NewNop().
func WithLogger(logger *zap.Logger) Option {
	return optionFunc(func(o *options) {
		if logger != nil {
			o.logger = logger
		}
	})
}

// New returns a Store for the server described by cfg. It validates cfg
// (see [Config.Validate]) but does not connect: call Ping to check the
// server. The store can track reads for the ClientCache (Track, Fetch) and
// carries broadcasts (Publish, Subscribe), on connections of their own
// opened when first needed; see the package documentation.
func New(cfg Config, opts ...Option) (*Store, error) {
	o := options{logger: zap.NewNop()}
	for _, opt := range opts {
		opt.apply(&o)
	}
	ropts, err := cfg.options()
	if err != nil {
		return nil, err
	}
	// Every client gets options of its own: go-redis keeps the pointer.
	factory := func(onConnect func(context.Context, *redis.Conn) error, poolSize int) *redis.Client {
		co := *ropts
		co.OnConnect = onConnect
		if poolSize > 0 {
			co.PoolSize, co.MinIdleConns, co.MaxIdleConns, co.MaxRetries = poolSize, 0, 0, -1
			co.PipelinePoolSize = -1 // pipelines on the one connection
		}
		return redis.NewClient(&co)
	}
	ep := endpoint(ropts)
	o.logger.Debug("standalone store created",
		zap.String("addr", ep),
		zap.Int("db", ropts.DB),
		zap.Int("protocol", ropts.Protocol),
		zap.Bool("tls", ropts.TLSConfig != nil))
	conn := cfg.Connection.WithDefaults()
	return &Store{rs: redisstore.NewTracked(factory,
		redisstore.WithLogger(o.logger),
		redisstore.WithEndpoint(ep),
		redisstore.WithTrackingPool(conn.TrackingPoolSize),
		redisstore.WithTelemetry(conn.MeterProvider, conn.TracerProvider, conn.CommandSpans),
	)}, nil
}

// NewFromURL is New(Config{URL: url}, opts...).
func NewFromURL(url string, opts ...Option) (*Store, error) {
	return New(Config{URL: url}, opts...)
}
