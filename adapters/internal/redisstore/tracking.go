package redisstore

// Client tracking: ports.Tracker on Redis CLIENT TRACKING, RESP2
// two-connection mode, OPTIN.
//
// One tracker per store (per Redis server), whatever the number of caches
// and sites using it. While at least one sink is registered, a goroutine
// keeps a session open:
//
//   - a listener: one connection (a client with a pool of one, never
//     redialled) whose CLIENT ID is read in OnConnect and which is
//     SUBSCRIBEd to __redis__:invalidate; its messages are handed to the
//     sinks on the listener's goroutine, with no buffer and no other hop;
//   - a pool of TrackingPoolSize tracked connections, each a client of its
//     own with a pool of one connection that is never redialled, whose
//     OnConnect runs CLIENT TRACKING ON REDIRECT <id> OPTIN. A fetch runs
//     CLIENT CACHING YES, MULTI, PTTL k, GET k, EXEC on one of them in one
//     round trip: only what the caches fetch is tracked, and the key's TTL
//     comes with its value. Each tracked connection has a lease (under the
//     session's): when it closes, only the values fetched on it are dropped;
//   - the host's own commands never run on a tracked connection (they use
//     the store's pool), so closing one of theirs costs the caches nothing.
//
// The store reports its own writes to the sinks itself (Store.wrote), before
// each write call returns: Redis' report of them, which arrives later on the
// listener, only confirms it.
//
// A tracked connection the server closed is noticed without reading it: a
// non-consuming peek at its socket (peek), made before each message of the
// listener is handed on and once per health interval. On loopback the
// server's close of a connection reaches the socket before any later
// invalidation reaches the listener, so a value fetched on a killed
// connection is dropped before any invalidation that follows the kill is
// applied.
//
// A session ends when its listener fails (receive error, unanswered health
// PING, re-subscription), when the last sink leaves, and when the store is
// closed. Its lease is revoked and the sinks told to drop everything it
// covered; the goroutine then opens a new session, backing off while
// sessions die young.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

var (
	_ ports.Tracker   = (*Store)(nil)
	_ ports.Broadcast = (*Store)(nil)
	_ ports.Backlog   = (*Store)(nil)
)

// InvalidateChannel is the Pub/Sub channel on which Redis delivers the
// invalidations of RESP2 tracking connections to their REDIRECT target.
const InvalidateChannel = "__redis__:invalidate"

// Defaults of the tracking options.
const (
	// DefaultHealthInterval is how long a listener waits without any
	// message before it sends a PING, and how often the tracked
	// connections are checked.
	DefaultHealthInterval = time.Second
	// DefaultPingTimeout is how long a listener waits for any reply after
	// its PING before it declares the connection lost.
	DefaultPingTimeout = 2 * time.Second
	// DefaultTrackingPoolSize is the number of tracked connections.
	DefaultTrackingPoolSize = 4
	// DefaultBroadcastBuffer is the capacity of the channel returned by
	// Subscribe.
	DefaultBroadcastBuffer = 64

	// Bounds of the wait between two attempts to open a session.
	minRetry = 50 * time.Millisecond
	maxRetry = 2 * time.Second
	// A session that lived this long resets the backoff: the next attempt
	// comes at once. A younger one lets the wait grow.
	matureSession = 5 * time.Second

	// subscribeTimeout bounds the wait for the confirmation of a
	// SUBSCRIBE (and for anything else ctx does not bound).
	subscribeTimeout = 5 * time.Second
)

// ClientFactory builds a go-redis client on the store's server. Every call
// must build a new client with the same server, credentials, database and
// settings, and install onConnect (nil for none) as its OnConnect. A
// poolSize > 0 asks for a dedicated client (a listener, a tracked
// connection): that pool size, no idle connections opened in advance, no
// retries (MaxRetries -1), since its connection is never redialled, and no
// separate pipeline pool (PipelinePoolSize -1), so that pipelines run on
// that connection.
// Clients that track or subscribe must speak RESP2. For Sentinel the
// factory builds failover clients.
type ClientFactory func(onConnect func(ctx context.Context, cn *redis.Conn) error, poolSize int) *redis.Client

type trackingOptions struct {
	healthInterval time.Duration
	pingTimeout    time.Duration
	poolSize       int
}

