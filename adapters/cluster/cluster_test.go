package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/adapters/cluster"
	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/internal/redisstore"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

const (
	password = "cluster-s3cret"
	// timeout is the DialTimeout and ReadTimeout of the stores under test;
	// Ping must end within 2 × their sum.
	timeout   = 300 * time.Millisecond
	pingBound = 4*timeout + 300*time.Millisecond
)

func newStore(t *testing.T, cfg cluster.Config) *cluster.Store {
	t.Helper()
	s, err := cluster.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func wantErr(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want one matching %v", err, kind)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// pingErr pings s, checks that it fails within pingBound with an error
// matching domain.ErrUnavailable that contains every one of want and no
// password, and returns the error.
func pingErr(t *testing.T, s *cluster.Store, want ...string) error {
	t.Helper()
	start := time.Now()
	err := s.Ping(context.Background())
	if d := time.Since(start); d > pingBound {
		t.Errorf("Ping took %v, want < %v", d, pingBound)
	}
	wantErr(t, err, domain.ErrUnavailable)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Ping error %q does not contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "wrong-") {
		t.Errorf("Ping error %q reveals a password", err)
	}
	return err
}

func TestConfigValidate(t *testing.T) {
	err := cluster.Config{}.Validate()
	wantErr(t, err, domain.ErrInvalidArgument)
	if !strings.Contains(err.Error(), "Addrs is empty") {
		t.Errorf("Validate of the zero Config: %v", err)
	}
	if _, err := cluster.New(cluster.Config{}); !errors.Is(err, domain.ErrInvalidArgument) {
		t.Errorf("New without nodes = %v", err)
	}

	bad := cluster.Config{
		Addrs:        []string{"ok:6379", "::1:6379", "host", "host:abc", ":6379", "h:0"},
		MaxRedirects: -2,
		Connection:   connection.Options{Username: "u", Password: "", DialTimeout: -1, PoolSize: -1, Protocol: 4},
	}
	err = bad.Validate()
	wantErr(t, err, domain.ErrInvalidArgument)
	msg := err.Error()
	for _, want := range []string{
		"Addrs[1]", "IPv6", "[::1]:6379", "Addrs[2]", "Addrs[3]", `port "abc"`, "Addrs[4]", "no host", "Addrs[5]",
		"MaxRedirects", "Username is set without Password", "DialTimeout", "PoolSize", "Protocol",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Validate error does not mention %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "Addrs[0]") {
		t.Errorf("Validate rejects a good address:\n%s", msg)
	}

	good := cluster.Config{Addrs: []string{"[::1]:7000", " 10.0.0.1:07001 "}, Connection: connection.Options{Password: password}}
	noErr(t, good.Validate())
	for _, text := range []string{fmt.Sprint(good), fmt.Sprintf("%+v", good), fmt.Sprintf("%#v", good)} {
		if strings.Contains(text, password) || !strings.Contains(text, connection.Redacted) || !strings.Contains(text, "[::1]:7000") {
			t.Errorf("formatted config %s: want the addresses and the password redacted", text)
		}
	}
	bad = good
	bad.MaxRedirects = -5
	if err := bad.Validate(); err == nil || strings.Contains(err.Error(), password) {
		t.Errorf("Validate = %v: want an error without the password", err)
	}
}

func TestNoNodeReachable(t *testing.T) {
	addrs := []string{redistest.ClosedAddr(t), redistest.ClosedAddr(t)}
	s := newStore(t, cluster.Config{Addrs: addrs, Connection: connection.Options{DialTimeout: timeout, ReadTimeout: timeout}})
	err := pingErr(t, s, append([]string{"no cluster node reachable", "connection refused"}, addrs...)...)
	t.Logf("Ping: %v", err)

	// Data calls fail fast, and never as ErrNotFound.
	start := time.Now()
	_, err = s.Get(context.Background(), "k")
	if d := time.Since(start); d > pingBound {
		t.Errorf("Get took %v", d)
	}
	wantErr(t, err, domain.ErrUnavailable)
	if errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Get error %q matches ErrNotFound", err)
	}
}

