package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/rediscache/rediscache/adapters/cluster"
	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/domain"
)

// ExampleNew connects to a cluster through three of its nodes, one of them
// given as an IPv6 literal. It has no Output section because it needs a
// running cluster.
func ExampleNew() {
	store, err := cluster.New(cluster.Config{
		Addrs:      []string{"10.0.0.5:6379", "10.0.0.6:6379", "[fd00::7]:6379"},
		Connection: connection.Options{Password: "secret", DialTimeout: time.Second},
	})
	if err != nil {
		log.Fatal(err) // an invalid Config; nothing was dialled yet
	}
	defer store.Close()

	ctx := context.Background()
	if err := store.Ping(ctx); err != nil {
		// Matches domain.ErrUnavailable and says what is wrong: no node
		// reachable, rejected credentials, the cluster down...
		log.Fatal(err)
	}
	// The keys of one site spread over every master; Del and Exists split
	// them by hash slot.
	for _, k := range []string{"site1|a", "site1|b", "site1|c"} {
		if err := store.Set(ctx, k, []byte("v"), time.Minute); err != nil {
			log.Fatal(err)
		}
	}
	n, err := store.Del(ctx, "site1|a", "site1|b", "site1|c")
	switch {
	case errors.Is(err, domain.ErrUnavailable):
		fmt.Println("failing over, try again shortly")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println(n, "keys deleted")
	}
}
