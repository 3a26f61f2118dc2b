package sentinel

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

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

// Tracked is a store on the master of a Sentinel deployment whose reads
// Redis tracks for the ClientCache: besides everything a [Store] has, it
// implements [ports.Invalidation] and [ports.Broadcast]. Ping diagnoses as
// [Store.Ping] does.
//
//   - Invalidations(ctx) starts a tracking session (CLIENT TRACKING ON
//     REDIRECT <id> NOLOOP on every master connection, invalidations
//     received on a dedicated Pub/Sub connection to the master) and returns
//     its channel; one session is live at a time;
//   - Publish and Subscribe: Redis PUBLISH/SUBSCRIBE on the master;
//   - TrackingID, for tests and diagnostics;
//   - Close, idempotent.
//
// Every client it builds is a go-redis failover client, so the data and
// invalidation connections follow a failover. Tracking state does not
// survive a failover: the session's connections to the old master close,
// so the channel reports the loss (an All event or its closing) and the
// subscriber subscribes again on the new master.
type Tracked struct {
	rt *redisstore.Tracked
	d  *deployment
}

// NewTracked returns a Tracked store for the deployment described by cfg.
// Like [New], it validates cfg and connects lazily (Invalidations and
// Subscribe connect at once). Tracking with REDIRECT to a Pub/Sub
// connection needs RESP2: a Config asking for Protocol 3 fails with
// domain.ErrInvalidArgument.
func NewTracked(cfg Config, opts ...Option) (*Tracked, error) {
	o := buildOptions(opts)
	fo, err := cfg.options()
	if err != nil {
		return nil, err
	}
	if fo.Protocol != 2 {
		return nil, fmt.Errorf("rediscache: sentinel config: %w: Protocol %d: a tracked store needs RESP2 (Protocol 2)",
			domain.ErrInvalidArgument, fo.Protocol)
	}
	d := newDeployment(fo, o.logger)
	newData := func(onConnect func(context.Context, *redis.Conn) error) redis.UniversalClient {
		return d.newClient(onConnect, 0)
	}
	newListener := func(onConnect func(context.Context, *redis.Conn) error) redis.UniversalClient {
		return d.newClient(onConnect, 1)
	}
	d.logCreated("sentinel tracked store created")
	return &Tracked{
		rt: redisstore.NewTracked(newData, newListener,
			redisstore.WithLogger(o.logger),
			redisstore.WithEndpoint(d.endpoint()),
		),
		d: d,
	}, nil
}

// Ping checks that the master answers and, when it does not, says why; see
// [Store.Ping].
func (t *Tracked) Ping(ctx context.Context) error {
	return t.d.ping(ctx, t.rt.Ping)
}
