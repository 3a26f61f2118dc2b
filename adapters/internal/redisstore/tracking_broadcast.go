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
func (s *Store) Publish(ctx context.Context, channel string, payload []byte) error {
	const op = "publish"
	if channel == "" {
		return fmt.Errorf("rediscache: %s: %w: empty channel", op, domain.ErrInvalidArgument)
	}
	if err := s.begin(ctx, op, channel); err != nil {
		return err
	}
	if payload == nil {
		payload = []byte{}
	}
	return s.fail(ctx, op, channel, s.client().Publish(ctx, channel, payload).Err())
}

// Subscribe subscribes to channel on a connection of its own and returns once the subscription is confirmed; every
// message published on channel afterwards, this process's included, is
// delivered. The channel is buffered (DefaultBroadcastBuffer); a consumer
// slower than that holds up this subscription only. It is closed when ctx
// is done, when the store is closed, and when the connection is lost (a
// receive error or an unanswered health PING): messages may then have been
// missed and the subscriber subscribes again. The connection is never
// re-established behind the caller's back.
func (s *Store) Subscribe(ctx context.Context, channel string) (<-chan []byte, error) {
	const op = "subscribe"
	if channel == "" {
		return nil, fmt.Errorf("rediscache: %s: %w: empty channel", op, domain.ErrInvalidArgument)
	}
	if s.factory == nil {
		return nil, fmt.Errorf("rediscache: %s: %w: this store cannot subscribe (build it with NewTracked)", op, domain.ErrNotSupported)
	}
	if err := s.begin(ctx, op, channel); err != nil {
		return nil, err
	}
	l, err := openListener(ctx, s.factory, false, s.tracking, channel)
	if err != nil {
		return nil, s.fail(ctx, op, channel, err)
	}
	sub := &subscription{s: s, l: l, out: make(chan []byte, DefaultBroadcastBuffer)}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		l.close()
		return nil, wrap(op, channel, domain.ErrClosed)
	}
	s.subs[sub] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	sub.stopCtx = context.AfterFunc(ctx, func() { l.stop("context done", nil) })
	go sub.run()
	return sub.out, nil
}

// subscription is one Subscribe call: its listener and its channel.
type subscription struct {
	s       *Store
	l       *listener
	out     chan []byte
	stopCtx func() bool
}

func (sub *subscription) run() {
	defer sub.s.wg.Done()
	reason, cause := sub.l.loop(func(m *redis.Message) {
		select {
		case sub.out <- []byte(m.Payload):
		case <-sub.l.stopped:
		}
	}, nil, nil)
	sub.stopCtx()
	sub.l.close()
	sub.s.mu.Lock()
	delete(sub.s.subs, sub)
	sub.s.mu.Unlock()
	close(sub.out)
	if cause != nil {
		sub.s.logger.Warn("broadcast subscription lost; messages may have been missed",
			zap.String("channel", sub.l.channel), zap.String("endpoint", sub.s.endpoint),
			zap.String("reason", reason), zap.Error(cause))
	}
}
