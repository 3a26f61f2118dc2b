package redisstore

// Client tracking: the Invalidation and Broadcast ports on Redis CLIENT
// TRACKING in RESP2 two-connection mode, the way Frappe's ClientCache uses
// it: default mode (Redis remembers the keys each connection read), NOLOOP,
// invalidations REDIRECTed to a connection subscribed to
// __redis__:invalidate.
//
// A Tracked store sends its commands through one go-redis client, the
// current "data generation". Before the first session and between sessions
// it is a plain client. Each Invalidations call starts a session:
//
//  1. a listener client (one connection) reads the CLIENT ID of its
//     connection in OnConnect and SUBSCRIBEs that connection to
//     __redis__:invalidate; go-redis dials the PubSub connection through the
//     client's init path, so OnConnect sees exactly that connection, and a
//     second connection (a silent reconnect, with a new ID) is refused;
//  2. a new data generation, whose OnConnect runs CLIENT TRACKING ON
//     REDIRECT <id> NOLOOP on every connection, opens one connection (so
//     Invalidations fails now if the server rejects tracking), is swapped
//     in, and the previous generation is closed after a grace period;
//  3. a goroutine receives the listener's messages (Receive, never
//     Channel, which drops messages), sends a PING after a quiet second and
//     ends the session when the PING goes unanswered, on any receive error
//     and on a re-subscription.
//
// A session ends when its ctx is done, the store is closed, another
// Invalidations call replaces it, or it is lost. A lost session closes its
// channel: invalidations may have been missed, and the subscriber flushes
// and subscribes again. Whenever a session ends, a plain generation replaces
// its data generation, so connections are never opened with a REDIRECT to a
// dead (or, after a restart, reused) client ID.
//
// The Sentinel adapter reuses all of this: it only supplies factories that
// build failover clients.

import (
	"context"
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
	_ ports.Store        = (*Tracked)(nil)
	_ ports.Pinger       = (*Tracked)(nil)
	_ ports.Invalidation = (*Tracked)(nil)
	_ ports.Broadcast    = (*Tracked)(nil)
)

// InvalidateChannel is the Pub/Sub channel on which Redis delivers the
// invalidations of RESP2 tracking connections to their REDIRECT target.
const InvalidateChannel = "__redis__:invalidate"

// Defaults of the tracking options.
const (
	// DefaultGracePeriod is how long a replaced data generation stays
	// open for the commands still in flight on it.
	DefaultGracePeriod = 10 * time.Second
	// DefaultHealthInterval is how long a listener waits without any
	// message before it sends a PING.
	DefaultHealthInterval = time.Second
	// DefaultPingTimeout is how long a listener waits for any reply after
	// its PING before it declares the connection lost.
	DefaultPingTimeout = 2 * time.Second
	// DefaultInvalidationBuffer is the capacity of the channel returned by
	// Invalidations.
	DefaultInvalidationBuffer = 1024
	// DefaultBroadcastBuffer is the capacity of the channel returned by
	// Subscribe.
	DefaultBroadcastBuffer = 64

	// subscribeTimeout bounds the wait for the confirmation of a
	// SUBSCRIBE (and for anything else ctx does not bound).
	subscribeTimeout = 5 * time.Second
)

// ClientFactory builds a go-redis client for NewTracked. It must build a new
// client on every call, with the same server, credentials and database
// every time, speaking RESP2 (Protocol: 2), and install onConnect as the
// client's OnConnect (onConnect may be nil). NewTracked asks the listener
// factory for clients that open a single connection: give them PoolSize 1.
// For Sentinel, a factory builds redis.NewFailoverClient.
type ClientFactory func(onConnect func(ctx context.Context, cn *redis.Conn) error) redis.UniversalClient

type trackingOptions struct {
	grace          time.Duration
	healthInterval time.Duration
	pingTimeout    time.Duration
	buffer         int
}

func defaultTrackingOptions() trackingOptions {
	return trackingOptions{
		grace:          DefaultGracePeriod,
		healthInterval: DefaultHealthInterval,
		pingTimeout:    DefaultPingTimeout,
		buffer:         DefaultInvalidationBuffer,
	}
}

