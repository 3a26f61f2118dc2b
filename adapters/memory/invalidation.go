package memory

import (
	"context"
	"slices"

	"go.uber.org/zap"

	"github.com/rediscache/rediscache/domain"
)

// subscriber is one subscription returned by Store.Invalidations. Every
// field but done's closing is guarded by DB.mu: events are delivered under
// the lock, in the order of the changes, without ever blocking.
type subscriber struct {
	store  *Store
	out    chan domain.Invalidation
	done   chan struct{} // closed by stop
	closed bool          // out is closed
}

// stop ends the subscription; its goroutine closes out. Called under DB.mu.
func (sub *subscriber) stop() {
	select {
	case <-sub.done:
	default:
		close(sub.done)
	}
}

// Invalidations subscribes to the changes of the DB and returns once the
// subscription is live. The channel, buffered with Config.InvalidationBuffer
// slots, receives:
//
//   - domain.Invalidation{Keys: ...} for every change made through another
//     handle of the same DB (Set, Del of an existing key, Expire and persist,
//     every collection write, the deletion of an emptied collection, a
//     Suggest write), one event per command listing the keys it changed;
//     changes made through s itself are not reported (Redis' NOLOOP);
//   - domain.Invalidation{Keys: ...} for keys that expired, whoever set them,
//     within a few milliseconds of their deadline even if nobody touches them;
//   - domain.Invalidation{All: true, Reason: domain.ReasonFlush} on FlushAll,
//     whichever handle flushed;
//   - domain.Invalidation{All: true, Reason: domain.ReasonOverflow} when the
//     buffer was full: the pending events are dropped and replaced by this
//     one, so a slow consumer never blocks a writer and never misses a
//     change.
//
// The channel is closed when ctx is done or s is closed.
func (s *Store) Invalidations(ctx context.Context) (<-chan domain.Invalidation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	if s.closed() || db.closed {
		db.mu.Unlock()
		return nil, errClosed("invalidations")
	}
	sub := &subscriber{
		store: s,
		out:   make(chan domain.Invalidation, db.cfg.InvalidationBuffer),
		done:  make(chan struct{}),
	}
	db.subs[sub] = struct{}{}
	s.subs[sub] = struct{}{}
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
		delete(db.subs, sub)
		delete(s.subs, sub)
		sub.closed = true
		close(sub.out)
	}()
	db.log.Debug("subscribed to invalidations", zap.Int64("client", s.id))
	return sub.out, nil
}

// emit reports keys changed by origin (nil: by nobody, as for expiry) to
// every subscriber except origin's own. Called under DB.mu.
func (db *DB) emit(origin *Store, keys []string) {
	for sub := range db.subs {
		if origin != nil && sub.store == origin {
			continue
		}
		db.deliver(sub, domain.Invalidation{Keys: slices.Clone(keys)})
	}
}

// deliver queues ev for sub without blocking. An All event replaces the
// pending ones. When the buffer is full, the pending events are dropped and
// replaced by one overflow All event. Called under DB.mu, which every sender
// holds, so the room made by draining cannot be taken by another sender.
func (db *DB) deliver(sub *subscriber, ev domain.Invalidation) {
	if sub.closed {
		return
	}
	if !ev.All {
		select {
		case sub.out <- ev:
			return
		default:
		}
		ev = domain.Invalidation{All: true, Reason: domain.ReasonOverflow}
		db.log.Warn("invalidation buffer full, sending All",
			zap.Int64("client", sub.store.id), zap.Int("buffer", cap(sub.out)))
	}
	for drained := false; !drained; {
		select {
		case <-sub.out:
		default:
			drained = true
		}
	}
	// The consumer may have taken an event meanwhile, never added one: the
	// buffer is empty, so this send cannot block.
	select {
	case sub.out <- ev:
	default:
	}
}
