package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/domain"
)

// Publish sends payload on channel (PUBLISH, through the data client) and
// returns once Redis took it.
func (t *Tracked) Publish(ctx context.Context, channel string, payload []byte) error {
	const op = "publish"
	if channel == "" {
		return fmt.Errorf("rediscache: %s: %w: empty channel", op, domain.ErrInvalidArgument)
	}
	if err := t.open(ctx, op); err != nil {
		return err
	}
	if payload == nil {
		payload = []byte{}
	}
	return t.fail(ctx, op, channel, t.client().Publish(ctx, channel, payload).Err())
}

// Subscribe subscribes to channel on a connection of its own (built with the
// listener factory) and returns once the subscription is confirmed; every
// message published on channel afterwards, this process's included, is
// delivered. The channel is buffered (DefaultBroadcastBuffer); a consumer
// slower than that holds up this subscription only. It is closed when ctx
// is done, when the store is closed, and when the connection is lost (a
// receive error or an unanswered health PING): messages may then have been
// missed and the subscriber subscribes again. The connection is never
// re-established behind the caller's back.
func (t *Tracked) Subscribe(ctx context.Context, channel string) (<-chan []byte, error) {
	const op = "subscribe"
	if channel == "" {
		return nil, fmt.Errorf("rediscache: %s: %w: empty channel", op, domain.ErrInvalidArgument)
	}
	if err := t.open(ctx, op); err != nil {
		return nil, err
	}
	l, err := openListener(ctx, t.newListener, false, t.opts, channel)
	if err != nil {
		return nil, t.fail(ctx, op, channel, err)
	}
	sub := &subscription{t: t, l: l, out: make(chan []byte, DefaultBroadcastBuffer)}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		l.close()
		return nil, wrap(op, channel, domain.ErrClosed)
	}
	t.subs[sub] = struct{}{}
	t.wg.Add(1)
	t.mu.Unlock()
	sub.stopCtx = context.AfterFunc(ctx, func() { l.stop("context done", nil) })
	go sub.run()
	return sub.out, nil
}

// subscription is one Subscribe call: its listener and its channel.
type subscription struct {
	t       *Tracked
	l       *listener
	out     chan []byte
	stopCtx func() bool
}

func (sub *subscription) run() {
	defer sub.t.wg.Done()
	reason, cause := sub.l.loop(func(m *redis.Message) {
		select {
		case sub.out <- []byte(m.Payload):
		case <-sub.l.stopped:
		}
	}, nil, nil)
	sub.stopCtx()
	sub.l.close()
	sub.t.mu.Lock()
	delete(sub.t.subs, sub)
	sub.t.mu.Unlock()
	close(sub.out)
	if cause != nil {
		sub.t.logger.Warn("broadcast subscription lost; messages may have been missed",
			zap.String("channel", sub.l.channel), zap.String("endpoint", sub.t.endpoint),
			zap.String("reason", reason), zap.Error(cause))
	}
}
