// Package clientcache is the per-process cache in front of a tracking
// store, kept correct by the backend's invalidations (Redis CLIENT
// TRACKING): the Go form of Frappe's ClientCache (frappe.client_cache).
//
// A process builds one ClientCache per store (per Redis deployment) with
// New, starts it, and serves every site through its handles (Site): one
// local memory, one budget, one tracking connection per server, whatever
// the number of sites. A ClientCache serves hot, rarely changing values
// (settings, metadata, documents) from local memory with zero backend
// commands, and drops them as soon as their key changes.
//
// # Guarantees
//
//   - Read-your-writes for the process: a write made through the store (any
//     of its ports, any app.Cache or ClientCache over it, any goroutine) is
//     reflected by every ClientCache of that store before the write call
//     returns. Other processes' writes are applied when their invalidation
//     arrives.
//   - A local copy never outlives its key: the key's remaining TTL is read
//     with the value, and a copy is also bounded by LocalTTL.
//   - A local copy is served only while the tracking that covers it (its
//     lease) is valid. When a tracked connection closes, only the values
//     fetched on it are dropped; when the tracking session is lost, on a
//     flush or a failover, everything it covered is. Before Start, after
//     Stop (Healthy is false once Stop returns) and while tracking is down,
//     every read goes to the backend. The cache recovers by itself.
//   - A value fetched before an invalidation of its key that arrives while
//     the fetch is in flight is never stored (token-checked placeholders).
//   - Concurrent misses of one key make one backend call (single-flight),
//     generators included. A reader whose ctx ends returns at once; its
//     fetch completes for the others.
//   - The local copy is bounded by entries and optionally bytes (a value
//     larger than MaxEntryBytes is served but not kept). What stays is
//     decided by W-TinyLFU: a value is admitted when it is requested more
//     often than what it would push out, which misses less than LRU or
//     CLOCK (at or above otter's hit ratio on the traces of tests/bench).
//
// Values handed out by a ClientCache are shared between callers: treat them
// as read-only. Byte slices (GetRaw, Store().Get) are copies.
package clientcache
