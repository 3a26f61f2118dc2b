package clientcache_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
)

// benchKeys is the size of the key set the hit benchmarks cycle over.
const benchKeys = 1024

// warmCache returns a started ClientCache's site over an in-memory backend
// whose keys (returned) all hold a local copy of a string value.
func warmCache(tb testing.TB, opts ...clientcache.Option) (*clientcache.Site, []string) {
	tb.Helper()
	ctx := context.Background()
	store := memory.New(memory.Config{})
	writer := store.Peer()
	tb.Cleanup(func() {
		_ = writer.Close()
		_ = store.Close()
	})
	cache, err := app.New(store, app.Config{Site: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	cc, err := clientcache.New(store, clientcache.Config{MaxEntries: 4 * benchKeys}, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	site, err := cc.Site("bench")
	if err != nil {
		tb.Fatal(err)
	}
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
		raw, _ := json.Marshal("value-" + strconv.Itoa(i))
		k, err := cache.MakeKey(keys[i])
		if err != nil {
			tb.Fatal(err)
		}
		if err := writer.Set(ctx, k, raw, domain.NoExpiry); err != nil {
			tb.Fatal(err)
		}
	}
	if err := cc.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cc.Stop(context.Background()) })
	for _, k := range keys {
		if _, err := clientcache.GetValue[string](ctx, site, k); err != nil {
			tb.Fatal(err)
		}
	}
	before := cc.Statistics()
	for _, k := range keys {
		if _, err := clientcache.GetValue[string](ctx, site, k); err != nil {
			tb.Fatal(err)
		}
	}
	if after := cc.Statistics(); after.Hits-before.Hits != benchKeys || after.Misses != before.Misses {
		tb.Fatalf("cache not warm: %d hits, %d new misses for %d keys",
			after.Hits-before.Hits, after.Misses-before.Misses, benchKeys)
	}
	return site, keys
}

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the metric cpu-ns/op: CPU time used by the whole process
// per operation, from start. Unlike ns/op (wall time) it does not count the
// time the benchmark waited for a CPU on a loaded machine, so it is the
// steadier figure on a shared box; with N goroutines on N free CPUs it is
// about N × ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkHit measures a warm local hit of GetValue[string], every
// goroutine cycling over the key set, next to the reference: the same
// lookup in a map guarded by one sync.RWMutex.
func BenchmarkHit(b *testing.B) {
	ctx := context.Background()
	b.Run("baseline-rwmutex-map", func(b *testing.B) {
		var mu sync.RWMutex
		m := make(map[string]any, benchKeys)
		keys := make([]string, benchKeys)
		for i := range keys {
			keys[i] = "key:" + strconv.Itoa(i)
			m[keys[i]] = "value-" + strconv.Itoa(i)
		}
		var seq atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		defer reportCPU(b, cpu)
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(257))
			for pb.Next() {
				mu.RLock()
				v, ok := m[keys[i&(benchKeys-1)]]
				mu.RUnlock()
				if s, _ := v.(string); !ok || s == "" {
					b.Error("miss")
					return
				}
				i++
			}
		})
	})
	b.Run("rediscache", func(b *testing.B) {
		site, keys := warmCache(b)
		var seq atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		defer reportCPU(b, cpu)
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(257))
			for pb.Next() {
				s, err := clientcache.GetValue[string](ctx, site, keys[i&(benchKeys-1)])
				if err != nil || s == "" {
					b.Error("miss", err)
					return
				}
				i++
			}
		})
	})
}

// TestHitAllocs proves a warm GetValue[string] hit allocates nothing, with
// telemetry off (OpenTelemetry's no-op providers) and on (the SDK's
// providers, a reader and an exporter installed: hits are counted by the
// metrics' callback, not on the hit path, and are not traced by default).
func TestHitAllocs(t *testing.T) {
	for name, opts := range map[string][]clientcache.Option{
		"telemetry off": nil,
		"telemetry on":  {clientcache.WithTelemetry(sdkTelemetry(t))},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			site, keys := warmCache(t, opts...)
			cc := site.ClientCache()
			before := cc.Statistics()
			i := 0
			allocs := testing.AllocsPerRun(1000, func() {
				if _, err := clientcache.GetValue[string](ctx, site, keys[i%len(keys)]); err != nil {
					t.Fatal(err)
				}
				i++
			})
			if allocs != 0 {
				t.Errorf("a warm GetValue[string] hit allocates %v times, want 0", allocs)
			}
			if after := cc.Statistics(); after.Misses != before.Misses {
				t.Errorf("%d misses during the run: the hits were not local", after.Misses-before.Misses)
			}
		})
	}
}

// sdkTelemetry is telemetry through the OpenTelemetry SDK: a meter
// provider with a manual reader, a tracer provider that samples every span
// into memory.
func sdkTelemetry(tb testing.TB) app.Telemetry {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))
	tb.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
	})
	return app.Telemetry{MeterProvider: mp, TracerProvider: tp}
}

// BenchmarkHitTelemetry measures a warm local hit of GetValue[string] with
// telemetry off (no-op providers) and on (the SDK's, see sdkTelemetry);
// compare the two in one run (benchstat, or the ratio of ns/op).
func BenchmarkHitTelemetry(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		opts []clientcache.Option
	}{
		{"off", nil},
		{"on", []clientcache.Option{clientcache.WithTelemetry(sdkTelemetry(b))}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			site, keys := warmCache(b, bc.opts...)
			var seq atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			defer reportCPU(b, cpu)
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(257))
				for pb.Next() {
					s, err := clientcache.GetValue[string](ctx, site, keys[i&(benchKeys-1)])
					if err != nil || s == "" {
						b.Error("miss", err)
						return
					}
					i++
				}
			})
		})
	}
}
