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

// printSink prints what a tracking store reports.
type printSink struct{}

func (printSink) Invalidate(keys []string)                { fmt.Println("changed:", keys) }
func (printSink) Drop(scope *domain.Lease, reason string) { fmt.Println("dropped:", reason) }

// ExampleStore_Fetch reads a key so that Redis tracks it, as the
// ClientCache (app/clientcache) does: another client's change of the key is
// then reported to the sink.
func ExampleStore_Fetch() {
	store, err := standalone.New(standalone.Config{URL: "redis://127.0.0.1:6379/0"})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	untrack, err := store.Track(ctx, printSink{})
	if err != nil {
		log.Fatal(err) // matches domain.ErrUnavailable while the server is down
	}
	defer untrack()
	f, err := store.Fetch(ctx, "site1|settings")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Found, string(f.Value), f.TTL)
	// Another client's SET of site1|settings now prints "changed:
	// [site1|settings]".
}