// WithGracePeriod sets how long a replaced data generation stays open for
// the commands in flight on it (NewTracked only). Default
// DefaultGracePeriod; values <= 0 keep the default.
func WithGracePeriod(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.tracking.grace = d
		}
	})
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

// WithInvalidationBuffer sets the capacity of the channel returned by
// Invalidations (NewTracked only). Default DefaultInvalidationBuffer;
// values <= 0 keep the default.
func WithInvalidationBuffer(n int) Option {
	return optionFunc(func(o *options) {
		if n > 0 {
			o.tracking.buffer = n
		}
	})
}

// Tracked is a Store whose reads Redis tracks for one invalidation stream
// at a time, and which carries broadcasts. It implements ports.Store and
// ports.Pinger (the embedded Store's methods, sent through the current data
// generation), ports.Invalidation and ports.Broadcast. It is safe for
// concurrent use.
type Tracked struct {
	*Store

	newData, newListener ClientFactory
	opts                 trackingOptions

	mu       sync.Mutex
	closed   bool
	sess     *session                   // the live session, if any
	subs     map[*subscription]struct{} // live broadcast subscriptions
	retiring map[*retiree]struct{}      // replaced generations in their grace period
	wg       sync.WaitGroup             // session and subscription goroutines, grace timers

	closeOnce sync.Once
	closeErr  error
}

// retiree is a replaced data generation waiting for its grace period.
type retiree struct {
	c     redis.UniversalClient
	timer *time.Timer
}

// NewTracked returns a Tracked store. newData builds the data generations
// (its first, plain client is built now; connecting is lazy), newListener
// the one-connection clients of the invalidation sessions and broadcast
// subscriptions. Besides WithLogger and WithEndpoint it takes
// WithGracePeriod, WithHealthCheck and WithInvalidationBuffer. It panics if
// a factory is nil or returns nil.
func NewTracked(newData, newListener ClientFactory, opts ...Option) *Tracked {
	if newData == nil || newListener == nil {
		panic("redisstore: nil client factory")
	}
	o := buildOptions(opts)
	plain := newData(nil)
	if plain == nil {
		panic("redisstore: client factory returned nil")
	}
	return &Tracked{
		Store:       newStore(plain, o),
		newData:     newData,
		newListener: newListener,
		opts:        o.tracking,
		subs:        make(map[*subscription]struct{}),
		retiring:    make(map[*retiree]struct{}),
	}
}

// TrackingID returns the CLIENT ID of the live session's invalidation
// connection, the REDIRECT target of the data connections, or 0 when no
// session is live. It is meant for tests and diagnostics.
func (t *Tracked) TrackingID() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sess == nil {
		return 0
	}
	return t.sess.id
}

// Invalidations starts a tracking session and returns its channel once the
// invalidation connection is subscribed and a data connection tracks with
// REDIRECT to it. It ends the previous session first (its channel closes):
// one session is live at a time. The channel receives
//
//   - domain.Invalidation{Keys: ...} for the keys Redis reports: keys read
//     through this store since they last changed, and changed by another
//     client (NOLOOP), expired or evicted;
//   - domain.Invalidation{All: true, Reason: domain.ReasonFlush} on FLUSHALL
//     or FLUSHDB (Redis' null payload);
//   - domain.Invalidation{All: true, Reason: domain.ReasonReconnect} when a
//     data connection of the session closed: Redis forgot the keys it
//     tracked;
//   - domain.Invalidation{All: true, Reason: domain.ReasonOverflow} when the
//     buffer was full: the pending events are replaced by this one.
//
// The channel is closed when ctx is done, when the store is closed, when
// another Invalidations call replaces the session, and when the session is
// lost (the connection failed, a health PING went unanswered, go-redis
// reconnected behind our back, or the REDIRECT target vanished): changes may
// then have been missed. Errors match domain.ErrUnavailable while the server
// cannot be reached, domain.ErrNotSupported when it has no CLIENT TRACKING
// (Redis < 6), domain.ErrInvalidArgument when a factory does not build RESP2
// clients, and domain.ErrClosed after Close.
func (t *Tracked) Invalidations(ctx context.Context) (<-chan domain.Invalidation, error) {
	const op = "invalidations"
	if err := t.open(ctx, op); err != nil {
		return nil, err
	}
	t.mu.Lock()
	prev := t.sess
	t.mu.Unlock()
	if prev != nil {
		prev.stop("replaced by a new subscription", nil)
		<-prev.done
	}
	s, err := t.startSession(ctx)
	if err != nil {
		return nil, err
	}
	return s.out, nil
}

