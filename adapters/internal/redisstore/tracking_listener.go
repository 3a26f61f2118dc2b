package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/domain"
)

// nullPayloadError is the text of the error go-redis (v9.23 pubsub.go,
// newMessage: "redis: unsupported pubsub message payload: %T" of a nil
// payload) returns for the null payload Redis sends to the invalidation
// connection on FLUSHALL and FLUSHDB. The reply was fully read, so the
// connection is still usable.
const nullPayloadError = "redis: unsupported pubsub message payload: <nil>"

// errRedial refuses a second connection of a listener: go-redis would
// reconnect a failed PubSub silently, and the new connection would have a
// new CLIENT ID that no data connection redirects to.
var errRedial = fmt.Errorf("rediscache: %w: tracking and listener connections are never redialled (a new connection has a new CLIENT ID)", domain.ErrUnavailable)

// listener is one Pub/Sub connection subscribed to one channel, received by
// one goroutine (loop), which never reconnects: a failure ends it.
type listener struct {
	client  *redis.Client
	dial    *dialOnce // the client's one connection
	ps      *redis.PubSub
	channel string
	id      int64 // CLIENT ID of the connection, when asked for
	opts    trackingOptions

	conns atomic.Int32 // connections initialised by the client

	// received, when set before loop, is called after each reply has
	// been handled (a message, a pong, a flush, an error).
	received func()

	stopOnce sync.Once
	stopped  chan struct{}
	mu       sync.Mutex
	reason   string
	cause    error // nil: stopped on purpose
}

// openListener builds a client with factory, opens its single connection,
// reads the connection's CLIENT ID there when wantID is set, subscribes it
// to channel and waits for the confirmation. The client's only connection
// is the PubSub's: go-redis dials it through the client's init path
// (Client.pubSub → initConn → OnConnect), so the ID read in OnConnect is the
// subscribed connection's, and any further connection is refused.
func openListener(ctx context.Context, factory ClientFactory, wantID bool, opts trackingOptions, channel string) (*listener, error) {
	l := &listener{channel: channel, opts: opts, stopped: make(chan struct{})}
	var id atomic.Int64
	l.client = factory(func(ctx context.Context, cn *redis.Conn) error {
		if l.conns.Add(1) > 1 {
			return errRedial
		}
		if !wantID {
			return nil
		}
		v, err := cn.ClientID(ctx).Result()
		if err != nil {
			return err
		}
		id.Store(v)
		return nil
	}, 1)
	if l.client == nil {
		return nil, errors.New("rediscache: client factory returned nil")
	}
	if err := checkProtocol(l.client, "listener"); err != nil {
		l.close()
		return nil, err
	}
	l.dial = &dialOnce{}
	l.client.AddHook(l.dial)

	l.ps = l.client.Subscribe(ctx) // no channel: Subscribe below reports errors
	if err := l.ps.Subscribe(ctx, channel); err != nil {
		l.close()
		return nil, err
	}
	msg, err := l.ps.ReceiveTimeout(ctx, subscribeTimeout)
	if err != nil {
		l.close()
		return nil, err
	}
	if sub, ok := msg.(*redis.Subscription); !ok || sub.Kind != "subscribe" || sub.Channel != channel {
		l.close()
		return nil, fmt.Errorf("rediscache: subscribe %q: unexpected reply %v", channel, msg)
	}
	if n := l.conns.Load(); n != 1 {
		l.close()
		return nil, fmt.Errorf("rediscache: subscribe %q: %d connections initialised, want exactly the PubSub's", channel, n)
	}
	if wantID {
		if l.id = id.Load(); l.id == 0 {
			l.close()
			return nil, fmt.Errorf("rediscache: subscribe %q: CLIENT ID of the connection not read", channel)
		}
	}
	return l, nil
}

// conn returns the listener's connection, once dialled.
func (l *listener) conn() net.Conn {
	if l.dial == nil {
		return nil
	}
	if p := l.dial.conn.Load(); p != nil {
		return *p
	}
	return nil
}

// stop ends the loop: the first call records why and closes the PubSub,
// which wakes a blocked receive. A nil cause means on purpose.
func (l *listener) stop(reason string, cause error) {
	l.stopOnce.Do(func() {
		l.mu.Lock()
		l.reason, l.cause = reason, cause
		l.mu.Unlock()
		close(l.stopped)
		if l.ps != nil {
			_ = l.ps.Close()
		}
	})
}

