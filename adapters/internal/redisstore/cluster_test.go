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
