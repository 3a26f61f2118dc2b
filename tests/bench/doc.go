// Package bench compares the ClientCache of rediscache with the client-side
// caches of go-redis (ClientSideCacheConfig) and rueidis (DoCache), side by
// side in one program, against throw-away redis-server processes:
//
//   - BenchmarkHit: a warm local hit, in parallel, next to a sync.RWMutex
//     map lookup as the reference and otter's GetIfPresent;
//   - BenchmarkStaleness: the time from another client's write returning to
//     the first cached read returning the new value;
//   - BenchmarkClusterHit, BenchmarkClusterStaleness: the same two on a
//     Redis Cluster, the ClientCache over adapters/cluster beside rueidis'
//     cluster client (go-redis' cache is standalone-only);
//   - BenchmarkStalenessUnderLoad: the same while readers saturate every
//     CPU with hits;
//   - TestHitRatio: the hit ratio of the ClientCache (its local store's
//     W-TinyLFU policy) and of otter v2 on the web12 trace and on
//     synthetic Zipf traces, at three sizes, bounded by entries and by
//     bytes.
//
// It is a separate module (tests/bench/go.mod) so that the main module
// never depends on rueidis or otter. See README.md for how to run it and the
// results.
package bench