func defaultTrackingOptions() trackingOptions {
	return trackingOptions{
		healthInterval: DefaultHealthInterval,
		pingTimeout:    DefaultPingTimeout,
		poolSize:       DefaultTrackingPoolSize,
	}
}

// WithHealthCheck sets how long a listener stays quiet before it sends a
// PING, and how long it then waits for a reply before the connection is
// declared lost (NewTracked only). Defaults DefaultHealthInterval and
// DefaultPingTimeout; values <= 0 keep the default.
func WithHealthCheck(interval, timeout time.Duration) Option {
	return optionFunc(func(o *options) {
		if interval > 0 {
			o.tracking.healthInterval = interval
		}
		if timeout > 0 {
			o.tracking.pingTimeout = timeout
		}
	})
}

// WithTrackingPool sets the number of tracked connections, as
// connection.Options' TrackingPoolSize (NewTracked only). A size <= 0 keeps
// DefaultTrackingPoolSize. Tracked connections live until they fail: the
// host's ConnMaxLifetime and ConnMaxIdleTime apply to its own pool only,
// since closing a tracked connection costs every value fetched on it.
func WithTrackingPool(size int) Option {
	return optionFunc(func(o *options) {
		if size > 0 {
			o.tracking.poolSize = size
		}
	})
}

// NewTracked returns a Store whose reads can be tracked (ports.Tracker) and
// which carries broadcasts (ports.Broadcast). newClient builds the client
// its commands go through now; the listener, the tracked connections and
// the broadcast subscriptions are built with it when needed. Besides
// WithLogger and WithEndpoint it takes WithHealthCheck and
// WithTrackingPool. It panics if newClient is nil or returns nil.
func NewTracked(newClient ClientFactory, opts ...Option) *Store {
	if newClient == nil {
		panic("redisstore: nil client factory")
	}
	c := newClient(nil, 0)
	if c == nil {
		panic("redisstore: client factory returned nil")
	}
	o := buildOptions(opts)
	s := newStore(c, o)
	s.factory = newClient
	s.tr = newTracker(s, newClient, o.endpoint)
	return s
}

// Track registers sink (see ports.Tracker) and returns once a tracking
// session is live, or with the error of the first attempt made after the
// call, or ctx's error. The sink stays registered either way until untrack;
// the session is kept open, and re-opened after a loss, as long as a sink is
// registered. Errors match domain.ErrUnavailable while the server cannot be
// reached, domain.ErrNotSupported when it has no CLIENT TRACKING (Redis < 6)
// or the store cannot track (built by New), domain.ErrInvalidArgument when
// the clients do not speak RESP2, and domain.ErrClosed after Close.
func (s *Store) Track(ctx context.Context, sink ports.InvalidationSink) (untrack func(), err error) {
	const op = "track"
	if sink == nil {
		return nil, fmt.Errorf("rediscache: %s: %w: nil sink", op, domain.ErrInvalidArgument)
	}
	if s.tr == nil && s.ct == nil {
		return nil, fmt.Errorf("rediscache: %s: %w: this store cannot track reads (build it with NewTracked)", op, domain.ErrNotSupported)
	}
	if err := checkProtocol(s.client(), "data"); err != nil {
		return nil, err
	}
	if err := s.begin(ctx, op, ""); err != nil {
		return nil, err
	}
	remove, _ := s.sinks.Add(sink)
	if s.ct != nil {
		start := s.ct.start()
		untrack = func() {
			if remove() == 0 {
				s.ct.stopIfIdle()
			}
		}
		return untrack, s.ct.waitLive(ctx, start)
	}
	start := s.tr.start()
	untrack = func() {
		if remove() == 0 {
			s.tr.stopIfIdle()
		}
	}
	return untrack, s.tr.waitLive(ctx, start)
}

