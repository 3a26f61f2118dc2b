package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// Track registers sink with the handle s (see ports.Tracker). Tracking is
// live at once and stays live until s is closed. sink is told, synchronously
// and under the DB lock (it must not call back into the store):
//
//   - Invalidate(keys) for every write made through s, before the write
//     returns, whatever the keys;
//   - Invalidate(keys) when a key fetched through s (Fetch) since it last
//     changed is changed through another handle, expires or is deleted, as
//     Redis' default tracking mode reports it: once per fetch;
//   - Drop(lease, domain.ReasonFlushAll) on FlushAll, through any handle;
//   - Drop(lease, domain.ReasonStop) when s is closed.
func (s *Store) Track(ctx context.Context, sink ports.InvalidationSink) (untrack func(), err error) {
	if sink == nil {
		return nil, fmt.Errorf("track: %w: nil sink", domain.ErrInvalidArgument)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if s.closed() || db.closed {
		return nil, errClosed("track")
	}
	remove, _ := s.sinks.Add(sink)
	db.log.Debug("tracking", zap.Int64("client", s.id))
	return func() { remove() }, nil
}

// Fetch reads the string value of key and its TTL, and tracks key for s's
// sinks until it next changes (see ports.Tracker). A missing key is Found
// false; a key of another type is domain.ErrWrongType.
func (s *Store) Fetch(ctx context.Context, key string) (domain.Fetched, error) {
	t, err := s.begin(ctx, "fetch", key)
	if err != nil {
		return domain.Fetched{}, err
	}
	defer t.end()
	s.tracked[key] = struct{}{}
	f := domain.Fetched{Lease: s.lease}
	e := t.get(key)
	if e == nil {
		return f, nil
	}
	b, ok := e.value.([]byte)
	if !ok {
		return domain.Fetched{}, errWrongType("fetch", key)
	}
	f.Value, f.Found = slices.Clone(b), true
	if !e.expireAt.IsZero() {
		f.TTL = max(e.expireAt.Sub(t.now), time.Millisecond)
	}
	return f, nil
}

// Tracking reports whether s is open: a memory handle never loses tracking.
func (s *Store) Tracking() bool { return !s.closed() }

// TrackingSessions returns 1 until s is closed, then 0 (see
// ports.TrackingSessions).
func (s *Store) TrackingSessions() int {
	if s.closed() {
		return 0
	}
	return 1
}

// emit reports keys changed by origin (nil: by nobody, as for expiry): to
// every sink of origin, and to the sinks of every handle that tracks them
// (which then stops tracking them). Called under DB.mu.
func (db *DB) emit(origin *Store, keys []string) {
	for h := range db.stores {
		if h == origin {
			for _, k := range keys {
				delete(h.tracked, k)
			}
			if h.sinks.Active() {
				h.sinks.Invalidate(slices.Clone(keys))
			}
			continue
		}
		if len(h.tracked) == 0 {
			continue
		}
		var hit []string
		for _, k := range keys {
			if _, ok := h.tracked[k]; ok {
				delete(h.tracked, k)
				hit = append(hit, k)
			}
		}
		if len(hit) > 0 {
			h.sinks.Invalidate(hit)
		}
	}
}

// flushTracking forgets every tracked key and tells every sink to drop what
// it fetched. Called under DB.mu.
func (db *DB) flushTracking() {
	for h := range db.stores {
		clear(h.tracked)
		h.sinks.Drop(h.lease, domain.ReasonFlushAll)
	}
}
