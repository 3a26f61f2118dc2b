package ports

import (
	"context"

	"github.com/rediscache/rediscache/domain"
)

// Tracker is implemented by stores whose reads can be tracked: the backend
// reports every later change of a key read with Fetch, and the store itself
// reports every write made through it. Together they keep a local copy of
// the fetched values exact. One Tracker serves every cache of the process
// that uses the same store (for Redis, one invalidation connection per
// server whatever the number of caches and sites).
type Tracker interface {
	// Track registers sink. From the moment Track returns until untrack is
	// called, sink is told:
	//
	//   - Invalidate(keys) when keys change through this store (any of its
	//     ports, any goroutine: before the write call returns), and, for
	//     keys fetched with Fetch since they last changed, when another
	//     client changes, deletes, expires or evicts them;
	//   - Drop(scope, reason) when every value fetched under scope (a lease
	//     from Fetch or one of its ancestors; nil means every lease of this
	//     tracker) may have changed unreported: a flush, a lost connection,
	//     a failover. A revoked lease is revoked before its Drop.
	//
	// Track returns once tracking is live, or with an error when ctx ended
	// or the first attempt failed (matching domain.ErrUnavailable while the
	// backend cannot be reached, domain.ErrNotSupported when it cannot
	// track). Either way sink stays registered until untrack, and the
	// tracker keeps establishing tracking in the background; until it is
	// live, Fetch fails. untrack is idempotent.
	Track(ctx context.Context, sink InvalidationSink) (untrack func(), err error)
	// Fetch reads the string value of key, with its remaining TTL, so that
	// later changes of key are reported (one report per fetch: a key must
	// be fetched again to be tracked again). A missing key is Found false,
	// not an error. It fails with domain.ErrUnavailable while tracking is
	// not live. A store over several servers may answer a key whose
	// server's tracking is down with its current value and a nil Lease:
	// never valid, so the value is not kept. A ctx that ends before the reply may cost the tracked
	// connection the call ran on, and so every value fetched on it (Drop
	// of its lease): callers that keep many values detach their fetches
	// from short deadlines.
	Fetch(ctx context.Context, key string) (domain.Fetched, error)
	// Tracking reports whether tracking is live now. For a store over
	// several servers (a cluster) it reports whether the tracking as a
	// whole runs with a known layout: a server whose own tracking is down
	// meanwhile has its keys read by Fetch without tracking (nil Lease).
	Tracking() bool
}

// InvalidationSink receives a Tracker's reports. Its methods are called
// synchronously, from the writer's goroutine or the tracker's own, possibly
// concurrently: they must be quick, must not block, and must not call back
// into the store.
type InvalidationSink interface {
	// Invalidate reports keys (full Redis keys) whose copies are stale.
	Invalidate(keys []string)
	// Drop reports that every copy fetched under scope may be stale (nil:
	// every copy). reason is one of the domain.Reason* values.
	Drop(scope *domain.Lease, reason string)
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

// Backlog is implemented by stores whose invalidations and replies are read
// by goroutines of their own. Go runs a goroutine that the network woke
// only when a CPU has nothing else to run, or after up to 10 ms: a process
// whose goroutines keep every CPU busy without ever blocking (a cache
// serving local hits under load) delays those readers, and so the
// invalidations. A cache that calls Backlog now and then can notice I/O
// waiting and step aside until it is processed.
type Backlog interface {
	// Backlog returns nil when no invalidation or reply the store
	// received waits to be processed, and otherwise a channel that is
	// closed as soon as the store has processed some of it. It never
	// blocks: a few non-blocking system calls.
	Backlog() <-chan struct{}
}

// TrackingSessions is implemented by trackers that can say how many
// tracking sessions they hold live (what a ClientCache reports as its
// tracking.sessions gauge): on one server, 1 while tracking is live and 0
// otherwise; on a cluster, the masters whose session is live.
type TrackingSessions interface {
	// TrackingSessions returns the number of live tracking sessions. It
	// never blocks on I/O.
	TrackingSessions() int
}

// LocalGetter is implemented by stores that answer some reads from process
// memory without reaching the backend (the ClientCache's Store()). An
// app.Cache asks it first when it reports telemetry, so that such a read
// counts as a local hit (a span only with Telemetry.HitSpans), not as a
// backend operation.
type LocalGetter interface {
	// GetLocal answers a read of key from memory when it can (ok): the
	// value, a copy the caller owns, or a remembered miss (an error
	// matching domain.ErrNotFound; never with valuesOnly). It never
	// blocks on I/O; !ok means the read must go to Get.
	GetLocal(key string, valuesOnly bool) (data []byte, ok bool, err error)
}