// Fetch reads key with tracking (see ports.Tracker): CLIENT CACHING YES,
// MULTI, PTTL, GET, EXEC in one round trip on a tracked connection. It
// fails with domain.ErrUnavailable while no session is live, and with
// domain.ErrNotSupported on a store built by New.
func (s *Store) Fetch(ctx context.Context, key string) (domain.Fetched, error) {
	const op = "fetch"
	if err := s.beginKey(ctx, op, key); err != nil {
		return domain.Fetched{}, err
	}
	if s.ct != nil {
		f, err := s.ct.fetch(ctx, key)
		if err != nil {
			return domain.Fetched{}, s.fail(ctx, op, key, err)
		}
		return f, nil
	}
	if s.tr == nil {
		return domain.Fetched{}, fmt.Errorf("rediscache: %s: %w: this store cannot track reads", op, domain.ErrNotSupported)
	}
	sess := s.tr.sess.Load()
	if sess == nil {
		return domain.Fetched{}, fmt.Errorf("rediscache: %s %q: %w: client tracking is not live", op, key, domain.ErrUnavailable)
	}
	f, err := sess.fetch(ctx, key)
	if err != nil {
		return domain.Fetched{}, s.fail(ctx, op, key, err)
	}
	return f, nil
}

// Tracking reports whether a tracking session is live (on a cluster: the
// layout is known and every master's session is live).
func (s *Store) Tracking() bool {
	if s.ct != nil {
		return s.ct.live()
	}
	return s.tr != nil && s.tr.sess.Load() != nil
}

// TrackingSessions returns the number of live tracking sessions (see
// ports.TrackingSessions): on one server 1 while its session is live, on a
// cluster the masters whose session is live.
func (s *Store) TrackingSessions() int {
	switch {
	case s.ct != nil:
		return s.ct.liveSessions()
	case s.tr != nil && s.tr.sess.Load() != nil:
		return 1
	}
	return 0
}

// TrackingID returns the CLIENT ID of the live session's invalidation
// connection, the REDIRECT target of the tracked connections, or 0 when no
// session is live. It is meant for tests and diagnostics.
func (s *Store) TrackingID() int64 {
	if s.tr == nil {
		return 0
	}
	if sess := s.tr.sess.Load(); sess != nil {
		return sess.id
	}
	return 0
}

// Backlog returns, when the listener or a tracked connection in use has
// bytes waiting on its socket that its goroutine has not read yet, a channel
// closed once some I/O of the tracking has been processed; nil otherwise
// (see ports.Backlog).
func (s *Store) Backlog() <-chan struct{} {
	if s.tr == nil && s.ct == nil {
		return nil
	}
	// Loaded before looking: progress made meanwhile closes it.
	ch := s.prog.current()
	if s.tr != nil && s.tr.backlogged() || s.ct != nil && s.ct.backlogged() {
		return ch
	}
	return nil
}

// Failover tells s that its server was replaced by another (a Sentinel
// promoted a replica): the tracking session ends now, every value
// fetched under it is dropped (domain.ReasonFailover) before Failover
// returns, and a new session opens at once; the host's commands go through
// a new client built by the factory, and the old one is closed after
// retireGrace, so that calls in flight on it can finish. It does nothing on
// stores built by New (they have no factory) or NewCluster (which learn of
// failovers themselves).
// It is a function, not a method, so that the adapters' generated
// forwarders leave it out: only the Sentinel adapter calls it.
func Failover(s *Store) {
	if s.factory == nil || s.ct != nil || s.closed.Load() {
		return
	}
	if s.tr != nil {
		s.tr.endSession("failover", errFailover, domain.ReasonFailover)
	}
	s.renewClient()
}

// errFailover ends a session whose server was replaced.
var errFailover = errors.New("rediscache: the server was replaced (failover)")

// progress is closed, and replaced, whenever the tracking processed some
// I/O: a message of a listener, a fetch's reply.
type progress struct{ ch atomic.Pointer[chan struct{}] }

func newProgress() *progress {
	p := &progress{}
	p.signal()
	return p
}

// signal wakes whoever waits on the current channel.
func (p *progress) signal() {
	ch := make(chan struct{})
	if old := p.ch.Swap(&ch); old != nil {
		close(*old)
	}
}

// current returns the channel the next signal closes.
func (p *progress) current() <-chan struct{} { return *p.ch.Load() }

