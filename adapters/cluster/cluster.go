package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/internal/redisstore"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

var (
	_ ports.Store            = (*Store)(nil)
	_ ports.Pinger           = (*Store)(nil)
	_ ports.Tracker          = (*Store)(nil)
	_ ports.TrackingSessions = (*Store)(nil)
	_ ports.Broadcast        = (*Store)(nil)
)

// Store is a store on a Redis Cluster. It implements the data ports
// ([ports.KeyValue], [ports.Hash], [ports.Set], [ports.List],
// [ports.Suggest]), [ports.Pinger] ([Store.Ping] says what is wrong) and
// [ports.Broadcast] (Publish, Subscribe: classic Pub/Sub, which reaches
// every node), [ports.Tracker] (client tracking on every master, see the
// package documentation) and [ports.Backlog].
// Close ends the subscriptions and closes the connections to every node;
// it is idempotent, and calls made after it fail with an error matching
// domain.ErrClosed. Client returns the underlying go-redis client (a
// *redis.ClusterClient), for features beyond the ports and for tests.
//
// Single-key commands go to the master of the key's hash slot. Del and
// Exists of keys in different slots send one command per slot, every node
// in parallel; Scan scans every master; HDelBatch and SugAdd pipelines
// reach each node in one round trip. The port interfaces document the
// behaviour; every error matches one of the domain errors (or
// context.Canceled / context.DeadlineExceeded). A Store is safe for
// concurrent use.
type Store struct {
	rs *redisstore.Store
	d  *deployment
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

// WithLogger sets the logger for connection-level events: the store's
// creation (Debug) and lost broadcast subscriptions (Warn). The default,
// and a nil logger, is zap.NewNop().
func WithLogger(logger *zap.Logger) Option {
	return optionFunc(func(o *options) {
		if logger != nil {
			o.logger = logger
		}
	})
}

// New returns a Store for the cluster described by cfg. It validates cfg
// (see [Config.Validate]) but does not connect: call Ping to check the
// cluster.
func New(cfg Config, opts ...Option) (*Store, error) {
	o := options{logger: zap.NewNop()}
	for _, opt := range opts {
		opt.apply(&o)
	}
	co, err := cfg.options()
	if err != nil {
		return nil, err
	}
	d := &deployment{conn: cfg.Connection.WithDefaults(), addrs: co.Addrs}
	client := redis.NewClusterClient(co)
	o.logger.Debug("cluster store created",
		zap.Strings("addrs", co.Addrs),
		zap.Int("protocol", co.Protocol),
		zap.Bool("tls", co.TLSConfig != nil))
	return &Store{
		rs: redisstore.NewCluster(client, d.node,
			redisstore.WithLogger(o.logger),
			redisstore.WithEndpoint(d.endpoint()),
			redisstore.WithTrackingPool(d.conn.TrackingPoolSize),
			redisstore.WithTelemetry(d.conn.MeterProvider, d.conn.TracerProvider, d.conn.CommandSpans),
			redisstore.WithTopologyRefresh(cfg.TopologyRefresh),
			redisstore.WithFailoverProbe(cfg.FailoverProbe),
		),
		d: d,
	}, nil
}

// Ping checks that every master answers and that the cluster serves every
// slot (cluster_state:ok). When that fails, Ping asks each seed node
// (Config.Addrs) and then each master they report, and its error, matching
// domain.ErrUnavailable (and domain.ErrRefused when a node answered but
// refused: credentials, not a cluster, the cluster down), says what is
// wrong:
//
//   - no node reachable, naming the addresses tried and why;
//   - the nodes rejected the credentials (Username, Password);
//   - the servers are not cluster nodes (cluster support disabled);
//   - the cluster is down (cluster_state:fail: slots that no master
//     serves, a failover under way);
//   - a master that does not answer, with its slots.
//
// Messages never contain a password. Ping returns within 2 × (DialTimeout +
// ReadTimeout), or when ctx ends if that is sooner.
func (s *Store) Ping(ctx context.Context) error {
	return redisstore.DiagnosedPing(ctx, s.d.conn.DialTimeout+s.d.conn.ReadTimeout, s.d.endpoint(),
		s.rs.Ping, s.d.diagnose)
}

// deployment is what a store knows about its cluster: the seed nodes and
// the connection settings of every client it builds besides the cluster
// client (subscriptions, diagnostics).
type deployment struct {
	conn  connection.Options // with defaults
	addrs []string           // normalised seed nodes
}

// endpoint names the cluster in messages.
func (d *deployment) endpoint() string {
	return "cluster " + strings.Join(d.addrs, ",")
}

// nodeOptions returns options of a client of the one node at addr, with
// the cluster's credentials, TLS and timeouts.
func (d *deployment) nodeOptions(addr string) *redis.Options {
	u := d.conn.Universal()
	u.Addrs = []string{addr}
	return u.Simple()
}

// node builds a client of the one node at addr (redisstore.NodeFactory):
// the tracking of each master (its listener, tracked connections, the
// failover watch and the layout queries) and the broadcast subscriptions,
// speaking RESP2 as listeners must.
func (d *deployment) node(addr string, onConnect func(context.Context, *redis.Conn) error, poolSize int) *redis.Client {
	o := d.nodeOptions(addr)
	o.OnConnect = onConnect
	o.Protocol = 2
	if poolSize > 0 {
		o.PoolSize, o.MinIdleConns, o.MaxIdleConns, o.MaxRetries = poolSize, 0, 0, -1
		o.PipelinePoolSize = -1
	}
	return redis.NewClient(o)
}

// probe returns a one-connection client of the node at addr that neither
// retries nor announces itself, for diagnostics.
func (d *deployment) probe(addr string) *redis.Client {
	o := d.nodeOptions(addr)
	o.PoolSize = 1
	o.MaxRetries = -1
	o.DisableIdentity = true
	return redis.NewClient(o)
}

// diagnose asks every seed node for CLUSTER INFO and CLUSTER SLOTS, then
// PINGs every master the first answering node reports, each with a client
// of its own, and returns what is wrong, or nil when everything answers (or
// ctx ended first).
func (d *deployment) diagnose(ctx context.Context) error {
	type answer struct {
		info  string
		slots []redis.ClusterSlot
		err   error
	}
	answers := make([]answer, len(d.addrs))
	var wg sync.WaitGroup
	for i, addr := range d.addrs {
		wg.Go(func() {
			c := d.probe(addr)
			defer c.Close()
			a := &answers[i]
			if a.info, a.err = c.ClusterInfo(ctx).Result(); a.err == nil {
				a.slots, a.err = c.ClusterSlots(ctx).Result()
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}

	from := -1
	var refused, notCluster, failed []string
	for i, a := range answers {
		switch {
		case a.err == nil:
			if from < 0 {
				from = i
			}
		case redisstore.IsAuthError(a.err):
			refused = append(refused, d.addrs[i])
		case isClusterDisabled(a.err):
			notCluster = append(notCluster, d.addrs[i])
		default:
			failed = append(failed, fmt.Sprintf("%s: %v", d.addrs[i], a.err))
		}
	}
	switch {
	case from >= 0:
	case len(refused) > 0:
		return fmt.Errorf("rediscache: cluster: %w: node %s rejected the credentials: authentication failed (check the username and password)",
			domain.ErrRefused, strings.Join(refused, ", "))
	case len(notCluster) > 0:
		return fmt.Errorf("rediscache: cluster: %w: %s is not a cluster node (cluster support disabled): use the standalone backend, or give the addresses of cluster nodes",
			domain.ErrRefused, strings.Join(notCluster, ", "))
	default:
		return fmt.Errorf("rediscache: cluster: %w: no cluster node reachable (tried %s): %s",
			domain.ErrUnavailable, strings.Join(d.addrs, ", "), strings.Join(failed, "; "))
	}

	a, seed := answers[from], d.addrs[from]
	if !strings.Contains(a.info, "cluster_state:ok") {
		return fmt.Errorf("rediscache: cluster: %w: the cluster is down: node %s reports cluster_state:%s with %s of %d slots served (a master without a live replica is down, or a failover is under way)",
			domain.ErrRefused, seed, redisstore.InfoField(a.info, "cluster_state"), redisstore.InfoField(a.info, "cluster_slots_ok"), 16384)
	}
	return d.diagnoseMasters(ctx, seed, a.slots)
}

// diagnoseMasters PINGs every master of slots (the CLUSTER SLOTS reply of
// the node seed) and describes the first that does not answer.
func (d *deployment) diagnoseMasters(ctx context.Context, seed string, slots []redis.ClusterSlot) error {
	ranges := map[string][]string{} // master address → its slot ranges
	var masters []string
	for _, s := range slots {
		if len(s.Nodes) == 0 {
			continue
		}
		addr := s.Nodes[0].Addr
		if _, ok := ranges[addr]; !ok {
			masters = append(masters, addr)
		}
		ranges[addr] = append(ranges[addr], fmt.Sprintf("%d-%d", s.Start, s.End))
	}
	errs := make([]error, len(masters))
	var wg sync.WaitGroup
	for i, addr := range masters {
		wg.Go(func() {
			c := d.probe(addr)
			defer c.Close()
			errs[i] = c.Ping(ctx).Err()
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	for i, err := range errs {
		switch {
		case err == nil:
		case redisstore.IsAuthError(err):
			return fmt.Errorf("rediscache: cluster: %w: master %s rejected the credentials: authentication failed (check the username and password)",
				domain.ErrRefused, masters[i])
		default:
			return fmt.Errorf("rediscache: cluster: %w: master %s (slots %s, reported by %s) does not answer: %v",
				domain.ErrUnavailable, masters[i], strings.Join(ranges[masters[i]], ","), seed, err)
		}
	}
	return nil
}

// isClusterDisabled recognises the reply of a server without cluster
// support to a CLUSTER command.
func isClusterDisabled(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.Contains(rerr.Error(), "cluster support disabled")
}
