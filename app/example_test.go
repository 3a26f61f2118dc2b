package app_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
)

type Settings struct {
	Theme string `json:"theme"`
}

func ExampleNew() {
	store := memory.New(memory.Config{})
	defer store.Close()
	cache, err := app.New(store, app.Config{Site: "site1.local"})
	if err != nil {
		panic(err)
	}
	key, _ := cache.MakeKey("settings")
	userKey, _ := cache.MakeKey("settings", app.User("jane@example.com"))
	shared, _ := cache.MakeKey("settings", app.Shared())
	fmt.Println(key)
	fmt.Println(userKey)
	fmt.Println(shared)
	// Output:
	// site1.local|settings
	// site1.local|user:jane@example.com:settings
	// settings
}

func ExampleGetValue() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()
	cache, _ := app.New(store, app.Config{Site: "site1.local"})

	_ = cache.SetValue(ctx, "settings", Settings{Theme: "dark"})
	s, err := app.GetValue[Settings](ctx, cache, "settings")
	fmt.Println(s.Theme, err)

	_, err = app.GetValue[Settings](ctx, cache, "missing")
	fmt.Println(errors.Is(err, domain.ErrNotFound))
	// Output:
	// dark <nil>
	// true
}

func ExampleGetOrGenerate() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()
	cache, _ := app.New(store, app.Config{Site: "site1.local"})

	calls := 0
	gen := func(context.Context) (int, error) { calls++; return 42, nil }
	for range 3 {
		v, _ := app.GetOrGenerate(ctx, cache, "answer", gen, app.Expires(time.Hour))
		fmt.Println(v)
	}
	fmt.Println("generator calls:", calls)
	// Output:
	// 42
	// 42
	// 42
	// generator calls: 1
}

func ExampleCache_GetKeys() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()
	a, _ := app.New(store, app.Config{Site: "a*"}) // glob characters are matched literally
	b, _ := app.New(store, app.Config{Site: "ab"})
	_ = a.SetValue(ctx, "p_1", 1)
	_ = a.SetValue(ctx, "p_2", 2)
	_ = b.SetValue(ctx, "p_3", 3)

	keys, _ := a.GetKeys(ctx, "p_")
	sort.Strings(keys)
	fmt.Println(keys)
	n, _ := a.DeleteKeys(ctx, "")
	fmt.Println("deleted:", n)
	left, _ := b.GetKeys(ctx, "")
	fmt.Println(left)
	// Output:
	// [p_1 p_2]
	// deleted: 2
	// [p_3]
}

func ExampleWithRequestCache() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()
	cache, _ := app.New(store, app.Config{Site: "site1.local"})
	other, _ := app.New(store.Peer(), app.Config{Site: "site1.local"})

	_ = cache.SetValue(ctx, "k", "v1")
	req := app.WithRequestCache(ctx)
	v, _ := app.GetValue[string](req, cache, "k")
	fmt.Println(v)
	_ = other.SetValue(ctx, "k", "v2") // another process writes
	v, _ = app.GetValue[string](req, cache, "k")
	fmt.Println(v, "(repeatable read within the request)")
	v, _ = app.GetValue[string](ctx, cache, "k")
	fmt.Println(v, "(outside it)")
	// Output:
	// v1
	// v1 (repeatable read within the request)
	// v2 (outside it)
}

func ExampleCache_FT() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()
	cache, _ := app.New(store, app.Config{Site: "site1.local"})

	ft := cache.FT("")
	n, _ := ft.SugAdd(ctx, "cities",
		domain.Suggestion{String: "Zürich", Score: 3},
		domain.Suggestion{String: "Zug", Score: 1},
		domain.Suggestion{String: "Basel", Score: 2})
	fmt.Println("size:", n)
	sugs, _ := ft.SugGet(ctx, "cities", "z", domain.SugGetOptions{})
	for _, s := range sugs {
		fmt.Println(s.String)
	}
	// Output:
	// size: 3
	// Zürich
	// Zug
}
