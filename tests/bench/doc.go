// Package bench compares the ClientCache of rediscache with the client-side
// caches of go-redis (ClientSideCacheConfig) and rueidis (DoCache), side by
// side in one program, against throw-away redis-server processes:
//
//   - BenchmarkHit: a warm local hit, in parallel, next to a sync.RWMutex
//     map lookup as the reference;
//   - BenchmarkStaleness: the time from another client's write returning to
//     the first cached read returning the new value;
//   - TestHitRatio: the hit ratio of the local store's eviction policy
//     (internal/wtinylfu) and of otter v2 on the web12 trace and on
//     synthetic Zipf traces, at three sizes, bounded by entries and by bytes;
//   - BenchmarkPolicyHit: the policy's share of a hit, next to a
//     sync.RWMutex map lookup and otter's GetIfPresent.
//
// It is a separate module (tests/bench/go.mod) so that the main module
// never depends on rueidis or otter. See README.md for how to run it and the
// results.
package bench
