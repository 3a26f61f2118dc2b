package bench

import (
	"context"
	"flag"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Staleness bounds.
const (
	// stalenessKeys is how many keys the writes rotate over.
	stalenessKeys = 4
	// stalenessTimeout bounds one sample: a cache still serving the old
	// value after it counts as a timeout (and the sample as this long).
	stalenessTimeout = time.Second
	// stalenessBudget bounds one peer's run: past it, the remaining
	// samples are skipped (and the run reported as cut short).
	stalenessBudget = 20 * time.Second
)

// pollMode is how the reader waits between two polling reads:
//
//   - "yield" (default): runtime.Gosched, then sched_yield(2), so that the
//     threads that deliver invalidations (and redis-server) get this CPU at
//     once when they are runnable;
//   - "spin": runtime.Gosched only; on a machine with few CPUs the reader
//     then keeps a whole CPU from the kernel's point of view, and the
//     delivery of invalidations waits for the scheduler (milliseconds of
//     tail on 2 CPUs, for every peer);
//   - a duration ("20us"): time.Sleep; the Go timer rounds small sleeps up
//     (about 1 ms here), so it only bounds the tail.
var pollMode = flag.String("poll", "yield", `BenchmarkStaleness: how the reader waits between two reads: "yield", "spin" or a duration to sleep`)

// pollWait returns the wait between two polling reads for pollMode.
func pollWait(tb testing.TB) func() {
	switch *pollMode {
	case "yield":
		return func() {
			runtime.Gosched()
			schedYield()
		}
	case "spin":
		return runtime.Gosched
	}
	d, err := time.ParseDuration(*pollMode)
	if err != nil || d <= 0 {
		tb.Fatalf(`-poll=%q: want "yield", "spin" or a positive duration`, *pollMode)
	}
	return func() { time.Sleep(d) }
}

// BenchmarkStaleness measures, for each cache, the staleness window after
// another client's write: a separate, uncached client SETs a key to a new
// version; t0 is when that SET returns; the benchmark goroutine then reads
// the key through the cache in a tight loop (yielding the CPU between two
// reads, see -poll) until it returns the new version (t1). One op is one such write and poll; the metrics are the
// percentiles of t1 - t0 over the b.N samples:
//
//	go test -run '^$' -bench Staleness -benchtime 2000x
//
// The polling read that finally misses fetches the new value, which keeps
// the key tracked for the next sample. The writes rotate over 4 keys. All
// peers share one redis-server and one writer (go-redis, RESP2).
func BenchmarkStaleness(b *testing.B) {
	addr := startRedis(b)
	writer := newWriter(b, addr)
	keys := benchKeys("stale:", stalenessKeys)
	initial := func(string) string { return "v-initial" }

	pTracked, _ := newRediscacheTracked(b, addr, writer)
	pMem, _ := newRediscacheMemory(b)
	pRueidis, _ := newRueidis(b, rueidisAt(addr), writer)
	pGoRedis, _ := newGoRedisCSC(b, addr, writer)
	for _, p := range []peer{pTracked, pRueidis, pGoRedis, pMem} {
		warmUp(b, p, keys, initial)
		b.Run(p.name, func(b *testing.B) { staleness(b, p, keys) })
	}
}

// version is the run-unique value of sample i: every sample writes a value
// the key never held before.
var version uint64

func staleness(b *testing.B, p peer, keys []string) {
	ctx := context.Background()
	// samples are the staleness windows; lastRead the part of each before
	// the read that returned the new value started (about when the
	// invalidation had been applied), so the rest is that read's own
	// duration (the fetch of a miss).
	samples := make([]time.Duration, 0, b.N)
	lastRead := make([]time.Duration, 0, b.N)
	lastReadTime := make([]time.Duration, 0, b.N)
	timeouts, polls := 0, 0
	deadline := time.Now().Add(stalenessBudget)
	wait := pollWait(b)
	b.ResetTimer()
	for i := range b.N {
		if time.Now().After(deadline) {
			b.Logf("%s: %d of %d samples taken within %v", p.name, i, b.N, stalenessBudget)
			break
		}
		k := keys[i%len(keys)]
		version++
		want := "v" + strconv.FormatUint(version, 10)
		if err := p.set(ctx, k, want); err != nil {
			b.Fatalf("%s: SET %s: %v", p.name, k, err)
		}
		t0 := time.Now()
		var d, readStart time.Duration
		for {
			readStart = time.Since(t0)
			v, err := p.get(ctx, k)
			polls++
			d = time.Since(t0)
			if err == nil && v == want {
				break
			}
			if d > stalenessTimeout {
				timeouts++
				break
			}
			wait()
		}
		samples = append(samples, d)
		lastRead = append(lastRead, readStart)
		lastReadTime = append(lastReadTime, d-readStart)
	}
	b.StopTimer()
	pct := func(ds []time.Duration, q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Nanoseconds())
	}
	for _, ds := range [][]time.Duration{samples, lastRead, lastReadTime} {
		slices.Sort(ds)
	}
	b.ReportMetric(pct(samples, 0.50), "p50-ns")
	b.ReportMetric(pct(samples, 0.90), "p90-ns")
	b.ReportMetric(pct(samples, 0.99), "p99-ns")
	b.ReportMetric(float64(samples[len(samples)-1].Nanoseconds()), "max-ns")
	// The two parts of the window, each at its own p50 and p99: until the
	// invalidation was seen (inv) and the read that fetched the new value
	// (fetch).
	b.ReportMetric(pct(lastRead, 0.50), "inv-p50-ns")
	b.ReportMetric(pct(lastRead, 0.99), "inv-p99-ns")
	b.ReportMetric(pct(lastReadTime, 0.50), "fetch-p50-ns")
	b.ReportMetric(pct(lastReadTime, 0.99), "fetch-p99-ns")
	b.ReportMetric(float64(polls)/float64(len(samples)), "reads/op")
	if timeouts > 0 {
		b.ReportMetric(float64(timeouts), "timeouts")
		b.Errorf("%s: %d of %d samples still stale after %v", p.name, timeouts, len(samples), stalenessTimeout)
	}
}