// tracker keeps a session open on one server while it runs: for a
// standalone or Sentinel store while sinks are registered, for a cluster
// store one per master, while the cluster tracking runs.
type tracker struct {
	s        *Store
	factory  ClientFactory // builds the clients of the tracker's server
	endpoint string        // the server, for logs
	opts     trackingOptions
	prog     *progress // the store's
	// onAttempt, when set before start, is called after every attempt
	// to open a session.
	onAttempt func()

	sess atomic.Pointer[session] // the live session, if any

	mu       sync.Mutex
	closed   bool
	cancel   context.CancelFunc // of the running loop; nil when stopped
	done     chan struct{}      // closed when that loop returned
	changed  chan struct{}      // closed and replaced after every attempt
	attempts uint64
	lastErr  error
	wg       sync.WaitGroup // loops
}

func newTracker(s *Store, factory ClientFactory, endpoint string) *tracker {
	return &tracker{s: s, factory: factory, endpoint: endpoint, opts: s.tracking, prog: s.prog,
		changed: make(chan struct{})}
}

// progressed wakes whoever waits on the progress channel (Backlog).
func (tr *tracker) progressed() { tr.prog.signal() }

// backlogged reports whether the live session has I/O waiting.
func (tr *tracker) backlogged() bool {
	sess := tr.sess.Load()
	return sess != nil && sess.backlogged()
}

// endSession ends the live session, if any, at once: its lease is revoked
// and the sinks told (dropReason) before it returns; the loop then opens a
// new session without waiting.
func (tr *tracker) endSession(why string, cause error, dropReason string) {
	sess := tr.sess.Load()
	if sess == nil {
		return
	}
	tr.sess.CompareAndSwap(sess, nil)
	sess.revoke(dropReason)
	sess.l.stop(why, cause)
}

// start makes sure the loop runs and returns the number of attempts made
// so far, for waitLive.
func (tr *tracker) start() uint64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.cancel == nil && !tr.closed {
		ctx, cancel := context.WithCancel(context.Background())
		tr.cancel, tr.done = cancel, make(chan struct{})
		tr.wg.Add(1)
		go tr.run(ctx, tr.done)
	}
	return tr.attempts
}

// stopIfIdle stops the loop when no sink is left, and waits for it.
func (tr *tracker) stopIfIdle() {
	if !tr.s.sinks.Active() {
		tr.stop()
	}
}

// stop stops the loop, if it runs, and waits for it.
func (tr *tracker) stop() {
	tr.mu.Lock()
	if tr.cancel == nil {
		tr.mu.Unlock()
		return
	}
	cancel, done := tr.cancel, tr.done
	tr.cancel, tr.done = nil, nil
	tr.mu.Unlock()
	cancel()
	<-done
}

// close stops the loop for good and waits for it.
func (tr *tracker) close() {
	tr.mu.Lock()
	tr.closed = true
	cancel := tr.cancel
	tr.cancel, tr.done = nil, nil
	tr.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	tr.wg.Wait()
}

// waitLive waits until a session is live, or an attempt after the first
// `after` ones failed, or ctx ends.
func (tr *tracker) waitLive(ctx context.Context, after uint64) error {
	for {
		tr.mu.Lock()
		if tr.sess.Load() != nil {
			tr.mu.Unlock()
			return nil
		}
		if tr.closed {
			tr.mu.Unlock()
			return wrap("track", "", domain.ErrClosed)
		}
		if tr.attempts > after && tr.lastErr != nil {
			err := tr.lastErr
			tr.mu.Unlock()
			return err
		}
		ch := tr.changed
		tr.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return wrap("track", "", ctx.Err())
		}
	}
}

// attempted records the outcome of an attempt to open a session.
func (tr *tracker) attempted(sess *session, err error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.attempts++
	tr.lastErr = err
	if sess != nil {
		tr.sess.Store(sess)
	}
	close(tr.changed)
	tr.changed = make(chan struct{})
	if tr.onAttempt != nil {
		defer tr.onAttempt()
	}
}

// failed returns the error of the last attempt when no session is live.
func (tr *tracker) failed() error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.sess.Load() != nil {
		return nil
	}
	return tr.lastErr
}

