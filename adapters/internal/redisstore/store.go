// Package redisstore implements the data ports of rediscache on top of a
// go-redis client. It holds all the command code shared by the standalone,
// Sentinel and Cluster adapters, which only build the client and hand it to
// New. Given a *redis.ClusterClient, a Store splits multi-key commands by
// hash slot, scans every master and pings every master (cluster.go).
//
// Every error that leaves the package goes through translate (errors.go),
// so callers only ever see the domain sentinels (or a context error).
// Nothing is logged per command.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/adapters/internal/sinkset"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// Interface checks: Store implements every data port. Suggest is in
// suggest.go.
var (
	_ ports.KeyValue = (*Store)(nil)
	_ ports.Hash     = (*Store)(nil)
	_ ports.Set      = (*Store)(nil)
	_ ports.List     = (*Store)(nil)
	_ ports.Suggest  = (*Store)(nil)
	_ ports.Store    = (*Store)(nil)
	_ ports.Pinger   = (*Store)(nil)
)

// Store implements the data ports with Redis commands sent through a go-redis
// client. A store built by NewTracked also implements ports.Tracker and
// ports.Broadcast (tracking.go). It is safe for concurrent use.
type Store struct {
	c        atomic.Pointer[hostClient] // see client
	logger   *zap.Logger
	endpoint string
	tracking trackingOptions

	// sinks are told about every write made through the store (wrote), and
	// about the invalidations its tracker receives.
	sinks sinkset.Set
	// tr tracks reads for the sinks; nil for a store built by New or
	// NewCluster.
	tr *tracker
	// ct tracks reads on every master of a cluster; nil unless built by
	// NewCluster.
	ct *clusterTracking
	// prog is signalled whenever tracking processed some I/O (Backlog).
	prog *progress
	// factory builds the extra clients of tracking and broadcast
	// subscriptions; nil for a store built by New.
	factory ClientFactory
	// tel instruments the clients the store measures (otel.go).
	tel *telemetry

	mu      sync.Mutex // guards subs, retired and closed's transition
	subs    map[*subscription]struct{}
	retired map[redis.UniversalClient]*time.Timer // replaced clients, closed later
	wg      sync.WaitGroup                        // subscription goroutines

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Option configures New and NewTracked.
type Option interface {
	apply(*options)
}

type options struct {
	logger   *zap.Logger
	endpoint string
	tracking trackingOptions // NewTracked only (tracking.go)
	// topologyRefresh, failoverProbe: NewCluster only
	// (tracking_cluster.go).
	topologyRefresh time.Duration
	failoverProbe   time.Duration
	// meterProvider, tracerProvider, commandSpans: WithTelemetry (otel.go).
	meterProvider  metric.MeterProvider
	tracerProvider trace.TracerProvider
	commandSpans   bool
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithLogger sets the logger for connection-level events. The default,
// and a nil logger, is zap.NewNop().
func WithLogger(logger *zap.Logger) Option {
	return optionFunc(func(o *options) {
		if logger != nil {
			o.logger = logger
		}
	})
}

// WithEndpoint names the backend in Ping errors, e.g. "127.0.0.1:6379" or
// "master mymaster". It must not contain credentials.
func WithEndpoint(endpoint string) Option {
	return optionFunc(func(o *options) { o.endpoint = endpoint })
}

// New returns a Store that sends its commands through client and owns it:
// Close closes the client. It cannot track reads (Track fails with
// domain.ErrNotSupported) nor subscribe. It panics if client is nil.
func New(client redis.UniversalClient, opts ...Option) *Store {
	if client == nil {
		panic("redisstore: nil client")
	}
	return newStore(client, buildOptions(opts))
}

func buildOptions(opts []Option) options {
	o := options{logger: zap.NewNop(), tracking: defaultTrackingOptions(), topologyRefresh: DefaultTopologyRefresh,
		failoverProbe: DefaultFailoverProbe}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

func newStore(client redis.UniversalClient, o options) *Store {
	s := &Store{logger: o.logger, endpoint: o.endpoint, tracking: o.tracking, prog: newProgress(),
		subs: make(map[*subscription]struct{}), retired: make(map[redis.UniversalClient]*time.Timer),
		tel: newTelemetry(o)}
	s.tel.instrument(client)
	s.c.Store(&hostClient{client})
	return s
}

// hostClient holds the client the host's commands go through.
type hostClient struct{ redis.UniversalClient }

// client returns the client commands are sent through.
func (s *Store) client() redis.UniversalClient { return s.c.Load().UniversalClient }

// Client returns the go-redis client the store sends its commands through
// now, for adapters that need more than the ports and for tests. Failover
// replaces it.
func (s *Store) Client() redis.UniversalClient { return s.client() }

// retireGrace is how long a replaced client stays open for the calls in
// flight on it.
const retireGrace = 10 * time.Second

// renewClient sends the host's commands through a new client built by the
// factory from now on, and closes the old one after retireGrace (or at
// Close).
func (s *Store) renewClient() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return
	}
	c := s.factory(nil, 0)
	s.tel.instrument(c)
	old := s.c.Swap(&hostClient{c}).UniversalClient
	s.retired[old] = time.AfterFunc(retireGrace, func() {
		s.mu.Lock()
		_, ok := s.retired[old]
		delete(s.retired, old)
		s.mu.Unlock()
		if ok {
			_ = old.Close()
		}
	})
}

// wrote tells the sinks that key was written through the store. Called after
// every write, whatever its outcome (a failed write may have been applied).
func (s *Store) wrote(key string) {
	if s.sinks.Active() {
		s.sinks.Invalidate([]string{key})
	}
}

// wroteKeys is wrote for several keys.
func (s *Store) wroteKeys(keys []string) {
	if s.sinks.Active() && len(keys) > 0 {
		s.sinks.Invalidate(keys)
	}
}

// Close ends tracking and the broadcast subscriptions (their channels
// close), waits for their goroutines, and closes every client. It is
// idempotent: later calls return the same error. Calls made after Close fail
// with an error matching domain.ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed.Store(true)
		subs := make([]*subscription, 0, len(s.subs))
		for sub := range s.subs {
			subs = append(subs, sub)
		}
		s.mu.Unlock()
		if s.tr != nil {
			s.tr.close()
		}
		if s.ct != nil {
			s.ct.close()
		}
		for _, sub := range subs {
			sub.l.stop("store closed", nil)
		}
		s.wg.Wait()
		s.mu.Lock()
		retired := s.retired
		s.retired = nil
		s.mu.Unlock()
		for old, t := range retired {
			t.Stop()
			_ = old.Close()
		}
		if err := s.client().Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
			s.closeErr = fmt.Errorf("rediscache: close: %w", err)
		}
		s.logger.Debug("redis client closed", zap.String("endpoint", s.endpoint))
	})
	return s.closeErr
}

