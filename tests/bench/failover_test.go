package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/sentinel"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

// TestSentinelFailoverStaleWindow measures, side by side in the same forced
// failovers, the stale window of the ClientCache over the Sentinel adapter
// and of rueidis' DoCache over its Sentinel client: from the moment the
// promoted replica acknowledges another client's write of a new value (T0:
// a go-redis client writing straight to the replica, without retries,
// until it stops answering READONLY) to the first read of each cache that
// returns it (each reads every 100 µs). Both hold the old value locally
// before the failover. Five failovers, about 12 s each (Sentinel demotes
// the old master about 10 s after the switch); it logs each window and the
// median and maximum:
//
//	go test -run TestSentinelFailoverStaleWindow -v
func TestSentinelFailoverStaleWindow(t *testing.T) {
	const (
		runs  = 5
		pause = 100 * time.Microsecond
	)
	top := redistest.StartSentinel(t)
	ctx := context.Background()

	store, err := sentinel.New(sentinel.Config{
		MasterName:    top.MasterName(),
		SentinelAddrs: top.SentinelAddrs(),
		Connection:    connection.Options{DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cc := newClientCache(t, store) // the bench site

	rue, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress: top.SentinelAddrs(),
		Sentinel:    rueidis.SentinelOption{MasterSet: top.MasterName()},
	})
	if err != nil {
		t.Fatalf("rueidis: %v", err)
	}
	t.Cleanup(rue.Close)

	type reader struct {
		name    string
		get     func(context.Context) (string, error)
		windows []time.Duration
	}
	readers := []*reader{
		{name: "rediscache ClientCache", get: func(ctx context.Context) (string, error) {
			return clientcache.GetValue[string](ctx, cc, "k")
		}},
		{name: "rueidis DoCache", get: func(ctx context.Context) (string, error) {
			v, err := rue.DoCache(ctx, rue.B().Get().Key(site+domain.SiteSeparator+"k").Cache(), time.Minute).ToString()
			if err != nil {
				return "", err
			}
			var s string
			if err := json.Unmarshal([]byte(v), &s); err != nil {
				return "", err
			}
			return s, nil
		}},
	}
	key := site + domain.SiteSeparator + "k"

	for run := range runs {
		master, replica := top.Master(), top.Replica()
		if _, err := master.Do("SET", key, string(jsonString("old"))); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the old value is replicated", func() bool {
			v, err := replica.Do("GET", key)
			return err == nil && v == string(jsonString("old"))
		})
		for _, r := range readers {
			waitUntil(t, r.name+" reads the old value", func() bool {
				v, err := r.get(ctx)
				return err == nil && v == "old"
			})
		}

		stop := make(chan struct{})
		var wg sync.WaitGroup
		var t0 atomic.Int64
		writer := redis.NewClient(&redis.Options{Addr: replica.Addr(), MaxRetries: -1, Protocol: 2})
		wg.Go(func() {
			defer writer.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if writer.Set(ctx, key, jsonString("new"), 0).Err() == nil {
					t0.Store(time.Now().UnixNano())
					return
				}
				time.Sleep(pause)
			}
		})
		firstNew := make([]atomic.Int64, len(readers))
		for i, r := range readers {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					rctx, cancel := context.WithTimeout(ctx, time.Second)
					v, err := r.get(rctx)
					end := time.Now()
					cancel()
					if err == nil && v == "new" && firstNew[i].Load() == 0 {
						firstNew[i].Store(end.UnixNano())
					}
					time.Sleep(pause)
				}
			})
		}
		if got := top.Failover(t); got != replica {
			t.Fatalf("promoted %s, want %s", got.Addr(), replica.Addr())
		}
		waitUntil(t, "every cache reads the new value", func() bool {
			for i := range readers {
				if firstNew[i].Load() == 0 {
					return false
				}
			}
			return true
		})
		close(stop)
		wg.Wait()
		if t0.Load() == 0 {
			t.Fatal("the promoted replica never accepted the write")
		}
		line := fmt.Sprintf("run %d:", run+1)
		for i, r := range readers {
			w := max(0, time.Duration(firstNew[i].Load()-t0.Load())).Round(10 * time.Microsecond)
			r.windows = append(r.windows, w)
			line += fmt.Sprintf(" %s %v;", r.name, w)
		}
		t.Log(line)
	}
	for _, r := range readers {
		s := slices.Sorted(slices.Values(r.windows))
		t.Logf("%s: stale window %v, p50 %v, max %v", r.name, r.windows, s[len(s)/2], s[len(s)-1])
	}
}

// waitUntil polls cond every millisecond for up to 15 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