// run opens sessions until ctx ends, and serves each until it ends.
func (tr *tracker) run(ctx context.Context, done chan struct{}) {
	defer tr.wg.Done()
	defer close(done)
	log := tr.s.logger.With(zap.String("endpoint", tr.endpoint))
	wait := minRetry
	for ctx.Err() == nil {
		sess, err := tr.open(ctx)
		if err != nil && ctx.Err() != nil {
			return // stopped while opening
		}
		if err != nil {
			err = tr.s.fail(ctx, "client tracking", "", err)
		}
		tr.attempted(sess, err)
		if err != nil {
			log.Warn("client tracking unavailable; retrying",
				zap.Duration("retry_in", wait), zap.Error(err))
			if !sleep(ctx, wait) {
				return
			}
			wait = min(2*wait, maxRetry)
			continue
		}
		log.Info("client tracking session started", zap.Int64("client_id", sess.id))
		born := time.Now()
		reason, cause := sess.serve(ctx)
		tr.sess.CompareAndSwap(sess, nil)
		dropReason := domain.ReasonConnLost
		switch {
		case cause == nil:
			dropReason = domain.ReasonStop
		case errors.Is(cause, errFailover):
			dropReason = domain.ReasonFailover
		}
		sess.end(dropReason)
		if cause == nil {
			log.Debug("client tracking session ended", zap.Int64("client_id", sess.id), zap.String("reason", reason))
			continue // ctx ended: the loop condition returns
		}
		log.Warn("client tracking session lost; the values it covered were dropped",
			zap.Int64("client_id", sess.id), zap.String("reason", reason), zap.Error(cause))
		if dropReason == domain.ReasonFailover || time.Since(born) >= matureSession {
			wait = minRetry
			continue // a long-lived session: reconnect at once
		}
		if !sleep(ctx, wait) {
			return
		}
		wait = min(2*wait, maxRetry)
	}
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// open opens the listener, then one tracked connection, so that a server
// that rejects CLIENT TRACKING fails the attempt.
func (tr *tracker) open(ctx context.Context) (*session, error) {
	l, err := openListener(ctx, tr.factory, true, tr.opts, InvalidateChannel)
	if err != nil {
		return nil, err
	}
	sess := &session{tr: tr, l: l, id: l.id, lease: domain.NewLease(nil)}
	sess.pool = newConnPool(sess, tr.opts.poolSize)
	tc, err := sess.pool.get(ctx)
	if err != nil {
		sess.end(domain.ReasonStop)
		return nil, err
	}
	sess.pool.put(tc)
	return sess, nil
}

// session is one listener and the tracked connections redirecting to it.
type session struct {
	tr    *tracker
	l     *listener
	id    int64         // CLIENT ID of the listener's connection
	lease *domain.Lease // parent of every tracked connection's lease
	pool  *connPool
}

// serve hands the listener's messages to the sinks until the session ends
// (ctx, or a failure), and returns why.
func (sess *session) serve(ctx context.Context) (string, error) {
	stop := context.AfterFunc(ctx, func() { sess.l.stop("stopped", nil) })
	defer stop()
	sinks := &sess.tr.s.sinks
	defer sess.tr.progressed()
	sess.l.received = sess.tr.progressed
	return sess.l.loop(func(m *redis.Message) {
		sess.pool.check()
		keys := m.PayloadSlice
		if keys == nil && m.Payload != "" {
			keys = []string{m.Payload}
		}
		if len(keys) > 0 {
			sinks.Invalidate(keys)
		}
	}, func() {
		sess.pool.check()
		sinks.Drop(sess.lease, domain.ReasonFlushAll)
	}, sess.pool.check)
}

// backlogged reports whether the listener, or a tracked connection whose
// fetch is in flight, has bytes on its socket that were not read yet.
func (sess *session) backlogged() bool {
	if c := sess.l.conn(); c != nil {
		if _, pending := peek(c); pending {
			return true
		}
	}
	return sess.pool.backlogged()
}

// end revokes the session's lease, tells the sinks (unless that was done),
// and closes its connections.
func (sess *session) end(reason string) {
	sess.revoke(reason)
	sess.pool.close()
	sess.l.close()
}

// revoke revokes the session's lease and tells the sinks, once.
func (sess *session) revoke(reason string) {
	if sess.lease.Revoke() {
		sess.tr.s.sinks.Drop(sess.lease, reason)
	}
}

// track is the OnConnect of the tracked connections.
func (sess *session) track(ctx context.Context, cn *redis.Conn) error {
	err := cn.Do(ctx, "CLIENT", "TRACKING", "ON", "REDIRECT", sess.id, "OPTIN").Err()
	switch {
	case err == nil:
		return nil
	case isRedirectGone(err):
		sess.l.stop("the invalidation connection is gone", err)
		return fmt.Errorf("rediscache: client tracking: %w: invalidation connection %d is gone: %w",
			domain.ErrUnavailable, sess.id, err)
	}
	return translate("client tracking", "", err)
}

// fetch runs a tracked read on one of the session's connections.
func (sess *session) fetch(ctx context.Context, key string) (domain.Fetched, error) {
	tc, err := sess.pool.get(ctx)
	if err != nil {
		return domain.Fetched{}, err
	}
	f, err := tc.fetch(ctx, key)
	sess.tr.progressed()
	if err != nil && !isReply(err) {
		// The connection may hold a reply nobody will read, or be gone.
		sess.pool.fail(tc, domain.ReasonConnLost)
	} else if closed, _ := tc.peek(); closed {
		// The server closed it after replying: what it tracked is gone,
		// and f's lease with it.
		sess.pool.fail(tc, domain.ReasonConnLost)
	}
	sess.pool.put(tc)
	return f, err
}

// trackedConn is one tracked connection: a client with a pool of one
// connection that is never redialled.
type trackedConn struct {
	client *redis.Client
	dial   *dialOnce
	lease  *domain.Lease
	busy   atomic.Bool // checked out
	dead   atomic.Bool // failed: its lease is revoked
}

// peek looks at the connection's socket (see peek in tracking_peek_*.go).
func (tc *trackedConn) peek() (closed, pending bool) {
	p := tc.dial.conn.Load()
	if p == nil {
		return false, false
	}
	return peek(*p)
}

// fetch runs the tracked read of key.
func (tc *trackedConn) fetch(ctx context.Context, key string) (domain.Fetched, error) {
	var exec *redis.Cmd
	_, err := tc.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "CLIENT", "CACHING", "YES")
		p.Do(ctx, "MULTI")
		p.Do(ctx, "PTTL", key)
		p.Do(ctx, "GET", key)
		exec = p.Do(ctx, "EXEC")
		return nil
	})
	if err != nil {
		return domain.Fetched{}, err
	}
	res, ok := exec.Val().([]any)
	if !ok || len(res) != 2 {
		return domain.Fetched{}, fmt.Errorf("rediscache: fetch %q: %w: unexpected EXEC reply %T", key, domain.ErrUnavailable, exec.Val())
	}
	f := domain.Fetched{Lease: tc.lease}
	switch v := res[1].(type) {
	case nil:
		return f, nil
	case string:
		f.Value, f.Found = []byte(v), true
	case error:
		return domain.Fetched{}, v
	default:
		return domain.Fetched{}, fmt.Errorf("rediscache: fetch %q: %w: unexpected GET reply %T", key, domain.ErrUnavailable, v)
	}
	if pttl, ok := res[0].(int64); ok && pttl > 0 {
		f.TTL = time.Duration(pttl) * time.Millisecond
	}
	return f, nil
}

