package standalone_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/rediscache/rediscache/adapters/connection"
	"log"
	"time"

	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/domain"
)

// ExampleNew connects to a local server. It has no Output section because
// it needs a running redis-server.
func ExampleNew() {
	store, err := standalone.New(standalone.Config{
		Addr:       "127.0.0.1:6379",
		Connection: connection.Options{DialTimeout: time.Second},
	})
	if err != nil {
		log.Fatal(err) // an invalid Config; nothing was dialled yet
	}
	defer store.Close()

	ctx := context.Background()
	if err := store.Ping(ctx); err != nil {
		log.Fatal(err) // matches domain.ErrUnavailable and names the address
	}
	if err := store.Set(ctx, "site1|greeting", []byte("hello"), time.Minute); err != nil {
		log.Fatal(err)
	}
	v, err := store.Get(ctx, "site1|greeting")
	switch {
	case errors.Is(err, domain.ErrNotFound):
		fmt.Println("expired already")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Printf("%s\n", v)
	}
}

// ExampleNewFromURL connects through a URL; fields of Config would override
// its parts.
func ExampleNewFromURL() {
	store, err := standalone.NewFromURL("redis://127.0.0.1:6379/0?protocol=2&dial_timeout=1s")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	_ = store.Ping(context.Background())
}

// ExampleNewTracked builds a store whose reads Redis tracks: its
// invalidation stream feeds a ClientCache (see app/clientcache), and its
// broadcasts carry the ClientCache's EraseCaches between processes.
func ExampleNewTracked() {
	store, err := standalone.NewTracked(standalone.Config{URL: "redis://127.0.0.1:6379/0"})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	events, err := store.Invalidations(ctx)
	if err != nil {
		log.Fatal(err) // matches domain.ErrUnavailable while the server is down
	}
	if _, err := store.Get(ctx, "site1|settings"); err != nil && !errors.Is(err, domain.ErrNotFound) {
		log.Fatal(err)
	}
	// Another client's SET of site1|settings now sends its key here.
	for ev := range events {
		fmt.Println(ev.Keys, ev.All, ev.Reason)
	}
}
