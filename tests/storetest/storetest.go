// Package storetest wraps a ports.Store (and its ports.Tracker, when it has
// one) for tests: it counts the commands that reach the backend, can make
// every call fail as if the backend were down, and can pause a call at a
// chosen point (to make races deterministic).
package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// Store wraps a ports.Store. The zero value is not usable; use Wrap.
type Store struct {
	next  ports.Store
	calls atomic.Int64
	down  atomic.Bool

	mu         sync.Mutex
	byName     map[string]int64
	hooks      map[string]func(ctx context.Context, key string)
	afterGet   func(ctx context.Context, key string)
	afterFetch func(ctx context.Context, key string)
}

// Wrap returns a counting, fault-injecting wrapper around next.
func Wrap(next ports.Store) *Store {
	return &Store{next: next, byName: map[string]int64{}, hooks: map[string]func(context.Context, string){}}
}

// Calls returns how many calls reached the wrapper.
func (s *Store) Calls() int64 { return s.calls.Load() }

// CallsOf returns how many calls of the named method (e.g. "Get") were made.
func (s *Store) CallsOf(method string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byName[method]
}

// SetDown makes every later call fail with domain.ErrUnavailable (true) or
// reach the backend again (false).
func (s *Store) SetDown(down bool) { s.down.Store(down) }

// OnCall runs hook, in the caller's goroutine, before each call of method
// reaches the backend; nil removes it. Use it to pause a fetch.
func (s *Store) OnCall(method string, hook func(ctx context.Context, key string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hook == nil {
		delete(s.hooks, method)
		return
	}
	s.hooks[method] = hook
}

// AfterGet runs hook, in the caller's goroutine, after the backend answered
// a Get and before the answer is returned; nil removes it. Use it to pause a
// fetch whose reply is in hand, to let an invalidation race it.
func (s *Store) AfterGet(hook func(ctx context.Context, key string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterGet = hook
}

// AfterFetch is AfterGet for Fetch (the ClientCache's tracked reads).
func (s *Store) AfterFetch(hook func(ctx context.Context, key string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterFetch = hook
}

func (s *Store) enter(ctx context.Context, method, key string) error {
	s.calls.Add(1)
	s.mu.Lock()
	s.byName[method]++
	hook := s.hooks[method]
	s.mu.Unlock()
	if hook != nil {
		hook(ctx, key)
	}
	if s.down.Load() {
		return fmt.Errorf("rediscache: %s %q: %w (storetest: backend down)", method, key, domain.ErrUnavailable)
	}
	return nil
}

// Ping fails when the store is down, else asks the backend if it can.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.enter(ctx, "Ping", ""); err != nil {
		return err
	}
	if p, ok := s.next.(ports.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

var (
	_ ports.Store        = (*Store)(nil)
	_ ports.Pinger       = (*Store)(nil)
	_ ports.TrackedStore = (*Store)(nil)
)

// Tracker

func (s *Store) tracker() (ports.Tracker, error) {
	t, ok := s.next.(ports.Tracker)
	if !ok {
		return nil, fmt.Errorf("storetest: %w: the wrapped store has no Tracker", domain.ErrNotSupported)
	}
	return t, nil
}

// Track delegates (it is not counted: it is no command).
func (s *Store) Track(ctx context.Context, sink ports.InvalidationSink) (func(), error) {
	t, err := s.tracker()
	if err != nil {
		return nil, err
	}
	return t.Track(ctx, sink)
}

// Fetch counts the call, applies the fault and hooks, then delegates.
func (s *Store) Fetch(ctx context.Context, key string) (domain.Fetched, error) {
	if err := s.enter(ctx, "Fetch", key); err != nil {
		return domain.Fetched{}, err
	}
	t, err := s.tracker()
	if err != nil {
		return domain.Fetched{}, err
	}
	f, err := t.Fetch(ctx, key)
	s.mu.Lock()
	hook := s.afterFetch
	s.mu.Unlock()
	if hook != nil {
		hook(ctx, key)
	}
	return f, err
}

// Tracking delegates; a down store is not tracking.
func (s *Store) Tracking() bool {
	t, err := s.tracker()
	return err == nil && !s.down.Load() && t.Tracking()
}

func first(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// KeyValue

// Get counts the call, applies the fault and hook, then delegates.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.enter(ctx, "Get", key); err != nil {
		return nil, err
	}
	v, err := s.next.Get(ctx, key)
	s.mu.Lock()
	hook := s.afterGet
	s.mu.Unlock()
	if hook != nil {
		hook(ctx, key)
	}
	return v, err
}

// Set counts the call, applies the fault and hook, then delegates.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.enter(ctx, "Set", key); err != nil {
		return err
	}
	return s.next.Set(ctx, key, value, ttl)
}

