package sentinel_test

import (
	"context"
	"errors"
	"github.com/rediscache/rediscache/adapters/connection"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/adapters/sentinel"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

const (
	masterPW   = "master-s3cret"
	sentinelPW = "sentinel-s3cret"
	// timeout is the DialTimeout and ReadTimeout of the stores under test;
	// Ping must end within 2 × their sum.
	timeout   = 300 * time.Millisecond
	pingBound = 4*timeout + 200*time.Millisecond
)

func newStore(t *testing.T, cfg sentinel.Config) *sentinel.Store {
	t.Helper()
	s, err := sentinel.New(cfg)
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
func pingErr(t *testing.T, s interface{ Ping(context.Context) error }, want ...string) error {
	t.Helper()
	start := time.Now()
	err := s.Ping(context.Background())
	if d := time.Since(start); d > pingBound {
		t.Errorf("Ping took %v, want < %v", d, pingBound)
	}
	wantErr(t, err, domain.ErrUnavailable)
	if errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Ping error %q matches ErrNotFound", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Ping error %q does not contain %q", err, w)
		}
	}
	for _, pw := range []string{masterPW, sentinelPW, "wrong-"} {
		if strings.Contains(err.Error(), pw) {
			t.Errorf("Ping error %q reveals a password", err)
		}
	}
	return err
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	noErr(t, err)
	addr := ln.Addr().String()
	noErr(t, ln.Close())
	return addr
}

func TestConfigValidate(t *testing.T) {
	err := sentinel.Config{}.Validate()
	wantErr(t, err, domain.ErrInvalidArgument)
	for _, want := range []string{"MasterName", "SentinelAddrs"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate of the zero Config does not mention %s:\n%v", want, err)
		}
	}
	if _, err := sentinel.New(sentinel.Config{MasterName: "m"}); !errors.Is(err, domain.ErrInvalidArgument) {
		t.Errorf("New without sentinels = %v", err)
	}

	const secret = "hunter2"
	bad := sentinel.Config{
		MasterName:       "mymaster",
		SentinelAddrs:    []string{"ok:26379", "::1:26379", "host", "host:abc", ":26379", "h:0"},
		SentinelUsername: "u",
		DB:               -1,
		Connection:       connection.Options{Username: "v", DialTimeout: -1, ReadTimeout: -1, WriteTimeout: -1, PoolSize: -1, MaxRetries: -2, Protocol: 4},
	}
	err = bad.Validate()
	wantErr(t, err, domain.ErrInvalidArgument)
	msg := err.Error()
	for _, want := range []string{
		"SentinelAddrs[1]", "IPv6", "SentinelAddrs[2]", "SentinelAddrs[3]", `port "abc"`, "SentinelAddrs[4]", "no host",
		"SentinelAddrs[5]", "SentinelUsername is set without SentinelPassword", "Username is set without Password",
		"DialTimeout", "ReadTimeout", "WriteTimeout", "PoolSize", "MaxRetries", "DB", "Protocol",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Validate error does not mention %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "SentinelAddrs[0]") {
		t.Errorf("Validate rejects a good address:\n%s", msg)
	}

	good := sentinel.Config{MasterName: "m", SentinelAddrs: []string{"[::1]:26379"}, SentinelPassword: secret, Connection: connection.Options{Password: secret}}
	noErr(t, good.Validate())
	bad = good
	bad.DB = -1
	if err := bad.Validate(); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("Validate = %v: want an error without the password", err)
	}

	resp3, err := sentinel.New(sentinel.Config{MasterName: "m", SentinelAddrs: []string{"h:1"}, Connection: connection.Options{Protocol: 3}})
	noErr(t, err)
	defer resp3.Close()
	_, err = resp3.Track(context.Background(), nopSink{})
	wantErr(t, err, domain.ErrInvalidArgument)
}

// nopSink is an InvalidationSink that ignores everything.
type nopSink struct{}

func (nopSink) Invalidate([]string)        {}
func (nopSink) Drop(*domain.Lease, string) {}

func TestNormalizeAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:26379":       "127.0.0.1:26379",
		"[::1]:26379":           "[::1]:26379",
		"[fd00::7]:0026379":     "[fd00::7]:26379",
		"sentinel.local:26379":  "sentinel.local:26379",
		"[fe80::1%eth0]:26379":  "[fe80::1%eth0]:26379",
		"sentinel-1.internal:1": "sentinel-1.internal:1",
	} {
		got, err := sentinel.NormalizeAddr(in)
		if err != nil || got != want {
			t.Errorf("NormalizeAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "host", "::1:26379", "[::1]", "host:", "host:-1", "host:65536", "host:x", ":26379", "a:b:c"} {
		if got, err := sentinel.NormalizeAddr(in); err == nil {
			t.Errorf("NormalizeAddr(%q) = %q, want an error", in, got)
		}
	}
}

func TestNoSentinelReachable(t *testing.T) {
	addrs := []string{closedAddr(t), closedAddr(t)}
	s := newStore(t, sentinel.Config{MasterName: "mymaster", SentinelAddrs: addrs, Connection: connection.Options{DialTimeout: timeout, ReadTimeout: timeout}})
	err := pingErr(t, s, append([]string{"no sentinel reachable", "connection refused"}, addrs...)...)
	t.Logf("Ping: %v", err)

	// Data calls fail the same way, fast, and never as ErrNotFound.
	start := time.Now()
	_, err = s.Get(context.Background(), "k")
	if d := time.Since(start); d > pingBound {
		t.Errorf("Get took %v", d)
	}
	wantErr(t, err, domain.ErrUnavailable)
	if !strings.Contains(err.Error(), "no sentinel reachable") {
		t.Errorf("Get error %q does not say why", err)
	}
}

// TestDeployment runs the store on a small real deployment (one master,
// one sentinel, passwords on both) and checks each startup diagnosis.
func TestDeployment(t *testing.T) {
	ctx := context.Background()
	top := redistest.StartSentinel(t, redistest.WithSentinels(1), redistest.WithReplicas(0),
		redistest.WithPassword(masterPW), redistest.WithSentinelPassword(sentinelPW))
	sentinelAddr := top.SentinelAddrs()[0]
	good := sentinel.Config{
		MasterName:       top.MasterName(),
		SentinelAddrs:    []string{sentinelAddr},
		SentinelPassword: sentinelPW,
		Connection:       connection.Options{Password: masterPW, DialTimeout: timeout, ReadTimeout: timeout},
	}

	t.Run("good", func(t *testing.T) {
		s := newStore(t, good)
		noErr(t, s.Ping(ctx))
		noErr(t, s.Set(ctx, "k", []byte("v"), 0))
		v, err := s.Get(ctx, "k")
		noErr(t, err)
		if string(v) != "v" {
			t.Fatalf("Get = %q", v)
		}
		if got, err := top.Master().Do("GET", "k"); err != nil || got != "v" {
			t.Fatalf("GET on the master = %q, %v", got, err)
		}
		_, err = s.Get(ctx, "missing")
		wantErr(t, err, domain.ErrNotFound)
		c, ok := s.Client().(*redis.Client)
		if !ok {
			t.Fatalf("Client() is a %T", s.Client())
		}
		if o := c.Options(); o.Protocol != 2 || o.DialTimeout != timeout || o.ReadTimeout != timeout ||
			o.WriteTimeout != connection.DefaultWriteTimeout || o.DialerRetries != 1 {
			t.Errorf("options not applied: protocol %d, timeouts %v %v %v, dialer retries %d",
				o.Protocol, o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.DialerRetries)
		}
		noErr(t, s.Close())
		noErr(t, s.Close())
		wantErr(t, s.Ping(ctx), domain.ErrClosed)
	})

	t.Run("IPv6 sentinel address", func(t *testing.T) {
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			t.Skipf("no IPv6 loopback on this host: %v", err)
		}
		_ = ln.Close()
		cfg := good
		cfg.SentinelAddrs = []string{net.JoinHostPort("::1", strings.TrimPrefix(sentinelAddr, "127.0.0.1:"))}
		s := newStore(t, cfg)
		noErr(t, s.Ping(ctx))
	})

	t.Run("unknown master name", func(t *testing.T) {
		cfg := good
		cfg.MasterName = "nosuchmaster"
		s := newStore(t, cfg)
		err := pingErr(t, s, `sentinels don't know master "nosuchmaster"`, sentinelAddr)
		t.Logf("Ping: %v", err)
		_, err = s.Get(ctx, "k")
		wantErr(t, err, domain.ErrUnavailable)
		if errors.Is(err, domain.ErrNotFound) || !strings.Contains(err.Error(), "don't know master") {
			t.Errorf("Get error %q", err)
		}
	})

	for name, pw := range map[string]string{"wrong": "wrong-" + sentinelPW, "missing": ""} {
		t.Run(name+" sentinel password", func(t *testing.T) {
			cfg := good
			cfg.SentinelPassword = pw
			err := pingErr(t, newStore(t, cfg), "sentinel "+sentinelAddr+" rejected the credentials", "sentinel username and password")
			t.Logf("Ping: %v", err)
		})
	}

	for name, pw := range map[string]string{"wrong": "wrong-" + masterPW, "missing": ""} {
		t.Run(name+" master password", func(t *testing.T) {
			cfg := good
			cfg.Connection.Password = pw
			err := pingErr(t, newStore(t, cfg), `master "mymaster" at `+top.Master().Addr()+" rejected the credentials",
				"master username and password")
			t.Logf("Ping: %v", err)
		})
	}

	t.Run("a data node given as sentinel", func(t *testing.T) {
		cfg := good
		cfg.SentinelAddrs = []string{top.Master().Addr()}
		cfg.SentinelPassword = masterPW
		err := pingErr(t, newStore(t, cfg), top.Master().Addr()+" is not a sentinel")
		t.Logf("Ping: %v", err)
	})

	t.Run("tracked", func(t *testing.T) {
		s := newStore(t, good)
		peer := newStore(t, good)
		noErr(t, s.Ping(ctx))
		changed := make(chan []string, 8)
		untrack, err := s.Track(ctx, chanSink(changed))
		noErr(t, err)
		defer untrack()
		noErr(t, s.Set(ctx, "tracked", []byte("v1"), 0))
		<-changed // the own write, reported before Set returned
		f, err := s.Fetch(ctx, "tracked")
		noErr(t, err)
		if string(f.Value) != "v1" {
			t.Fatalf("Fetch = %q", f.Value)
		}
		noErr(t, peer.Set(ctx, "tracked", []byte("v2"), 0))
		select {
		case keys := <-changed:
			if len(keys) != 1 || keys[0] != "tracked" {
				t.Fatalf("invalidated %q, want the key tracked", keys)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no invalidation within 5s")
		}

		cfg := good
		cfg.Connection.Password = "wrong-" + masterPW
		pingErr(t, newStore(t, cfg), "master", "rejected the credentials")
	})
}

// chanSink sends every invalidation to its channel (without blocking: a
// full channel drops it).
type chanSink chan []string

func (c chanSink) Invalidate(keys []string) {
	select {
	case c <- keys:
	default:
	}
}

func (chanSink) Drop(*domain.Lease, string) {}
