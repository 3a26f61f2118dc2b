package bench

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Staleness under load: the cache's readers keep every CPU busy.
const (
	// loadedKeys is how many hot keys the readers cycle over.
	loadedKeys = 100
	// loadedReaders read through the cache as fast as they can.
	loadedReaders = 4
	// loadedPace is the writer's target interval between two SETs.
	loadedPace = time.Millisecond
	// loadedTimeout bounds one sample: a write not seen by then counts as
	// a timeout (and the sample as this long).
	loadedTimeout = 2 * time.Second
)

// BenchmarkStalenessUnderLoad measures, for each cache, the staleness
// window after another client's write while the process is saturated:
// loadedReaders goroutines read the 100 hot keys through the cache as fast
// as they can (hits, so they never block: with 4 of them on 2 CPUs no CPU is
// ever idle), while a separate, uncached client SETs one of the keys to a
// new version about every millisecond. For each SET, the sample is the time
// from the SET's return to the first read through the cache that returns
// the new version (the readers themselves record when they first see each
// version). One op is one SET:
//
//	go test -run '^$' -bench StalenessUnderLoad -benchtime 3000x
//
// What bounds the tail is how soon the goroutine that receives the
// invalidation gets a CPU: Go runs a goroutine woken by the network poller
// only when a CPU looks for work, which busy readers that never block do
// not do between preemptions (every 10 ms); see ARCHITECTURE.md.
func BenchmarkStalenessUnderLoad(b *testing.B) {
	addr := startRedis(b)
	writer := newWriter(b, addr)
	keys := benchKeys("hot:", loadedKeys)
	initial := func(string) string { return "v0" }

	pTracked, _ := newRediscacheTracked(b, addr, writer)
	pRueidis, _ := newRueidis(b, rueidisAt(addr), writer)
	for _, p := range []peer{pTracked, pRueidis} {
		warmUp(b, p, keys, initial)
		b.Run(p.name, func(b *testing.B) { stalenessUnderLoad(b, p, keys) })
	}
}

// loadedRun numbers the runs of stalenessUnderLoad, for unique versions.
var loadedRun atomic.Uint32

func stalenessUnderLoad(b *testing.B, p peer, keys []string) {
	ctx := context.Background()
	n := b.N
	// seen[k] is the highest version of key k a reader returned, and
	// seenAt[k][v] when version v was first returned.
	seen := make([]atomic.Int64, len(keys))
	seenAt := make([][]atomic.Int64, len(keys))
	perKey := n/len(keys) + 2
	for i := range seenAt {
		seenAt[i] = make([]atomic.Int64, perKey)
	}
	start := time.Now()
	since := func() int64 { return int64(time.Since(start)) }
	// Versions are unique across runs (b.N runs, -count): this run writes
	// base+1, base+2, ... of each key, and index x of seenAt and acked
	// stands for version base+x.
	base := int64(loadedRun.Add(1)) << 32
	for k := range keys {
		seen[k].Store(base)
	}

	stop := make(chan struct{})
	var readers sync.WaitGroup
	var reads atomic.Int64
	var readErrs atomic.Int64
	for r := range loadedReaders {
		readers.Go(func() {
			i := r * 31
			var local int64
			defer func() { reads.Add(local) }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for range 64 {
					k := i % len(keys)
					i++
					v, err := p.get(ctx, keys[k])
					local++
					if err != nil {
						readErrs.Add(1)
						continue
					}
					ver, _ := strconv.ParseInt(strings.TrimPrefix(v, "v"), 10, 64)
					if cur := seen[k].Load(); ver > cur && seen[k].CompareAndSwap(cur, ver) {
						// versions of key k in [cur+1, ver] are seen now
						// (a reader may skip one the writer superseded).
						now := since()
						for x := cur + 1 - base; x <= ver-base && x < int64(perKey); x++ {
							seenAt[k][x].CompareAndSwap(0, now)
						}
					}
				}
			}
		})
	}

	// The writer: one SET about every loadedPace, round-robin over the keys.
	acked := make([][]int64, len(keys))
	for i := range acked {
		acked[i] = make([]int64, perKey)
	}
	b.ResetTimer()
	next := time.Now()
	for i := range n {
		k := i % len(keys)
		ver := int64(i/len(keys) + 1)
		if err := p.set(ctx, keys[k], "v"+strconv.FormatInt(base+ver, 10)); err != nil {
			b.Fatalf("%s: SET: %v", p.name, err)
		}
		acked[k][ver] = since()
		next = next.Add(loadedPace)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
	// Let the last writes be seen (or time out).
	deadline := time.Now().Add(loadedTimeout)
	for time.Now().Before(deadline) {
		done := true
		for k := range keys {
			want := base + int64((n-1-k)/len(keys)) + 1
			if n-1-k >= 0 && seen[k].Load() < want {
				done = false
				break
			}
		}
		if done {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	readers.Wait()
	b.StopTimer()

	var samples []time.Duration
	timeouts := 0
	for k := range keys {
		for v := int64(1); v < int64(perKey); v++ {
			a := acked[k][v]
			if a == 0 {
				continue
			}
			s := seenAt[k][v].Load()
			switch {
			case s == 0:
				timeouts++
				samples = append(samples, loadedTimeout)
			case s < a:
				samples = append(samples, 0) // seen before the SET's reply was read
			default:
				samples = append(samples, time.Duration(s-a))
			}
		}
	}
	slices.Sort(samples)
	pct := func(q float64) float64 {
		return float64(samples[min(len(samples)-1, int(q*float64(len(samples))))].Nanoseconds())
	}
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.90), "p90-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
	b.ReportMetric(float64(samples[len(samples)-1].Nanoseconds()), "max-ns")
	b.ReportMetric(float64(reads.Load())/float64(n), "reads/op")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
	if e := readErrs.Load(); e > 0 {
		b.ReportMetric(float64(e), "read-errors")
	}
	if timeouts > 0 {
		b.ReportMetric(float64(timeouts), "timeouts")
		b.Errorf("%s: %d of %d writes not seen within %v", p.name, timeouts, len(samples), loadedTimeout)
	}
}
