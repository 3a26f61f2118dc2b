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
// The connections speak RESP2 by default (connection.DefaultProtocol),
// which the invalidation stream and RediSearch replies need.
//
// # Client-side caching
//
// A Store implements [ports.Tracker] and [ports.Broadcast] for the
// ClientCache (app/clientcache), with Redis CLIENT TRACKING in RESP2
// two-connection mode, OPTIN (only what a ClientCache fetches is tracked).
// RESP2 is required: on a Config (or URL) asking for Protocol 3, Track
// fails with domain.ErrInvalidArgument.
//
// Besides the pool of the host's commands (Connection.PoolSize), a Store
// that is tracking opens, whatever the number of ClientCaches and sites
// using it:
//
//   - one connection subscribed to __redis__:invalidate (the REDIRECT
//     target), read by one goroutine that hands every invalidation to the
//     caches at once;
//   - at most Connection.TrackingPoolSize tracked connections (CLIENT
//     TRACKING ON REDIRECT <id> OPTIN), on which the caches' fetches run
//     (CLIENT CACHING YES, MULTI, PTTL, GET, EXEC: the value with its TTL);
//   - per Subscribe call, one connection for that channel.
//
// None of them is ever re-established behind the caller's back. When a
// tracked connection closes (a timeout, its lifetime, CLIENT KILL, the
// server's idle timeout), only the values fetched on it are dropped; when
// the invalidation connection fails (or a health PING goes unanswered), every
// value is dropped and tracking is re-established in the background.
// Closing one of the host's connections costs the caches nothing. Every
// write made through the Store is reported to the caches before the call
// returns, whichever goroutine or port made it.
package standalone

//go:generate go run ../internal/forward