// open checks that the store is open and ctx live.
func (t *Tracked) open(ctx context.Context, op string) error {
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return wrap(op, "", domain.ErrClosed)
	}
	return t.begin(ctx, op, "")
}

// startSession opens the invalidation connection, builds and checks the
// tracked data generation, swaps it in and starts the receive goroutine.
func (t *Tracked) startSession(ctx context.Context) (*session, error) {
	const op = "client tracking"
	l, err := openListener(ctx, t.newListener, true, t.opts, InvalidateChannel)
	if err != nil {
		return nil, t.fail(ctx, "subscribe", InvalidateChannel, err)
	}
	s := &session{
		t:    t,
		l:    l,
		id:   l.id,
		out:  make(chan domain.Invalidation, t.opts.buffer),
		done: make(chan struct{}),
	}
	s.data = t.newData(s.track)
	abort := func(err error) (*session, error) {
		s.ended.Store(true)
		l.close()
		_ = s.data.Close()
		return nil, err
	}
	if err := checkProtocol(s.data, "data"); err != nil {
		return abort(err)
	}
	s.conns = newConnSet(s.connLost)
	s.data.AddHook(connWatch{conns: s.conns})
	// One tracked connection now: a server that rejects CLIENT TRACKING
	// fails Invalidations, not some later command.
	if err := s.data.Ping(ctx).Err(); err != nil {
		return abort(t.fail(ctx, op, "", err))
	}

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return abort(wrap(op, "", domain.ErrClosed))
	}
	prev := t.sess // a concurrent Invalidations call
	t.sess = s
	t.swapInLocked(s.data)
	t.wg.Add(1)
	t.mu.Unlock()
	if prev != nil {
		prev.stop("replaced by a new subscription", nil)
	}
	s.stopCtx = context.AfterFunc(ctx, func() { s.stop("context done", nil) })
	go s.run()
	t.logger.Info("client tracking session started",
		zap.Int64("client_id", s.id), zap.String("endpoint", t.endpoint))
	return s, nil
}

// swapInLocked makes c the current data generation and retires the
// previous one. Called under t.mu, never after Close.
func (t *Tracked) swapInLocked(c redis.UniversalClient) {
	prev := t.swapClient(c)
	r := &retiree{c: prev}
	t.retiring[r] = struct{}{}
	t.wg.Add(1)
	r.timer = time.AfterFunc(t.opts.grace, func() {
		defer t.wg.Done()
		// Whoever removes r from the map closes its client.
		t.mu.Lock()
		_, mine := t.retiring[r]
		delete(t.retiring, r)
		t.mu.Unlock()
		if mine {
			_ = prev.Close()
		}
	})
}

// Close ends the session and the broadcast subscriptions (their channels
// close), waits for their goroutines, closes every client, and returns the
// error of closing the current one. It is idempotent: later calls return
// the same error. Calls made after Close fail with an error matching
// domain.ErrClosed.
func (t *Tracked) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		sess := t.sess
		subs := make([]*subscription, 0, len(t.subs))
		for sub := range t.subs {
			subs = append(subs, sub)
		}
		retiring := t.retiring
		t.retiring = make(map[*retiree]struct{})
		t.mu.Unlock()

		if sess != nil {
			sess.stop("store closed", nil)
		}
		for _, sub := range subs {
			sub.l.stop("store closed", nil)
		}
		for r := range retiring {
			_ = r.c.Close()
			if r.timer.Stop() {
				t.wg.Done() // its function will never run
			}
		}
		t.wg.Wait()
		t.closeErr = t.Store.Close()
	})
	return t.closeErr
}

