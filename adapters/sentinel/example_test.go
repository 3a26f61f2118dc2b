package sentinel_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/rediscache/rediscache/adapters/connection"
	"log"
	"time"

	"github.com/rediscache/rediscache/adapters/sentinel"
	"github.com/rediscache/rediscache/domain"
)

// ExampleNew connects to the master "mymaster" through three sentinels, one
// of them given as an IPv6 literal. It has no Output section because it
// needs a running deployment.
func ExampleNew() {
	store, err := sentinel.New(sentinel.Config{
		MasterName:       "mymaster",
		SentinelAddrs:    []string{"10.0.0.5:26379", "10.0.0.6:26379", "[fd00::7]:26379"},
		SentinelPassword: "sentinel-secret",
		Connection:       connection.Options{Password: "master-secret", DialTimeout: time.Second},
	})
	if err != nil {
		log.Fatal(err) // an invalid Config; nothing was dialled yet
	}
	defer store.Close()

	ctx := context.Background()
	if err := store.Ping(ctx); err != nil {
		// Matches domain.ErrUnavailable and says what is wrong: no
		// sentinel reachable, an unknown master name, rejected
		// credentials...
		log.Fatal(err)
	}
	if err := store.Set(ctx, "site1|greeting", []byte("hello"), time.Minute); err != nil {
		log.Fatal(err)
	}
	v, err := store.Get(ctx, "site1|greeting")
	switch {
	case errors.Is(err, domain.ErrNotFound):
		fmt.Println("expired already")
	case errors.Is(err, domain.ErrUnavailable):
		fmt.Println("failing over, try again shortly")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Printf("%s\n", v)
	}
}

// ExampleNewTracked builds a store whose invalidation stream feeds a
// ClientCache (see app/clientcache).
func ExampleNewTracked() {
	store, err := sentinel.NewTracked(sentinel.Config{
		MasterName:    "mymaster",
		SentinelAddrs: []string{"127.0.0.1:26379"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	events, err := store.Invalidations(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for ev := range events {
		fmt.Println(ev.Keys, ev.All)
	}
}
