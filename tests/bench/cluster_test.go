package bench

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/rediscache/rediscache/adapters/cluster"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

// clusterBench is a Redis Cluster (redistest's default: 3 masters, one
// replica each) with the uncached writer every peer shares: a go-redis
// ClusterClient, RESP2.
type clusterBench struct {
	c      *redistest.Cluster
	writer *redis.ClusterClient
}

func startClusterBench(tb testing.TB) clusterBench {
	tb.Helper()
	c := redistest.StartCluster(tb)
	w := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), Protocol: 2})
	tb.Cleanup(func() { _ = w.Close() })
	if err := w.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("cluster writer: %v", err)
	}
	return clusterBench{c: c, writer: w}
}

// newRediscacheCluster is the ClientCache over the cluster store
// (adapters/cluster: tracking and invalidations per master).
func newRediscacheCluster(tb testing.TB, cb clusterBench) (peer, *clientcache.Site) {
	tb.Helper()
	store, err := cluster.New(cluster.Config{Addrs: cb.c.Addrs()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	s := newClientCache(tb, store)
	if !s.ClientCache().Healthy() {
		tb.Fatal("rediscache-cluster: the ClientCache did not start tracking")
	}
	return clientCachePeer("rediscache-cluster", s, func(ctx context.Context, key, value string) error {
		return cb.writer.Set(ctx, site+domain.SiteSeparator+key, jsonString(value), 0).Err()
	}), s
}

// newRueidisCluster is rueidis' cluster client (seeded with every node),
// default client-side cache.
func newRueidisCluster(tb testing.TB, cb clusterBench) (peer, rueidis.Client) {
	tb.Helper()
	p, rc := newRueidis(tb, rueidisAt(cb.c.Addrs()...), cb.writer)
	p.name = "rueidis-cluster"
	return p, rc
}

// BenchmarkClusterHit is BenchmarkHit on a Redis Cluster: the same parallel
// loops over the same 1024 keys (spread over the 3 masters' slots) for the
// ClientCache over adapters/cluster and rueidis' cluster client, next to
// the RWMutex map. go-redis' built-in cache is standalone-only (its
// ClusterClient has none), so it is absent.
func BenchmarkClusterHit(b *testing.B) {
	cb := startClusterBench(b)
	keys := benchKeys("hit:", hitKeys)

	b.Run("baseline-rwmutex-map", baselineHit(keys))
	pOurs, s := newRediscacheCluster(b, cb)
	b.Run("rediscache-cluster", clientCacheHit(b, pOurs, s, keys))
	pRueidis, rc := newRueidisCluster(b, cb)
	b.Run("rueidis-cluster", rueidisHit(b, pRueidis, rc, keys))
}

// BenchmarkClusterStaleness is BenchmarkStaleness on a Redis Cluster, for
// the ClientCache over adapters/cluster and rueidis' cluster client; the
// writer is a go-redis ClusterClient (RESP2, no cache). The 4 keys land on
// whichever masters own their slots.
func BenchmarkClusterStaleness(b *testing.B) {
	cb := startClusterBench(b)
	keys := benchKeys("stale:", stalenessKeys)
	initial := func(string) string { return "v-initial" }

	pOurs, _ := newRediscacheCluster(b, cb)
	pRueidis, _ := newRueidisCluster(b, cb)
	for _, p := range []peer{pOurs, pRueidis} {
		warmUp(b, p, keys, initial)
		b.Run(p.name, func(b *testing.B) { staleness(b, p, keys) })
	}
}
