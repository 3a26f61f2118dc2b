// Package standalone is the adapter for a single redis-server: it implements
// every data port of package ports ([ports.KeyValue], [ports.Hash],
// [ports.Set], [ports.List], [ports.Suggest]) and [ports.Pinger] on one
// go-redis client.
//
// In the hexagon it is a driven adapter. It only turns a [Config] into a
// go-redis client; the commands and the translation of Redis errors into
// the domain errors live in adapters/internal/redisstore, shared with the
// Sentinel adapter.
//
// Connecting is lazy: [New] dials nothing, so it succeeds while the server
// is down. Call Ping to report readiness; it fails with an error
// matching domain.ErrUnavailable that names the address (never the
// password). Every call made while the server is unreachable fails the
// same way, after at most about (MaxRetries+1) × DialTimeout.
//
// The connections speak RESP2 by default ([DefaultProtocol]), which the
// invalidation stream and RediSearch replies need.
//
// # Client-side caching
//
// [NewTracked] returns a [Tracked] store: a Store that also implements
// [ports.Invalidation] and [ports.Broadcast], for the ClientCache
// (app/clientcache). It uses Redis CLIENT TRACKING the way Frappe does:
// RESP2, default tracking mode, NOLOOP, invalidations REDIRECTed to a
// dedicated Pub/Sub connection subscribed to __redis__:invalidate. RESP2 is
// required: a Config (or URL) asking for Protocol 3 is rejected.
//
// A Tracked store opens, besides the pool of data connections:
//
//   - per Invalidations call (one live at a time), one connection for the
//     invalidations. Every data connection opened during the session runs
//     CLIENT TRACKING ON REDIRECT <that connection's ID> NOLOOP; the session swaps
//     in a new data pool for that, and closes the previous one after a
//     grace period (in-flight commands finish on it);
//   - per Subscribe call, one connection for that channel.
//
// Neither kind of connection is ever re-established behind the caller's
// back: when one fails (or a health PING goes unanswered, within about
// three seconds of silence) its channel is closed, and the caller (the
// ClientCache) drops what it cached and subscribes again. A data
// connection of the session that closes, or that the server closes (an
// idle timeout, CLIENT KILL), makes Redis forget what it tracked: the
// session then sends an All event (domain.ReasonReconnect). Without a live
// session the data pool is a plain one: a Tracked store works as a Store.
package standalone

//go:generate go run ../internal/forward
