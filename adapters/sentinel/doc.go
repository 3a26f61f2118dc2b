// Package sentinel is the adapter for Redis behind Redis Sentinel: it
// implements every data port of package ports ([ports.KeyValue],
// [ports.Hash], [ports.Set], [ports.List], [ports.Suggest]) and
// [ports.Pinger] on go-redis' failover client, and [ports.Tracker] and
// [ports.Broadcast] for the ClientCache. It is the Go form of Frappe's
// get_sentinel_connection(...).master_for(...).
//
// In the hexagon it is a driven adapter. It turns a [Config] into go-redis
// failover clients and watches the sentinels for failovers; the commands,
// the translation of Redis errors into the domain errors and client
// tracking live in adapters/internal/redisstore, shared with the standalone
// adapter.
//
// # Failover
//
// The store watches the failovers itself. From its first connection to the
// master until Close, it keeps one subscription to every sentinel of
// SentinelAddrs (reconnected after a loss, with a wait that doubles from
// 50 ms to 2 s) and listens for the first sign that the master moved:
//
//   - +failover-state-wait-promotion: the leading sentinel has just told a
//     replica to become master; the store asks that replica for its ROLE
//     every millisecond and switches as soon as it says master, about a
//     second before any sentinel announces the promotion (a sentinel
//     notices it only at its next INFO of the replica);
//   - +promoted-slave and +switch-master, from any sentinel, for a failover
//     whose beginning the store did not see.
//
// To switch, the store ends client tracking at once (every local copy of
// the ClientCache is dropped, and tracking restarts on the new master) and
// sends the host's commands through a new client; the old client is closed
// after 10 s, so that calls in flight on it end normally. Every connection
// opened from then on goes to the new master, even while the sentinels
// go-redis asks still answer the old one: the store dials the new master
// instead of a master it saw replaced, until every watched sentinel has
// announced the switch (or for 30 s at most). A failover aborted after a
// switch made on the replica's ROLE alone switches back. Measured on a
// forced failover (SENTINEL FAILOVER, loopback, -race): the first read
// through a ClientCache or a Cache that returns a value another client
// wrote to the new master comes 1–8 ms after that write was acknowledged;
// it took 0.1–1.8 s when the store waited for go-redis' own +switch-master.
//
// Commands in flight during the switch fail with an error matching
// domain.ErrUnavailable (go-redis retries those that met READONLY,
// LOADING, MASTERDOWN or a closed connection, up to MaxRetries times), so a
// failover costs the application a short pause. As always with Redis'
// asynchronous replication, writes are lost that the old master took after
// the replica was promoted (calls in flight at the switch, and every write
// while the store cannot see the failover), or before they were replicated:
// those keys are missing or hold their previous value. To shrink the
// window, run the data nodes with min-replicas-to-write 1 and a small
// min-replicas-max-lag.
//
// List every sentinel in SentinelAddrs: the store watches those only (go-redis
// also asks the sentinels it discovers). A user that may not run ROLE
// (ACL) makes the store wait for +promoted-slave instead, about a second
// later.
//
// # Startup checks
//
// Connecting is lazy: [New] validates the Config (every problem at once,
// matching domain.ErrInvalidArgument: no sentinels, an address that is not
// host:port, a missing master name) but dials nothing, and starts nothing:
// the failover watch begins with the first connection to the master. Call
// Ping to report
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
// connections to the master, whatever the number of caches. Tracking does
// not survive a failover: when the store switches to the new master (see
// Failover above), every value it covered is dropped at once and tracking
// is re-established on the new master.
package sentinel

//go:generate go run ../internal/forward
