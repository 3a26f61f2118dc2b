package tests

// Bad input: every exported function and method of the core (app.New, the
// Cache, its Pipeline and Search, the generic helpers) and every port method
// of the adapters, called with nil, empty, huge and invalid arguments, on
// the memory store and on a real redis-server. Each call must return an error
// matching the right domain sentinel (or succeed, for huge but legal
// values), never panic, and lose no data: sentinel values of every type,
// written before each call, must be intact after it. (Not on the suite's
// cluster: some calls act on the whole shared scope of their database, and
// the cluster has one database, shared with every other spec.)
//
// A nil context is not among the inputs: the context package forbids it
// ("Do not pass a nil Context") and every Go API may panic on one.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// badDB is the database of the shared redis-server the specs use.
const badDB = 12

var (
	badHugeKey   = strings.Repeat("k", 70<<10) // above domain.MaxKeyLen
	badHugeValue = bytes.Repeat([]byte("0123456789abcdef"), 10<<20/16)
	badHugeSite  = strings.Repeat("s", domain.MaxKeyLen/2+1)
	badSeq       atomic.Uint64
)

// badEnv is what one bad call runs against: a store, a Cache over it for a
// site of its own, and the sentinels written before the call.
type badEnv struct {
	ctx    context.Context
	store  ports.Store
	cache  *app.Cache
	search *app.Search
	site   string
	raw    string // prefix of the port-level keys
}

// Sentinel values, written before every call and checked after it.
const (
	badSentinel     = "sentinel"      // string (JSON), site scope
	badSentinelUser = "sentinel-user" // string, user "alice"
	badSentinelHash = "sentinel-hash" // hash, field "f"
	badSentinelSet  = "sentinel-set"  // set {"a", "b"}
	badSentinelList = "sentinel-list" // list ["x", "y"]
	badSentinelDict = "sentinel-dict" // suggestions "hello", "help"
)

type badValue struct {
	Name string
	N    int
}

var badSentinelValue = badValue{Name: "intact", N: 42}

func (e *badEnv) rawKey(name string) string { return e.raw + name }

func (e *badEnv) writeSentinels() {
	ctx, c := e.ctx, e.cache
	Expect(c.SetValue(ctx, badSentinel, badSentinelValue)).To(Succeed())
	Expect(c.SetValue(ctx, badSentinelUser, badSentinelValue, app.User("alice"))).To(Succeed())
	Expect(c.HSet(ctx, badSentinelHash, "f", badSentinelValue)).To(Succeed())
	Expect(c.SAdd(ctx, badSentinelSet, "a", "b")).To(BeEquivalentTo(2))
	Expect(c.RPush(ctx, badSentinelList, "x", "y")).To(BeEquivalentTo(2))
	Expect(e.search.SugAdd(ctx, badSentinelDict, domain.Suggestion{String: "hello"}, domain.Suggestion{String: "help"})).
		To(BeEquivalentTo(2))
	Expect(e.store.Set(ctx, e.rawKey("raw"), []byte("raw value"), 0)).To(Succeed())
}

// checkSentinels fails the spec if a sentinel changed.
func (e *badEnv) checkSentinels() {
	ctx, c := e.ctx, e.cache
	v, err := app.GetValue[badValue](ctx, c, badSentinel)
	Expect(err).NotTo(HaveOccurred(), "site sentinel")
	Expect(v).To(Equal(badSentinelValue), "site sentinel")
	Expect(e.store.TTL(ctx, e.site+"|"+badSentinel)).To(Equal(domain.NoExpiry), "site sentinel ttl")
	v, err = app.GetValue[badValue](ctx, c, badSentinelUser, app.User("alice"))
	Expect(err).NotTo(HaveOccurred(), "user sentinel")
	Expect(v).To(Equal(badSentinelValue), "user sentinel")
	h, err := app.HGetAll[badValue](ctx, c, badSentinelHash)
	Expect(err).NotTo(HaveOccurred(), "hash sentinel")
	Expect(h).To(Equal(map[string]badValue{"f": badSentinelValue}), "hash sentinel")
	Expect(c.SMembers(ctx, badSentinelSet)).To(ConsistOf("a", "b"), "set sentinel")
	Expect(c.LRange(ctx, badSentinelList, 0, -1)).To(Equal([]string{"x", "y"}), "list sentinel")
	Expect(e.search.SugLen(ctx, badSentinelDict)).To(BeEquivalentTo(2), "suggestion sentinel")
	sugs, err := e.search.SugGet(ctx, badSentinelDict, "hel", domain.SugGetOptions{})
	Expect(err).NotTo(HaveOccurred(), "suggestion sentinel")
	Expect(sugs).To(HaveLen(2), "suggestion sentinel")
	Expect(e.store.Get(ctx, e.rawKey("raw"))).To(Equal([]byte("raw value")), "port-level sentinel")
	Expect(e.store.TTL(ctx, e.rawKey("raw"))).To(Equal(domain.NoExpiry), "port-level sentinel ttl")
}

// cleanUp removes every key the spec may have written.
func (e *badEnv) cleanUp() {
	ctx := context.Background()
	_, err := e.cache.DeleteKeys(ctx, "")
	Expect(err).NotTo(HaveOccurred())
	_, err = diffDeleteMatching(ctx, e.store, domain.EscapeGlob(e.raw)+"*", e.raw, 0)
	Expect(err).NotTo(HaveOccurred())
}

// badCall is one call with bad input; it returns the call's error.
type badCall func(e *badEnv) error

// errBadCheck marks a call that succeeded but whose result was wrong.
var errBadCheck = errors.New("unexpected result")

func badCheckf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errBadCheck}, args...)...)
}

// ignore1 drops the first result of a two-result call.
func ignore1[T any](_ T, err error) error { return err }

// gen returns a generator of v.
func gen[T any](v T) func(context.Context) (T, error) {
	return func(context.Context) (T, error) { return v, nil }
}

func rawGen(b []byte) func(context.Context) ([]byte, error) {
	return func(context.Context) ([]byte, error) { return b, nil }
}

var (
	errInvalid = domain.ErrInvalidArgument
	errWrong   = domain.ErrWrongType
	errMissing = domain.ErrNotFound
)

