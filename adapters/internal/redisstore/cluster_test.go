package redisstore

import (
	"io"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestKeySlot(t *testing.T) {
	// Values of CLUSTER KEYSLOT on Redis 7.0.
	for key, want := range map[string]int{
		"":                     0,
		"foo":                  12182,
		"bar":                  5061,
		"123456789":            12739, // CRC16/XMODEM check value 0x31C3
		"{user1000}.following": 3443,
		"{user1000}.followers": 3443,
		"user1000":             3443,
		"foo{}{bar}":           8363, // empty first tag: the whole key
		"foo{{bar}}zap":        4015, // tag "{bar"
		"foo{bar}{zap}":        5061, // first tag only
	} {
		if got := KeySlot(key); got != want {
			t.Errorf("KeySlot(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestSlotGroups(t *testing.T) {
	keys := []string{"foo", "{foo}a", "bar", "foo", "{bar}x"}
	got := slotGroups(keys)
	want := [][]string{{"foo", "{foo}a", "foo"}, {"bar", "{bar}x"}}
	if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("slotGroups(%q) = %q, want %q", keys, got, want)
	}
}

func TestLayoutMayHaveChanged(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{reply("CLUSTERDOWN The cluster is down"), true},
		{reply("MASTERDOWN Link with MASTER is down"), true},
		{reply("LOADING Redis is loading the dataset in memory"), true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{io.EOF, true},
		{reply("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{reply("ERR syntax error"), false},
		{redis.Nil, false},
	} {
		if got := layoutMayHaveChanged(tt.err); got != tt.want {
			t.Errorf("layoutMayHaveChanged(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestParseClusterNodes(t *testing.T) {
	// A CLUSTER NODES reply of Redis 7.0 (hostnames after the comma, an
	// open migration and an import on the node itself, a failed node).
	const out = "" +
		"07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host-4 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected\n" +
		"67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922\n" +
		"292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383\n" +
		"6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 slave 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 connected\n" +
		"824fe116063bc5fcf9f4ffd895bc17aee7731ac3 127.0.0.1:30006@31006 slave,fail 292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 0 1426238317741 6 disconnected\n" +
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 7 connected 0-5 7 [8->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1] [9-<-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]\n"
	v := parseClusterNodes(out)
	if v.id != "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca" || !v.master || v.epoch != 7 {
		t.Errorf("myself: id %q master %v epoch %d", v.id, v.master, v.epoch)
	}
	if want := []int{0, 1, 2, 3, 4, 5, 7}; !slices.Equal(v.slots, want) {
		t.Errorf("slots %v, want %v", v.slots, want)
	}
	if want := []int{8, 9}; !slices.Equal(v.unstable, want) {
		t.Errorf("unstable %v, want %v", v.unstable, want)
	}
	if want := []string{"127.0.0.1:30002", "127.0.0.1:30003", "127.0.0.1:30001"}; !slices.Equal(v.masters, want) {
		t.Errorf("masters %v, want %v", v.masters, want)
	}
	if got := v.replicas["e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca"]; !slices.Equal(got, []string{"127.0.0.1:30004"}) {
		t.Errorf("replicas of myself %v", got)
	}
	if got := v.replicas["292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f"]; len(got) != 0 {
		t.Errorf("a failed replica is listed: %v", got)
	}
	if v := parseClusterNodes("garbage\n\n"); v.master || len(v.slots) > 0 || len(v.masters) > 0 {
		t.Errorf("garbage parsed as %+v", v)
	}
}
