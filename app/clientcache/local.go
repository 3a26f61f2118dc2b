package clientcache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/rediscache/rediscache/app/clientcache/internal/wtinylfu"
	"github.com/rediscache/rediscache/domain"
)

// shardCount is the number of locks the writers of the local entries are
// spread over (and of the stripes of the hit counters): writes of different
// keys seldom wait on each other. Hits take no lock at all.
const shardCount = 64

// entry is one local slot: a value (or a remembered miss), or a placeholder
// for a fetch in flight.
type entry struct {
	key string

	// Set once before the entry is published; read-only afterwards.
	value    any    // decoded value, nil for a remembered miss
	raw      []byte // encoded value, nil for a remembered miss
	missing  bool   // the backend had no such key
	size     int64
	expires  int64         // clock nanoseconds (ClientCache.now)
	volatile bool          // expires comes from the key's TTL: hits read the exact clock
	lease    *domain.Lease // the tracking that covers the value
	site     *siteStats    // the counters of the key's site

	// node is the entry's place in the eviction policy (W-TinyLFU).
	node wtinylfu.Node[*entry]

	// Placeholder fields: token != 0 marks a fetch in flight. done is
	// closed once res is set. claim is the hand-over between the fetch's
	// goroutine and the reader that started it (see ClientCache.fetch).
	// absent is set when the placeholder replaced a remembered miss still
	// covered by its lease: the key is known missing, its owner need not
	// fetch it before generating it.
	token  uint64
	done   chan struct{}
	res    fetchResult
	claim  atomic.Int32
	absent bool
}

type fetchResult struct {
	value any
	raw   []byte
	err   error
}

// shard is the lock of the keys that hash to it: every change of idx for
// such a key, and every read of idx that a change depends on, is made under
// it.
type shard struct {
	mu sync.Mutex
	_  [56]byte // keep shards on separate cache lines
}

// local is the bounded set of entries: a concurrent map for the lookups,
// whose hits read without taking a lock or writing shared memory, changed
// under per-key shard locks, and a W-TinyLFU policy (internal/wtinylfu)
// that decides what stays. Lock order: a shard, then the policy's own lock
// (the policy never takes a shard lock).
type local struct {
	seed   maphash.Seed
	shards [shardCount]shard
	// idx maps every full key to its entry or placeholder. Reads are
	// lock-free (xsync.Map: a hit costs one hash and a few atomic loads,
	// where a map behind a sync.RWMutex costs two atomic writes to a line
	// every reader of the shard shares); writes hold the key's shard lock,
	// so that a read-compare-write of one key is atomic.
	idx *xsync.Map[string, *entry]

	count    atomic.Int64 // published (non-placeholder) entries in the maps
	bytes    atomic.Int64 // sum of their sizes
	negative atomic.Int64 // published remembered misses

	maxEntries int64
	maxBytes   int64

	// accept decides, under the shard lock, whether a fetch may publish
	// (the cache is running and the value's lease is valid).
	accept func(*entry) bool

	p      *wtinylfu.Policy[*entry]
	tokens atomic.Uint64

	st *counters
}

func newLocal(maxEntries int, maxBytes, maxEntryBytes int64, st *counters, accept func(*entry) bool) *local {
	p, err := wtinylfu.New[*entry](wtinylfu.Config{
		MaxEntries:     int64(maxEntries),
		MaxWeight:      maxBytes,
		MaxEntryWeight: maxEntryBytes,
	})
	if err != nil {
		panic(err) // Config.Validate and withDefaults rule this out
	}
	return &local{seed: maphash.MakeSeed(), idx: xsync.NewMap[string, *entry](), maxEntries: int64(maxEntries),
		maxBytes: maxBytes, st: st, accept: accept, p: p}
}

func (l *local) shardOfString(key string) *shard {
	return &l.shards[maphash.String(l.seed, key)&(shardCount-1)]
}

// lookup returns the entry (or placeholder) for key, if any. It takes no
// lock and never allocates: key is only read during the call.
func (l *local) lookup(key []byte) *entry {
	e, _ := l.idx.Load(unsafe.String(unsafe.SliceData(key), len(key)))
	return e
}