// badEntries is the table, shared by the backends. want nil means the call
// must succeed.
func badEntries() []TableEntry {
	return []TableEntry{
		// --- app.New --------------------------------------------------------
		Entry("New: nil store", badCall(func(e *badEnv) error {
			return ignore1(app.New(nil, app.Config{Site: "s"}))
		}), errInvalid),
		Entry("New: empty site", badCall(func(e *badEnv) error {
			return ignore1(app.New(e.store, app.Config{}))
		}), errInvalid),
		Entry("New: site with '|'", badCall(func(e *badEnv) error {
			return ignore1(app.New(e.store, app.Config{Site: e.site + "|" + badSentinel}))
		}), errInvalid),
		Entry("New: huge site", badCall(func(e *badEnv) error {
			return ignore1(app.New(e.store, app.Config{Site: badHugeSite}))
		}), errInvalid),
		Entry("New: nil options", badCall(func(e *badEnv) error {
			c, err := app.New(e.store, app.Config{Site: e.site}, nil, app.WithLogger(nil))
			if err == nil && c.Site() != e.site {
				return badCheckf("site %q", c.Site())
			}
			return err
		}), nil),

		// --- Cache: keys and values ------------------------------------------
		Entry("MakeKey: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.MakeKey("")) }), errInvalid),
		Entry("MakeKey: huge key", badCall(func(e *badEnv) error { return ignore1(e.cache.MakeKey(badHugeKey)) }), errInvalid),
		Entry("MakeKey: user with ':'", badCall(func(e *badEnv) error {
			return ignore1(e.cache.MakeKey("k", app.User("a:b")))
		}), errInvalid),
		Entry("MakeKey: shared key with '|'", badCall(func(e *badEnv) error {
			return ignore1(e.cache.MakeKey(e.site+"|"+badSentinel, app.Shared()))
		}), errInvalid),
		Entry("MakeKey: nil option", badCall(func(e *badEnv) error {
			k, err := e.cache.MakeKey("k", nil)
			if err == nil && k != e.site+"|k" {
				return badCheckf("key %q", k)
			}
			return err
		}), nil),

		Entry("SetValue: empty key", badCall(func(e *badEnv) error { return e.cache.SetValue(e.ctx, "", 1) }), errInvalid),
		Entry("SetValue: huge key", badCall(func(e *badEnv) error { return e.cache.SetValue(e.ctx, badHugeKey, 1) }), errInvalid),
		Entry("SetValue: user with ':'", badCall(func(e *badEnv) error {
			return e.cache.SetValue(e.ctx, badSentinelUser, 1, app.User("alice:x"))
		}), errInvalid),
		Entry("SetValue: shared key with '|' naming a site key", badCall(func(e *badEnv) error {
			return e.cache.SetValue(e.ctx, e.site+"|"+badSentinel, 1, app.Shared())
		}), errInvalid),
		Entry("SetValue: nil value", badCall(func(e *badEnv) error { return e.cache.SetValue(e.ctx, badSentinel, nil) }), errInvalid),
		Entry("SetValue: channel", badCall(func(e *badEnv) error {
			return e.cache.SetValue(e.ctx, badSentinel, make(chan int))
		}), errInvalid),
		Entry("SetValue: func", badCall(func(e *badEnv) error {
			return e.cache.SetValue(e.ctx, badSentinel, func() {})
		}), errInvalid),
		Entry("SetValue: NaN", badCall(func(e *badEnv) error {
			return e.cache.SetValue(e.ctx, badSentinel, math.NaN())
		}), errInvalid),
		Entry("SetValue: string that is not UTF-8", badCall(func(e *badEnv) error {
			return e.cache.SetValue(e.ctx, badSentinel, badValue{Name: "\xff\xfe"})
		}), errInvalid),
		Entry("SetValue: negative ttl", badCall(func(e *badEnv) error {
			return e.cache.SetValue(e.ctx, badSentinel, 1, app.Expires(-time.Second))
		}), errInvalid),
		Entry("SetValue: ttl of -1ns", badCall(func(e *badEnv) error {
			return e.cache.SetValue(e.ctx, badSentinel, 1, app.Expires(-1))
		}), errInvalid),
		Entry("SetValue: sub-millisecond ttl", badCall(func(e *badEnv) error {
			return e.cache.SetValue(e.ctx, badSentinel, 1, app.Expires(500*time.Microsecond))
		}), errInvalid),
		Entry("SetValue: a cyclic value", badCall(func(e *badEnv) error {
			m := map[string]any{}
			m["self"] = m
			return e.cache.SetValue(e.ctx, badSentinel, m)
		}), errInvalid),
		Entry("SetValue: a failed write leaves the request cache alone", badCall(func(e *badEnv) error {
			ctx := app.WithRequestCache(e.ctx)
			if _, err := app.GetValue[badValue](ctx, e.cache, badSentinel); err != nil {
				return err
			}
			err := e.cache.SetValue(ctx, badSentinel, make(chan int))
			v, gerr := app.GetValue[badValue](ctx, e.cache, badSentinel)
			if gerr != nil || v != badSentinelValue {
				return badCheckf("request cache now gives %+v, %v", v, gerr)
			}
			return err
		}), errInvalid),
		Entry("ClearRequestCache: a context without one", badCall(func(e *badEnv) error {
			app.ClearRequestCache(e.ctx)
			app.ClearRequestCache(context.Background())
			return nil
		}), nil),
		Entry("JSONCodec: Decode into nil, into a non-pointer, of invalid JSON", badCall(func(e *badEnv) error {
			var c app.JSONCodec
			var v badValue
			return errors.Join(c.Decode([]byte(`{}`), nil), c.Decode([]byte(`{}`), v), c.Decode([]byte(`{"Name":`), &v),
				c.Decode(nil, &v))
		}), errInvalid),
		Entry("Ping, Connected, accessors", badCall(func(e *badEnv) error {
			if !e.cache.Connected(e.ctx) || e.cache.Site() != e.site || e.cache.Store() != e.store || e.cache.Codec() == nil {
				return badCheckf("accessors")
			}
			return e.cache.Ping(e.ctx)
		}), nil),
		Entry("SetValue: 10 MiB value round-trips", badCall(func(e *badEnv) error {
			if err := e.cache.SetValue(e.ctx, "huge", badHugeValue); err != nil {
				return err
			}
			got, err := app.GetValue[[]byte](e.ctx, e.cache, "huge")
			if err == nil && !bytes.Equal(got, badHugeValue) {
				return badCheckf("read back %d bytes", len(got))
			}
			return err
		}), nil),
		Entry("SetValue: nil options", badCall(func(e *badEnv) error {
			return e.cache.SetValue(e.ctx, "k", 1, nil, nil)
		}), nil),

		Entry("SetRaw: empty key", badCall(func(e *badEnv) error { return e.cache.SetRaw(e.ctx, "", []byte("1")) }), errInvalid),
		Entry("SetRaw: huge key", badCall(func(e *badEnv) error { return e.cache.SetRaw(e.ctx, badHugeKey, []byte("1")) }), errInvalid),
		Entry("SetRaw: negative ttl", badCall(func(e *badEnv) error {
			return e.cache.SetRaw(e.ctx, badSentinel, []byte("1"), app.Expires(-time.Hour))
		}), errInvalid),
		Entry("SetRaw: sub-millisecond ttl", badCall(func(e *badEnv) error {
			return e.cache.SetRaw(e.ctx, badSentinel, []byte("1"), app.Expires(time.Nanosecond))
		}), errInvalid),
		Entry("SetRaw: user with ':'", badCall(func(e *badEnv) error {
			return e.cache.SetRaw(e.ctx, "k", nil, app.User(":"))
		}), errInvalid),
		Entry("SetRaw: nil data stores an empty value", badCall(func(e *badEnv) error {
			if err := e.cache.SetRaw(e.ctx, "empty", nil); err != nil {
				return err
			}
			got, err := e.cache.GetRaw(e.ctx, "empty")
			if err == nil && len(got) != 0 {
				return badCheckf("read back %q", got)
			}
			return err
		}), nil),
		Entry("SetRaw: 10 MiB value round-trips", badCall(func(e *badEnv) error {
			if err := e.cache.SetRaw(e.ctx, "huge", badHugeValue); err != nil {
				return err
			}
			got, err := e.cache.GetRaw(e.ctx, "huge")
			if err == nil && !bytes.Equal(got, badHugeValue) {
				return badCheckf("read back %d bytes", len(got))
			}
			return err
		}), nil),

		Entry("GetRaw: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.GetRaw(e.ctx, "")) }), errInvalid),
		Entry("GetRaw: huge key", badCall(func(e *badEnv) error { return ignore1(e.cache.GetRaw(e.ctx, badHugeKey)) }), errInvalid),
		Entry("GetRaw: user with ':'", badCall(func(e *badEnv) error {
			return ignore1(e.cache.GetRaw(e.ctx, "k", app.User("a:b")))
		}), errInvalid),
		Entry("GetRaw: shared key with '|'", badCall(func(e *badEnv) error {
			return ignore1(e.cache.GetRaw(e.ctx, e.site+"|"+badSentinel, app.Shared()))
		}), errInvalid),
		Entry("GetRaw: a hash", badCall(func(e *badEnv) error { return ignore1(e.cache.GetRaw(e.ctx, badSentinelHash)) }), errWrong),
		Entry("GetRaw: missing", badCall(func(e *badEnv) error { return ignore1(e.cache.GetRaw(e.ctx, "missing")) }), errMissing),

		Entry("GetOrGenerateRaw: nil generator", badCall(func(e *badEnv) error {
			return ignore1(e.cache.GetOrGenerateRaw(e.ctx, badSentinel, nil))
		}), errInvalid),
		Entry("GetOrGenerateRaw: empty key", badCall(func(e *badEnv) error {
			return ignore1(e.cache.GetOrGenerateRaw(e.ctx, "", rawGen([]byte("1"))))
		}), errInvalid),
		Entry("GetOrGenerateRaw: huge key", badCall(func(e *badEnv) error {
			return ignore1(e.cache.GetOrGenerateRaw(e.ctx, badHugeKey, rawGen([]byte("1"))))
		}), errInvalid),
		Entry("GetOrGenerateRaw: user with ':'", badCall(func(e *badEnv) error {
			return ignore1(e.cache.GetOrGenerateRaw(e.ctx, "k", rawGen([]byte("1")), app.User("x:")))
		}), errInvalid),
		Entry("GetOrGenerateRaw: negative ttl", badCall(func(e *badEnv) error {
			return ignore1(e.cache.GetOrGenerateRaw(e.ctx, "new", rawGen([]byte("1")), app.Expires(-time.Second)))
		}), errInvalid),
		Entry("GetOrGenerateRaw: sub-millisecond ttl", badCall(func(e *badEnv) error {
			return ignore1(e.cache.GetOrGenerateRaw(e.ctx, "new", rawGen([]byte("1")), app.Expires(time.Microsecond)))
		}), errInvalid),
		Entry("GetOrGenerateRaw: a list", badCall(func(e *badEnv) error {
			return ignore1(e.cache.GetOrGenerateRaw(e.ctx, badSentinelList, rawGen([]byte("1"))))
		}), errWrong),

		Entry("ExpireKey: empty key", badCall(func(e *badEnv) error {
			return ignore1(e.cache.ExpireKey(e.ctx, "", time.Second))
		}), errInvalid),
		Entry("ExpireKey: huge key", badCall(func(e *badEnv) error {
			return ignore1(e.cache.ExpireKey(e.ctx, badHugeKey, time.Second))
		}), errInvalid),
		Entry("ExpireKey: negative ttl", badCall(func(e *badEnv) error {
			return ignore1(e.cache.ExpireKey(e.ctx, badSentinel, -time.Second))
		}), errInvalid),
		Entry("ExpireKey: sub-millisecond ttl", badCall(func(e *badEnv) error {
			return ignore1(e.cache.ExpireKey(e.ctx, badSentinel, 999*time.Microsecond))
		}), errInvalid),
		Entry("ExpireKey: user with ':'", badCall(func(e *badEnv) error {
			return ignore1(e.cache.ExpireKey(e.ctx, badSentinelUser, time.Second, app.User("alice:")))
		}), errInvalid),

		Entry("Exists: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.Exists(e.ctx, "")) }), errInvalid),
		Entry("Exists: huge key", badCall(func(e *badEnv) error { return ignore1(e.cache.Exists(e.ctx, badHugeKey)) }), errInvalid),
		Entry("CountExisting: one empty key", badCall(func(e *badEnv) error {
			return ignore1(e.cache.CountExisting(e.ctx, []string{badSentinel, ""}))
		}), errInvalid),
		Entry("CountExisting: nil keys", badCall(func(e *badEnv) error {
			n, err := e.cache.CountExisting(e.ctx, nil)
			if err == nil && n != 0 {
				return badCheckf("%d", n)
			}
			return err
		}), nil),

		Entry("DeleteValue: empty key", badCall(func(e *badEnv) error { return e.cache.DeleteValue(e.ctx, "") }), errInvalid),
		Entry("DeleteValue: shared key with '|' naming a site key", badCall(func(e *badEnv) error {
			return e.cache.DeleteValue(e.ctx, e.site+"|"+badSentinel, app.Shared())
		}), errInvalid),
		Entry("DeleteKey: user with ':' naming another user's key", badCall(func(e *badEnv) error {
			return e.cache.DeleteKey(e.ctx, badSentinelUser, app.User("bob:alice"))
		}), errInvalid),
		Entry("DeleteValues: valid keys and an empty one (nothing deleted)", badCall(func(e *badEnv) error {
			return e.cache.DeleteValues(e.ctx, []string{badSentinel, badSentinelHash, ""})
		}), errInvalid),
		Entry("DeleteValues: valid keys and a huge one (nothing deleted)", badCall(func(e *badEnv) error {
			return e.cache.DeleteValues(e.ctx, []string{badSentinel, badHugeKey})
		}), errInvalid),
		Entry("DeleteValues: nil keys", badCall(func(e *badEnv) error { return e.cache.DeleteValues(e.ctx, nil) }), nil),

		// --- Cache: listing ---------------------------------------------------
		Entry("GetKeys: user with ':'", badCall(func(e *badEnv) error {
			return ignore1(e.cache.GetKeys(e.ctx, "", app.User("a:b")))
		}), errInvalid),
		Entry("GetKeys: huge prefix", badCall(func(e *badEnv) error {
			return ignore1(e.cache.GetKeys(e.ctx, badHugeKey))
		}), errInvalid),
		Entry("GetKeys: glob metacharacters stay in the site", badCall(func(e *badEnv) error {
			keys, err := e.cache.GetKeys(e.ctx, "*|*")
			if err == nil && len(keys) != 0 {
				return badCheckf("listed %q", keys)
			}
			return err
		}), nil),
		Entry("DeleteKeys: user with ':'", badCall(func(e *badEnv) error {
			return ignore1(e.cache.DeleteKeys(e.ctx, "", app.User("alice:")))
		}), errInvalid),
		Entry("DeleteKeys: huge prefix", badCall(func(e *badEnv) error {
			return ignore1(e.cache.DeleteKeys(e.ctx, badHugeKey))
		}), errInvalid),
		Entry("DeleteKeys: an unclosed set and escapes delete nothing else", badCall(func(e *badEnv) error {
			n, err := e.cache.DeleteKeys(e.ctx, "[\\")
			if err == nil && n != 0 {
				return badCheckf("deleted %d", n)
			}
			return err
		}), nil),
		Entry("GetAll: user with ':'", badCall(func(e *badEnv) error {
			return ignore1(app.GetAll[badValue](e.ctx, e.cache, "", app.User(":")))
		}), errInvalid),
		Entry("GetAll: values that do not decode as T", badCall(func(e *badEnv) error {
			return ignore1(app.GetAll[int](e.ctx, e.cache, badSentinel))
		}), errInvalid),

		// --- Cache: hashes --------------------------------------------------
		Entry("HSet: empty field", badCall(func(e *badEnv) error { return e.cache.HSet(e.ctx, badSentinelHash, "", 1) }), errInvalid),
		Entry("HSet: empty name", badCall(func(e *badEnv) error { return e.cache.HSet(e.ctx, "", "f", 1) }), errInvalid),
		Entry("HSet: huge name", badCall(func(e *badEnv) error { return e.cache.HSet(e.ctx, badHugeKey, "f", 1) }), errInvalid),
		Entry("HSet: shared name with '|'", badCall(func(e *badEnv) error {
			return e.cache.HSet(e.ctx, e.site+"|"+badSentinelHash, "f", 1, app.Shared())
		}), errInvalid),
		Entry("HSet: nil value", badCall(func(e *badEnv) error { return e.cache.HSet(e.ctx, badSentinelHash, "f", nil) }), errInvalid),
		Entry("HSet: unencodable value", badCall(func(e *badEnv) error {
			return e.cache.HSet(e.ctx, badSentinelHash, "f", map[bool]chan int{})
		}), errInvalid),
		Entry("HSet: a string", badCall(func(e *badEnv) error { return e.cache.HSet(e.ctx, badSentinel, "f", 1) }), errWrong),
		Entry("HSetRaw: empty field", badCall(func(e *badEnv) error {
			return e.cache.HSetRaw(e.ctx, badSentinelHash, "", []byte("1"))
		}), errInvalid),
		Entry("HSetRaw: 10 MiB value round-trips", badCall(func(e *badEnv) error {
			if err := e.cache.HSetRaw(e.ctx, "huge-hash", "f", badHugeValue); err != nil {
				return err
			}
			got, err := e.cache.HGetRaw(e.ctx, "huge-hash", "f")
			if err == nil && !bytes.Equal(got, badHugeValue) {
				return badCheckf("read back %d bytes", len(got))
			}
			return err
		}), nil),
		Entry("HGetRaw: empty field", badCall(func(e *badEnv) error {
			return ignore1(e.cache.HGetRaw(e.ctx, badSentinelHash, ""))
		}), errInvalid),
		Entry("HGetRaw: empty name", badCall(func(e *badEnv) error { return ignore1(e.cache.HGetRaw(e.ctx, "", "f")) }), errInvalid),
		Entry("HGetRaw: a set", badCall(func(e *badEnv) error { return ignore1(e.cache.HGetRaw(e.ctx, badSentinelSet, "f")) }), errWrong),
		Entry("HGetOrGenerateRaw: nil generator", badCall(func(e *badEnv) error {
			return ignore1(e.cache.HGetOrGenerateRaw(e.ctx, badSentinelHash, "g", nil))
		}), errInvalid),
		Entry("HGetOrGenerateRaw: empty field", badCall(func(e *badEnv) error {
			return ignore1(e.cache.HGetOrGenerateRaw(e.ctx, badSentinelHash, "", rawGen([]byte("1"))))
		}), errInvalid),
		Entry("HExists: empty field", badCall(func(e *badEnv) error {
			return ignore1(e.cache.HExists(e.ctx, badSentinelHash, ""))
		}), errInvalid),
		Entry("HExists: empty name", badCall(func(e *badEnv) error { return ignore1(e.cache.HExists(e.ctx, "", "f")) }), errInvalid),
		Entry("HGetAllRaw: empty name", badCall(func(e *badEnv) error { return ignore1(e.cache.HGetAllRaw(e.ctx, "")) }), errInvalid),
		Entry("HGetAllRaw: huge name", badCall(func(e *badEnv) error {
			return ignore1(e.cache.HGetAllRaw(e.ctx, badHugeKey))
		}), errInvalid),
		Entry("HKeys: empty name", badCall(func(e *badEnv) error { return ignore1(e.cache.HKeys(e.ctx, "")) }), errInvalid),
		Entry("HKeys: a list", badCall(func(e *badEnv) error { return ignore1(e.cache.HKeys(e.ctx, badSentinelList)) }), errWrong),
		Entry("HDel: a valid field and an empty one (nothing deleted)", badCall(func(e *badEnv) error {
			return ignore1(e.cache.HDel(e.ctx, badSentinelHash, []string{"f", ""}))
		}), errInvalid),
		Entry("HDel: empty name", badCall(func(e *badEnv) error { return ignore1(e.cache.HDel(e.ctx, "", []string{"f"})) }), errInvalid),
		Entry("HDel: nil fields", badCall(func(e *badEnv) error {
			n, err := e.cache.HDel(e.ctx, badSentinelHash, nil)
			if err == nil && n != 0 {
				return badCheckf("%d", n)
			}
			return err
		}), nil),
		Entry("HDelNames: a valid name and an empty one (nothing deleted)", badCall(func(e *badEnv) error {
			return ignore1(e.cache.HDelNames(e.ctx, []string{badSentinelHash, ""}, "f"))
		}), errInvalid),
		Entry("HDelNames: empty field", badCall(func(e *badEnv) error {
			return ignore1(e.cache.HDelNames(e.ctx, []string{badSentinelHash}, ""))
		}), errInvalid),
		Entry("HDelKeys: empty field", badCall(func(e *badEnv) error {
			return ignore1(e.cache.HDelKeys(e.ctx, "sentinel", ""))
		}), errInvalid),
		Entry("HDelKeys: huge prefix", badCall(func(e *badEnv) error {
			return ignore1(e.cache.HDelKeys(e.ctx, badHugeKey, "f"))
		}), errInvalid),
		Entry("HDelKeys: shared scope does not reach site hashes", badCall(func(e *badEnv) error {
			n, err := e.cache.HDelKeys(e.ctx, "*", "f", app.Shared())
			if err == nil && n != 0 {
				return badCheckf("deleted %d", n)
			}
			return err
		}), nil),
		Entry("Pipeline.HDel: empty name, empty field (nothing queued)", badCall(func(e *badEnv) error {
			p := e.cache.Pipeline()
			err1 := p.HDel("", []string{"f"})
			err2 := p.HDel(badSentinelHash, []string{"f", ""})
			err3 := p.HDel(badHugeKey, []string{"f"})
			if p.Len() != 0 {
				return badCheckf("%d queued", p.Len())
			}
			if n, err := p.Exec(e.ctx); n != 0 || err != nil {
				return badCheckf("Exec = %d, %v", n, err)
			}
			return errors.Join(err1, err2, err3)
		}), errInvalid),
		Entry("HGet: empty field", badCall(func(e *badEnv) error {
			return ignore1(app.HGet[badValue](e.ctx, e.cache, badSentinelHash, ""))
		}), errInvalid),
		Entry("HGet: a value that does not decode as T", badCall(func(e *badEnv) error {
			return ignore1(app.HGet[[]int](e.ctx, e.cache, badSentinelHash, "f"))
		}), errInvalid),
		Entry("HGetOrGenerate: nil generator", badCall(func(e *badEnv) error {
			return ignore1(app.HGetOrGenerate[int](e.ctx, e.cache, badSentinelHash, "g", nil))
		}), errInvalid),
		Entry("HGetOrGenerate: unencodable result (nothing stored)", badCall(func(e *badEnv) error {
			return ignore1(app.HGetOrGenerate(e.ctx, e.cache, badSentinelHash, "g", gen(math.Inf(1))))
		}), errInvalid),
		Entry("HGetOrGenerate: nil result", badCall(func(e *badEnv) error {
			return ignore1(app.HGetOrGenerate(e.ctx, e.cache, badSentinelHash, "g", gen[any](nil)))
		}), errInvalid),
		Entry("HGetAll: empty name", badCall(func(e *badEnv) error {
			return ignore1(app.HGetAll[int](e.ctx, e.cache, ""))
		}), errInvalid),
		Entry("HGetAll: values that do not decode as T", badCall(func(e *badEnv) error {
			return ignore1(app.HGetAll[string](e.ctx, e.cache, badSentinelHash))
		}), errInvalid),

		// --- Cache: generic values -------------------------------------------
		Entry("GetValue: empty key", badCall(func(e *badEnv) error {
			return ignore1(app.GetValue[int](e.ctx, e.cache, ""))
		}), errInvalid),
		Entry("GetValue: a value that does not decode as T", badCall(func(e *badEnv) error {
			return ignore1(app.GetValue[[]string](e.ctx, e.cache, badSentinel))
		}), errInvalid),
		Entry("GetValue: a set", badCall(func(e *badEnv) error {
			return ignore1(app.GetValue[int](e.ctx, e.cache, badSentinelSet))
		}), errWrong),
		Entry("GetOrGenerate: nil generator", badCall(func(e *badEnv) error {
			return ignore1(app.GetOrGenerate[int](e.ctx, e.cache, "new", nil))
		}), errInvalid),
		Entry("GetOrGenerate: nil result", badCall(func(e *badEnv) error {
			return ignore1(app.GetOrGenerate(e.ctx, e.cache, "new", gen[any](nil)))
		}), errInvalid),
		Entry("GetOrGenerate: unencodable result (nothing stored)", badCall(func(e *badEnv) error {
			_, err := app.GetOrGenerate(e.ctx, e.cache, "new", gen(make(chan int)))
			if n, _ := e.cache.Exists(e.ctx, "new"); n {
				return badCheckf("stored")
			}
			return err
		}), errInvalid),
		Entry("GetOrGenerate: empty key", badCall(func(e *badEnv) error {
			return ignore1(app.GetOrGenerate(e.ctx, e.cache, "", gen(1)))
		}), errInvalid),
		Entry("GetOrGenerate: a value that does not decode as T", badCall(func(e *badEnv) error {
			return ignore1(app.GetOrGenerate(e.ctx, e.cache, badSentinel, gen(1)))
		}), errInvalid),

		// --- Cache: lists and sets -------------------------------------------
		Entry("LPush: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.LPush(e.ctx, "", "v")) }), errInvalid),
		Entry("LPush: huge key", badCall(func(e *badEnv) error { return ignore1(e.cache.LPush(e.ctx, badHugeKey, "v")) }), errInvalid),
		Entry("LPush: a string", badCall(func(e *badEnv) error { return ignore1(e.cache.LPush(e.ctx, badSentinel, "v")) }), errWrong),
		Entry("RPush: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.RPush(e.ctx, "", "v")) }), errInvalid),
		Entry("RPush: a hash", badCall(func(e *badEnv) error { return ignore1(e.cache.RPush(e.ctx, badSentinelHash)) }), errWrong),
		Entry("RPush: a 10 MiB element round-trips", badCall(func(e *badEnv) error {
			if _, err := e.cache.RPush(e.ctx, "huge-list", string(badHugeValue)); err != nil {
				return err
			}
			got, err := e.cache.LPop(e.ctx, "huge-list")
			if err == nil && got != string(badHugeValue) {
				return badCheckf("read back %d bytes", len(got))
			}
			return err
		}), nil),
		Entry("LPop: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.LPop(e.ctx, "")) }), errInvalid),
		Entry("LPop: a set", badCall(func(e *badEnv) error { return ignore1(e.cache.LPop(e.ctx, badSentinelSet)) }), errWrong),
		Entry("RPop: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.RPop(e.ctx, "")) }), errInvalid),
		Entry("RPop: missing", badCall(func(e *badEnv) error { return ignore1(e.cache.RPop(e.ctx, "missing")) }), errMissing),
		Entry("LLen: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.LLen(e.ctx, "")) }), errInvalid),
		Entry("LRange: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.LRange(e.ctx, "", 0, -1)) }), errInvalid),
		Entry("LRange: extreme indexes", badCall(func(e *badEnv) error {
			got, err := e.cache.LRange(e.ctx, badSentinelList, math.MinInt64, math.MaxInt64)
			if err == nil && strings.Join(got, ",") != "x,y" {
				return badCheckf("%q", got)
			}
			return err
		}), nil),
		Entry("LTrim: empty key", badCall(func(e *badEnv) error { return e.cache.LTrim(e.ctx, "", 0, -1) }), errInvalid),
		Entry("LTrim: extreme indexes keep everything", badCall(func(e *badEnv) error {
			return e.cache.LTrim(e.ctx, badSentinelList, math.MinInt64, math.MaxInt64)
		}), nil),
		Entry("LTrim: a hash", badCall(func(e *badEnv) error { return e.cache.LTrim(e.ctx, badSentinelHash, 1, 0) }), errWrong),
		Entry("SAdd: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.SAdd(e.ctx, "", "m")) }), errInvalid),
		Entry("SAdd: huge key", badCall(func(e *badEnv) error { return ignore1(e.cache.SAdd(e.ctx, badHugeKey, "m")) }), errInvalid),
		Entry("SAdd: a list", badCall(func(e *badEnv) error { return ignore1(e.cache.SAdd(e.ctx, badSentinelList, "m")) }), errWrong),
		Entry("SRem: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.SRem(e.ctx, "", "a")) }), errInvalid),
		Entry("SIsMember: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.SIsMember(e.ctx, "", "a")) }), errInvalid),
		Entry("SPop: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.SPop(e.ctx, "")) }), errInvalid),
		Entry("SPop: a hash", badCall(func(e *badEnv) error { return ignore1(e.cache.SPop(e.ctx, badSentinelHash)) }), errWrong),
		Entry("SRandMember: empty key", badCall(func(e *badEnv) error {
			return ignore1(e.cache.SRandMember(e.ctx, "", 1))
		}), errInvalid),
		Entry("SRandMember: count out of range", badCall(func(e *badEnv) error {
			return ignore1(e.cache.SRandMember(e.ctx, badSentinelSet, math.MinInt))
		}), errInvalid),
		Entry("SMembers: empty key", badCall(func(e *badEnv) error { return ignore1(e.cache.SMembers(e.ctx, "")) }), errInvalid),

		// --- Search -------------------------------------------------------------
		Entry("FT: empty index", badCall(func(e *badEnv) error {
			if got, want := e.cache.FT("").Index(), e.site+"|"+app.DefaultIndex; got != want {
				return badCheckf("Index() = %q, want %q", got, want)
			}
			return nil
		}), nil),
		Entry("SugAdd: empty dictionary", badCall(func(e *badEnv) error {
			return ignore1(e.search.SugAdd(e.ctx, "", domain.Suggestion{String: "x"}))
		}), errInvalid),
		Entry("SugAdd: huge dictionary name", badCall(func(e *badEnv) error {
			return ignore1(e.search.SugAdd(e.ctx, badHugeKey, domain.Suggestion{String: "x"}))
		}), errInvalid),
		Entry("SugAdd: a NaN score among valid ones (nothing added)", badCall(func(e *badEnv) error {
			return ignore1(e.search.SugAdd(e.ctx, badSentinelDict,
				domain.Suggestion{String: "hello", Score: 5}, domain.Suggestion{String: "x", Score: math.NaN()}))
		}), errInvalid),
		Entry("SugAdd: a hash", badCall(func(e *badEnv) error {
			return ignore1(e.search.SugAdd(e.ctx, badSentinelHash, domain.Suggestion{String: "x"}))
		}), errWrong),
		Entry("SugAdd: no suggestions", badCall(func(e *badEnv) error {
			n, err := e.search.SugAdd(e.ctx, badSentinelDict)
			if err == nil && n != 2 {
				return badCheckf("%d", n)
			}
			return err
		}), nil),
		Entry("SugAdd: empty, huge and invalid UTF-8 strings are not stored", badCall(func(e *badEnv) error {
			n, err := e.search.SugAdd(e.ctx, "other-dict", domain.Suggestion{String: ""},
				domain.Suggestion{String: strings.Repeat("x", 600)}, domain.Suggestion{String: "ok", Payload: badHugeValue[:1<<20]})
			if err == nil && n != 1 {
				return badCheckf("%d stored", n)
			}
			return err
		}), nil),
		Entry("SugGet: empty dictionary", badCall(func(e *badEnv) error {
			return ignore1(e.search.SugGet(e.ctx, "", "h", domain.SugGetOptions{}))
		}), errInvalid),
		Entry("SugGet: prefix too long", badCall(func(e *badEnv) error {
			return ignore1(e.search.SugGet(e.ctx, badSentinelDict, strings.Repeat("h", 200), domain.SugGetOptions{}))
		}), errInvalid),
		Entry("SugGet: out-of-range Max", badCall(func(e *badEnv) error {
			got, err := e.search.SugGet(e.ctx, badSentinelDict, "h", domain.SugGetOptions{Max: -7, Fuzzy: true})
			if err == nil && len(got) != 2 {
				return badCheckf("%d suggestions", len(got))
			}
			return err
		}), nil),
		Entry("SugGet: a list", badCall(func(e *badEnv) error {
			return ignore1(e.search.SugGet(e.ctx, badSentinelList, "h", domain.SugGetOptions{}))
		}), errWrong),
		Entry("SugDel: empty dictionary", badCall(func(e *badEnv) error {
			return ignore1(e.search.SugDel(e.ctx, "", "hello"))
		}), errInvalid),
		Entry("SugDel: empty string", badCall(func(e *badEnv) error {
			ok, err := e.search.SugDel(e.ctx, badSentinelDict, "")
			if err == nil && ok {
				return badCheckf("deleted")
			}
			return err
		}), nil),
		Entry("SugLen: empty dictionary", badCall(func(e *badEnv) error {
			return ignore1(e.search.SugLen(e.ctx, ""))
		}), errInvalid),
		Entry("SugLen: a set", badCall(func(e *badEnv) error {
			return ignore1(e.search.SugLen(e.ctx, badSentinelSet))
		}), errWrong),

		// --- the ports, directly ------------------------------------------------
		Entry("port Get: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.Get(e.ctx, "")) }), errInvalid),
		Entry("port Set: empty key", badCall(func(e *badEnv) error { return e.store.Set(e.ctx, "", []byte("v"), 0) }), errInvalid),
		Entry("port Set: negative ttl", badCall(func(e *badEnv) error {
			return e.store.Set(e.ctx, e.rawKey("raw"), []byte("v"), -time.Millisecond)
		}), errInvalid),
		Entry("port Set: sub-millisecond ttl", badCall(func(e *badEnv) error {
			return e.store.Set(e.ctx, e.rawKey("raw"), []byte("v"), time.Microsecond)
		}), errInvalid),
		Entry("port Set: 70 KiB key and 10 MiB value round-trip", badCall(func(e *badEnv) error {
			k := e.rawKey(badHugeKey)
			if err := e.store.Set(e.ctx, k, badHugeValue, time.Hour); err != nil {
				return err
			}
			got, err := e.store.Get(e.ctx, k)
			if err == nil && !bytes.Equal(got, badHugeValue) {
				return badCheckf("read back %d bytes", len(got))
			}
			return err
		}), nil),
		Entry("port Set: nil value", badCall(func(e *badEnv) error {
			if err := e.store.Set(e.ctx, e.rawKey("nil"), nil, 0); err != nil {
				return err
			}
			got, err := e.store.Get(e.ctx, e.rawKey("nil"))
			if err == nil && len(got) != 0 {
				return badCheckf("read back %q", got)
			}
			return err
		}), nil),
		Entry("port Del: a valid key and an empty one (nothing deleted)", badCall(func(e *badEnv) error {
			return ignore1(e.store.Del(e.ctx, e.rawKey("raw"), ""))
		}), errInvalid),
		Entry("port Del: no keys", badCall(func(e *badEnv) error { return ignore1(e.store.Del(e.ctx)) }), nil),
		Entry("port Exists: empty key", badCall(func(e *badEnv) error {
			return ignore1(e.store.Exists(e.ctx, e.rawKey("raw"), ""))
		}), errInvalid),
		Entry("port Expire: empty key", badCall(func(e *badEnv) error {
			return ignore1(e.store.Expire(e.ctx, "", time.Second))
		}), errInvalid),
		Entry("port Expire: negative ttl", badCall(func(e *badEnv) error {
			return ignore1(e.store.Expire(e.ctx, e.rawKey("raw"), -time.Second))
		}), errInvalid),
		Entry("port Expire: sub-millisecond ttl", badCall(func(e *badEnv) error {
			return ignore1(e.store.Expire(e.ctx, e.rawKey("raw"), 1))
		}), errInvalid),
		Entry("port TTL: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.TTL(e.ctx, "")) }), errInvalid),
		Entry("port Scan: negative batch", badCall(func(e *badEnv) error {
			return e.store.Scan(e.ctx, "*", -1, func([]string) error { return nil })
		}), errInvalid),
		Entry("port Scan: nil callback", badCall(func(e *badEnv) error {
			return e.store.Scan(e.ctx, domain.EscapeGlob(e.raw)+"*", 0, nil)
		}), errInvalid),
		Entry("port Scan: empty pattern lists nothing", badCall(func(e *badEnv) error {
			return e.store.Scan(e.ctx, "", 0, func(keys []string) error { return badCheckf("listed %q", keys) })
		}), nil),
		Entry("port Scan: an error from the callback stops the scan as is", badCall(func(e *badEnv) error {
			err := e.store.Scan(e.ctx, domain.EscapeGlob(e.raw)+"*", 1, func([]string) error { return errBadStop })
			if errors.Is(err, errBadStop) {
				return nil
			}
			return badCheckf("Scan = %v", err)
		}), nil),
		Entry("port HSet: empty key", badCall(func(e *badEnv) error { return e.store.HSet(e.ctx, "", "f", nil) }), errInvalid),
		Entry("port HSet: a string", badCall(func(e *badEnv) error {
			return e.store.HSet(e.ctx, e.rawKey("raw"), "f", nil)
		}), errWrong),
		Entry("port HGet: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.HGet(e.ctx, "", "f")) }), errInvalid),
		Entry("port HExists: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.HExists(e.ctx, "", "f")) }), errInvalid),
		Entry("port HGetAll: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.HGetAll(e.ctx, "")) }), errInvalid),
		Entry("port HKeys: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.HKeys(e.ctx, "")) }), errInvalid),
		Entry("port HDel: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.HDel(e.ctx, "", "f")) }), errInvalid),
		Entry("port HDel: no fields on a string", badCall(func(e *badEnv) error {
			return ignore1(e.store.HDel(e.ctx, e.rawKey("raw")))
		}), nil),
		Entry("port HDelBatch: a valid entry and an empty key (nothing deleted)", badCall(func(e *badEnv) error {
			return ignore1(e.store.HDelBatch(e.ctx, []ports.HashFields{
				{Key: e.site + "|" + badSentinelHash, Fields: []string{"f"}}, {Key: "", Fields: []string{"f"}},
			}))
		}), errInvalid),
		Entry("port HDelBatch: nil", badCall(func(e *badEnv) error { return ignore1(e.store.HDelBatch(e.ctx, nil)) }), nil),
		Entry("port SAdd: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.SAdd(e.ctx, "", "m")) }), errInvalid),
		Entry("port SAdd: no members on a string", badCall(func(e *badEnv) error {
			return ignore1(e.store.SAdd(e.ctx, e.rawKey("raw")))
		}), nil),
		Entry("port SRem: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.SRem(e.ctx, "", "m")) }), errInvalid),
		Entry("port SIsMember: empty key", badCall(func(e *badEnv) error {
			return ignore1(e.store.SIsMember(e.ctx, "", "m"))
		}), errInvalid),
		Entry("port SPop: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.SPop(e.ctx, "")) }), errInvalid),
		Entry("port SRandMember: empty key", badCall(func(e *badEnv) error {
			return ignore1(e.store.SRandMember(e.ctx, "", 1))
		}), errInvalid),
		Entry("port SRandMember: count out of range", badCall(func(e *badEnv) error {
			return ignore1(e.store.SRandMember(e.ctx, e.site+"|"+badSentinelSet, math.MinInt))
		}), errInvalid),
		Entry("port SMembers: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.SMembers(e.ctx, "")) }), errInvalid),
		Entry("port LPush: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.LPush(e.ctx, "", "v")) }), errInvalid),
		Entry("port LPush: no values on a string", badCall(func(e *badEnv) error {
			return ignore1(e.store.LPush(e.ctx, e.rawKey("raw")))
		}), errWrong),
		Entry("port RPush: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.RPush(e.ctx, "", "v")) }), errInvalid),
		Entry("port LPop: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.LPop(e.ctx, "")) }), errInvalid),
		Entry("port RPop: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.RPop(e.ctx, "")) }), errInvalid),
		Entry("port LLen: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.LLen(e.ctx, "")) }), errInvalid),
		Entry("port LRange: empty key", badCall(func(e *badEnv) error {
			return ignore1(e.store.LRange(e.ctx, "", 0, -1))
		}), errInvalid),
		Entry("port LTrim: empty key", badCall(func(e *badEnv) error { return e.store.LTrim(e.ctx, "", 0, -1) }), errInvalid),
		Entry("port SugAdd: empty key", badCall(func(e *badEnv) error {
			return ignore1(e.store.SugAdd(e.ctx, "", domain.Suggestion{String: "x"}))
		}), errInvalid),
		Entry("port SugAdd: NaN score", badCall(func(e *badEnv) error {
			return ignore1(e.store.SugAdd(e.ctx, e.site+"|"+badSentinelDict, domain.Suggestion{String: "x", Score: math.NaN()}))
		}), errInvalid),
		Entry("port SugGet: empty key", badCall(func(e *badEnv) error {
			return ignore1(e.store.SugGet(e.ctx, "", "x", domain.SugGetOptions{}))
		}), errInvalid),
		Entry("port SugGet: prefix of 100 runes", badCall(func(e *badEnv) error {
			return ignore1(e.store.SugGet(e.ctx, e.site+"|"+badSentinelDict, strings.Repeat("é", 100), domain.SugGetOptions{}))
		}), errInvalid),
		Entry("port SugDel: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.SugDel(e.ctx, "", "x")) }), errInvalid),
		Entry("port SugLen: empty key", badCall(func(e *badEnv) error { return ignore1(e.store.SugLen(e.ctx, "")) }), errInvalid),
	}
}

var errBadStop = errors.New("stop")

// badBackends are the stores the table runs on.
var badBackends = []struct {
	name   string
	labels Labels
	open   func() (ports.Store, func() error)
}{
	{"memory", Label("memory"), func() (ports.Store, func() error) {
		s := memory.New(memory.Config{})
		return s, s.Close
	}},
	{"standalone", Label("redis", "standalone"), func() (ports.Store, func() error) {
		Expect(standaloneServer).NotTo(BeNil(), "standalone server not started (BeforeSuite did not run)")
		s, err := standalone.New(standalone.Config{Addr: standaloneServer.Addr(), DB: badDB})
		Expect(err).NotTo(HaveOccurred())
		return s, s.Close
	}},
}

var _ = Describe("bad input", Label("badinput"), func() {
	for _, backend := range badBackends {
		Describe(backend.name, backend.labels, func() {
			var env *badEnv
			BeforeEach(func(ctx SpecContext) {
				store, closeStore := backend.open()
				DeferCleanup(closeStore)
				n := badSeq.Add(1)
				site := fmt.Sprintf("bad%d-%d.example.com", GinkgoParallelProcess(), n)
				cache, err := app.New(store, app.Config{Site: site})
				Expect(err).NotTo(HaveOccurred())
				env = &badEnv{
					ctx: ctx, store: store, cache: cache, search: cache.FT(""), site: site,
					raw: fmt.Sprintf("badraw%d-%d:", GinkgoParallelProcess(), n),
				}
				DeferCleanup(env.cleanUp)
				env.writeSentinels()
			})
			DescribeTable("returns the right error, never panics and loses no data",
				func(ctx SpecContext, call badCall, want error) {
					env.ctx = ctx
					var err error
					func() {
						defer func() {
							if p := recover(); p != nil {
								Fail(fmt.Sprintf("panic: %v\n%s", p, debug.Stack()))
							}
						}()
						err = call(env)
					}()
					Expect(errors.Is(err, errBadCheck)).To(BeFalse(), "%v", err)
					if want == nil {
						Expect(err).NotTo(HaveOccurred())
					} else {
						Expect(err).To(MatchError(want), "want an error matching %v", want)
						for _, other := range []error{errInvalid, errWrong, errMissing, domain.ErrUnavailable, domain.ErrClosed} {
							if other != want {
								Expect(errors.Is(err, other)).To(BeFalse(), "error %v also matches %v", err, other)
							}
						}
					}
					env.checkSentinels()
				},
				badEntries())
		})
	}
})