// why returns what the first stop recorded, and whether stop was called.
func (l *listener) why() (string, error, bool) {
	select {
	case <-l.stopped:
	default:
		return "", nil, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reason, l.cause, true
}

// fail stops the listener as lost and returns what stopped it (an earlier
// stop wins).
func (l *listener) fail(reason string, cause error) (string, error) {
	l.stop(reason, cause)
	r, c, _ := l.why()
	return r, c
}

// close stops the listener and closes its client.
func (l *listener) close() {
	l.stop("closed", nil)
	_ = l.client.Close()
}

// loop receives until the listener is stopped or fails, and returns why it
// ended (cause is nil when it was stopped on purpose). It calls onMessage
// for every message on the channel, onNull for the null payload of a flush
// (with onNull nil, a null payload is a failure), and onTick (when not nil)
// about once per health interval, busy or quiet. When nothing arrived for
// the health interval it sends a PING, and fails if nothing (pong or
// message) arrives within the ping timeout. A second subscription
// confirmation means go-redis re-subscribed on a new connection: a failure.
func (l *listener) loop(onMessage func(*redis.Message), onNull, onTick func()) (string, error) {
	ctx := context.Background() // stop, not a context, ends the reads
	pinged := false
	progress := false
	lastTick := time.Now()
	for {
		if progress {
			l.received()
			progress = false
		}
		if onTick != nil && time.Since(lastTick) >= l.opts.healthInterval {
			onTick()
			lastTick = time.Now()
		}
		timeout := l.opts.healthInterval
		if pinged {
			timeout = l.opts.pingTimeout
		}
		msg, err := l.ps.ReceiveTimeout(ctx, timeout)
		if l.received != nil && (err == nil || !isTimeout(err)) {
			// Signalled once this reply is handled: at the top of the
			// next turn (or when the loop returns: serve's defer).
			progress = true
		}
		if reason, cause, stopped := l.why(); stopped {
			return reason, cause
		}
		switch {
		case err == nil:
		case isTimeout(err):
			if pinged {
				return l.fail("health check failed", fmt.Errorf("no reply to PING within %v", timeout))
			}
			if err := l.ps.Ping(ctx); err != nil {
				return l.fail("health check failed", err)
			}
			pinged = true
			continue
		case onNull != nil && err.Error() == nullPayloadError:
			pinged = false
			onNull()
			continue
		default:
			return l.fail("receive failed", err)
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Message:
			if m.Channel == l.channel {
				onMessage(m)
			}
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == l.channel {
				return l.fail("re-subscribed", errors.New("go-redis re-subscribed on a new connection"))
			}
		}
	}
}

// isTimeout reports whether err is a read deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dialOnce is a go-redis hook that lets a client dial one connection
// successfully, keeps it (conn), and refuses every later dial with
// errRedial. When onClose is set (before the dial), the connection handed
// to go-redis calls it when go-redis closes it: a tracked connection that
// go-redis drops on its side (a Sentinel client's switch to a new master
// closes the old master's connections) is then noticed at once rather
// than at the next check.
type dialOnce struct {
	dialed  atomic.Bool
	conn    atomic.Pointer[net.Conn]
	onClose func()
}

func (h *dialOnce) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h.dialed.Load() {
			return nil, errRedial
		}
		cn, err := next(ctx, network, addr)
		if err != nil {
			return nil, err // a failed dial may be retried
		}
		if h.dialed.Swap(true) {
			_ = cn.Close()
			return nil, errRedial
		}
		h.conn.Store(&cn)
		if h.onClose != nil {
			return &notifyConn{Conn: cn, onClose: h.onClose}, nil
		}
		return cn, nil
	}
}

// notifyConn calls onClose, once, when closed.
type notifyConn struct {
	net.Conn
	once    sync.Once
	onClose func()
}

func (c *notifyConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.onClose)
	return err
}

// NetConn returns the connection it wraps (for peek).
func (c *notifyConn) NetConn() net.Conn { return c.Conn }

func (*dialOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (*dialOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
