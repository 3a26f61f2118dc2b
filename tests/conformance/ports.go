package conformance

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

const (
	// specTimeout bounds every spec, so a deadlocked adapter fails its spec
	// instead of hanging the whole suite.
	specTimeout = time.Minute
	// expiryTimeout bounds the wait for a short ttl to elapse.
	expiryTimeout = 3 * time.Second
	// shortTTL is the lifetime of keys whose expiry a spec observes.
	shortTTL = 50 * time.Millisecond
)

// describePorts registers the specs of KeyValue, Hash, Set, List and
// Tracker.
func describePorts(newBackend Factory, f Features) {
	ginkgo.Describe("KeyValue", func() { describeKeyValue(newBackend, f) })
	ginkgo.Describe("Hash", func() { describeHash(newBackend, f) })
	ginkgo.Describe("Set", func() { describeSet(newBackend, f) })
	ginkgo.Describe("List", func() { describeList(newBackend, f) })
	ginkgo.Describe("Tracker", func() { describeTracker(newBackend, f) })
	ginkgo.Describe("every data method", func() { describeEveryMethod(newBackend, f) })
}

// it registers an interruptible spec that receives the spec's context and
// fails after specTimeout.
func it(text string, body func(ctx ginkgo.SpecContext), args ...any) bool {
	return ginkgo.It(text, append(args, body, ginkgo.SpecTimeout(specTimeout))...)
}

// kind is the Redis type a method works on.
type kind int

const (
	kindAny kind = iota // generic commands: any type, no WRONGTYPE
	kindString
	kindHash
	kindSet
	kindList
)

var typedKinds = []kind{kindString, kindHash, kindSet, kindList}

func (k kind) String() string {
	switch k {
	case kindString:
		return "string"
	case kindHash:
		return "hash"
	case kindSet:
		return "set"
	case kindList:
		return "list"
	}
	return "any"
}

// populate stores a small value of kind k under key.
func populate(ctx context.Context, s ports.Store, key string, k kind) {
	ginkgo.GinkgoHelper()
	switch k {
	case kindAny, kindString:
		gomega.Expect(s.Set(ctx, key, []byte("v"), 0)).To(gomega.Succeed())
	case kindHash:
		gomega.Expect(s.HSet(ctx, key, "f", []byte("v"))).To(gomega.Succeed())
	case kindSet:
		gomega.Expect(s.SAdd(ctx, key, "m", "n")).To(gomega.Equal(int64(2)))
	case kindList:
		gomega.Expect(s.RPush(ctx, key, "x", "y")).To(gomega.Equal(int64(2)))
	}
}

// expectIntact checks that key still holds what populate stored.
func expectIntact(ctx context.Context, s ports.Store, key string, k kind) {
	ginkgo.GinkgoHelper()
	switch k {
	case kindAny, kindString:
		gomega.Expect(s.Get(ctx, key)).To(gomega.Equal([]byte("v")), "string %q", key)
	case kindHash:
		gomega.Expect(s.HGetAll(ctx, key)).To(gomega.Equal(map[string][]byte{"f": []byte("v")}), "hash %q", key)
	case kindSet:
		gomega.Expect(s.SMembers(ctx, key)).To(gomega.ConsistOf("m", "n"), "set %q", key)
	case kindList:
		gomega.Expect(s.LRange(ctx, key, 0, -1)).To(gomega.Equal([]string{"x", "y"}), "list %q", key)
	}
}

// method is one key-taking method of ports.Store, called with
// representative arguments.
type method struct {
	name string
	kind kind
	call func(ctx context.Context, s ports.Store, key string) error
}

