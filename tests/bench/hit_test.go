package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/redis/rueidis"

	"github.com/rediscache/rediscache/app/clientcache"
)

// hitKeys is the size of the key set every goroutine cycles over (a power
// of two: the index is masked).
const hitKeys = 1024

func hitValue(k string) string { return "value-of-" + k }

// start returns a goroutine's first index: goroutines start apart.
func start(seq *atomic.Uint64) int { return int(seq.Add(257)) }

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the metric cpu-ns/op: the CPU time the whole process used
// per operation since start (background goroutines and GC included). Unlike
// ns/op (wall time) it leaves out the time the benchmark waited for a CPU,
// so it is the steadier figure on a loaded machine; with N goroutines
// running on N otherwise idle CPUs it is about N × ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkHit measures a warm local hit of each cache, in parallel
// (GOMAXPROCS goroutines, each cycling over the same 1024 keys), next to the
// reference: the same lookup in a map guarded by one sync.RWMutex.
//
// Every peer's cache is warmed and checked to serve every key locally
// before the timer starts; rediscache and go-redis also check afterwards that
// no read missed.
func BenchmarkHit(b *testing.B) {
	ctx := context.Background()
	addr := startRedis(b)
	writer := newWriter(b, addr)
	keys := benchKeys("hit:", hitKeys)

	b.Run("baseline-rwmutex-map", baselineHit(keys))

	// otter v2's GetIfPresent, the best-kept Go in-process cache, bounded
	// at twice the keys: half full, where it starts recording its reads.
	b.Run("otter-GetIfPresent", func(b *testing.B) {
		c := otter.Must(&otter.Options[string, string]{MaximumSize: 2 * hitKeys})
		for _, k := range keys {
			c.Set(k, hitValue(k))
		}
		var seq atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			i := start(&seq)
			for pb.Next() {
				if v, ok := c.GetIfPresent(keys[i&(hitKeys-1)]); !ok || v == "" {
					b.Error("otter: missing key")
					return
				}
				i++
			}
		})
		reportCPU(b, cpu)
	})

	pTracked, ccTracked := newRediscacheTracked(b, addr, writer)
	b.Run("rediscache", clientCacheHit(b, pTracked, ccTracked, keys))
	pMem, ccMem := newRediscacheMemory(b)
	b.Run("rediscache-memory", clientCacheHit(b, pMem, ccMem, keys))

	pRueidis, rc := newRueidis(b, rueidisAt(addr), writer)
	b.Run("rueidis-DoCache", rueidisHit(b, pRueidis, rc, keys))

	pGoRedis, gc := newGoRedisCSC(b, addr, writer)
	warmUp(b, pGoRedis, keys, hitValue)
	b.Run("go-redis-CSC", func(b *testing.B) {
		misses := gc.CSCStats().Misses
		var seq atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			i := start(&seq)
			for pb.Next() {
				s, err := gc.Get(ctx, keys[i&(hitKeys-1)]).Result()
				if err != nil || s == "" {
					b.Errorf("go-redis: %q, %v", s, err)
					return
				}
				i++
			}
		})
		b.StopTimer()
		reportCPU(b, cpu)
		if n := gc.CSCStats().Misses - misses; n > 0 {
			b.Errorf("go-redis-CSC: %d reads missed the local cache", n)
		}
	})
}

// baselineHit is the reference loop: the same lookup of keys in a map
// guarded by one sync.RWMutex.
func baselineHit(keys []string) func(b *testing.B) {
	return func(b *testing.B) {
		var mu sync.RWMutex
		m := make(map[string]any, len(keys))
		for _, k := range keys {
			m[k] = hitValue(k)
		}
		var seq atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			i := start(&seq)
			for pb.Next() {
				mu.RLock()
				v, ok := m[keys[i&(hitKeys-1)]]
				mu.RUnlock()
				if s, _ := v.(string); !ok || s == "" {
					b.Error("baseline: missing key")
					return
				}
				i++
			}
		})
		reportCPU(b, cpu)
	}
}

// clientCacheHit warms p (a ClientCache peer on site) with keys and returns
// the hit loop over them, which fails if any read missed the local cache.
func clientCacheHit(tb testing.TB, p peer, site *clientcache.Site, keys []string) func(b *testing.B) {
	cc := site.ClientCache()
	warmUp(tb, p, keys, hitValue)
	return func(b *testing.B) {
		ctx := context.Background()
		misses := cc.Statistics().Misses
		var seq atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			i := start(&seq)
			for pb.Next() {
				s, err := clientcache.GetValue[string](ctx, site, keys[i&(hitKeys-1)])
				if err != nil || s == "" {
					b.Errorf("%s: %q, %v", p.name, s, err)
					return
				}
				i++
			}
		})
		b.StopTimer()
		reportCPU(b, cpu)
		if n := cc.Statistics().Misses - misses; n > 0 {
			b.Errorf("%s: %d reads missed the local cache", p.name, n)
		}
	}
}

// rueidisHit warms p (the rueidis peer of rc) with keys and returns the
// DoCache hit loop over them.
func rueidisHit(tb testing.TB, p peer, rc rueidis.Client, keys []string) func(b *testing.B) {
	warmUp(tb, p, keys, hitValue)
	return func(b *testing.B) {
		ctx := context.Background()
		var seq atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			i := start(&seq)
			for pb.Next() {
				s, err := rc.DoCache(ctx, rc.B().Get().Key(keys[i&(hitKeys-1)]).Cache(), time.Minute).ToString()
				if err != nil || s == "" {
					b.Errorf("%s: %q, %v", p.name, s, err)
					return
				}
				i++
			}
		})
		reportCPU(b, cpu)
	}
}
