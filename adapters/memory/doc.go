// Package memory is an in-process cache backend: a driven adapter of the
// hexagon that implements every port of package ports (KeyValue, Hash, Set,
// List, Suggest, Tracker, Broadcast and Pinger) with Go maps instead of a Redis
// server. It needs no server, so tests, examples and single-process
// deployments can run the core (package app) unchanged; the conformance suite
// in tests/conformance holds it to the same contract as the Redis adapters,
// and its replies are meant to be those of Redis 7.0.
//
// # Databases and handles
//
// New creates a DB, the counterpart of one Redis server, and returns a Store,
// the counterpart of one client connection. Store.Peer opens another handle
// on the same DB with its own client id, so that cross-client behaviour
// (invalidations of another client's writes) can be exercised in process.
// Closing a Store closes that handle and its subscriptions; closing the last
// one (or DB.Close) closes the DB.
//
// # Concurrency
//
// A DB is guarded by one mutex, so every command is atomic, as in
// single-threaded Redis. Values are copied on the way in and out: callers
// never alias stored bytes. Scan walks the keyspace in steps, taking the
// lock for each, and calls its callback without the lock.
//
// # Expiry
//
// TTLs have millisecond precision and follow domain.NoExpiry. Time is read
// from the clock given by WithClock (time.Now by default). A key is gone as
// soon as its deadline is reached: every command treats it as missing and
// removes it. A timer owned by the DB, armed for the earliest deadline (and
// polling every few milliseconds under a custom clock), also removes expired
// keys nobody touches, so their invalidations go out on time.
//
// # Tracking
//
// A Store implements ports.Tracker as a Redis store does, so the ClientCache
// behaves the same on both: a handle is one process's client. Every write
// made through a handle is reported to that handle's sinks before the write
// returns; a key fetched through a handle (Fetch) is reported to its sinks
// when another handle changes it, when it expires or is deleted, once per
// fetch (Redis' default tracking mode, OPTIN); FlushAll makes every handle's
// sinks drop what they fetched. Reports are synchronous, under the DB lock.
package memory
