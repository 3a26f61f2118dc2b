package tests

// Server refusals on real redis-servers: each refusal of the table is
// provoked on a server of its own, and every Cache call it concerns must
// return an error matching domain.ErrRefused (and so ErrUnavailable) within
// its bound, with the server's reply in the message, while GetOrGenerate and
// HGetOrGenerate serve the generated value and log the episode once.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

// refusalBound is how long a refused call may take. Refusals come back at
// once; go-redis retries LOADING, READONLY, MASTERDOWN and NOREPLICAS three
// times with backoffs of 8 to 512 ms (about 60 ms in all), so a second
// leaves room for a loaded machine while catching any call that waits for
// a timeout (ReadTimeout is 3 s).
const refusalBound = time.Second

// refusal is one row of the table: how to provoke a refusal, and which
// calls it refuses.
type refusal struct {
	reply string // the reply's prefix, as in the message
	// provoke starts what the spec needs and returns the store's Config;
	// it registers its own clean-up.
	provoke func() standalone.Config
	// reads is true when reads are refused too, not only writes.
	reads bool
	// writes is the reply to writes when it is another refusal than
	// reply (a stale replica says READONLY to writes).
	writes string
}

// waitReply waits until srv refuses the command args (default GET probe)
// with a reply starting with prefix.
func waitReply(srv *redistest.Server, prefix string, args ...string) {
	GinkgoHelper()
	if len(args) == 0 {
		args = []string{"GET", "probe"}
	}
	Eventually(func() string {
		_, err := srv.Do(args...)
		if err == nil {
			return "(no error)"
		}
		return err.Error()
	}).WithTimeout(10 * time.Second).WithPolling(10 * time.Millisecond).Should(ContainSubstring(prefix))
}

// background runs a blocking command on srv in a goroutine; the returned
// function waits for it (DeferCleanup it after what unblocks it).
func background(srv *redistest.Server, args ...string) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = srv.Do(args...) })
	return wg.Wait
}

var refusals = []refusal{
	{reply: "OOM", provoke: func() standalone.Config {
		srv := redistest.StartServer(GinkgoT())
		mustDo(srv, "CONFIG", "SET", "maxmemory-policy", "noeviction")
		mustDo(srv, "CONFIG", "SET", "maxmemory", "1")
		return standalone.Config{Addr: srv.Addr()}
	}},
	{reply: "NOPERM", provoke: func() standalone.Config {
		srv := redistest.StartServer(GinkgoT())
		// An ACL user that may read but not write.
		mustDo(srv, "ACL", "SETUSER", "reader", "on", ">reader-pw", "~*", "&*", "+@all", "-@write")
		return standalone.Config{Addr: srv.Addr(), Connection: connection.Options{Username: "reader", Password: "reader-pw"}}
	}},
	{reply: "READONLY", provoke: func() standalone.Config {
		master := redistest.StartServer(GinkgoT())
		replica := redistest.StartServer(GinkgoT(), redistest.WithReplicaOf(master.Addr()))
		Eventually(func() (string, error) { return replica.Do("ROLE") }).
			WithTimeout(10 * time.Second).Should(ContainSubstring("connected"))
		return standalone.Config{Addr: replica.Addr()}
	}},
	{reply: "MASTERDOWN", reads: true, writes: "READONLY", provoke: func() standalone.Config {
		master := redistest.StartServer(GinkgoT())
		replica := redistest.StartServer(GinkgoT(), redistest.WithReplicaOf(master.Addr()),
			redistest.WithArgs("--replica-serve-stale-data", "no"))
		Eventually(func() (string, error) { return replica.Do("ROLE") }).
			WithTimeout(10 * time.Second).Should(ContainSubstring("connected"))
		master.Kill()
		waitReply(replica, "MASTERDOWN")
		return standalone.Config{Addr: replica.Addr()}
	}},
	{reply: "NOREPLICAS", provoke: func() standalone.Config {
		srv := redistest.StartServer(GinkgoT(), redistest.WithArgs("--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"))
		return standalone.Config{Addr: srv.Addr()}
	}},
	{reply: "MISCONF", provoke: func() standalone.Config {
		// A failed BGSAVE with save points set: the server refuses
		// writes (stop-writes-on-bgsave-error, the default). The save
		// fails because its directory is gone (root ignores modes).
		srv := redistest.StartServer(GinkgoT(), redistest.WithArgs("--enable-protected-configs", "yes"))
		gone := filepath.Join(GinkgoT().TempDir(), "gone")
		Expect(os.Mkdir(gone, 0o700)).To(Succeed())
		mustDo(srv, "CONFIG", "SET", "dir", gone)
		Expect(os.Remove(gone)).To(Succeed())
		mustDo(srv, "CONFIG", "SET", "save", "3600 1")
		// Without save points the server neither refuses nor tries to
		// save on SIGTERM (which would fail and keep it running).
		DeferCleanup(func() { _, _ = srv.Do("CONFIG", "SET", "save", "") })
		mustDo(srv, "BGSAVE")
		waitReply(srv, "MISCONF", "SET", "probe", "x")
		return standalone.Config{Addr: srv.Addr()}
	}},
	{reply: "BUSY", reads: true, provoke: func() standalone.Config {
		srv := redistest.StartServer(GinkgoT())
		mustDo(srv, "CONFIG", "SET", "busy-reply-threshold", "50")
		wait := background(srv, "EVAL", "while true do end", "0")
		DeferCleanup(wait)
		DeferCleanup(func() { _, _ = srv.Do("SCRIPT", "KILL") }) // runs first
		waitReply(srv, "BUSY")
		return standalone.Config{Addr: srv.Addr()}
	}},
	{reply: "LOADING", reads: true, provoke: func() standalone.Config {
		// DEBUG RELOAD of a data set that loads slowly (key-load-delay,
		// in microseconds per key): 20,000 keys take 20 s, far longer
		// than the spec; the clean-up kills the server.
		srv := redistest.StartServer(GinkgoT(), redistest.WithArgs("--enable-debug-command", "yes"))
		mustDo(srv, "DEBUG", "POPULATE", "20000")
		mustDo(srv, "SAVE")
		mustDo(srv, "CONFIG", "SET", "loading-process-events-interval-bytes", "1024")
		mustDo(srv, "CONFIG", "SET", "key-load-delay", "1000")
		wait := background(srv, "DEBUG", "RELOAD", "NOSAVE")
		DeferCleanup(wait)
		DeferCleanup(srv.Kill) // runs first, ends the reload
		waitReply(srv, "LOADING")
		return standalone.Config{Addr: srv.Addr()}
	}},
}

