package bench

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
	"github.com/rediscache/rediscache/tests/redistest"
)

// site is the site of the rediscache Cache: its Redis keys are "bench|<key>".
const site = "bench"

// peer is one client-side cache under test, plus a writer that is another
// client as far as that cache is concerned (another process's write).
type peer struct {
	name string
	// get reads key through the cache.
	get func(ctx context.Context, key string) (string, error)
	// set writes value under key through a separate, uncached client.
	set func(ctx context.Context, key, value string) error
	// warm reads every key once through the cache and reports how many
	// of those reads were served from local memory.
	warm func(ctx context.Context, keys []string) (int, error)
}

// startRedis starts a redis-server on a free port, stopped when tb ends.
func startRedis(tb testing.TB) string {
	tb.Helper()
	return redistest.StartServer(tb).Addr()
}

// newWriter is the plain go-redis client (RESP2, no cache) that plays
// "another process" for every Redis-backed peer.
func newWriter(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	w := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2})
	tb.Cleanup(func() { _ = w.Close() })
	if err := w.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("writer: %v", err)
	}
	return w
}

// jsonString is how the ClientCache (JSON codec) stores a string value.
func jsonString(v string) []byte {
	b, _ := json.Marshal(v)
	return b
}

// newClientCache starts a ClientCache over store and returns the bench
// site's handle.
func newClientCache(tb testing.TB, store ports.TrackedStore) *clientcache.Site {
	tb.Helper()
	cc, err := clientcache.New(store, clientcache.Config{MaxEntries: 16 * 1024})
	if err != nil {
		tb.Fatal(err)
	}
	if err := cc.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cc.Stop(context.Background()) })
	s, err := cc.Site(site)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func clientCachePeer(name string, s *clientcache.Site, set func(ctx context.Context, key, value string) error) peer {
	cc := s.ClientCache()
	return peer{
		name: name,
		get: func(ctx context.Context, key string) (string, error) {
			return clientcache.GetValue[string](ctx, s, key)
		},
		set: set,
		warm: func(ctx context.Context, keys []string) (int, error) {
			before := cc.Statistics()
			for _, k := range keys {
				if _, err := clientcache.GetValue[string](ctx, s, k); err != nil {
					return 0, err
				}
			}
			return int(cc.Statistics().Hits - before.Hits), nil
		},
	}
}

// newRediscacheTracked is the ClientCache over the standalone store
// (RESP2, CLIENT TRACKING ON REDIRECT <pubsub id> OPTIN on a few tracked
// connections).
func newRediscacheTracked(tb testing.TB, addr string, writer *redis.Client) (peer, *clientcache.Site) {
	tb.Helper()
	store, err := standalone.New(standalone.Config{Addr: addr})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	s := newClientCache(tb, store)
	if !s.ClientCache().Healthy() {
		tb.Fatal("rediscache: the ClientCache did not start tracking")
	}
	return clientCachePeer("rediscache", s, func(ctx context.Context, key, value string) error {
		return writer.Set(ctx, site+domain.SiteSeparator+key, jsonString(value), 0).Err()
	}), s
}

// newRediscacheMemory is the ClientCache over the in-memory backend; the
// writer is another handle on the same in-memory DB.
func newRediscacheMemory(tb testing.TB) (peer, *clientcache.Site) {
	tb.Helper()
	store := memory.New(memory.Config{})
	writer := store.Peer()
	tb.Cleanup(func() {
		_ = writer.Close()
		_ = store.Close()
	})
	s := newClientCache(tb, store)
	return clientCachePeer("rediscache-memory", s, func(ctx context.Context, key, value string) error {
		return writer.Set(ctx, site+domain.SiteSeparator+key, jsonString(value), domain.NoExpiry)
	}), s
}

// rueidisAt is the rueidis option for the deployment at addrs (one
// standalone server, or the seed nodes of a cluster), default settings.
func rueidisAt(addrs ...string) rueidis.ClientOption {
	return rueidis.ClientOption{InitAddress: addrs}
}

// newRueidis is a rueidis client with its default client-side cache
// (RESP3, CLIENT TRACKING ON OPTIN, in-band invalidations), built from opt:
// standalone or cluster (rueidis picks its cluster client when the seed
// node is in cluster mode). writer is the uncached client of the same
// deployment.
func newRueidis(tb testing.TB, opt rueidis.ClientOption, writer redis.Cmdable) (peer, rueidis.Client) {
	tb.Helper()
	client, err := rueidis.NewClient(opt)
	if err != nil {
		tb.Fatalf("rueidis: %v", err)
	}
	tb.Cleanup(client.Close)
	return peer{
		name: "rueidis-DoCache",
		get: func(ctx context.Context, key string) (string, error) {
			return client.DoCache(ctx, client.B().Get().Key(key).Cache(), time.Minute).ToString()
		},
		set: func(ctx context.Context, key, value string) error {
			return writer.Set(ctx, key, value, 0).Err()
		},
		warm: func(ctx context.Context, keys []string) (int, error) {
			n := 0
			for _, k := range keys {
				r := client.DoCache(ctx, client.B().Get().Key(k).Cache(), time.Minute)
				if err := r.Error(); err != nil {
					return 0, err
				}
				if r.IsCacheHit() {
					n++
				}
			}
			return n, nil
		},
	}, client
}

// newGoRedisCSC is a go-redis client with its built-in client-side cache
// (RESP3, CLIENT TRACKING ON per pooled connection, 5 ms drainer).
func newGoRedisCSC(tb testing.TB, addr string, writer *redis.Client) (peer, *redis.Client) {
	tb.Helper()
	client := redis.NewClient(&redis.Options{
		Addr:                  addr,
		Protocol:              3,
		ClientSideCacheConfig: &redis.ClientSideCacheConfig{MaxEntries: 16 * 1024},
	})
	tb.Cleanup(func() { _ = client.Close() })
	return peer{
		name: "go-redis-CSC",
		get: func(ctx context.Context, key string) (string, error) {
			return client.Get(ctx, key).Result()
		},
		set: func(ctx context.Context, key, value string) error {
			return writer.Set(ctx, key, value, 0).Err()
		},
		warm: func(ctx context.Context, keys []string) (int, error) {
			before := client.CSCStats()
			for _, k := range keys {
				if err := client.Get(ctx, k).Err(); err != nil {
					return 0, err
				}
			}
			return int(client.CSCStats().Hits - before.Hits), nil
		},
	}, client
}

// benchKeys returns n keys "<prefix><i>".
func benchKeys(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	return keys
}

// warmUp writes value(k) for every key through p's writer, then reads the
// keys through p until one whole pass is served from local memory.
func warmUp(tb testing.TB, p peer, keys []string, value func(string) string) {
	tb.Helper()
	ctx := context.Background()
	for _, k := range keys {
		if err := p.set(ctx, k, value(k)); err != nil {
			tb.Fatalf("%s: writing %s: %v", p.name, k, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := p.warm(ctx, keys)
		if err != nil {
			tb.Fatalf("%s: warming up: %v", p.name, err)
		}
		if n == len(keys) {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: only %d of %d keys served locally after 10s of warm-up", p.name, n, len(keys))
		}
		time.Sleep(20 * time.Millisecond) // let the writes' invalidations land
	}
	for _, k := range keys {
		v, err := p.get(ctx, k)
		if err != nil || v != value(k) {
			tb.Fatalf("%s: %s = %q, %v; want %q", p.name, k, v, err, value(k))
		}
	}
}
