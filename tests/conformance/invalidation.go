package conformance

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// eventTimeout bounds the wait for a report of another client's change.
const eventTimeout = 5 * time.Second

// Recorder is a ports.InvalidationSink that remembers what it was told, for
// specs. It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	keys  []string
	drops []Drop
}

// Drop is one Drop call a Recorder received.
type Drop struct {
	Scope  *domain.Lease
	Reason string
}

var _ ports.InvalidationSink = (*Recorder)(nil)

// Invalidate records keys.
func (r *Recorder) Invalidate(keys []string) {
	r.mu.Lock()
	r.keys = append(r.keys, keys...)
	r.mu.Unlock()
}

// Drop records the call.
func (r *Recorder) Drop(scope *domain.Lease, reason string) {
	r.mu.Lock()
	r.drops = append(r.drops, Drop{scope, reason})
	r.mu.Unlock()
}

// Count returns how many times key was reported.
func (r *Recorder) Count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, k := range r.keys {
		if k == key {
			n++
		}
	}
	return n
}

// Keys returns every key reported, in order.
func (r *Recorder) Keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys)
}

// Drops returns every Drop received, in order.
func (r *Recorder) Drops() []Drop {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.drops)
}

// peerChange is one kind of change another client makes to a key the
// store under test fetched.
type peerChange struct {
	name    string
	prepare func(ctx context.Context, peer ports.Store, key string) // before the fetch
	change  func(ctx context.Context, peer ports.Store, key string)
}

var peerChanges = []peerChange{
	{"Set", setV, func(ctx context.Context, peer ports.Store, key string) {
		gomega.Expect(peer.Set(ctx, key, []byte("changed"), 0)).To(gomega.Succeed())
	}},
	{"Set of a key fetched while missing", func(context.Context, ports.Store, string) {}, func(ctx context.Context, peer ports.Store, key string) {
		gomega.Expect(peer.Set(ctx, key, []byte("created"), 0)).To(gomega.Succeed())
	}},
	{"Del", setV, func(ctx context.Context, peer ports.Store, key string) {
		gomega.Expect(peer.Del(ctx, key)).To(gomega.Equal(int64(1)))
	}},
	{"Expire", setV, func(ctx context.Context, peer ports.Store, key string) {
		gomega.Expect(peer.Expire(ctx, key, time.Hour)).To(gomega.BeTrue())
	}},
	{"Del and RPush (a new type)", setV, func(ctx context.Context, peer ports.Store, key string) {
		gomega.Expect(peer.Del(ctx, key)).To(gomega.Equal(int64(1)))
		gomega.Expect(peer.RPush(ctx, key, "x")).To(gomega.Equal(int64(1)))
	}},
	{"HSet of a key fetched while missing", func(context.Context, ports.Store, string) {}, func(ctx context.Context, peer ports.Store, key string) {
		gomega.Expect(peer.HSet(ctx, key, "f", []byte("v"))).To(gomega.Succeed())
	}},
}

func setV(ctx context.Context, peer ports.Store, key string) {
	ginkgo.GinkgoHelper()
	gomega.Expect(peer.Set(ctx, key, []byte("v"), 0)).To(gomega.Succeed())
}

// writes are the write methods of the data ports, each called on key.
var writes = []struct {
	name string
	kind kind
	call func(ctx context.Context, s ports.Store, key string) error
}{
	{"Set", kindAny, func(ctx context.Context, s ports.Store, key string) error { return s.Set(ctx, key, []byte("n"), 0) }},
	{"Del", kindAny, func(ctx context.Context, s ports.Store, key string) error { _, err := s.Del(ctx, key); return err }},
	{"Expire", kindAny, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.Expire(ctx, key, time.Hour)
		return err
	}},
	{"HSet", kindHash, func(ctx context.Context, s ports.Store, key string) error { return s.HSet(ctx, key, "g", []byte("n")) }},
	{"HDel", kindHash, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.HDel(ctx, key, "f")
		return err
	}},
	{"HDelBatch", kindHash, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.HDelBatch(ctx, []ports.HashFields{{Key: key, Fields: []string{"f"}}})
		return err
	}},
	{"SAdd", kindSet, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SAdd(ctx, key, "o")
		return err
	}},
	{"SRem", kindSet, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SRem(ctx, key, "m")
		return err
	}},
	{"SPop", kindSet, func(ctx context.Context, s ports.Store, key string) error { _, err := s.SPop(ctx, key); return err }},
	{"LPush", kindList, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.LPush(ctx, key, "a")
		return err
	}},
	{"RPush", kindList, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.RPush(ctx, key, "a")
		return err
	}},
	{"LPop", kindList, func(ctx context.Context, s ports.Store, key string) error { _, err := s.LPop(ctx, key); return err }},
	{"RPop", kindList, func(ctx context.Context, s ports.Store, key string) error { _, err := s.RPop(ctx, key); return err }},
	{"LTrim", kindList, func(ctx context.Context, s ports.Store, key string) error { return s.LTrim(ctx, key, 0, 0) }},
}

