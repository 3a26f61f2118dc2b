package redistest_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/rediscache/rediscache/tests/redistest"
)

func TestStartServerKillRestart(t *testing.T) {
	srv := redistest.StartServer(t)

	if got, err := srv.Do("PING"); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v; want PONG", got, err)
	}
	if want := "127.0.0.1:" + strconv.Itoa(srv.Port()); srv.Addr() != want {
		t.Fatalf("Addr() = %q, want %q", srv.Addr(), want)
	}
	if want := "redis://" + srv.Addr(); srv.URL() != want {
		t.Fatalf("URL() = %q, want %q", srv.URL(), want)
	}
	if _, err := srv.Do("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if got, err := srv.Do("GET", "k"); err != nil || got != "v" {
		t.Fatalf("GET k = %q, %v; want v", got, err)
	}
	if got, err := srv.Do("GET", "missing"); err != nil || got != "" {
		t.Fatalf("GET missing = %q, %v; want empty", got, err)
	}
	if _, err := srv.Do("LPUSH", "k", "x"); err == nil || !strings.HasPrefix(err.Error(), "redistest: LPUSH: WRONGTYPE") {
		t.Fatalf("LPUSH on a string: err = %v, want WRONGTYPE", err)
	}

	srv.Kill()
	if _, err := srv.Do("PING"); err == nil {
		t.Fatal("PING after Kill succeeded")
	}

	port := srv.Port()
	srv.Restart(t)
	if srv.Port() != port {
		t.Fatalf("Restart moved the server from port %d to %d", port, srv.Port())
	}
	if got, err := srv.Do("PING"); err != nil || got != "PONG" {
		t.Fatalf("PING after Restart = %q, %v; want PONG", got, err)
	}
	if got, err := srv.Do("EXISTS", "k"); err != nil || got != "0" {
		t.Fatalf("EXISTS k after Restart = %q, %v; want 0 (nothing persisted)", got, err)
	}

	srv.Stop()
	srv.Stop() // idempotent
	srv.Restart(t)
	if got, err := srv.Do("PING"); err != nil || got != "PONG" {
		t.Fatalf("PING after Stop+Restart = %q, %v; want PONG", got, err)
	}
}

func TestStartServerPasswordModuleReplica(t *testing.T) {
	master := redistest.StartServer(t, redistest.WithModule(), redistest.WithPassword("s3cret"))
	if got, err := master.Do("FT.SUGADD", "dict", "hello", "1"); err != nil || got != "1" {
		t.Fatalf("FT.SUGADD = %q, %v; want 1", got, err)
	}
	if want := "redis://:s3cret@" + master.Addr(); master.URL() != want {
		t.Fatalf("URL() = %q, want %q", master.URL(), want)
	}

	// Without AUTH the server refuses commands.
	conn, err := net.Dial("tcp", master.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := conn.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "-NOAUTH") {
		t.Fatalf("PING without AUTH = %q, want -NOAUTH", buf[:n])
	}

	replica := redistest.StartServer(t, redistest.WithPassword("s3cret"), redistest.WithReplicaOf(master.Addr()))
	role, err := replica.Do("ROLE")
	if err != nil || !strings.HasPrefix(role, "slave\n") {
		t.Fatalf("ROLE = %q, %v; want slave", role, err)
	}
}
