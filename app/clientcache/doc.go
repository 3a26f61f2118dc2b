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
//
// # Metrics and traces
//
// A ClientCache reports through OpenTelemetry (WithTelemetry; by default
// the global providers, no-ops until the host installs its own). Its
// metrics, named MetricPrefix + name ("rediscache.clientcache.hits", …),
// are asynchronous: one callback, registered with the meter at New, reads
// the counters Statistics reads at each collection, so a local hit costs
// no more than it did without telemetry (one atomic add, no allocation).
// The callback holds the ClientCache weakly and is unregistered once the
// ClientCache is garbage collected; a stopped cache keeps reporting
// (healthy 0), so that what Stop dropped is reported too.
//
// Counters (cumulative, monotonic: ResetStatistics resets Statistics, not
// them; the increase of a metric between two collections equals the
// increase of the matching Statistics field): hits {hit} and misses {miss},
// by site; invalidations {key} (keys the tracker reported changed) and
// invalidated {entry} (entries they dropped); flushes {flush} and flushed
// {entry}, by reason (the domain.Reason* values, ReasonClear for
// ClearCache, ReasonStop for Stop; a tracker's report counts when it
// dropped something: a FLUSHALL reaches it once per tracked connection);
// evictions {entry}, by cause (entries, bytes, not_admitted); expirations
// {entry}, by cause (local_ttl, key_ttl); rejected {value} (too large to
// keep); fetches.discarded {fetch} (an invalidation, flush or stop came
// first); generator.runs {run} and generator.served_unstored {value} (served
// while the backend refused or was down), by site. Gauges: entries
// {entry}, bytes and bytes.limit (By; 0: no byte bound), healthy (0 or 1),
// tracking.sessions {session} (ports.TrackingSessions, else 1 while the
// store tracks). The site attribute names the first app.Telemetry.SiteLimit
// sites seen (256 by default), counts the others as app.OtherSite, and
// names the keys outside every site SharedSite; a negative SiteLimit leaves
// it out.
//
// Spans: every Site operation that reaches the backend (GetValue, GetRaw,
// GetOrGenerate, GetOrGenerateRaw and GetDoc on a miss, SetValue,
// DeleteValue, DeleteKeys, EraseCaches) is a span "rediscache.<Method>",
// of kind client, started in the caller's goroutine from its ctx (a child of
// the caller's span, even though the fetch itself runs detached), with
// db.system.name "redis", rediscache.site and rediscache.hit (false; true
// when the value turned out to be local after all). A generator's run is a
// child span "rediscache.generate", so that the generator's own spans nest
// under it. A failure sets the status Error, error.type (canceled,
// deadline_exceeded, refused, unavailable, not_found, wrong_type,
// invalid_argument, not_supported, closed or _OTHER) and an exception
// event; a missing key read without a generator is an outcome, not an
// error. A local hit is a span (rediscache.hit true) only with
// app.Telemetry.HitSpans; the check is one load on the hit path. Keys
// appear (rediscache.key, without the site prefix) only with
// app.Telemetry.KeyAttributes, as do error texts (which may name keys:
// otherwise the exception's message is its error.type); values never do.
// Store()'s methods are not traced here: tracing them is left to the
// app.Cache built on it (Site.Cache() reports through the ClientCache's
// telemetry), which sees a read Store() answers from memory as a local
// hit (ports.LocalGetter): no span unless HitSpans.
package clientcache
