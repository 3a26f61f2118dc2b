// Package cluster is the adapter for Redis Cluster: it implements every
// data port of package ports ([ports.KeyValue], [ports.Hash], [ports.Set],
// [ports.List], [ports.Suggest]), [ports.Broadcast], [ports.Pinger] and
// [ports.Tracker] on go-redis' cluster client, for hosts whose sites
// outgrow one Redis server (memory, CPU, network): the keys spread over
// every master.
//
// In the hexagon it is a driven adapter. It only turns a [Config] into a
// go-redis cluster client; the commands and the translation of Redis errors
// into the domain errors live in adapters/internal/redisstore, shared with
// the standalone and Sentinel adapters, and are the same on a cluster except
// where a cluster needs more:
//
//   - Keys are not given hash tags: the keys of one site spread over all
//     16384 slots, so over every master. Single-key commands go to the
//     master that owns the key's slot; go-redis follows MOVED and ASK when
//     a slot moves.
//   - Del and Exists of several keys send one command per hash slot
//     (Redis refuses keys of two slots in one command), in one pipeline per
//     node, every node in parallel; the counts are added up (a key named
//     twice counts twice in Exists). HDelBatch and SugAdd pipelines reach
//     each node in one round trip the same way.
//   - Scan, and so the Cache's GetKeys, DeleteKeys and HDelKeys, scans
//     every master, and only masters, in parallel, and hands over one
//     node's batch at a time, with the same pattern escaping and prefix
//     re-check as on one server.
//   - FT.SUG* commands go to the master of the dictionary's key (RediSearch
//     must be loaded on every node).
//   - Publish and Subscribe use classic Pub/Sub, which the cluster bus
//     carries to every node: a message published through any node reaches
//     the subscribers of all of them. Each subscription lives on one master
//     (a random one); when that node fails its channel closes, and the
//     subscriber subscribes again.
//
// # Failover and slot moves
//
// When a master fails, its replica takes over its slots after the nodes'
// cluster-node-timeout (plus about a second for the election). Meanwhile
// the commands for its slots, and while cluster-require-full-coverage is on
// (the default) the commands for every slot, fail with an error matching
// domain.ErrUnavailable (the master unreachable; for CLUSTERDOWN,
// domain.ErrRefused, a kind of ErrUnavailable) once
// go-redis has retried them MaxRedirects times; a ctx deadline bounds every
// call. The store then follows the new layout by itself: besides go-redis'
// own reloads (on MOVED, ASK and READONLY, and once a minute), it reloads
// the layout whenever a command fails on a node that cannot be reached, or
// with CLUSTERDOWN, MASTERDOWN or LOADING, so the commands for the failed
// master's slots go to its replica as soon as it has taken over. As with
// Sentinel, writes the old master acknowledged but had not replicated are
// lost.
//
// # Startup checks
//
// Connecting is lazy: [New] validates the Config (every problem at once,
// matching domain.ErrInvalidArgument) but dials nothing. Call Ping to report
// readiness: it checks that every master answers and that the cluster
// serves every slot, and otherwise says what is wrong (no node reachable,
// rejected credentials, not a cluster, the cluster down, a master that does
// not answer). The errors match domain.ErrUnavailable (and
// domain.ErrRefused when a node answered but refused) and never contain a
// password.
//
// The connections speak RESP2 by default, which the RediSearch replies
// are parsed in.
//
// # Client-side caching
//
// A cluster Store tracks reads on every master, so a ClientCache over it
// keeps local copies as on one server. Per master it opens one listener
// (RESP2, REDIRECT target), Connection.TrackingPoolSize tracked
// connections, a connection blocked in BLPOP on a key nobody writes (the
// failover watch) and one connection per replica for the failover probe;
// plus one connection per known master for layout queries. A local copy
// is dropped when:
//
//   - its key changes (the master that served it reports it);
//   - that master's tracking connection or listener is lost (only that
//     master's copies);
//   - its slot leaves that master: a tracked read gets MOVED or ASK, or the
//     layout, read from every master's own CLUSTER NODES every
//     Config.TopologyRefresh (1 s), shows the slot elsewhere or in
//     migration. Nothing relies on MIGRATE to invalidate: a cached miss
//     whose empty slot moves and MIGRATE ... COPY are covered, served stale
//     at most one refresh interval;
//   - the master fails over: its replica answers ROLE master (asked every
//     Config.FailoverProbe, 5 ms), or the master unblocks the watch
//     (UNBLOCKED: it turned replica). Its slots then go to the successor at
//     once, and their keys are read there, untracked, until its tracking is
//     live.
//
// A slot without one stable owner (in migration, claimed by two masters
// with the same config epoch) is read through the cluster client, not
// cached. Tracking reports whether the tracking runs with a known layout;
// a master whose tracking is down meanwhile has its keys read without
// tracking.
package cluster

//go:generate go run ../internal/forward
