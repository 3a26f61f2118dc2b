package memory

// # Internal API for extension values (suggest.go)
//
// Besides the Redis types (string, hash, set, list) a key can hold an
// extension value: any Go value tagged with a kind name, standing for a type
// that Redis gets from a module (the RediSearch suggestion dictionaries of
// suggest.go). Extension values live in the same keyspace: Del, Exists,
// Expire, TTL, Scan, Set and FlushAll treat them like any other key, expiry
// removes them, and every Redis-type command on them fails with WRONGTYPE.
//
// Use Store.withExt to read or write one:
//
//	err := s.withExt(ctx, "sugadd", key, "sugdict", func(cur any) (any, bool, error) {
//		d, _ := cur.(*sugDict) // nil when the key is missing or expired
//		if d == nil {
//			d = newSugDict()
//		}
//		d.add(...)
//		return d, true, nil // store d, report the change
//	})
//
// withExt checks ctx, the closed state and the key, takes the DB lock, finds
// the live value (expiring it lazily) and calls fn with it:
//
//   - cur is nil when the key is missing; a key holding a Redis type or an
//     extension of another kind fails with WRONGTYPE before fn runs;
//   - fn returns (next, changed, err). When changed is false nothing is
//     stored (use it for reads, next is ignored). When changed is true,
//     next replaces the value (keeping the key's ttl; it may be cur mutated
//     in place) or, if nil, the key is deleted; in both cases key is
//     reported as changed (see emit in invalidation.go);
//   - when fn returns an error, next and changed are ignored and the error is
//     returned as is, so fn must not have modified cur in that case;
//   - fn runs under the DB lock: it must not call Store methods, must not
//     block, and must copy out whatever it returns to the caller. Values are
//     never copied by the store.

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/rediscache/rediscache/adapters/internal/sinkset"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

var (
	_ ports.Store            = (*Store)(nil)
	_ ports.Tracker          = (*Store)(nil)
	_ ports.TrackingSessions = (*Store)(nil)
	_ ports.Broadcast        = (*Store)(nil)
	_ ports.Pinger           = (*Store)(nil)
)

// pollInterval bounds the wait of the expiry timer under a custom clock
// (WithClock), whose deadlines do not follow the wall clock.
const pollInterval = 5 * time.Millisecond

// wrongTypeMsg is Redis' WRONGTYPE error text.
const wrongTypeMsg = "WRONGTYPE Operation against a key holding the wrong kind of value"

// DB is the data shared by the Store handles of one backend: one keyspace
// guarded by one mutex, the expiry timer and the handles' tracking. It
// is the in-process counterpart of one Redis server; New creates one and
// Store.Peer opens more handles on it.
type DB struct {
	mu   sync.Mutex
	cfg  Config
	now  func() time.Time
	poll bool // custom clock: the timer polls
	log  *zap.Logger

	keys    map[string]*entry
	keysGen uint64 // incremented whenever keys is replaced by a new map
	expires expiryHeap

	timer    *time.Timer
	timerAt  time.Time
	timerGen uint64
	timerWG  sync.WaitGroup // running or pending timer callbacks

	stores map[*Store]struct{}
	bcast  map[*bcSub]struct{} // Broadcast subscriptions
	nextID int64
	closed bool

	// expired lists the keys the current command found expired; they are
	// reported when the command ends.
	expired []string
}

// Store is one client handle on a DB, like one Redis client (a connection
// pool and its tracking) of one process. It implements every port of
// package ports (Suggest only in suggest.go) plus ports.Pinger. Stores are
// safe for concurrent use.
type Store struct {
	db       *DB
	id       int64
	isClosed atomic.Bool // set under db.mu, read without it
	wg       sync.WaitGroup

	// Tracking (invalidation.go): the sinks, the keys fetched since they
	// last changed (guarded by db.mu), and the lease of what was fetched.
	sinks   sinkset.Set
	tracked map[string]struct{}
	lease   *domain.Lease
}

// entry is the value of one key.
type entry struct {
	value    any       // []byte, hashValue, setValue, *listValue or *extValue
	expireAt time.Time // zero: no expiry
}

// Values of the Redis types; strings are plain []byte.
type (
	hashValue map[string][]byte
	setValue  map[string]struct{}
	listValue struct{ items []string }
	// extValue is an extension value; see the comment at the top of this
	// file.
	extValue struct {
		kind string
		v    any
	}
)