// Del counts the call, applies the fault and hook, then delegates.
func (s *Store) Del(ctx context.Context, keys ...string) (int64, error) {
	if err := s.enter(ctx, "Del", first(keys)); err != nil {
		return 0, err
	}
	return s.next.Del(ctx, keys...)
}

// Exists counts the call, applies the fault and hook, then delegates.
func (s *Store) Exists(ctx context.Context, keys ...string) (int64, error) {
	if err := s.enter(ctx, "Exists", first(keys)); err != nil {
		return 0, err
	}
	return s.next.Exists(ctx, keys...)
}

// Expire counts the call, applies the fault and hook, then delegates.
func (s *Store) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := s.enter(ctx, "Expire", key); err != nil {
		return false, err
	}
	return s.next.Expire(ctx, key, ttl)
}

// TTL counts the call, applies the fault and hook, then delegates.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := s.enter(ctx, "TTL", key); err != nil {
		return 0, err
	}
	return s.next.TTL(ctx, key)
}

// Scan counts the call, applies the fault and hook, then delegates.
func (s *Store) Scan(ctx context.Context, pattern string, batch int, fn func([]string) error) error {
	if err := s.enter(ctx, "Scan", pattern); err != nil {
		return err
	}
	return s.next.Scan(ctx, pattern, batch, fn)
}

// Hash

// HSet counts the call, applies the fault and hook, then delegates.
func (s *Store) HSet(ctx context.Context, key, field string, value []byte) error {
	if err := s.enter(ctx, "HSet", key); err != nil {
		return err
	}
	return s.next.HSet(ctx, key, field, value)
}

// HGet counts the call, applies the fault and hook, then delegates.
func (s *Store) HGet(ctx context.Context, key, field string) ([]byte, error) {
	if err := s.enter(ctx, "HGet", key); err != nil {
		return nil, err
	}
	return s.next.HGet(ctx, key, field)
}

// HExists counts the call, applies the fault and hook, then delegates.
func (s *Store) HExists(ctx context.Context, key, field string) (bool, error) {
	if err := s.enter(ctx, "HExists", key); err != nil {
		return false, err
	}
	return s.next.HExists(ctx, key, field)
}

// HGetAll counts the call, applies the fault and hook, then delegates.
func (s *Store) HGetAll(ctx context.Context, key string) (map[string][]byte, error) {
	if err := s.enter(ctx, "HGetAll", key); err != nil {
		return nil, err
	}
	return s.next.HGetAll(ctx, key)
}

// HKeys counts the call, applies the fault and hook, then delegates.
func (s *Store) HKeys(ctx context.Context, key string) ([]string, error) {
	if err := s.enter(ctx, "HKeys", key); err != nil {
		return nil, err
	}
	return s.next.HKeys(ctx, key)
}

// HDel counts the call, applies the fault and hook, then delegates.
func (s *Store) HDel(ctx context.Context, key string, fields ...string) (int64, error) {
	if err := s.enter(ctx, "HDel", key); err != nil {
		return 0, err
	}
	return s.next.HDel(ctx, key, fields...)
}

// HDelBatch counts the call, applies the fault and hook, then delegates.
func (s *Store) HDelBatch(ctx context.Context, dels []ports.HashFields) (int64, error) {
	key := ""
	if len(dels) > 0 {
		key = dels[0].Key
	}
	if err := s.enter(ctx, "HDelBatch", key); err != nil {
		return 0, err
	}
	return s.next.HDelBatch(ctx, dels)
}

// Set

// SAdd counts the call, applies the fault and hook, then delegates.
func (s *Store) SAdd(ctx context.Context, key string, members ...string) (int64, error) {
	if err := s.enter(ctx, "SAdd", key); err != nil {
		return 0, err
	}
	return s.next.SAdd(ctx, key, members...)
}

// SRem counts the call, applies the fault and hook, then delegates.
func (s *Store) SRem(ctx context.Context, key string, members ...string) (int64, error) {
	if err := s.enter(ctx, "SRem", key); err != nil {
		return 0, err
	}
	return s.next.SRem(ctx, key, members...)
}

// SIsMember counts the call, applies the fault and hook, then delegates.
func (s *Store) SIsMember(ctx context.Context, key, member string) (bool, error) {
	if err := s.enter(ctx, "SIsMember", key); err != nil {
		return false, err
	}
	return s.next.SIsMember(ctx, key, member)
}

// SPop counts the call, applies the fault and hook, then delegates.
func (s *Store) SPop(ctx context.Context, key string) (string, error) {
	if err := s.enter(ctx, "SPop", key); err != nil {
		return "", err
	}
	return s.next.SPop(ctx, key)
}

