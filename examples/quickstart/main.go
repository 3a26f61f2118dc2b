// Command quickstart shows rediscache on the in-memory backend; it needs no
// server:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
)

type Settings struct {
	Theme    string `json:"theme"`
	PageSize int    `json:"page_size"`
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	store := memory.New(memory.Config{})
	defer store.Close()

	// One Cache per site: every key is stored as "<site>|<key>".
	cache, err := app.New(store, app.Config{Site: "site1.local"})
	if err != nil {
		return err
	}

	// Typed values through the codec.
	if err := cache.SetValue(ctx, "settings", Settings{Theme: "dark", PageSize: 20}); err != nil {
		return err
	}
	s, err := app.GetValue[Settings](ctx, cache, "settings")
	if err != nil {
		return err
	}
	fmt.Printf("settings: %+v\n", s)

	// A generator fills a missing key once.
	calls := 0
	gen := func(context.Context) (int, error) { calls++; return 42, nil }
	for range 3 {
		if _, err := app.GetOrGenerate(ctx, cache, "answer", gen); err != nil {
			return err
		}
	}
	fmt.Printf("generator ran %d time(s) for 3 reads\n", calls)

	// Expiring, user-scoped values.
	if err := cache.SetValue(ctx, "otp", "123456", app.User("jane@example.com"), app.Expires(50*time.Millisecond)); err != nil {
		return err
	}
	key, _ := cache.MakeKey("otp", app.User("jane@example.com"))
	fmt.Println("user key:", key)
	time.Sleep(100 * time.Millisecond) // let the demo key expire
	if _, err := app.GetValue[string](ctx, cache, "otp", app.User("jane@example.com")); errors.Is(err, domain.ErrNotFound) {
		fmt.Println("otp expired: not found")
	}

	// Listing is scoped to the site, even for a site named with glob characters.
	other, err := app.New(store, app.Config{Site: "site*"})
	if err != nil {
		return err
	}
	if err := other.SetValue(ctx, "settings", Settings{}); err != nil {
		return err
	}
	keys, err := other.GetKeys(ctx, "")
	if err != nil {
		return err
	}
	fmt.Println(`keys of site "site*":`, keys)

	// Hashes, lists and sets.
	if err := cache.HSet(ctx, "user_settings", "jane", Settings{Theme: "light"}); err != nil {
		return err
	}
	if _, err := cache.RPush(ctx, "jobs", "a", "b"); err != nil {
		return err
	}
	n, err := cache.SAdd(ctx, "online", "jane", "joe", "jane")
	if err != nil {
		return err
	}
	fmt.Println("new set members:", n)

	// Autocomplete dictionaries (RediSearch FT.SUG* semantics).
	ft := cache.FT("")
	if _, err := ft.SugAdd(ctx, "cities", domain.Suggestion{String: "Zürich", Score: 2}, domain.Suggestion{String: "Zug"}); err != nil {
		return err
	}
	sugs, err := ft.SugGet(ctx, "cities", "zü", domain.SugGetOptions{})
	if err != nil {
		return err
	}
	for _, sg := range sugs {
		fmt.Println("suggestion:", sg.String)
	}
	return nil
}