// methods lists every key-taking method of the data ports (Suggest has its
// own specs; Scan takes a pattern and is covered separately).
var methods = []method{
	{"Get", kindString, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.Get(ctx, key)
		return err
	}},
	{"Set", kindAny, func(ctx context.Context, s ports.Store, key string) error {
		return s.Set(ctx, key, []byte("new"), 0)
	}},
	{"Del", kindAny, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.Del(ctx, key)
		return err
	}},
	{"Exists", kindAny, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.Exists(ctx, key)
		return err
	}},
	{"Expire", kindAny, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.Expire(ctx, key, time.Minute)
		return err
	}},
	{"TTL", kindAny, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.TTL(ctx, key)
		return err
	}},
	{"HSet", kindHash, func(ctx context.Context, s ports.Store, key string) error {
		return s.HSet(ctx, key, "f", []byte("new"))
	}},
	{"HGet", kindHash, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.HGet(ctx, key, "f")
		return err
	}},
	{"HExists", kindHash, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.HExists(ctx, key, "f")
		return err
	}},
	{"HGetAll", kindHash, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.HGetAll(ctx, key)
		return err
	}},
	{"HKeys", kindHash, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.HKeys(ctx, key)
		return err
	}},
	{"HDel", kindHash, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.HDel(ctx, key, "f")
		return err
	}},
	{"HDelBatch", kindHash, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.HDelBatch(ctx, []ports.HashFields{{Key: key, Fields: []string{"f"}}})
		return err
	}},
	{"SAdd", kindSet, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SAdd(ctx, key, "new")
		return err
	}},
	{"SRem", kindSet, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SRem(ctx, key, "m")
		return err
	}},
	{"SIsMember", kindSet, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SIsMember(ctx, key, "m")
		return err
	}},
	{"SPop", kindSet, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SPop(ctx, key)
		return err
	}},
	{"SRandMember", kindSet, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SRandMember(ctx, key, 2)
		return err
	}},
	{"SMembers", kindSet, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SMembers(ctx, key)
		return err
	}},
	{"LPush", kindList, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.LPush(ctx, key, "new")
		return err
	}},
	{"RPush", kindList, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.RPush(ctx, key, "new")
		return err
	}},
	{"LPop", kindList, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.LPop(ctx, key)
		return err
	}},
	{"RPop", kindList, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.RPop(ctx, key)
		return err
	}},
	{"LLen", kindList, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.LLen(ctx, key)
		return err
	}},
	{"LRange", kindList, func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.LRange(ctx, key, 0, -1)
		return err
	}},
	{"LTrim", kindList, func(ctx context.Context, s ports.Store, key string) error {
		return s.LTrim(ctx, key, 1, -1)
	}},
}

// cancelled returns a context that is already cancelled.
func cancelled(parent context.Context) context.Context {
	ctx, cancel := context.WithCancel(parent)
	cancel()
	return ctx
}

