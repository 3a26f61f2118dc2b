package standalone

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/adapters/internal/redisstore"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

var (
	_ ports.Store        = (*Tracked)(nil)
	_ ports.Pinger       = (*Tracked)(nil)
	_ ports.Invalidation = (*Tracked)(nil)
	_ ports.Broadcast    = (*Tracked)(nil)
)

// Tracked is a store on one redis-server whose reads Redis tracks for the
// ClientCache: besides everything a [Store] has, it implements
// [ports.Invalidation] and [ports.Broadcast].
//
//   - Invalidations(ctx) starts a tracking session (CLIENT TRACKING ON
//     REDIRECT <id> NOLOOP on every data connection, invalidations
//     received on a dedicated Pub/Sub connection) and returns its channel;
//     one session is live at a time;
//   - Publish and Subscribe: Redis PUBLISH/SUBSCRIBE, each Subscribe on a
//     connection of its own;
//   - TrackingID: the CLIENT ID invalidations are redirected to (0
//     without a live session), for tests and diagnostics;
//   - Close ends the session and subscriptions (their channels close),
//     waits for their goroutines and closes every connection. It is
//     idempotent.
//
// See doc.go for the connections a Tracked store opens.
type Tracked struct {
	rt *redisstore.Tracked
}

// NewTracked returns a Tracked store for the server described by cfg. Like
// [New], it validates cfg and connects lazily (Invalidations and Subscribe
// connect at once). Tracking with REDIRECT to a Pub/Sub connection needs
// RESP2 on every connection: a Config (or URL) asking for Protocol 3 fails
// with domain.ErrInvalidArgument.
func NewTracked(cfg Config, opts ...Option) (*Tracked, error) {
	o := options{logger: zap.NewNop()}
	for _, opt := range opts {
		opt.apply(&o)
	}
	ropts, err := cfg.options()
	if err != nil {
		return nil, err
	}
	if ropts.Protocol != 2 {
		return nil, fmt.Errorf("rediscache: standalone config: %w: Protocol %d: a tracked store needs RESP2 (Protocol 2)",
			domain.ErrInvalidArgument, ropts.Protocol)
	}
	// Every client gets options of its own: go-redis keeps the pointer.
	clientOptions := func(onConnect func(context.Context, *redis.Conn) error) *redis.Options {
		o, _ := cfg.options() // validated above
		o.OnConnect = onConnect
		return o
	}
	newData := func(onConnect func(context.Context, *redis.Conn) error) redis.UniversalClient {
		return redis.NewClient(clientOptions(onConnect))
	}
	newListener := func(onConnect func(context.Context, *redis.Conn) error) redis.UniversalClient {
		lo := clientOptions(onConnect)
		lo.PoolSize = 1
		lo.MinIdleConns = 0
		return redis.NewClient(lo)
	}
	ep := endpoint(ropts)
	o.logger.Debug("standalone tracked store created",
		zap.String("addr", ep),
		zap.Int("db", ropts.DB),
		zap.Bool("tls", ropts.TLSConfig != nil))
	return &Tracked{rt: redisstore.NewTracked(newData, newListener,
		redisstore.WithLogger(o.logger),
		redisstore.WithEndpoint(ep),
	)}, nil
}