// New creates an empty DB configured by cfg and opts and returns the first
// client handle on it. Close every handle (or the DB, see Store.DB) to stop
// the expiry timer.
func New(cfg Config, opts ...Option) *Store {
	o := options{clock: time.Now, logger: zap.NewNop()}
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	db := &DB{
		cfg:    cfg.withDefaults(),
		now:    o.clock,
		poll:   o.customClock,
		log:    o.logger.Named("rediscache").Named("memory"),
		keys:   make(map[string]*entry),
		stores: make(map[*Store]struct{}),
		bcast:  make(map[*bcSub]struct{}),
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.newStoreLocked()
}

// newStoreLocked registers a new handle.
func (db *DB) newStoreLocked() *Store {
	db.nextID++
	s := &Store{db: db, id: db.nextID, tracked: make(map[string]struct{}), lease: domain.NewLease(nil)}
	if db.closed {
		s.isClosed.Store(true)
		return s
	}
	db.stores[s] = struct{}{}
	return s
}

// Peer returns a new client handle on the same DB, with its own client id:
// its writes are reported to the sinks of s for the keys s fetched, and the
// other way round, as between two processes on one Redis server. Peer of a closed handle, or of a closed DB,
// returns a closed handle.
func (s *Store) Peer() *Store {
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	p := db.newStoreLocked()
	if s.isClosed.Load() {
		delete(db.stores, p)
		p.isClosed.Store(true)
	}
	return p
}

// DB returns the database s is a handle on.
func (s *Store) DB() *DB { return s.db }

// Close closes the handle: its broadcast subscriptions' channels are closed
// (before Close returns), its sinks are told to drop everything
// (domain.ReasonStop), and every later call fails with an error matching
// domain.ErrClosed. Closing the last open handle of a DB closes the DB, which
// stops its expiry timer and drops its data. Close is idempotent and always
// returns nil.
func (s *Store) Close() error {
	db := s.db
	db.mu.Lock()
	if s.isClosed.Load() {
		db.mu.Unlock()
		return nil
	}
	s.isClosed.Store(true)
	s.lease.Revoke()
	s.sinks.Drop(s.lease, domain.ReasonStop)
	clear(s.tracked)
	for sub := range db.bcast {
		if sub.store == s {
			sub.stop()
		}
	}
	delete(db.stores, s)
	last := len(db.stores) == 0 && !db.closed
	if last {
		db.closeLocked()
	}
	db.mu.Unlock()
	s.wg.Wait()
	if last {
		db.timerWG.Wait()
	}
	return nil
}

// Close closes every handle of the DB and the DB itself: the expiry timer is
// stopped and the data dropped. Handles opened later with Peer are closed
// from the start. Close is idempotent and always returns nil.
func (db *DB) Close() error {
	db.mu.Lock()
	if !db.closed {
		db.closeLocked()
	}
	stores := make([]*Store, 0, len(db.stores))
	for s := range db.stores {
		stores = append(stores, s)
	}
	db.mu.Unlock()
	for _, s := range stores {
		_ = s.Close()
	}
	db.timerWG.Wait()
	return nil
}

// closeLocked marks the DB closed, stops the timer and drops the data.
func (db *DB) closeLocked() {
	db.closed = true
	db.stopTimerLocked()
	db.keys = make(map[string]*entry)
	db.keysGen++
	db.expires = nil
	db.expired = nil
	db.log.Debug("db closed")
}

// Ping returns nil unless ctx is done or the handle is closed.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed() {
		return errClosed("ping")
	}
	return nil
}

// FlushAll removes every key of the DB (Redis FLUSHALL) and tells the sinks
// of every handle, s included, to drop what they fetched
// (domain.ReasonFlushAll): a flush must always clear local caches.
func (s *Store) FlushAll(ctx context.Context) error {
	t, err := s.begin(ctx, "flushall")
	if err != nil {
		return err
	}
	defer t.end()
	db := s.db
	db.keys = make(map[string]*entry)
	db.keysGen++
	db.expires = nil
	db.expired = nil // the flush reports them
	db.stopTimerLocked()
	db.flushTracking()
	return nil
}

// closed reports whether the handle (or its DB) is closed.
func (s *Store) closed() bool { return s.isClosed.Load() }

// tx is one command running under the DB lock.
type tx struct {
	s       *Store
	db      *DB
	now     time.Time
	changed []string
}

// begin starts the command op on keys: it checks ctx, the closed state and
// the keys, then takes the DB lock. The caller must call end.
func (s *Store) begin(ctx context.Context, op string, keys ...string) (tx, error) {
	if err := ctx.Err(); err != nil {
		return tx{}, err
	}
	if s.closed() {
		return tx{}, errClosed(op)
	}
	for _, k := range keys {
		if k == "" {
			return tx{}, fmt.Errorf("%s: %w: empty key", op, domain.ErrInvalidArgument)
		}
	}
	db := s.db
	db.mu.Lock()
	if s.closed() || db.closed {
		db.mu.Unlock()
		return tx{}, errClosed(op)
	}
	return tx{s: s, db: db, now: db.now()}, nil
}

// end reports the keys found expired, then the keys the command changed
// (see emit), and unlocks.
func (t *tx) end() {
	db := t.db
	if len(db.expired) > 0 {
		db.emit(nil, db.expired)
		db.expired = nil
	}
	if len(t.changed) > 0 {
		db.emit(t.s, dedup(t.changed))
	}
	db.mu.Unlock()
}

// touch records that the command changed key.
func (t *tx) touch(key string) { t.changed = append(t.changed, key) }

// get returns the live entry of key, or nil. An expired entry is removed and
// recorded for the expiry invalidation.
func (t *tx) get(key string) *entry {
	return t.db.live(key, t.now)
}

