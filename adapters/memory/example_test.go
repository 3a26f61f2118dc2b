package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/domain"
)

func ExampleNew() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()

	// A second client of the same data, and its invalidation stream.
	peer := store.Peer()
	defer peer.Close()
	events, err := peer.Invalidations(ctx)
	if err != nil {
		panic(err)
	}

	if err := store.Set(ctx, "site1|greeting", []byte("hello"), time.Minute); err != nil {
		panic(err)
	}
	v, err := peer.Get(ctx, "site1|greeting")
	fmt.Println(string(v), err)
	fmt.Println((<-events).Keys)

	_, err = store.Get(ctx, "site1|missing")
	fmt.Println(errors.Is(err, domain.ErrNotFound))
	// Output:
	// hello <nil>
	// [site1|greeting]
	// true
}

func ExampleStore_Scan() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()
	for _, k := range []string{"a|x", "a|y", "b|x"} {
		_ = store.Set(ctx, k, nil, 0)
	}
	_ = store.Scan(ctx, "a|*", 0, func(keys []string) error {
		fmt.Println(keys)
		return nil
	})
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
