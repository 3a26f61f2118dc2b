package cluster_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/adapters/cluster"
	"github.com/rediscache/rediscache/tests/redistest"
)

// BenchmarkInterleaved compares each command sent through a cluster Store
// with the same command sent through a bare go-redis ClusterClient built
// with the same options, on the same cluster in the same run: it alternates
// the two calls in one loop and reports the median latency of each and
// their ratio (store/raw), which a noisy machine disturbs far less than two
// separate runs would. The two take turns going first: the key changes
// every iteration, and the first call of a pair pays for waking its node.
//
//	go test -run XXX -bench Interleaved -benchtime 20000x ./adapters/cluster/
//
// The target is a ratio within 1.10. The keys rotate over the three
// masters. Measured here: GET 1.01-1.02, SET 1.05-1.07; the same loop with
// a second bare ClusterClient in place of the Store (an A/A run) gives SET
// 1.03-1.07, so the SET gap belongs to the measurement, not to the Store.
func BenchmarkInterleaved(b *testing.B) {
	c := redistest.StartCluster(b)
	cfg := cluster.Config{Addrs: c.Addrs()}
	store, err := cluster.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	u := cfg.Connection.Universal()
	u.Addrs = c.Addrs()
	raw := redis.NewClusterClient(u.Cluster())
	b.Cleanup(func() {
		_ = raw.Close()
		_ = store.Close()
	})
	ctx := context.Background()
	value := bytes.Repeat([]byte("v"), 64)
	keys := []string{"bench:a", "bench:b", "bench:c", "bench:d", "bench:e", "bench:f"}
	for _, k := range keys {
		if err := raw.Set(ctx, k, value, 0).Err(); err != nil {
			b.Fatal(err)
		}
	}
	if err := store.Ping(ctx); err != nil {
		b.Fatal(err)
	}
	var key string
	pairs := []struct {
		name       string
		raw, store func() error
	}{
		{"Get",
			func() error { _, err := raw.Get(ctx, key).Bytes(); return err },
			func() error { _, err := store.Get(ctx, key); return err }},
		{"Set",
			func() error { return raw.Set(ctx, key, value, 0).Err() },
			func() error { return store.Set(ctx, key, value, 0) }},
	}
	for _, p := range pairs {
		b.Run(p.name, func(b *testing.B) {
			var rawD, storeD []time.Duration
			i := 0
			for b.Loop() {
				key = keys[i%len(keys)]
				i++
				// The first call of a pair wakes the node up (the key
				// changes every iteration): take turns going first.
				first, second, firstD, secondD := p.raw, p.store, &rawD, &storeD
				if i%2 == 0 {
					first, second, firstD, secondD = p.store, p.raw, &storeD, &rawD
				}
				t0 := time.Now()
				if err := first(); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := second(); err != nil {
					b.Fatal(err)
				}
				*firstD = append(*firstD, t1.Sub(t0))
				*secondD = append(*secondD, time.Since(t1))
			}
			r, s := median(rawD), median(storeD)
			b.ReportMetric(float64(r.Nanoseconds()), "raw-p50-ns")
			b.ReportMetric(float64(s.Nanoseconds()), "store-p50-ns")
			b.ReportMetric(float64(s)/float64(r), "store/raw")
		})
	}
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 1
	}
	slices.Sort(ds)
	return max(ds[len(ds)/2], 1)
}
