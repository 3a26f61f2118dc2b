// Package sentinel is the adapter for Redis behind Redis Sentinel: it
// implements every data port of package ports ([ports.KeyValue],
// [ports.Hash], [ports.Set], [ports.List], [ports.Suggest]) and
// [ports.Pinger] on go-redis' failover client, and [ports.Tracker] and
// [ports.Broadcast] for the ClientCache. It is the Go form of Frappe's
// get_sentinel_connection(...).master_for(...).
//
// In the hexagon it is a driven adapter. It only turns a [Config] into
// go-redis failover clients; the commands, the translation of Redis errors
// into the domain errors and client tracking live in
// adapters/internal/redisstore, shared with the standalone adapter.
//
// # Failover
//
// The store asks the sentinels for the master's address whenever it opens a
// connection, and listens to their +switch-master announcements: after a
// failover it drops its connections to the old master and the next commands
// go to the new one. Commands in flight during the switch fail with an error
// matching domain.ErrUnavailable (go-redis retries those that met READONLY,
// LOADING, MASTERDOWN or a closed connection, up to MaxRetries times), so a
// failover costs the application a short pause. As always with Redis'
// asynchronous replication, writes are lost that the old master
// acknowledged after the replica was promoted and before the store heard of
// the switch (about a second for a forced failover), or before it was
// replicated: those keys are missing or hold their previous value. To
// shrink the window, run the data nodes with min-replicas-to-write 1 and a
// small min-replicas-max-lag.
//
// # Startup checks
//
// Connecting is lazy: [New] validates the Config (every problem at once,
// matching domain.ErrInvalidArgument: no sentinels, an address that is not
// host:port, a missing master name) but dials nothing. Call Ping to report
// readiness; when the master does not answer, Ping asks the sentinels and the
// master itself and says what is wrong: no sentinel reachable, an unknown
// master name, credentials rejected by the sentinels or by the master, or a
// master that does not answer. The errors match domain.ErrUnavailable and
// never contain a password; Ping gives up after 2 × (DialTimeout +
// ReadTimeout). Data calls made while the master cannot be found fail with
// the same kind of error, after at most about (MaxRetries+1) × DialTimeout.
//
// The connections speak RESP2 by default (connection.DefaultProtocol),
// which the invalidation stream and RediSearch replies need.
//
// # Client-side caching
//
// Client tracking works as on the standalone adapter (see its package
// documentation): one invalidation connection and a few tracked
// connections to the master, whatever the number of caches. They are
// failover clients too, but tracking does not survive a failover: when the
// connections to the old master close, every value they covered is dropped
// and tracking is re-established on the new master.
package sentinel

//go:generate go run ../internal/forward
