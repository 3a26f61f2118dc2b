package tests

// DeleteKeys over a million keys on a real redis-server: the heap stays
// bounded (Scan remembers nothing between batches), every key of the site
// goes, none of another site's.

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/tests/redistest"
	"github.com/rediscache/rediscache/tests/storetest"
)

const (
	// bigSiteKeys is how many keys the site to clear holds.
	bigSiteKeys = 1_000_000
	// otherSiteKeys is how many keys the neighbouring site holds; its
	// name extends the first one's ("big" and "bigx"), the closest a
	// pattern could come to matching it.
	otherSiteKeys = 20_000
	// heapBound is how much the live heap may grow during DeleteKeys.
	// Remembering every key (a map of a million strings) costs over
	// 60 MiB; one batch of 500 keys a few tens of KiB.
	heapBound = 16 << 20
)

// loadKeys writes n keys "<prefix><i>" (i from 0) with MSET in pipelines of
// 100 commands of 1000 keys each: a million keys in about a second.
func loadKeys(ctx context.Context, rdb *redis.Client, prefix string, n int) {
	GinkgoHelper()
	const perMSET, perPipeline = 1000, 100
	pipe := rdb.Pipeline()
	args := make([]any, 0, 2*perMSET)
	for i := 0; i < n; {
		args = args[:0]
		for j := 0; j < perMSET && i < n; j++ {
			args = append(args, prefix+strconv.Itoa(i), "1")
			i++
		}
		pipe.MSet(ctx, args...)
		if pipe.Len() == perPipeline || i == n {
			_, err := pipe.Exec(ctx)
			Expect(err).NotTo(HaveOccurred())
		}
	}
}

// countKeys counts the keys matching pattern with SCAN.
func countKeys(ctx context.Context, rdb *redis.Client, pattern string) int {
	GinkgoHelper()
	n := 0
	iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		n++
	}
	Expect(iter.Err()).NotTo(HaveOccurred())
	return n
}

// liveHeap returns the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

var _ = Describe("DeleteKeys over a million keys", Label("redis", "standalone", "bigscan"), func() {
	It("keeps the heap bounded, removes every key of the site and none of another's", func(ctx SpecContext) {
		srv := redistest.StartServer(GinkgoT())
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
		DeferCleanup(rdb.Close)

		start := time.Now()
		loadKeys(ctx, rdb, "big|k", bigSiteKeys-100)
		loadKeys(ctx, rdb, "big|user:jane:k", 100) // user scope: part of the site
		loadKeys(ctx, rdb, "bigx|k", otherSiteKeys)
		Expect(rdb.DBSize(ctx).Val()).To(Equal(int64(bigSiteKeys + otherSiteKeys)))
		load := time.Since(start)

		store, err := standalone.New(standalone.Config{Addr: srv.Addr()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(store.Close)
		// Sample the live heap every 100 UNLINKs (50,000 keys).
		counted := storetest.Wrap(store)
		var dels atomic.Int64
		var peak atomic.Uint64
		counted.OnCall("Del", func(context.Context, string) {
			if dels.Add(1)%100 == 0 {
				if h := liveHeap(); h > peak.Load() {
					peak.Store(h)
				}
			}
		})
		c, err := app.New(counted, app.Config{Site: "big"})
		Expect(err).NotTo(HaveOccurred())

		before := liveHeap()
		start = time.Now()
		n, err := c.DeleteKeys(ctx, "")
		took := time.Since(start)
		after := liveHeap()
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(Equal(int64(bigSiteKeys)))

		growth := int64(max(peak.Load(), after)) - int64(before)
		AddReportEntry("DeleteKeys of 1,000,000 keys", fmt.Sprintf(
			"load %v, delete %v (%d UNLINKs), live heap before %d KiB, peak growth %d KiB, after %+d KiB",
			load.Round(time.Millisecond), took.Round(time.Millisecond), dels.Load(),
			before>>10, growth>>10, (int64(after)-int64(before))>>10), ReportEntryVisibilityAlways)
		Expect(dels.Load()).To(BeNumerically(">=", 2000), "UNLINK in batches of 500")
		Expect(growth).To(BeNumerically("<", heapBound), "heap growth during DeleteKeys")

		Expect(countKeys(ctx, rdb, "big|*")).To(BeZero())
		Expect(countKeys(ctx, rdb, "bigx|*")).To(Equal(otherSiteKeys))
		Expect(rdb.DBSize(ctx).Val()).To(Equal(int64(otherSiteKeys)))
	}, SpecTimeout(3*time.Minute))
})