// session is one tracking session: the listener, the data generation
// whose connections redirect to it, and the subscriber's channel.
type session struct {
	t       *Tracked
	l       *listener
	id      int64 // CLIENT ID of the invalidation connection
	data    redis.UniversalClient
	conns   *connSet // the data generation's connections
	stopCtx func() bool

	// ended is set once the session is over; the data generation's
	// connections then stop enabling tracking and closing them no longer
	// matters.
	ended atomic.Bool

	mu       sync.Mutex // guards sends on out, and its closing
	out      chan domain.Invalidation
	finished bool // out is closed

	done chan struct{} // closed when the goroutine has finished
}

// stop ends the session; a nil cause means on purpose (not lost).
func (s *session) stop(reason string, cause error) { s.l.stop(reason, cause) }

// run receives until the session ends, then cleans up.
func (s *session) run() {
	defer s.t.wg.Done()
	reason, cause := s.l.loop(func(m *redis.Message) {
		keys := m.PayloadSlice
		if keys == nil && m.Payload != "" {
			keys = []string{m.Payload}
		}
		if len(keys) > 0 {
			s.deliver(domain.Invalidation{Keys: keys})
		}
	}, func() {
		s.deliver(domain.Invalidation{All: true, Reason: domain.ReasonFlush})
	}, s.conns.sweep)
	s.finish(reason, cause)
}

// finish replaces the session's data generation with a plain one (unless
// another session or Close took over), closes the listener and the
// channel, and logs a loss.
func (s *session) finish(reason string, cause error) {
	s.ended.Store(true)
	s.stopCtx()
	s.l.close()
	t := s.t
	t.mu.Lock()
	if t.sess == s {
		t.sess = nil
	}
	if !t.closed && t.client() == s.data {
		t.swapInLocked(t.newData(nil))
	}
	t.mu.Unlock()

	s.mu.Lock()
	s.finished = true
	close(s.out)
	s.mu.Unlock()

	if cause != nil {
		t.logger.Warn("client tracking session lost; invalidations may have been missed",
			zap.Int64("client_id", s.id), zap.String("endpoint", t.endpoint),
			zap.String("reason", reason), zap.Error(cause))
	} else {
		t.logger.Debug("client tracking session ended",
			zap.Int64("client_id", s.id), zap.String("reason", reason))
	}
	close(s.done)
}

// deliver queues ev without blocking. An All event replaces the pending
// ones; when the buffer is full, the pending events are dropped and
// replaced by one overflow event (as the memory adapter does). Every send
// holds s.mu, so the room made by draining cannot be taken by another
// sender.
func (s *session) deliver(ev domain.Invalidation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return
	}
	if !ev.All {
		select {
		case s.out <- ev:
			return
		default:
		}
		ev = domain.Invalidation{All: true, Reason: domain.ReasonOverflow}
		s.t.logger.Warn("invalidation buffer full, sending All",
			zap.Int64("client_id", s.id), zap.Int("buffer", cap(s.out)))
	}
	for drained := false; !drained; {
		select {
		case <-s.out:
		default:
			drained = true
		}
	}
	select {
	case s.out <- ev:
	default:
	}
}

// connLost is called once for each connection of the session's data
// generation that closed or that the server closed: Redis forgot the keys
// it tracked, so no invalidation will come for them.
func (s *session) connLost() {
	if s.ended.Load() {
		return
	}
	s.t.logger.Debug("tracked connection closed; flushing", zap.Int64("client_id", s.id))
	s.deliver(domain.Invalidation{All: true, Reason: domain.ReasonReconnect})
}

// track is the OnConnect of the session's data generation.
func (s *session) track(ctx context.Context, cn *redis.Conn) error {
	if s.ended.Load() {
		// The generation is being retired: a connection it still opens
		// serves in-flight commands, untracked, rather than redirecting
		// to an ID that may be gone or, after a restart, someone else's.
		return nil
	}
	// A data generation is never used for Pub/Sub, so every connection
	// seen here is a command connection.
	err := cn.Do(ctx, "CLIENT", "TRACKING", "ON", "REDIRECT", s.id, "NOLOOP").Err()
	switch {
	case err == nil:
		return nil
	case isRedirectGone(err):
		s.stop("the invalidation connection is gone", err)
		return fmt.Errorf("rediscache: client tracking: %w: invalidation connection %d is gone: %w",
			domain.ErrUnavailable, s.id, err)
	}
	return translate("client tracking", "", err)
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