func TestNotACluster(t *testing.T) {
	srv := redistest.StartServer(t)
	s := newStore(t, cluster.Config{Addrs: []string{srv.Addr()}, Connection: connection.Options{DialTimeout: timeout, ReadTimeout: timeout}})
	err := pingErr(t, s, srv.Addr()+" is not a cluster node", "standalone backend")
	wantErr(t, err, domain.ErrRefused)
	t.Logf("Ping: %v", err)
	_, err = s.Get(context.Background(), "k")
	wantErr(t, err, domain.ErrUnavailable)
	if !strings.Contains(err.Error(), "not a cluster node") {
		t.Errorf("Get error %q does not say why", err)
	}
}

// TestCluster runs the store on a real cluster (three masters, three
// replicas, a password on every node) and checks each startup diagnosis.
func TestCluster(t *testing.T) {
	ctx := context.Background()
	c := redistest.StartCluster(t, redistest.WithPassword(password))
	good := cluster.Config{
		Addrs:      c.Addrs(),
		Connection: connection.Options{Password: password, DialTimeout: timeout, ReadTimeout: timeout},
	}

	t.Run("good", func(t *testing.T) {
		s := newStore(t, good)
		noErr(t, s.Ping(ctx))
		keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
		owners := map[string]bool{}
		for _, k := range keys {
			noErr(t, s.Set(ctx, k, []byte("v-"+k), 0))
			m := c.MasterFor(k)
			owners[m.Addr()] = true
			if got, err := m.Do("GET", k); err != nil || got != "v-"+k {
				t.Fatalf("GET %s on its master %s = %q, %v", k, m.Addr(), got, err)
			}
		}
		if len(owners) != 3 {
			t.Fatalf("the keys landed on %d masters, want 3", len(owners))
		}
		n, err := s.Exists(ctx, append(keys, "a", "missing")...)
		noErr(t, err)
		if n != int64(len(keys))+1 {
			t.Fatalf("Exists = %d, want %d (a named twice)", n, len(keys)+1)
		}
		n, err = s.Del(ctx, append(keys, "a", "missing")...)
		noErr(t, err)
		if n != int64(len(keys)) {
			t.Fatalf("Del = %d, want %d", n, len(keys))
		}
		cc, ok := s.Client().(*redis.ClusterClient)
		if !ok {
			t.Fatalf("Client() is a %T", s.Client())
		}
		if o := cc.Options(); o.Protocol != 2 || o.DialTimeout != timeout || o.ReadTimeout != timeout ||
			o.WriteTimeout != connection.DefaultWriteTimeout || o.DialerRetries != 1 || o.MaxRedirects != 3 || !o.ContextTimeoutEnabled {
			t.Errorf("options not applied: protocol %d, timeouts %v %v %v, dialer retries %d, redirects %d",
				o.Protocol, o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.DialerRetries, o.MaxRedirects)
		}
		noErr(t, s.Close())
		noErr(t, s.Close())
		wantErr(t, s.Ping(ctx), domain.ErrClosed)
		_, err = s.Get(ctx, "a")
		wantErr(t, err, domain.ErrClosed)
	})

	t.Run("hash slots as the cluster computes them", func(t *testing.T) {
		keys := []string{"", "a", "site1|doc:1", "site1|user:jane@example.com:k", "{tag}x", "x{tag}", "x{}y{z}",
			"{", "}{", "é|ü", "\xff\x00bin", "{user1000}.following", strings.Repeat("long", 100)}
		for i := range 200 {
			keys = append(keys, fmt.Sprintf("k%d|%x", i, i*7919))
		}
		for _, k := range keys {
			if got, want := redisstore.KeySlot(k), c.Slot(k); got != want {
				t.Errorf("KeySlot(%q) = %d, CLUSTER KEYSLOT says %d", k, got, want)
			}
		}
	})

	t.Run("one seed down", func(t *testing.T) {
		cfg := good
		cfg.Addrs = append([]string{redistest.ClosedAddr(t)}, c.Addrs()[0])
		noErr(t, newStore(t, cfg).Ping(ctx))
	})

	for name, pw := range map[string]string{"wrong": "wrong-" + password, "missing": ""} {
		t.Run(name+" password", func(t *testing.T) {
			cfg := good
			cfg.Connection.Password = pw
			err := pingErr(t, newStore(t, cfg), "rejected the credentials", "check the username and password")
			wantErr(t, err, domain.ErrRefused)
			t.Logf("Ping: %v", err)
		})
	}

	t.Run("broadcast", func(t *testing.T) {
		pub, sub := newStore(t, good), newStore(t, good)
		msgs, err := sub.Subscribe(ctx, "clear_persistent_cache")
		noErr(t, err)
		// Published through every master in turn: every message reaches
		// the one subscription, wherever it lives.
		for _, m := range c.Masters() {
			_, err := m.Do("PUBLISH", "clear_persistent_cache", "from "+m.Addr())
			noErr(t, err)
			select {
			case got := <-msgs:
				if string(got) != "from "+m.Addr() {
					t.Fatalf("got %q", got)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("nothing received from %s", m.Addr())
			}
		}
		noErr(t, pub.Publish(ctx, "clear_persistent_cache", []byte("hello")))
		select {
		case got := <-msgs:
			if string(got) != "hello" {
				t.Fatalf("got %q", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Publish not received")
		}
		noErr(t, sub.Close())
		if _, open := <-msgs; open {
			t.Fatal("the subscription's channel is still open after Close")
		}
	})

	// Faults last: they change the cluster.
	t.Run("master down", func(t *testing.T) {
		s := newStore(t, good)
		noErr(t, s.Ping(ctx))
		msgs, err := s.Subscribe(ctx, "chan")
		noErr(t, err)
		// The master the subscription lives on (subscribers are counted
		// per node).
		var victim *redistest.Server
		for _, m := range c.Masters() {
			if n, err := m.Do("PUBSUB", "NUMSUB", "chan"); err == nil && strings.HasSuffix(n, "\n1") {
				victim = m
			}
		}
		if victim == nil {
			t.Fatal("no master holds the subscription")
		}
		victim.Kill()
		err = pingErr(t, s, victim.Addr())
		if !strings.Contains(err.Error(), "does not answer") && !strings.Contains(err.Error(), "cluster is down") {
			t.Errorf("Ping error %q: want the master that does not answer, or the cluster down", err)
		}
		t.Logf("Ping: %v", err)
		select {
		case _, open := <-msgs:
			if open {
				t.Fatal("a message arrived from a killed node")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the subscription on the killed master is still open after 10 s")
		}
		c.WaitSettled(t) // the replica took over
		noErr(t, s.Ping(ctx))
		noErr(t, s.Set(ctx, "chan", []byte("v"), 0))
	})

	t.Run("cluster down", func(t *testing.T) {
		s := newStore(t, good)
		var m, replica *redistest.Server
		for _, m = range c.Masters() {
			if replica = c.ReplicaOf(m); replica != nil {
				break
			}
		}
		if replica == nil {
			t.Fatal("no master has a live replica")
		}
		key := ""
		for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
			if c.MasterFor(k) != m {
				key = k
				break
			}
		}
		replica.Kill()
		m.Kill()
		var err error
		deadline := time.Now().Add(15 * time.Second)
		for {
			err = s.Ping(ctx)
			if err != nil && strings.Contains(err.Error(), "the cluster is down") || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		err = pingErr(t, s, "the cluster is down", "cluster_state:fail")
		wantErr(t, err, domain.ErrRefused)
		t.Logf("Ping: %v", err)
		// A key of a master that still runs: the cluster refuses it.
		_, err = s.Get(ctx, key)
		wantErr(t, err, domain.ErrUnavailable)
		if !strings.Contains(err.Error(), "CLUSTERDOWN") {
			t.Errorf("Get error %q is not CLUSTERDOWN", err)
		}
	})
}
