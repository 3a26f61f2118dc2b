package memory_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/domain"
)

func ExampleNew() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()

	// A second client of the same data (another process), which fetches
	// a key with tracking: a change through store is reported to it.
	peer := store.Peer()
	defer peer.Close()
	untrack, err := peer.Track(ctx, printer{})
	if err != nil {
		panic(err)
	}
	defer untrack()

	if err := store.Set(ctx, "site1|greeting", []byte("hello"), time.Minute); err != nil {
		panic(err)
	}
	f, err := peer.Fetch(ctx, "site1|greeting")
	fmt.Println(string(f.Value), f.TTL.Round(time.Second), err)
	_ = store.Set(ctx, "site1|greeting", []byte("hi"), 0)

	_, err = store.Get(ctx, "site1|missing")
	fmt.Println(errors.Is(err, domain.ErrNotFound))
	// Output:
	// hello 1m0s <nil>
	// changed: [site1|greeting]
	// true
}

// printer is a ports.InvalidationSink that prints what it is told.
type printer struct{}

func (printer) Invalidate(keys []string)         { fmt.Println("changed:", keys) }
func (printer) Drop(_ *domain.Lease, why string) { fmt.Println("drop everything:", why) }

func ExampleStore_Scan() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()
	for _, k := range []string{"a|x", "a|y", "b|x"} {
		_ = store.Set(ctx, k, nil, 0)
	}
	var found []string
	_ = store.Scan(ctx, "a|*", 0, func(keys []string) error {
		found = append(found, keys...)
		return nil
	})
	slices.Sort(found) // Scan reports keys in no particular order
	fmt.Println(found)
	// Output: [a|x a|y]
}

func ExampleWithClock() {
	ctx := context.Background()
	var mu sync.Mutex // the clock is also read by the expiry timer
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	store := memory.New(memory.Config{}, memory.WithClock(clock))
	defer store.Close()

	_ = store.Set(ctx, "k", []byte("v"), 1500*time.Millisecond)
	ttl, _ := store.TTL(ctx, "k")
	fmt.Println(ttl)

	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	_, err := store.Get(ctx, "k")
	fmt.Println(errors.Is(err, domain.ErrNotFound))
	// Output:
	// 1.5s
	// true
}
