package memory

import (
	"context"
	"fmt"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

var _ ports.Broadcast = (*Store)(nil)

// broadcastBuffer is how many messages a Broadcast subscription holds before
// it is dropped as too slow (Redis disconnects such a subscriber too).
const broadcastBuffer = 256

// bcSub is one Broadcast subscription. Fields are guarded by DB.mu.
type bcSub struct {
	store   *Store
	channel string
	out     chan []byte
	done    chan struct{}
	closed  bool
}

func (sub *bcSub) stop() {
	select {
	case <-sub.done:
	default:
		close(sub.done)
	}
}

// Publish delivers a copy of payload to every subscription of channel on any
// handle of the DB, the publisher's own included, as Redis PUBLISH does. A
// subscription whose buffer is full is closed (its consumer must
// resubscribe), so a slow consumer never blocks the publisher.
func (s *Store) Publish(ctx context.Context, channel string, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if s.closed() || db.closed {
		return errClosed("publish")
	}
	for sub := range db.bcast {
		if sub.channel != channel || sub.closed {
			continue
		}
		select {
		case sub.out <- append([]byte(nil), payload...):
		default:
			sub.stop()
		}
	}
	return nil
}

// Subscribe returns the messages published on channel after it returns. The
// channel is closed when ctx is done, the handle is closed, or the
// subscription fell behind by more than its buffer.
func (s *Store) Subscribe(ctx context.Context, channel string) (<-chan []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if channel == "" {
		return nil, fmt.Errorf("subscribe: %w: empty channel", domain.ErrInvalidArgument)
	}
	db := s.db
	db.mu.Lock()
	if s.closed() || db.closed {
		db.mu.Unlock()
		return nil, errClosed("subscribe")
	}
	sub := &bcSub{store: s, channel: channel, out: make(chan []byte, broadcastBuffer), done: make(chan struct{})}
	db.bcast[sub] = struct{}{}
	s.wg.Add(1)
	db.mu.Unlock()
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
		case <-sub.done:
		}
		db.mu.Lock()
		defer db.mu.Unlock()
		delete(db.bcast, sub)
		sub.closed = true
		close(sub.out)
	}()
	return sub.out, nil
}