// Ping checks that the backend answers: on a cluster, that every master
// answers and reports cluster_state:ok. Its error names the endpoint given
// WithEndpoint.
func (s *Store) Ping(ctx context.Context) error {
	op := "ping"
	if s.endpoint != "" {
		op += " " + s.endpoint
	}
	if err := s.begin(ctx, op, ""); err != nil {
		return err
	}
	client := s.client()
	if cc, ok := client.(*redis.ClusterClient); ok {
		return s.fail(ctx, op, "", s.pingMasters(ctx, cc))
	}
	return s.fail(ctx, op, "", client.Ping(ctx).Err())
}

// begin checks what every call checks before its round trip: the store is
// open and ctx is live.
func (s *Store) begin(ctx context.Context, op, key string) error {
	if s.closed.Load() {
		return wrap(op, key, domain.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return wrap(op, key, err)
	}
	return nil
}

// beginKey is begin plus the check that key is not empty.
func (s *Store) beginKey(ctx context.Context, op, key string) error {
	if key == "" {
		return fmt.Errorf("rediscache: %s: %w: empty key", op, domain.ErrInvalidArgument)
	}
	return s.begin(ctx, op, key)
}

// beginKeys is begin plus the check that no key is empty. The key used in
// messages is the only key, if there is just one.
func (s *Store) beginKeys(ctx context.Context, op string, keys []string) error {
	for _, k := range keys {
		if k == "" {
			return fmt.Errorf("rediscache: %s: %w: empty key", op, domain.ErrInvalidArgument)
		}
	}
	return s.begin(ctx, op, msgKey(keys))
}

// fail translates the error of a round trip. When ctx ended during the
// call and the error is not a server reply, the context error wins, so a
// cancelled call always matches context.Canceled (or DeadlineExceeded)
// even if go-redis reports it as a network error. Conversely, a deadline
// that is not the caller's (go-redis bounds each dial by DialTimeout with a
// context of its own) is the server's failure to answer in time:
// domain.ErrUnavailable, not context.DeadlineExceeded.
func (s *Store) fail(ctx context.Context, op, key string, err error) error {
	if err == nil {
		return nil
	}
	ctxErr := ctx.Err()
	if ctxErr != nil && !isReply(err) && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%s: %w (%v)", prefix(op, key), ctxErr, err)
	}
	if ctxErr == nil && errors.Is(err, context.DeadlineExceeded) && tlsHint(err) == "" {
		return fmt.Errorf("%s: %w: no answer in time (DialTimeout, ReadTimeout): %v", prefix(op, key), domain.ErrUnavailable, err)
	}
	return translate(op, key, err)
}

// msgKey is the key named in messages about keys: the key itself when
// there is one, nothing otherwise.
func msgKey(keys []string) string {
	if len(keys) == 1 {
		return keys[0]
	}
	return ""
}
