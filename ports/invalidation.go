package ports

import (
	"context"

	"github.com/rediscache/rediscache/domain"
)

// Invalidation reports keys whose locally cached copies are no longer valid.
//
// Invalidations subscribes and returns once the subscription is live: every
// change made after it returns, by any other client of the same backend, is
// reported. Changes made through the subscribing store itself are not
// reported (Redis' NOLOOP). Expiry, deletion and flush are changes. The
// channel is closed when ctx is done or the store is closed. An event with
// All set means every cached entry must be dropped (flush, lost or replaced
// tracking connection, failover, overflow of a slow consumer). The adapter
// never blocks its connection on a slow consumer: when the buffer is full it
// delivers one All event instead.
type Invalidation interface {
	Invalidations(ctx context.Context) (<-chan domain.Invalidation, error)
}
