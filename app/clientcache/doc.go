// Package clientcache is the per-process cache in front of a site-scoped
// app.Cache, kept correct by the backend's invalidations (Redis CLIENT
// TRACKING): the Go form of Frappe's ClientCache.
//
// A ClientCache serves hot, rarely changing values (settings, metadata) from
// local memory with zero backend commands, and drops them as soon as any
// other process changes them.
//
// # Guarantees
//
//   - It serves a local copy only while its invalidation subscription is
//     live. Before Start, after Stop, and from the moment the subscription is
//     lost until it is re-established, every call goes to the backend (the
//     plain Cache's behaviour) and the local copy is dropped. It recovers by
//     itself (Frappe gave up after ten disconnects: K6, K9).
//   - A value fetched before an invalidation of its key that arrives while
//     the fetch is in flight is never stored: each fetch owns a placeholder
//     with a unique token and publishes only if that placeholder is still
//     there.
//   - Concurrent misses of one key make one backend call (single-flight),
//     generators included.
//   - An All invalidation (FLUSHALL, reconnect, failover, overflow) drops
//     everything.
//   - The process's own writes update its local copy and stay tracked.
//   - The local copy is bounded by entries and optionally bytes (evicting
//     with CLOCK, a second-chance FIFO) and by a local TTL.
//
// Values handed out by a ClientCache are shared between callers: treat them
// as read-only.
package clientcache
