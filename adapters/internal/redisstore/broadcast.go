package redisstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

var _ ports.Broadcast = (*Broadcaster)(nil)

// ListenerFor returns the factory of the one-connection client on which a
// Broadcaster subscribes to channel: on a cluster, a client of the node the
// subscription should live on, chosen when Subscribe is called.
type ListenerFor func(ctx context.Context, channel string) (ClientFactory, error)

// Broadcaster implements ports.Broadcast with Redis PUBLISH and SUBSCRIBE:
// Publish goes through a Store's client, each Subscribe has a
// one-connection client of its own. On a Redis Cluster, a message PUBLISHed
// on any node reaches the subscribers of every node (classic Pub/Sub is
// propagated over the cluster bus), so a subscription may live on any node.
// It is safe for concurrent use.
type Broadcaster struct {
	store       *Store
	listenerFor ListenerFor
	opts        trackingOptions

	mu     sync.Mutex
	closed bool
	subs   map[*broadcastSub]struct{}
	wg     sync.WaitGroup // subscription goroutines
}

// NewBroadcaster returns a Broadcaster that publishes through store's client
// and subscribes on clients of listenerFor. It takes WithHealthCheck (the
// health PING of idle subscriptions). It panics if store or listenerFor is
// nil. Close it before store.
func NewBroadcaster(store *Store, listenerFor ListenerFor, opts ...Option) *Broadcaster {
	if store == nil || listenerFor == nil {
		panic("redisstore: nil store or listener factory")
	}
	return &Broadcaster{
		store:       store,
		listenerFor: listenerFor,
		opts:        buildOptions(opts).tracking,
		subs:        make(map[*broadcastSub]struct{}),
	}
}

// Publish sends payload on channel (PUBLISH, through the store's client) and
// returns once Redis took it.
func (b *Broadcaster) Publish(ctx context.Context, channel string, payload []byte) error {
	const op = "publish"
	if channel == "" {
		return fmt.Errorf("rediscache: %s: %w: empty channel", op, domain.ErrInvalidArgument)
	}
	if err := b.open(ctx, op); err != nil {
		return err
	}
	if payload == nil {
		payload = []byte{}
	}
	return b.store.fail(ctx, op, channel, b.store.client().Publish(ctx, channel, payload).Err())
}

// Subscribe subscribes to channel on a connection of its own and returns
// once the subscription is confirmed; every message published on channel
// afterwards, this process's included, is delivered. The channel is
// buffered (DefaultBroadcastBuffer); a consumer slower than that holds up
// this subscription only. It is closed when ctx is done, when the
// Broadcaster is closed, and when the connection is lost (a receive error
// or an unanswered health PING, for instance when its node fails): messages
// may then have been missed, and the subscriber subscribes again. The
// connection is never re-established behind the caller's back.
func (b *Broadcaster) Subscribe(ctx context.Context, channel string) (<-chan []byte, error) {
	const op = "subscribe"
	if channel == "" {
		return nil, fmt.Errorf("rediscache: %s: %w: empty channel", op, domain.ErrInvalidArgument)
	}
	if err := b.open(ctx, op); err != nil {
		return nil, err
	}
	factory, err := b.listenerFor(ctx, channel)
	if err != nil {
		return nil, b.store.fail(ctx, op, channel, err)
	}
	l, err := openListener(ctx, factory, false, b.opts, channel)
	if err != nil {
		return nil, b.store.fail(ctx, op, channel, err)
	}
	sub := &broadcastSub{b: b, l: l, out: make(chan []byte, DefaultBroadcastBuffer)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		l.close()
		return nil, wrap(op, channel, domain.ErrClosed)
	}
	b.subs[sub] = struct{}{}
	b.wg.Add(1)
	b.mu.Unlock()
	sub.stopCtx = context.AfterFunc(ctx, func() { l.stop("context done", nil) })
	go sub.run()
	return sub.out, nil
}

// Close ends every subscription (their channels close) and waits for their
// goroutines. It does not close the store. It is idempotent; Publish and
// Subscribe fail with domain.ErrClosed afterwards.
func (b *Broadcaster) Close() {
	b.mu.Lock()
	b.closed = true
	subs := make([]*broadcastSub, 0, len(b.subs))
	for sub := range b.subs {
		subs = append(subs, sub)
	}
	b.mu.Unlock()
	for _, sub := range subs {
		sub.l.stop("store closed", nil)
	}
	b.wg.Wait()
}

// open checks that the Broadcaster and its store are open and ctx live.
func (b *Broadcaster) open(ctx context.Context, op string) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return wrap(op, "", domain.ErrClosed)
	}
	return b.store.begin(ctx, op, "")
}

// broadcastSub is one Subscribe call: its listener and its channel.
type broadcastSub struct {
	b       *Broadcaster
	l       *listener
	out     chan []byte
	stopCtx func() bool
}

func (sub *broadcastSub) run() {
	defer sub.b.wg.Done()
	reason, cause := sub.l.loop(func(m *redis.Message) {
		select {
		case sub.out <- []byte(m.Payload):
		case <-sub.l.stopped:
		}
	}, nil, nil)
	sub.stopCtx()
	sub.l.close()
	sub.b.mu.Lock()
	delete(sub.b.subs, sub)
	sub.b.mu.Unlock()
	close(sub.out)
	if cause != nil {
		sub.b.store.logger.Warn("broadcast subscription lost; messages may have been missed",
			zap.String("channel", sub.l.channel), zap.String("endpoint", sub.b.store.endpoint),
			zap.String("reason", reason), zap.Error(cause))
	}
}