// SRandMember counts the call, applies the fault and hook, then delegates.
func (s *Store) SRandMember(ctx context.Context, key string, count int) ([]string, error) {
	if err := s.enter(ctx, "SRandMember", key); err != nil {
		return nil, err
	}
	return s.next.SRandMember(ctx, key, count)
}

// SMembers counts the call, applies the fault and hook, then delegates.
func (s *Store) SMembers(ctx context.Context, key string) ([]string, error) {
	if err := s.enter(ctx, "SMembers", key); err != nil {
		return nil, err
	}
	return s.next.SMembers(ctx, key)
}

// List

// LPush counts the call, applies the fault and hook, then delegates.
func (s *Store) LPush(ctx context.Context, key string, values ...string) (int64, error) {
	if err := s.enter(ctx, "LPush", key); err != nil {
		return 0, err
	}
	return s.next.LPush(ctx, key, values...)
}

// RPush counts the call, applies the fault and hook, then delegates.
func (s *Store) RPush(ctx context.Context, key string, values ...string) (int64, error) {
	if err := s.enter(ctx, "RPush", key); err != nil {
		return 0, err
	}
	return s.next.RPush(ctx, key, values...)
}

// LPop counts the call, applies the fault and hook, then delegates.
func (s *Store) LPop(ctx context.Context, key string) (string, error) {
	if err := s.enter(ctx, "LPop", key); err != nil {
		return "", err
	}
	return s.next.LPop(ctx, key)
}

// RPop counts the call, applies the fault and hook, then delegates.
func (s *Store) RPop(ctx context.Context, key string) (string, error) {
	if err := s.enter(ctx, "RPop", key); err != nil {
		return "", err
	}
	return s.next.RPop(ctx, key)
}

// LLen counts the call, applies the fault and hook, then delegates.
func (s *Store) LLen(ctx context.Context, key string) (int64, error) {
	if err := s.enter(ctx, "LLen", key); err != nil {
		return 0, err
	}
	return s.next.LLen(ctx, key)
}

// LRange counts the call, applies the fault and hook, then delegates.
func (s *Store) LRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	if err := s.enter(ctx, "LRange", key); err != nil {
		return nil, err
	}
	return s.next.LRange(ctx, key, start, stop)
}

// LTrim counts the call, applies the fault and hook, then delegates.
func (s *Store) LTrim(ctx context.Context, key string, start, stop int64) error {
	if err := s.enter(ctx, "LTrim", key); err != nil {
		return err
	}
	return s.next.LTrim(ctx, key, start, stop)
}

// Suggest

// SugAdd counts the call, applies the fault and hook, then delegates.
func (s *Store) SugAdd(ctx context.Context, key string, suggestions ...domain.Suggestion) (int64, error) {
	if err := s.enter(ctx, "SugAdd", key); err != nil {
		return 0, err
	}
	return s.next.SugAdd(ctx, key, suggestions...)
}

// SugGet counts the call, applies the fault and hook, then delegates.
func (s *Store) SugGet(ctx context.Context, key, prefix string, opts domain.SugGetOptions) ([]domain.Suggestion, error) {
	if err := s.enter(ctx, "SugGet", key); err != nil {
		return nil, err
	}
	return s.next.SugGet(ctx, key, prefix, opts)
}

// SugDel counts the call, applies the fault and hook, then delegates.
func (s *Store) SugDel(ctx context.Context, key, str string) (bool, error) {
	if err := s.enter(ctx, "SugDel", key); err != nil {
		return false, err
	}
	return s.next.SugDel(ctx, key, str)
}

// SugLen counts the call, applies the fault and hook, then delegates.
func (s *Store) SugLen(ctx context.Context, key string) (int64, error) {
	if err := s.enter(ctx, "SugLen", key); err != nil {
		return 0, err
	}
	return s.next.SugLen(ctx, key)
}

// Broadcast

var _ ports.Broadcast = (*Store)(nil)

func (s *Store) broadcast() (ports.Broadcast, error) {
	b, ok := s.next.(ports.Broadcast)
	if !ok {
		return nil, fmt.Errorf("storetest: %w: the wrapped store has no Broadcast", domain.ErrNotSupported)
	}
	return b, nil
}

// Publish delegates (not counted).
func (s *Store) Publish(ctx context.Context, channel string, payload []byte) error {
	b, err := s.broadcast()
	if err != nil {
		return err
	}
	return b.Publish(ctx, channel, payload)
}

// Subscribe delegates (not counted).
func (s *Store) Subscribe(ctx context.Context, channel string) (<-chan []byte, error) {
	b, err := s.broadcast()
	if err != nil {
		return nil, err
	}
	return b.Subscribe(ctx, channel)
}