// connPool hands out a session's tracked connections. tokens holds one
// token per connection that may exist: an idle connection, or nil, the
// permission to open one.
type connPool struct {
	sess   *session
	tokens chan *trackedConn
	ended  chan struct{} // closed by close

	mu     sync.Mutex
	closed bool
	all    map[*trackedConn]struct{} // open connections, idle or busy
}

func newConnPool(sess *session, size int) *connPool {
	p := &connPool{
		sess:   sess,
		tokens: make(chan *trackedConn, size),
		ended:  make(chan struct{}),
		all:    make(map[*trackedConn]struct{}),
	}
	for range size {
		p.tokens <- nil
	}
	return p
}

// get checks out a live connection, opening one when it may.
func (p *connPool) get(ctx context.Context) (*trackedConn, error) {
	for {
		var tc *trackedConn
		select {
		case tc = <-p.tokens:
		case <-p.ended:
			return nil, fmt.Errorf("rediscache: client tracking: %w: session ended", domain.ErrUnavailable)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if tc == nil {
			tc, err := p.open(ctx)
			if err != nil {
				p.tokens <- nil
				return nil, err
			}
			return tc, nil
		}
		if closed, pending := tc.peek(); closed || pending {
			// An idle connection has nothing to say: data is a
			// server's goodbye (or garbage), end of file its close.
			p.fail(tc, domain.ReasonConnLost)
		}
		if tc.dead.Load() {
			p.release(tc)
			p.tokens <- nil
			continue
		}
		tc.busy.Store(true)
		return tc, nil
	}
}

// open opens a tracked connection (its OnConnect turns tracking on).
func (p *connPool) open(ctx context.Context) (*trackedConn, error) {
	d := &dialOnce{}
	client := p.sess.tr.factory(p.sess.track, 1)
	client.AddHook(d)
	p.sess.tr.s.tel.instrument(client)
	tc := &trackedConn{client: client, dial: d, lease: domain.NewLease(p.sess.lease)}
	d.onClose = func() { p.fail(tc, domain.ReasonConnLost) }
	tc.busy.Store(true)
	if err := client.Ping(ctx).Err(); err != nil {
		tc.dead.Store(true) // nothing fetched on it: no Drop at its close
		_ = client.Close()
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		tc.dead.Store(true)
		_ = client.Close()
		return nil, fmt.Errorf("rediscache: client tracking: %w: session ended", domain.ErrUnavailable)
	}
	p.all[tc] = struct{}{}
	return tc, nil
}

// put returns a checked-out connection (dead or alive).
func (p *connPool) put(tc *trackedConn) {
	tc.busy.Store(false)
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed || tc.dead.Load() {
		p.release(tc)
		p.tokens <- nil
		return
	}
	p.tokens <- tc
}

// fail revokes tc's lease and tells the sinks to drop what it covered,
// once. The connection is released by whoever holds its token.
func (p *connPool) fail(tc *trackedConn, reason string) {
	if tc.dead.CompareAndSwap(false, true) {
		tc.lease.Revoke()
		p.sess.tr.s.sinks.Drop(tc.lease, reason)
	}
}

// release closes tc's client and forgets it. Its values are covered by a
// Drop already (its own, or its session's): it is marked dead first, so
// that its close does not Drop them again.
func (p *connPool) release(tc *trackedConn) {
	tc.dead.Store(true)
	p.mu.Lock()
	delete(p.all, tc)
	p.mu.Unlock()
	_ = tc.client.Close()
}

// check fails every connection the server closed, and every idle one with
// unexpected data. It never blocks.
func (p *connPool) check() {
	p.mu.Lock()
	conns := make([]*trackedConn, 0, len(p.all))
	for tc := range p.all {
		if !tc.dead.Load() {
			conns = append(conns, tc)
		}
	}
	p.mu.Unlock()
	for _, tc := range conns {
		if closed, pending := tc.peek(); closed || pending && !tc.busy.Load() {
			p.fail(tc, domain.ReasonConnLost)
		}
	}
}

// backlogged reports whether a connection in use has a reply waiting on its
// socket that its fetch has not read yet. It never blocks.
func (p *connPool) backlogged() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for tc := range p.all {
		if tc.busy.Load() && !tc.dead.Load() {
			if _, pending := tc.peek(); pending {
				return true
			}
		}
	}
	return false
}

// close ends the pool: idle connections are closed now, busy ones when
// they are put back. The session's Drop covers their values.
func (p *connPool) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.ended)
	p.mu.Unlock()
	for {
		select {
		case tc := <-p.tokens:
			if tc != nil {
				tc.dead.Store(true)
				p.release(tc)
			}
		default:
			return
		}
	}
}

// isRedirectGone recognises Redis' reply to CLIENT TRACKING ... REDIRECT
// with an ID that no longer exists: "ERR The client ID you want redirect to
// does not exist".
func isRedirectGone(err error) bool {
	if !isReply(err) {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "client ID") && strings.Contains(msg, "does not exist")
}

// checkProtocol fails unless c speaks RESP2, which REDIRECT to a Pub/Sub
// connection needs. Clients that do not expose their options are trusted.
func checkProtocol(c redis.UniversalClient, role string) error {
	o, ok := c.(interface{ Options() *redis.Options })
	if !ok {
		return nil
	}
	if p := o.Options().Protocol; p != 2 {
		return fmt.Errorf("rediscache: client tracking: %w: the %s client speaks RESP%d; tracking with REDIRECT needs Protocol 2",
			domain.ErrInvalidArgument, role, p)
	}
	return nil
}