// live returns the entry of key unless it is missing or expired at now; an
// expired entry is removed and queued in db.expired.
func (db *DB) live(key string, now time.Time) *entry {
	e := db.keys[key]
	if e == nil {
		return nil
	}
	if !e.expireAt.IsZero() && !now.Before(e.expireAt) {
		delete(db.keys, key)
		db.expired = append(db.expired, key)
		return nil
	}
	return e
}

// put stores a new entry for key with no expiry and returns it.
func (t *tx) put(key string, value any) *entry {
	e := &entry{value: value}
	t.db.keys[key] = e
	return e
}

// del removes key.
func (t *tx) del(key string) { delete(t.db.keys, key) }

// setExpiry sets the expiry of e (stored under key) to at; zero removes it.
func (t *tx) setExpiry(key string, e *entry, at time.Time) {
	e.expireAt = at
	if at.IsZero() {
		return
	}
	db := t.db
	if len(db.expires) > 64 && len(db.expires) > 2*len(db.keys) {
		db.rebuildExpires()
	}
	heap.Push(&db.expires, expiryItem{at: at, key: key})
	db.armLocked(t.now)
}

// dedup removes repeated keys, keeping the first occurrence.
func dedup(keys []string) []string {
	if len(keys) < 2 {
		return keys
	}
	seen := make(map[string]struct{}, len(keys))
	out := keys[:0]
	for _, k := range keys {
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			out = append(out, k)
		}
	}
	return out
}

// expiryItem is a deadline of the expiry heap. The heap may hold stale
// items (keys deleted, rewritten or given another ttl); the sweep checks the
// entry itself.
type expiryItem struct {
	at  time.Time
	key string
}

// expiryHeap is a min-heap of deadlines (container/heap).
type expiryHeap []expiryItem

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryItem)) }
func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// rebuildExpires drops the stale items of the heap.
func (db *DB) rebuildExpires() {
	h := db.expires[:0]
	for k, e := range db.keys {
		if !e.expireAt.IsZero() {
			h = append(h, expiryItem{at: e.expireAt, key: k})
		}
	}
	clear(db.expires[len(h):cap(db.expires)])
	db.expires = h
	heap.Init(&db.expires)
}

// armLocked makes sure the timer fires by the earliest deadline.
func (db *DB) armLocked(now time.Time) {
	if db.closed || len(db.expires) == 0 {
		return
	}
	at := db.expires[0].at
	if db.timer != nil && !at.Before(db.timerAt) {
		return
	}
	db.stopTimerLocked()
	d := at.Sub(now)
	if d < 0 {
		d = 0
	}
	if db.poll && d > pollInterval {
		d = pollInterval
	}
	db.timerGen++
	gen := db.timerGen
	db.timerAt = at
	db.timerWG.Add(1)
	db.timer = time.AfterFunc(d, func() { db.onTimer(gen) })
}

// stopTimerLocked stops the timer, if any.
func (db *DB) stopTimerLocked() {
	if db.timer != nil && db.timer.Stop() {
		db.timerWG.Done()
	}
	db.timer = nil
	db.timerAt = time.Time{}
}

// onTimer removes the expired keys, reports them and re-arms the timer.
func (db *DB) onTimer(gen uint64) {
	defer db.timerWG.Done()
	db.mu.Lock()
	defer db.mu.Unlock()
	if gen == db.timerGen {
		db.timer = nil
		db.timerAt = time.Time{}
	}
	if db.closed {
		return
	}
	now := db.now()
	for len(db.expires) > 0 && !now.Before(db.expires[0].at) {
		it := heap.Pop(&db.expires).(expiryItem)
		db.live(it.key, now)
	}
	if len(db.expired) > 0 {
		db.emit(nil, db.expired)
		db.expired = nil
	}
	db.armLocked(now)
}

// errClosed is the error of op on a closed handle.
func errClosed(op string) error { return fmt.Errorf("%s: %w", op, domain.ErrClosed) }

// errWrongType is the error of op on a key of another type.
func errWrongType(op, key string) error {
	return fmt.Errorf("%s %q: %w: %s", op, key, domain.ErrWrongType, wrongTypeMsg)
}

// errNotFound is the error of op on a missing key.
func errNotFound(op, key string) error {
	return fmt.Errorf("%s %q: %w", op, key, domain.ErrNotFound)
}

// withExt runs fn on the extension value of kind stored under key; see the
// comment at the top of this file.
func (s *Store) withExt(ctx context.Context, op, key, kind string, fn func(cur any) (next any, changed bool, err error)) error {
	t, err := s.begin(ctx, op, key)
	if err != nil {
		return err
	}
	defer t.end()
	e := t.get(key)
	var cur any
	if e != nil {
		x, ok := e.value.(*extValue)
		if !ok || x.kind != kind {
			return errWrongType(op, key)
		}
		cur = x.v
	}
	next, changed, err := fn(cur)
	if err != nil || !changed {
		return err
	}
	switch {
	case next == nil && e == nil:
		return nil
	case next == nil:
		t.del(key)
	case e == nil:
		t.put(key, &extValue{kind: kind, v: next})
	default:
		e.value = &extValue{kind: kind, v: next}
	}
	t.touch(key)
	return nil
}
