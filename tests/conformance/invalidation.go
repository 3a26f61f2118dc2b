package conformance

import (
	"context"
	"slices"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// eventTimeout bounds the wait for an invalidation event.
const eventTimeout = 5 * time.Second

// naming matches an invalidation event whose Keys contain key.
func naming(key string) types.GomegaMatcher {
	return gomega.HaveField("Keys", gomega.ContainElement(key))
}

// peerChange is one kind of change a Peer makes to a key that Store has
// read.
type peerChange struct {
	name string
	// prepare creates the key (through Peer, before the subscription).
	prepare func(ctx context.Context, peer ports.Store, key string)
	// read reads the key through Store, so that Redis tracks it.
	read func(ctx context.Context, s ports.Store, key string)
	// change modifies the key through Peer.
	change func(ctx context.Context, peer ports.Store, key string)
}

var peerChanges = []peerChange{
	{
		name:    "Set",
		prepare: func(ctx context.Context, peer ports.Store, key string) { populate(ctx, peer, key, kindString) },
		read:    func(ctx context.Context, s ports.Store, key string) { expectIntact(ctx, s, key, kindString) },
		change: func(ctx context.Context, peer ports.Store, key string) {
			gomega.Expect(peer.Set(ctx, key, []byte("changed"), 0)).To(gomega.Succeed())
		},
	},
	{
		name:    "Set of a key read while missing",
		prepare: func(context.Context, ports.Store, string) {},
		read: func(ctx context.Context, s ports.Store, key string) {
			_, err := s.Get(ctx, key)
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
		},
		change: func(ctx context.Context, peer ports.Store, key string) {
			gomega.Expect(peer.Set(ctx, key, []byte("created"), 0)).To(gomega.Succeed())
		},
	},
	{
		name:    "Del",
		prepare: func(ctx context.Context, peer ports.Store, key string) { populate(ctx, peer, key, kindString) },
		read:    func(ctx context.Context, s ports.Store, key string) { expectIntact(ctx, s, key, kindString) },
		change: func(ctx context.Context, peer ports.Store, key string) {
			gomega.Expect(peer.Del(ctx, key)).To(gomega.Equal(int64(1)))
		},
	},
	{
		name:    "Expire",
		prepare: func(ctx context.Context, peer ports.Store, key string) { populate(ctx, peer, key, kindString) },
		read:    func(ctx context.Context, s ports.Store, key string) { expectIntact(ctx, s, key, kindString) },
		change: func(ctx context.Context, peer ports.Store, key string) {
			gomega.Expect(peer.Expire(ctx, key, time.Hour)).To(gomega.BeTrue())
		},
	},
	{
		name:    "HSet",
		prepare: func(ctx context.Context, peer ports.Store, key string) { populate(ctx, peer, key, kindHash) },
		read: func(ctx context.Context, s ports.Store, key string) {
			gomega.Expect(s.HGet(ctx, key, "f")).To(gomega.Equal([]byte("v")))
		},
		change: func(ctx context.Context, peer ports.Store, key string) {
			gomega.Expect(peer.HSet(ctx, key, "f", []byte("changed"))).To(gomega.Succeed())
		},
	},
	{
		name:    "HDel",
		prepare: func(ctx context.Context, peer ports.Store, key string) { populate(ctx, peer, key, kindHash) },
		read:    func(ctx context.Context, s ports.Store, key string) { expectIntact(ctx, s, key, kindHash) },
		change: func(ctx context.Context, peer ports.Store, key string) {
			gomega.Expect(peer.HDel(ctx, key, "f")).To(gomega.Equal(int64(1)))
		},
	},
	{
		name:    "RPush",
		prepare: func(ctx context.Context, peer ports.Store, key string) { populate(ctx, peer, key, kindList) },
		read:    func(ctx context.Context, s ports.Store, key string) { expectIntact(ctx, s, key, kindList) },
		change: func(ctx context.Context, peer ports.Store, key string) {
			gomega.Expect(peer.RPush(ctx, key, "z")).To(gomega.Equal(int64(3)))
		},
	},
	{
		name:    "LPop",
		prepare: func(ctx context.Context, peer ports.Store, key string) { populate(ctx, peer, key, kindList) },
		read: func(ctx context.Context, s ports.Store, key string) {
			gomega.Expect(s.LLen(ctx, key)).To(gomega.Equal(int64(2)))
		},
		change: func(ctx context.Context, peer ports.Store, key string) {
			gomega.Expect(peer.LPop(ctx, key)).To(gomega.Equal("x"))
		},
	},
	{
		name:    "SAdd",
		prepare: func(ctx context.Context, peer ports.Store, key string) { populate(ctx, peer, key, kindSet) },
		read:    func(ctx context.Context, s ports.Store, key string) { expectIntact(ctx, s, key, kindSet) },
		change: func(ctx context.Context, peer ports.Store, key string) {
			gomega.Expect(peer.SAdd(ctx, key, "new")).To(gomega.Equal(int64(1)))
		},
	},
	{
		name:    "SRem",
		prepare: func(ctx context.Context, peer ports.Store, key string) { populate(ctx, peer, key, kindSet) },
		read: func(ctx context.Context, s ports.Store, key string) {
			gomega.Expect(s.SIsMember(ctx, key, "m")).To(gomega.BeTrue())
		},
		change: func(ctx context.Context, peer ports.Store, key string) {
			gomega.Expect(peer.SRem(ctx, key, "m")).To(gomega.Equal(int64(1)))
		},
	},
}

func describeInvalidation(newBackend Factory, _ Features) {
	var (
		b Backend
		s ports.Store
		p string
	)
	ginkgo.BeforeEach(func() {
		b = setup(context.Background(), newBackend)
		if b.Invalidation == nil {
			ginkgo.Skip("backend has no Invalidation")
		}
		s = b.Store
		p = Prefix()
	})

	// subscribe calls Invalidations and checks it succeeded.
	subscribe := func(ctx context.Context) <-chan domain.Invalidation {
		ginkgo.GinkgoHelper()
		ch, err := b.Invalidation.Invalidations(ctx)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		gomega.Expect(ch).NotTo(gomega.BeNil())
		return ch
	}
	needPeer := func() {
		ginkgo.GinkgoHelper()
		if b.Peer == nil {
			ginkgo.Skip("backend has no Peer")
		}
	}

	ginkgo.Describe("a change by another client of a key Store has read", func() {
		for _, c := range peerChanges {
			it("is reported after Peer's "+c.name, func(ctx ginkgo.SpecContext) {
				needPeer()
				key := p + "k"
				c.prepare(ctx, b.Peer, key)
				ch := subscribe(ctx)
				c.read(ctx, s, key)
				c.change(ctx, b.Peer, key)
				gomega.Eventually(ctx, ch).WithTimeout(eventTimeout).Should(gomega.Receive(naming(key)))
			})
		}
	})

	it("reports the expiry of a key Store has read", func(ctx ginkgo.SpecContext) {
		needPeer()
		key := p + "expiring"
		gomega.Expect(b.Peer.Set(ctx, key, []byte("v"), 500*time.Millisecond)).To(gomega.Succeed())
		ch := subscribe(ctx)
		gomega.Expect(s.Get(ctx, key)).To(gomega.Equal([]byte("v")))
		gomega.Eventually(ctx, ch).WithTimeout(eventTimeout).Should(gomega.Receive(naming(key)))
		// Nothing but the passing of time touched the key.
		gomega.Expect(b.Peer.Exists(ctx, key)).To(gomega.BeZero())
	})

	it("does not report Store's own writes (NOLOOP)", func(ctx ginkgo.SpecContext) {
		needPeer()
		own, foreign := p+"own", p+"foreign"
		populate(ctx, b.Peer, own, kindString)
		populate(ctx, b.Peer, foreign, kindString)
		ch := subscribe(ctx)
		expectIntact(ctx, s, own, kindString)
		expectIntact(ctx, s, foreign, kindString)

		gomega.Expect(s.Set(ctx, own, []byte("own write"), 0)).To(gomega.Succeed())
		gomega.Expect(b.Peer.Set(ctx, foreign, []byte("foreign write"), 0)).To(gomega.Succeed())

		// Collect events until the foreign key is reported. Had the own
		// write been reported, its event would have been sent first.
		var got []domain.Invalidation
		gomega.Eventually(ctx, func() bool {
			select {
			case ev, ok := <-ch:
				if !ok {
					gomega.StopTrying("invalidation channel closed").Now()
				}
				got = append(got, ev)
				return slices.Contains(ev.Keys, foreign)
			default:
				return false
			}
		}).WithTimeout(eventTimeout).Should(gomega.BeTrue(), "the foreign write was not reported")
		gomega.Expect(got).NotTo(gomega.ContainElement(naming(own)), "Store's own write was reported")
		gomega.Expect(got[0]).To(naming(foreign), "the first event is not the foreign write")
	})

	it("reports a foreign change of a key Store wrote and then read again", func(ctx ginkgo.SpecContext) {
		needPeer()
		key := p + "k"
		ch := subscribe(ctx)
		gomega.Expect(s.Set(ctx, key, []byte("own"), 0)).To(gomega.Succeed())
		gomega.Expect(s.Get(ctx, key)).To(gomega.Equal([]byte("own")))
		gomega.Expect(b.Peer.Set(ctx, key, []byte("foreign"), 0)).To(gomega.Succeed())
		gomega.Eventually(ctx, ch).WithTimeout(eventTimeout).Should(gomega.Receive(naming(key)))
	})

	it("reports a flush as an All event", func(ctx ginkgo.SpecContext) {
		if b.Flush == nil {
			ginkgo.Skip("backend has no Flush")
		}
		populate(ctx, s, p+"k", kindString)
		ch := subscribe(ctx)
		expectIntact(ctx, s, p+"k", kindString)
		gomega.Expect(b.Flush(ctx)).To(gomega.Succeed())
		var ev domain.Invalidation
		gomega.Eventually(ctx, ch).WithTimeout(eventTimeout).Should(gomega.Receive(&ev, gomega.HaveField("All", true)))
		gomega.Expect(ev.Reason).NotTo(gomega.BeEmpty(), "an All event must say why")
		gomega.Expect(s.Exists(ctx, p+"k")).To(gomega.BeZero(), "Flush did not empty the database")
	}, ginkgo.Serial, ginkgo.Label("destructive"))

	it("closes the channel when its ctx is cancelled", func(ctx ginkgo.SpecContext) {
		sub, cancel := context.WithCancel(ctx)
		ch := subscribe(sub)
		cancel()
		gomega.Eventually(ctx, ch).WithTimeout(eventTimeout).Should(gomega.BeClosed())
	})

	it("closes the channel when the store is closed", func(ctx ginkgo.SpecContext) {
		if b.Close == nil {
			ginkgo.Skip("backend has no Close")
		}
		ch := subscribe(ctx)
		// Close is registered as a cleanup too: it must be idempotent.
		gomega.Expect(b.Close()).To(gomega.Succeed())
		gomega.Eventually(ctx, ch).WithTimeout(eventTimeout).Should(gomega.BeClosed())
	})
}
