package wtinylfu_test

import (
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/rediscache/rediscache/app/clientcache/internal/wtinylfu"
)

// entry is a store's entry with the policy's node embedded.
type entry struct {
	key   string
	value []byte
	node  wtinylfu.Node[*entry]
}

// store is a map bounded by a Policy (one lock for brevity; a sharded map
// calls the policy the same way, outside its shard locks).
type store struct {
	mu     sync.RWMutex
	m      map[string]*entry
	policy *wtinylfu.Policy[*entry]
}

// hash is the key's hash for the frequency sketch. Any 64-bit hash does
// (the policy mixes it again); a store would use maphash, FNV-1a keeps this
// example's output fixed.
func hash(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}

func (s *store) get(key string) ([]byte, bool) {
	s.mu.RLock()
	e := s.m[key]
	s.mu.RUnlock()
	if e == nil {
		return nil, false
	}
	s.policy.Access(&e.node) // never blocks, never allocates
	return e.value, true
}

func (s *store) put(key string, value []byte) {
	e := &entry{key: key, value: value}
	s.mu.Lock()
	old := s.m[key]
	s.policy.Init(&e.node, e, hash(key), int64(len(key)+len(value)))
	s.m[key] = e
	s.mu.Unlock()
	if old != nil {
		s.policy.Remove(&old.node)
	}
	// Outside the map's lock: drop what the policy evicted (e itself when
	// it was rejected), if the map still holds that very entry.
	var buf [8]wtinylfu.Eviction[*entry]
	evicted, _ := s.policy.Add(&e.node, buf[:0])
	for _, v := range evicted {
		s.dropIf(v.Entry)
	}
}

func (s *store) invalidate(key string) {
	s.mu.Lock()
	e := s.m[key]
	delete(s.m, key)
	s.mu.Unlock()
	if e != nil {
		s.policy.Remove(&e.node)
	}
}

func (s *store) flush() {
	s.mu.Lock() // no insertion between emptying the map and Clear
	clear(s.m)
	s.policy.Clear()
	s.mu.Unlock()
}

func (s *store) dropIf(e *entry) {
	s.mu.Lock()
	if s.m[e.key] == e {
		delete(s.m, e.key)
	}
	s.mu.Unlock()
}

// Example shows a map bounded by a Policy: at most 3 entries and 100 bytes.
func Example() {
	p, err := wtinylfu.New[*entry](wtinylfu.Config{MaxEntries: 3, MaxWeight: 100})
	if err != nil {
		panic(err)
	}
	s := &store{m: map[string]*entry{}, policy: p}

	for _, k := range []string{"a", "b", "c"} {
		s.put(k, []byte("value of "+k))
	}
	for range 3 {
		s.get("a") // a is popular
	}
	s.put("d", []byte("value of d")) // over 3 entries: d competes, and loses
	_, a := s.get("a")
	_, d := s.get("d")
	fmt.Println("a cached:", a, "d cached:", d, "entries:", p.Len(), "bytes:", p.Weight())

	s.put("big", make([]byte, 60)) // over MaxWeight/4: rejected, nothing evicted
	_, big := s.get("big")
	fmt.Println("big cached:", big, "entries:", len(s.m))

	s.invalidate("a")
	s.flush()
	st := p.Stats()
	fmt.Println("after flush:", p.Len(), p.Weight(), "rejected:", st.Rejected)
	// Output:
	// a cached: true d cached: false entries: 3 bytes: 33
	// big cached: false entries: 3
	// after flush: 0 0 rejected: 2
}