// reserve returns, under the shard lock, either the live entry for key
// (hit), a placeholder another fetch owns (wait on it), or a new placeholder
// this caller owns (own). An expired entry is replaced by the placeholder; so
// is a remembered miss when skipMissing is set (a generator must run), and
// the placeholder is then absent if the miss's lease is valid.
func (l *local) reserve(key string, now int64, skipMissing bool) (hit, wait, own *entry) {
	sh := l.shardOfString(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	absent := false
	if e, _ := l.idx.Load(key); e != nil {
		switch {
		case e.token != 0:
			return nil, e, nil
		case now >= e.expires:
			l.unlinkLocked(sh, e)
			l.st.expired(e)
		case e.missing && skipMissing:
			l.unlinkLocked(sh, e)
			absent = e.lease.Valid()
		default:
			return e, nil, nil
		}
	}
	ph := &entry{key: key, token: l.tokens.Add(1), done: make(chan struct{}), absent: absent}
	l.idx.Store(key, ph)
	return nil, nil, ph
}

// publish replaces the placeholder ph with e if ph is still in place (no
// invalidation, drop or flush removed it meanwhile) and accept agrees. It
// reports whether e was stored, and enforces the bounds afterwards.
func (l *local) publish(ph, e *entry) bool {
	h := maphash.String(l.seed, ph.key)
	sh := &l.shards[h&(shardCount-1)]
	sh.mu.Lock()
	if cur, _ := l.idx.Load(ph.key); cur != ph || !l.accept(e) {
		sh.mu.Unlock()
		l.st.raced.Add(1)
		return false
	}
	l.p.Init(&e.node, e, h, e.size)
	l.idx.Store(ph.key, e)
	l.count.Add(1)
	l.bytes.Add(e.size)
	if e.missing {
		l.negative.Add(1)
	}
	sh.mu.Unlock()
	return l.admit(e)
}

// finish hands the fetch result to the goroutines waiting on ph. If ph is
// still in place (the fetch failed or was not published), it is removed.
func (l *local) finish(ph *entry, res fetchResult) {
	sh := l.shardOfString(ph.key)
	sh.mu.Lock()
	if cur, _ := l.idx.Load(ph.key); cur == ph {
		l.idx.Delete(ph.key)
	}
	sh.mu.Unlock()
	ph.res = res
	close(ph.done)
}

// remove drops key (entry or placeholder). It reports whether a published
// entry was dropped.
func (l *local) remove(key string) bool {
	sh := l.shardOfString(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, _ := l.idx.Load(key)
	if e == nil {
		return false
	}
	if e.token != 0 {
		l.idx.Delete(key) // the fetch in flight will not publish
		return false
	}
	l.unlinkLocked(sh, e)
	return true
}

// unlinkLocked removes a published entry from the index, the policy and
// the accounting; the caller holds the lock of e's shard and saw e in the
// index under it.
func (l *local) unlinkLocked(_ *shard, e *entry) {
	l.idx.Delete(e.key)
	l.p.Remove(&e.node)
	l.count.Add(-1)
	l.bytes.Add(-e.size)
	if e.missing {
		l.negative.Add(-1)
	}
}

// drop removes every published entry whose lease scope covers, and every
// placeholder (a fetch in flight may have read under scope), and returns how
// many published entries it removed. A nil scope covers everything.
func (l *local) drop(scope *domain.Lease) int64 {
	// Every entry in the index from the call's start to its visit is
	// visited (xsync.Map.Range); what is added meanwhile was fetched
	// after the caller revoked scope's leases, and does not publish.
	var n int64
	l.idx.Range(func(k string, e *entry) bool {
		if e.token == 0 && !scope.Covers(e.lease) {
			return true
		}
		sh := l.shardOfString(k)
		sh.mu.Lock()
		if cur, _ := l.idx.Load(k); cur == e {
			if e.token != 0 {
				l.idx.Delete(k)
			} else {
				l.unlinkLocked(sh, e)
				n++
			}
		}
		sh.mu.Unlock()
		return true
	})
	return n
}

// admit adds the published entry e to the policy, which may reject it or
// evict others to stay within the bounds, and drops what it lists. It
// reports whether e stayed.
func (l *local) admit(e *entry) bool {
	var buf [8]wtinylfu.Eviction[*entry]
	evicted, kept := l.p.Add(&e.node, buf[:0])
	for _, v := range evicted {
		x := v.Entry
		sh := l.shardOfString(x.key)
		sh.mu.Lock()
		if cur, _ := l.idx.Load(x.key); cur == x {
			l.unlinkLocked(sh, x)
			l.st.evicted(v.Cause)
		}
		sh.mu.Unlock()
	}
	return kept
}

// sizeOf is the accounted size of an entry: its key and its encoded value.
func sizeOf(key string, raw []byte) int64 { return int64(len(key) + len(raw)) }

// recount recomputes the published entries and their byte sum from the
// maps, for tests.
func (l *local) recount() (entries, bytes int64) {
	l.each(func(e *entry) {
		if e.token == 0 {
			entries++
			bytes += e.size
		}
	})
	return entries, bytes
}

// each calls f for every entry and placeholder in the index, for tests.
func (l *local) each(f func(*entry)) {
	l.idx.Range(func(_ string, e *entry) bool {
		f(e)
		return true
	})
}
