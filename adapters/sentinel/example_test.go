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

// ExampleStore_Track shows what the ClientCache (app/clientcache) does with
// a store: it registers a sink for invalidations and fetches values with
// tracking.
func ExampleStore_Track() {
	ctx := context.Background()
	store, err := sentinel.New(sentinel.Config{
		MasterName:    "mymaster",
		SentinelAddrs: []string{"127.0.0.1:26379"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	untrack, err := store.Track(ctx, printSink{})
	if err != nil {
		log.Fatal(err) // the master is unreachable; the store keeps trying
	}
	defer untrack()
	f, err := store.Fetch(ctx, "site1|settings")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(f.Value), f.Found, f.TTL) // a later change prints "changed: [site1|settings]"
}

// printSink prints what a store's tracking reports.
type printSink struct{}

func (printSink) Invalidate(keys []string)            { fmt.Println("changed:", keys) }
func (printSink) Drop(_ *domain.Lease, reason string) { fmt.Println("drop everything:", reason) }