// mustDo runs a set-up command.
func mustDo(srv *redistest.Server, args ...string) {
	GinkgoHelper()
	_, err := srv.Do(args...)
	Expect(err).NotTo(HaveOccurred(), "%s", strings.Join(args, " "))
}

var _ = Describe("server refusals", Label("redis", "refusals"), func() {
	for _, r := range refusals {
		It("turns "+r.reply+" into ErrRefused within its bound, and GetOrGenerate serves the value", func(ctx SpecContext) {
			cfg := r.provoke()
			store, err := standalone.New(cfg)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(store.Close)
			core, logs := observer.New(zap.InfoLevel)
			c, err := app.New(store, app.Config{Site: "refusals"}, app.WithLogger(zap.New(core)))
			Expect(err).NotTo(HaveOccurred())

			calls := []struct {
				name string
				read bool
				call func() error
			}{
				{"SetValue", false, func() error { return c.SetValue(ctx, "k", "v") }},
				{"HSet", false, func() error { return c.HSet(ctx, "h", "f", 1) }},
				{"LPush", false, func() error { _, err := c.LPush(ctx, "l", "x"); return err }},
				{"SAdd", false, func() error { _, err := c.SAdd(ctx, "s", "x"); return err }},
				{"GetValue", true, func() error { _, err := app.GetValue[string](ctx, c, "k"); return err }},
				{"HGet", true, func() error { _, err := app.HGet[int](ctx, c, "h", "f"); return err }},
				{"GetKeys", true, func() error { _, err := c.GetKeys(ctx, ""); return err }},
			}
			for _, call := range calls {
				if call.read && !r.reads {
					continue
				}
				start := time.Now()
				err := call.call()
				took := time.Since(start)
				Expect(err).To(MatchError(domain.ErrRefused), call.name)
				Expect(err).To(MatchError(domain.ErrUnavailable), call.name+": a refusal is a kind of unavailability")
				want := r.reply
				if !call.read && r.writes != "" {
					want = r.writes
				}
				Expect(err.Error()).To(ContainSubstring(want), call.name+": the server's reply is kept")
				Expect(took).To(BeNumerically("<", refusalBound), call.name)
			}

			// A cache that cannot store behaves like no cache.
			for range 3 {
				start := time.Now()
				v, err := app.GetOrGenerate(ctx, c, "gen", func(context.Context) (string, error) { return "generated", nil })
				Expect(err).NotTo(HaveOccurred())
				Expect(v).To(Equal("generated"))
				h, err := app.HGetOrGenerate(ctx, c, "hgen", "f", func(context.Context) (int, error) { return 7, nil })
				Expect(err).NotTo(HaveOccurred())
				Expect(h).To(Equal(7))
				Expect(time.Since(start)).To(BeNumerically("<", 2*refusalBound))
			}
			Expect(logs.Len()).To(Equal(1), "the episode is logged once, not per call")
			entry := logs.All()[0]
			Expect(entry.Level).To(Equal(zap.WarnLevel))
			Expect(entry.ContextMap()).To(HaveKeyWithValue("refused", true))
			Expect(entry.ContextMap()["error"]).To(ContainSubstring(r.reply))

			// The ClientCache over the same store serves its generated
			// values too, and says so once.
			ccCore, ccLogs := observer.New(zap.InfoLevel)
			cc, err := clientcache.New(store, clientcache.Config{}, clientcache.WithLogger(zap.New(ccCore)))
			Expect(err).NotTo(HaveOccurred())
			Expect(cc.Start(ctx)).To(Succeed())
			DeferCleanup(cc.Stop)
			site, err := cc.Site("refusals")
			Expect(err).NotTo(HaveOccurred())
			for range 3 {
				start := time.Now()
				v, err := clientcache.GetOrGenerate(ctx, site, "ccgen", func(context.Context) (string, error) { return "generated", nil })
				Expect(err).NotTo(HaveOccurred())
				Expect(v).To(Equal("generated"))
				Expect(time.Since(start)).To(BeNumerically("<", 2*refusalBound))
			}
			Expect(ccLogs.FilterMessageSnippet("serving generated values").Len()).To(Equal(1), "the ClientCache logs it once")
		}, SpecTimeout(60*time.Second))
	}
})
