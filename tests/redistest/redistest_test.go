package redistest_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

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

func TestStartCluster(t *testing.T) {
	start := time.Now()
	c := redistest.StartCluster(t, redistest.WithModule())
	t.Logf("cluster up in %v", time.Since(start).Round(time.Millisecond))

	masters, replicas := c.Masters(), c.Replicas()
	if len(masters) != 3 || len(replicas) != 3 || len(c.Nodes()) != 6 {
		t.Fatalf("%d masters, %d replicas, %d nodes; want 3, 3, 6", len(masters), len(replicas), len(c.Nodes()))
	}
	total := 0
	for _, m := range masters {
		total += len(c.SlotsOf(m))
		if r := c.ReplicaOf(m); r == nil {
			t.Fatalf("master %s has no replica", m.Addr())
		}
		info, err := m.Do("CLUSTER", "INFO")
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			t.Fatalf("CLUSTER INFO on %s = %q, %v", m.Addr(), info, err)
		}
	}
	if total != redistest.Slots {
		t.Fatalf("masters own %d slots, want %d", total, redistest.Slots)
	}

	// A key lives on the master of its slot, which has RediSearch.
	key := "user:42"
	owner := c.MasterFor(key)
	if owner == nil {
		t.Fatal("no owner for", key)
	}
	if _, err := owner.Do("SET", key, "v"); err != nil {
		t.Fatal(err)
	}
	// Replication is asynchronous: the kill -9 below must not come before
	// the replica has the key (it did once in CI). WAIT alone was not
	// enough: it once counted an acknowledgement while the replica, just
	// out of its first sync, still had nothing, so wait for the key there.
	if got, err := owner.Do("WAIT", "1", "5000"); err != nil || got != "1" {
		t.Fatalf("WAIT 1 5000 on %s = %q, %v; want 1 replica", owner.Addr(), got, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := c.ReplicaOf(owner).Do("DBSIZE")
		if err == nil && n != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica of %s still has no key after 10 s: DBSIZE = %q, %v", owner.Addr(), n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, err := c.MasterFor(key+":sug").Do("FT.SUGADD", key+":sug", "hello", "1"); err != nil || got != "1" {
		t.Fatalf("FT.SUGADD = %q, %v; want 1", got, err)
	}
	for _, m := range masters {
		if m == owner {
			continue
		}
		if _, err := m.Do("GET", key); err == nil || !strings.Contains(err.Error(), "MOVED") {
			t.Fatalf("GET %s on %s: %v, want MOVED", key, m.Addr(), err)
		}
	}

	// kill -9 of the owner: its replica takes over the slots.
	replica := c.ReplicaOf(owner)
	slot := c.Slot(key)
	owner.Kill()
	c.WaitSettled(t)
	if got := c.SlotOwner(slot); got != replica {
		t.Fatalf("after kill -9 slot %d is at %v, want the replica %s", slot, got, replica.Addr())
	}
	if got, err := replica.Do("GET", key); err != nil || got != "v" {
		t.Fatalf("GET on the new master = %q, %v", got, err)
	}
	// The old master comes back as a replica of the new one.
	c.Restart(t, owner)
	if c.ReplicaOf(replica) != owner {
		t.Fatalf("%s did not come back as a replica of %s", owner.Addr(), replica.Addr())
	}
	// A graceful failover gives it its slots back.
	c.Failover(t, owner)
	if got := c.SlotOwner(slot); got != owner {
		t.Fatalf("after CLUSTER FAILOVER slot %d is at %v, want %s", slot, got, owner.Addr())
	}

	// A new master receives slots, keys included.
	added := c.AddMaster(t)
	if len(c.SlotsOf(added)) != 0 || len(c.Nodes()) != 7 {
		t.Fatalf("new master owns %v; %d nodes", c.SlotsOf(added), len(c.Nodes()))
	}
	c.MoveSlots(t, added, slot, slot+1)
	if got := c.MasterFor(key); got != added {
		t.Fatalf("after MoveSlots %s is at %v, want %s", key, got, added.Addr())
	}
	if got, err := added.Do("GET", key); err != nil || got != "v" {
		t.Fatalf("GET on the new owner = %q, %v", got, err)
	}
	if err := c.FlushAll(); err != nil {
		t.Fatal(err)
	}
	if got, err := added.Do("EXISTS", key); err != nil || got != "0" {
		t.Fatalf("EXISTS after FlushAll = %q, %v", got, err)
	}
}