// describeEveryMethod registers the rules every data method follows:
// WRONGTYPE, empty keys, cancelled contexts, concurrent use and
// cross-client visibility.
func describeEveryMethod(newBackend Factory, _ Features) {
	var (
		b Backend
		s ports.Store
		p string
	)
	ginkgo.BeforeEach(func() {
		b = setup(context.Background(), newBackend)
		s = b.Store
		p = Prefix()
	})

	ginkgo.Describe("against a key of another type", func() {
		for _, m := range methods {
			if m.kind == kindAny {
				continue
			}
			it(m.name+" fails with ErrWrongType and changes nothing", func(ctx ginkgo.SpecContext) {
				for _, other := range typedKinds {
					if other == m.kind {
						continue
					}
					key := p + other.String()
					populate(ctx, s, key, other)
					gomega.Expect(m.call(ctx, s, key)).To(gomega.MatchError(domain.ErrWrongType),
						"%s on a %s key", m.name, other)
					expectIntact(ctx, s, key, other)
				}
			})
		}
	})

	ginkgo.Describe("with an empty key", func() {
		for _, m := range methods {
			it(m.name+" fails with ErrInvalidArgument", func(ctx ginkgo.SpecContext) {
				gomega.Expect(m.call(ctx, s, "")).To(gomega.MatchError(domain.ErrInvalidArgument))
			})
		}
		it("Del with one empty key among others deletes nothing", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"k", kindString)
			_, err := s.Del(ctx, p+"k", "")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
			gomega.Expect(s.Exists(ctx, p+"k")).To(gomega.Equal(int64(1)))
		})
		it("Exists with one empty key among others fails", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"k", kindString)
			_, err := s.Exists(ctx, p+"k", "")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
		})
		it("HDelBatch with one empty key among others deletes nothing", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"h", kindHash)
			_, err := s.HDelBatch(ctx, []ports.HashFields{
				{Key: p + "h", Fields: []string{"f"}},
				{Key: "", Fields: []string{"f"}},
			})
			gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
			expectIntact(ctx, s, p+"h", kindHash)
		})
	})

	ginkgo.Describe("with a cancelled context", func() {
		for _, m := range methods {
			it(m.name+" fails with context.Canceled", func(ctx ginkgo.SpecContext) {
				k := m.kind
				if k == kindAny {
					k = kindString
				}
				populate(ctx, s, p+"k", k)
				gomega.Expect(m.call(cancelled(ctx), s, p+"k")).To(gomega.MatchError(context.Canceled))
			})
		}
		it("Scan fails with context.Canceled", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"k", kindString)
			called := false
			err := s.Scan(cancelled(ctx), domain.EscapeGlob(p)+"*", 0, func([]string) error {
				called = true
				return nil
			})
			gomega.Expect(err).To(gomega.MatchError(context.Canceled))
			gomega.Expect(called).To(gomega.BeFalse(), "fn called although ctx was cancelled")
		})
	})

	ginkgo.Describe("concurrent use", func() {
		it("8 goroutines pushing distinct values lose nothing", func(ctx ginkgo.SpecContext) {
			const workers, perWorker = 8, 50
			key := p + "list"
			errs := make(chan error, workers*perWorker)
			var wg sync.WaitGroup
			var want []string
			for w := range workers {
				for i := range perWorker {
					want = append(want, fmt.Sprintf("w%d-%d", w, i))
				}
				wg.Go(func() {
					for i := range perWorker {
						if _, err := s.RPush(ctx, key, fmt.Sprintf("w%d-%d", w, i)); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			var got []error
			for err := range errs {
				got = append(got, err)
			}
			gomega.Expect(got).To(gomega.BeEmpty())
			gomega.Expect(s.LLen(ctx, key)).To(gomega.Equal(int64(workers * perWorker)))
			gomega.Expect(s.LRange(ctx, key, 0, -1)).To(gomega.ConsistOf(want))
		})
	})

	ginkgo.Describe("across clients", func() {
		ginkgo.BeforeEach(func() {
			if b.Peer == nil {
				ginkgo.Skip("backend has no Peer")
			}
		})
		it("a value Set through Peer is read through Store", func(ctx ginkgo.SpecContext) {
			gomega.Expect(b.Peer.Set(ctx, p+"k", []byte("from peer"), 0)).To(gomega.Succeed())
			gomega.Expect(s.Get(ctx, p+"k")).To(gomega.Equal([]byte("from peer")))
		})
		it("a value Set through Store is read through Peer", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("from store"), 0)).To(gomega.Succeed())
			gomega.Expect(b.Peer.Get(ctx, p+"k")).To(gomega.Equal([]byte("from store")))
		})
		it("a key deleted through Peer is gone for Store", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"k", kindString)
			gomega.Expect(b.Peer.Del(ctx, p+"k")).To(gomega.Equal(int64(1)))
			_, err := s.Get(ctx, p+"k")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
		})
		it("collections written through Peer are read through Store", func(ctx ginkgo.SpecContext) {
			for _, k := range []kind{kindHash, kindSet, kindList} {
				populate(ctx, b.Peer, p+k.String(), k)
				expectIntact(ctx, s, p+k.String(), k)
			}
		})
		it("a ttl set through Peer is seen by Store", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"k", kindString)
			gomega.Expect(b.Peer.Expire(ctx, p+"k", time.Hour)).To(gomega.BeTrue())
			gomega.Expect(s.TTL(ctx, p+"k")).To(gomega.BeNumerically(">", 59*time.Minute))
		})
	})
}

// allBytes returns the 256 byte values in order.
func allBytes() []byte {
	v := make([]byte, 256)
	for i := range v {
		v[i] = byte(i)
	}
	return v
}

// names returns prefix+n for every n.
func names(prefix string, ns ...string) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = prefix + n
	}
	return out
}

// numbered returns n distinct strings.
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}
