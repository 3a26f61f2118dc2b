package ports

import (
	"context"

	"github.com/rediscache/rediscache/domain"
)

// Invalidation reports keys whose locally cached copies are no longer valid.
//
// Invalidations subscribes and returns once the subscription is live: every
// change made after it returns, by any other client of the same backend, to a
// key this store has read since it last changed, is reported (an adapter may
// report more: the memory adapter reports every change). Changes made through
// the subscribing store itself are not reported (Redis' NOLOOP), and such a
// write stops the key being tracked until the store reads it again. Expiry,
// eviction, deletion and flush are changes.
//
// An event with All set means every cached entry must be dropped (flush,
// overflow of a slow consumer). The adapter never blocks its connection on a
// slow consumer: when the buffer is full it delivers one All event instead.
//
// The channel is closed when ctx is done, when the store is closed, and when
// the adapter loses the tracking connection, since changes may then go
// unreported. After an unexpected close a subscriber must drop every cached
// entry and subscribe again (which fails with domain.ErrUnavailable until the
// backend is back).
type Invalidation interface {
	Invalidations(ctx context.Context) (<-chan domain.Invalidation, error)
}

// Broadcast carries small messages to every process connected to the same
// backend, whatever site it serves: Redis PUBLISH/SUBSCRIBE. The ClientCache
// uses it for EraseCaches (Frappe's clear_persistent_cache channel).
type Broadcast interface {
	// Publish sends payload on channel and returns once the backend took it.
	Publish(ctx context.Context, channel string, payload []byte) error
	// Subscribe returns the messages published on channel after it
	// returns, including this process's own. The channel is closed when
	// ctx is done, the store is closed or the connection is lost.
	Subscribe(ctx context.Context, channel string) (<-chan []byte, error)
}