func describeTracker(newBackend Factory, _ Features) {
	var (
		b   Backend
		s   ports.Store
		p   string
		rec *Recorder
	)
	ginkgo.BeforeEach(func() {
		b = setup(context.Background(), newBackend)
		if b.Tracker == nil {
			ginkgo.Skip("backend has no Tracker")
		}
		s = b.Store
		p = Prefix()
		rec = &Recorder{}
	})

	// track registers rec and checks tracking is live.
	track := func(ctx context.Context) func() {
		ginkgo.GinkgoHelper()
		untrack, err := b.Tracker.Track(ctx, rec)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		gomega.Expect(untrack).NotTo(gomega.BeNil())
		ginkgo.DeferCleanup(untrack)
		gomega.Expect(b.Tracker.Tracking()).To(gomega.BeTrue())
		return untrack
	}
	fetch := func(ctx context.Context, key string) domain.Fetched {
		ginkgo.GinkgoHelper()
		f, err := b.Tracker.Fetch(ctx, key)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		gomega.Expect(f.Lease.Valid()).To(gomega.BeTrue(), "a fresh fetch's lease is valid")
		return f
	}
	needPeer := func() {
		ginkgo.GinkgoHelper()
		if b.Peer == nil {
			ginkgo.Skip("backend has no Peer")
		}
	}
	// barrier makes sure every report of a change Peer made before it has
	// arrived: Peer changes a freshly fetched marker key, and reports come
	// in order.
	barrier := func(ctx context.Context) {
		ginkgo.GinkgoHelper()
		marker := p + "marker"
		_ = fetch(ctx, marker)
		before := rec.Count(marker)
		gomega.Expect(b.Peer.Set(ctx, marker, []byte(time.Now().String()), 0)).To(gomega.Succeed())
		gomega.Eventually(ctx, func() int { return rec.Count(marker) }).WithTimeout(eventTimeout).
			Should(gomega.BeNumerically(">", before), "the marker's change was not reported")
	}

	it("Fetch returns the value, its TTL and a valid lease", func(ctx ginkgo.SpecContext) {
		track(ctx)
		gomega.Expect(s.Set(ctx, p+"forever", []byte("v"), 0)).To(gomega.Succeed())
		gomega.Expect(s.Set(ctx, p+"volatile", []byte("w"), 10*time.Second)).To(gomega.Succeed())
		f := fetch(ctx, p+"forever")
		gomega.Expect(f.Found).To(gomega.BeTrue())
		gomega.Expect(f.Value).To(gomega.Equal([]byte("v")))
		gomega.Expect(f.TTL).To(gomega.BeZero())
		f = fetch(ctx, p+"volatile")
		gomega.Expect(f.Value).To(gomega.Equal([]byte("w")))
		gomega.Expect(f.TTL).To(gomega.And(gomega.BeNumerically(">", 9*time.Second), gomega.BeNumerically("<=", 10*time.Second)))
		f = fetch(ctx, p+"missing")
		gomega.Expect(f.Found).To(gomega.BeFalse())
		gomega.Expect(f.Value).To(gomega.BeNil())
		gomega.Expect(s.Set(ctx, p+"empty", []byte{}, 0)).To(gomega.Succeed())
		f = fetch(ctx, p+"empty")
		gomega.Expect(f.Found).To(gomega.BeTrue())
		gomega.Expect(f.Value).To(gomega.BeEmpty())
	})

	it("Fetch of a key of another type is ErrWrongType", func(ctx ginkgo.SpecContext) {
		track(ctx)
		populate(ctx, s, p+"h", kindHash)
		_, err := b.Tracker.Fetch(ctx, p+"h")
		gomega.Expect(err).To(gomega.MatchError(domain.ErrWrongType))
	})

	it("Fetch of an empty key is ErrInvalidArgument", func(ctx ginkgo.SpecContext) {
		track(ctx)
		_, err := b.Tracker.Fetch(ctx, "")
		gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
	})

	ginkgo.Describe("a change by another client of a fetched key", func() {
		for _, c := range peerChanges {
			it("is reported after Peer's "+c.name, func(ctx ginkgo.SpecContext) {
				needPeer()
				key := p + "k"
				c.prepare(ctx, b.Peer, key)
				track(ctx)
				_ = fetch(ctx, key)
				c.change(ctx, b.Peer, key)
				gomega.Eventually(ctx, func() int { return rec.Count(key) }).WithTimeout(eventTimeout).
					Should(gomega.BeNumerically(">=", 1))
			})
		}
	})

	it("reports the expiry of a fetched key", func(ctx ginkgo.SpecContext) {
		needPeer()
		key := p + "expiring"
		gomega.Expect(b.Peer.Set(ctx, key, []byte("v"), 300*time.Millisecond)).To(gomega.Succeed())
		track(ctx)
		gomega.Expect(fetch(ctx, key).TTL).To(gomega.BeNumerically("<=", 300*time.Millisecond))
		gomega.Eventually(ctx, func() int { return rec.Count(key) }).WithTimeout(eventTimeout).Should(gomega.Equal(1))
		gomega.Expect(b.Peer.Exists(ctx, key)).To(gomega.BeZero())
	})

	it("reports a fetched key once per fetch (one-shot, as Redis' default mode)", func(ctx ginkgo.SpecContext) {
		needPeer()
		key := p + "k"
		setV(ctx, b.Peer, key)
		track(ctx)
		_ = fetch(ctx, key)
		gomega.Expect(b.Peer.Set(ctx, key, []byte("1"), 0)).To(gomega.Succeed())
		gomega.Expect(b.Peer.Set(ctx, key, []byte("2"), 0)).To(gomega.Succeed())
		barrier(ctx)
		gomega.Expect(rec.Count(key)).To(gomega.Equal(1), "reported more than once for one fetch")
		_ = fetch(ctx, key)
		gomega.Expect(b.Peer.Set(ctx, key, []byte("3"), 0)).To(gomega.Succeed())
		barrier(ctx)
		gomega.Expect(rec.Count(key)).To(gomega.Equal(2), "not reported again after a new fetch")
	})

	// (Get is a read like these on a plain store; on a ClientCache's Store
	// it is a tracked fetch by design. tests/ checks on Redis that plain
	// Gets leave the server's tracking table empty.)
	it("does not track what the data ports read (OPTIN): only Fetch tracks", func(ctx ginkgo.SpecContext) {
		needPeer()
		read := p + "read"
		setV(ctx, b.Peer, read)
		track(ctx)
		gomega.Expect(s.Exists(ctx, read)).To(gomega.Equal(int64(1)))
		gomega.Expect(s.TTL(ctx, read)).To(gomega.BeZero())
		gomega.Expect(b.Peer.Set(ctx, read, []byte("changed"), 0)).To(gomega.Succeed())
		barrier(ctx)
		gomega.Expect(rec.Count(read)).To(gomega.BeZero(), "a key read through Get was tracked")
	})

	ginkgo.Describe("a write through the store itself", func() {
		for _, w := range writes {
			it("is reported by "+w.name+" before it returns", func(ctx ginkgo.SpecContext) {
				key := p + "own"
				k := w.kind
				if k == kindAny {
					k = kindString
				}
				populate(ctx, s, key, k)
				track(ctx)
				before := rec.Count(key)
				gomega.Expect(w.call(ctx, s, key)).To(gomega.Succeed())
				gomega.Expect(rec.Count(key)).To(gomega.BeNumerically(">", before),
					"%s returned before the store reported it", w.name)
			})
		}
		it("is reported when the key was fetched, and a later foreign change is reported after a new fetch", func(ctx ginkgo.SpecContext) {
			needPeer()
			key := p + "k"
			track(ctx)
			gomega.Expect(s.Set(ctx, key, []byte("own"), 0)).To(gomega.Succeed())
			gomega.Expect(rec.Count(key)).To(gomega.BeNumerically(">=", 1))
			gomega.Expect(fetch(ctx, key).Value).To(gomega.Equal([]byte("own")))
			n := rec.Count(key)
			gomega.Expect(b.Peer.Set(ctx, key, []byte("foreign"), 0)).To(gomega.Succeed())
			gomega.Eventually(ctx, func() int { return rec.Count(key) }).WithTimeout(eventTimeout).
				Should(gomega.BeNumerically(">", n))
		})
	})

	it("reports to every registered sink, and untrack leaves the others live", func(ctx ginkgo.SpecContext) {
		needPeer()
		other := &Recorder{}
		untrackOther, err := b.Tracker.Track(ctx, other)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		untrack := track(ctx)
		key := p + "k"
		setV(ctx, b.Peer, key)
		_ = fetch(ctx, key)
		gomega.Expect(b.Peer.Set(ctx, key, []byte("1"), 0)).To(gomega.Succeed())
		gomega.Eventually(ctx, func() int { return other.Count(key) }).WithTimeout(eventTimeout).Should(gomega.Equal(1))
		gomega.Eventually(ctx, func() int { return rec.Count(key) }).WithTimeout(eventTimeout).Should(gomega.Equal(1))

		untrackOther()
		untrackOther() // idempotent
		gomega.Expect(b.Tracker.Tracking()).To(gomega.BeTrue(), "untracking one sink ended tracking for the other")
		_ = fetch(ctx, key)
		gomega.Expect(b.Peer.Set(ctx, key, []byte("2"), 0)).To(gomega.Succeed())
		gomega.Eventually(ctx, func() int { return rec.Count(key) }).WithTimeout(eventTimeout).Should(gomega.Equal(2))
		gomega.Expect(other.Count(key)).To(gomega.Equal(1), "an untracked sink was told")
		untrack()
	})

	it("tells every sink to drop what was fetched on a flush", func(ctx ginkgo.SpecContext) {
		if b.Flush == nil {
			ginkgo.Skip("backend has no Flush")
		}
		track(ctx)
		populate(ctx, s, p+"k", kindString)
		f := fetch(ctx, p+"k")
		gomega.Expect(b.Flush(ctx)).To(gomega.Succeed())
		gomega.Eventually(ctx, rec.Drops).WithTimeout(eventTimeout).Should(gomega.ContainElement(gomega.And(
			gomega.HaveField("Reason", domain.ReasonFlushAll),
			gomega.WithTransform(func(d Drop) bool { return d.Scope.Covers(f.Lease) }, gomega.BeTrue()))))
		gomega.Expect(s.Exists(ctx, p+"k")).To(gomega.BeZero(), "Flush did not empty the database")
	}, ginkgo.Serial, ginkgo.Label("destructive"))

	it("tells the sinks to drop everything, and revokes the leases, when the store is closed", func(ctx ginkgo.SpecContext) {
		if b.Close == nil {
			ginkgo.Skip("backend has no Close")
		}
		track(ctx)
		populate(ctx, s, p+"k", kindString)
		f := fetch(ctx, p+"k")
		// Close is registered as a cleanup too: it must be idempotent.
		gomega.Expect(b.Close()).To(gomega.Succeed())
		gomega.Expect(f.Lease.Valid()).To(gomega.BeFalse(), "a lease outlived its store")
		gomega.Expect(rec.Drops()).To(gomega.ContainElement(gomega.WithTransform(
			func(d Drop) bool { return d.Scope.Covers(f.Lease) }, gomega.BeTrue())))
		gomega.Expect(b.Tracker.Tracking()).To(gomega.BeFalse())
		_, err := b.Tracker.Fetch(ctx, p+"k")
		gomega.Expect(err).To(gomega.HaveOccurred())
	})

	it("Track and Fetch fail with context.Canceled", func(ctx ginkgo.SpecContext) {
		untrack, err := b.Tracker.Track(cancelled(ctx), rec)
		gomega.Expect(err).To(gomega.MatchError(context.Canceled))
		if untrack != nil {
			untrack()
		}
		track(ctx)
		_, err = b.Tracker.Fetch(cancelled(ctx), p+"k")
		gomega.Expect(err).To(gomega.MatchError(context.Canceled))
	})

	it("Track of a nil sink is ErrInvalidArgument", func(ctx ginkgo.SpecContext) {
		_, err := b.Tracker.Track(ctx, nil)
		gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
	})
}
