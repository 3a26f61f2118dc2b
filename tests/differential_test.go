package tests

// Differential testing: the in-memory adapter against a real redis-server
// (with the RediSearch module), through the standalone adapter.
//
// Each spec runs one seeded random sequence of operations over every port
// (KeyValue with TTLs, Scan and deletion by pattern, Hash, Set, List,
// Suggest) on a fresh memory store and on the suite's redis-server, over a
// small key space (20 keys under a prefix of the seed) so that operations
// collide: a hash written over a string, a list popped empty, WRONGTYPE.
// Every reply must be the same on both sides: values, counts, error kinds
// (errors.Is against the domain sentinels), listings compared as sets, TTLs
// within a tolerance, suggestions in order except among equal scores.
//
// The settings come from the environment:
//
//	REDISCACHE_DIFF_SEEDS  number of seeds (default 20), derived from
//	                       ginkgo's random seed, so different in every run
//	REDISCACHE_DIFF_SEED   runs only this seed (replay of a failure)
//	REDISCACHE_DIFF_OPS    operations per seed (default 3000)
//	REDISCACHE_DIFF_VERBOSE=1 logs every operation to the GinkgoWriter
//
// CI runs 20 × 3000 = 60,000 operations (about 5 s). A long run:
//
//	REDISCACHE_DIFF_SEEDS=100 REDISCACHE_DIFF_OPS=10000 go test ./tests/ \
//	    -run TestRediscache -ginkgo.label-filter=differential -timeout 2h
//
// A failure names its seed, the index and text of the operation, both
// replies, the operations before it and the command that replays it. The
// sequence of a seed does not depend on timing or on the random choices of
// the backends (SPop is resynchronised deterministically), so the replay
// is exact.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

const (
	diffDefaultSeeds = 20
	diffDefaultOps   = 3000
	// diffDB is the database of the shared redis-server the sequences run
	// in, so that listing patterns that start with '*' only see their keys.
	diffDB = 11
	// diffTTLTolerance is how far the two TTLs of a key may be apart, on top
	// of the time the two calls that set them and the two that read them
	// took.
	diffTTLTolerance = 50 * time.Millisecond
	// diffHistory is how many operations a failure lists before its own.
	diffHistory = 25
)

// diffSettings are the environment settings above.
type diffSettings struct {
	seeds   []uint64
	ops     int
	verbose bool
	err     error
}

func diffSettingsFromEnv() diffSettings {
	s := diffSettings{ops: diffDefaultOps, verbose: os.Getenv("REDISCACHE_DIFF_VERBOSE") == "1"}
	atoi := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.err = errors.Join(s.err, fmt.Errorf("%s=%q: want a positive integer", name, v))
			return def
		}
		return n
	}
	s.ops = atoi("REDISCACHE_DIFF_OPS", diffDefaultOps)
	if v := os.Getenv("REDISCACHE_DIFF_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			s.err = errors.Join(s.err, fmt.Errorf("REDISCACHE_DIFF_SEED=%q: want an unsigned integer", v))
		}
		s.seeds = []uint64{seed}
		return s
	}
	n := atoi("REDISCACHE_DIFF_SEEDS", diffDefaultSeeds)
	// The seeds follow ginkgo's random seed, which changes with every run
	// (or is given with -ginkgo.seed) and is the same in every parallel
	// process, so that they all build the same specs.
	base := uint64(GinkgoRandomSeed()) * 100_000
	for i := range n {
		s.seeds = append(s.seeds, base+uint64(i))
	}
	return s
}

var _ = Describe("differential: memory against redis-server", Label("redis", "differential"), func() {
	settings := diffSettingsFromEnv()
	It("has valid settings", func() {
		Expect(settings.err).NotTo(HaveOccurred())
	})
	for _, seed := range settings.seeds {
		It(fmt.Sprintf("seed %d, %d operations", seed, settings.ops), func(ctx SpecContext) {
			runDifferential(ctx, seed, settings)
		}, NodeTimeout(time.Duration(settings.ops)*5*time.Millisecond+2*time.Minute))
	}
})

// diffReplay is the command that replays seed.
func diffReplay(seed uint64, ops int) string {
	cmd := fmt.Sprintf("REDISCACHE_DIFF_SEED=%d", seed)
	if ops != diffDefaultOps {
		cmd += fmt.Sprintf(" REDISCACHE_DIFF_OPS=%d", ops)
	}
	return cmd + " go test ./tests/ -run TestRediscache -ginkgo.label-filter=differential -ginkgo.v"
}

func runDifferential(ctx context.Context, seed uint64, settings diffSettings) {
	Expect(standaloneServer).NotTo(BeNil(), "standalone server not started (BeforeSuite did not run)")
	mem := memory.New(memory.Config{})
	DeferCleanup(mem.Close)
	red, err := standalone.New(standalone.Config{Addr: standaloneServer.Addr(), DB: diffDB})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(red.Close)

	prefix := fmt.Sprintf("diff%d:", seed)
	clean := func() {
		_, err := diffDeleteMatching(context.Background(), red, domain.EscapeGlob(prefix)+"*", prefix, 0)
		Expect(err).NotTo(HaveOccurred(), "cleaning up keys of %q", prefix)
	}
	clean() // a previous run of the same seed may have been interrupted
	DeferCleanup(clean)

	r := &diffRun{
		ctx: ctx, seed: seed, ops: settings.ops, prefix: prefix,
		mem: mem, red: red,
		gen:      newDiffGen(seed, prefix),
		ttlSpan:  map[string]time.Duration{},
		outcomes: map[string]int{},
	}
	start := time.Now()
	for i := range settings.ops {
		op := r.gen.next()
		if settings.verbose {
			fmt.Fprintf(GinkgoWriter, "%d: %s\n", i, op)
		}
		res, err := r.exec(op)
		if err != nil {
			Fail(r.failure(i, op, err))
		}
		r.outcomes[op.Name+" "+res]++
		r.history = append(r.history, fmt.Sprintf("%5d  %s", i, op))
		if len(r.history) > diffHistory {
			r.history = r.history[1:]
		}
	}
	fmt.Fprintf(GinkgoWriter, "seed %d: %d operations (+%d checks) in %v; %d suggestion lists reordered among ties; replay: %s\n",
		seed, settings.ops, r.extra, time.Since(start).Round(time.Millisecond), r.tieReorders, diffReplay(seed, settings.ops))
	if settings.verbose {
		for _, k := range slices.Sorted(maps.Keys(r.outcomes)) {
			fmt.Fprintf(GinkgoWriter, "    %-32s %d\n", k, r.outcomes[k])
		}
	}
}

// diffRun is one sequence in progress.
type diffRun struct {
	ctx    context.Context
	seed   uint64
	ops    int
	prefix string
	mem    ports.Store
	red    ports.Store
	gen    *diffGen

	// ttlSpan is, per key, how long the pair of calls that last set its
	// ttl took: the two TTLs may differ by that much.
	ttlSpan map[string]time.Duration

	history     []string
	extra       int // follow-up calls made to check or resynchronise
	tieReorders int
	// outcomes counts the replies by operation and error kind ("HGet
	// ErrWrongType"), and non-empty answers of listing operations ("Scan
	// non-empty"), to show what a run covered.
	outcomes map[string]int
}

func (r *diffRun) failure(i int, op diffOp, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "memory and redis-server differ: seed %d, operation %d of %d:\n    %s\n%v\n", r.seed, i, r.ops, op, err)
	fmt.Fprintf(&b, "previous operations:\n%s\n", strings.Join(r.history, "\n"))
	fmt.Fprintf(&b, "replay: %s", diffReplay(r.seed, r.ops))
	return b.String()
}

// --- operations -----------------------------------------------------------------

// diffOp is one generated operation; Name selects the method and the other
// fields are its arguments.
type diffOp struct {
	Name    string
	Key     string
	Keys    []string
	Field   string
	Fields  []string
	Value   []byte
	TTL     time.Duration
	Members []string
	Count   int
	Start   int64
	Stop    int64
	Pattern string
	Batch   int
	Dels    []ports.HashFields
	Sugs    []domain.Suggestion
	Str     string
	Opts    domain.SugGetOptions
}

func (op diffOp) String() string {
	q := strconv.Quote
	qs := func(ss []string) string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = q(s)
		}
		return strings.Join(out, ", ")
	}
	qb := func(b []byte) string {
		if b == nil {
			return "nil"
		}
		if len(b) > 64 {
			return fmt.Sprintf("%q...(%d bytes)", b[:64], len(b))
		}
		return fmt.Sprintf("%q", b)
	}
	switch op.Name {
	case "Get", "TTL", "HGetAll", "HKeys", "SPop", "SMembers", "LPop", "RPop", "LLen", "SugLen":
		return fmt.Sprintf("%s(%s)", op.Name, q(op.Key))
	case "Set":
		return fmt.Sprintf("Set(%s, %s, %v)", q(op.Key), qb(op.Value), op.TTL)
	case "Expire":
		return fmt.Sprintf("Expire(%s, %v)", q(op.Key), op.TTL)
	case "Del", "Exists":
		return fmt.Sprintf("%s(%s)", op.Name, qs(op.Keys))
	case "Scan", "ScanDel":
		return fmt.Sprintf("%s(%s, batch %d)", op.Name, q(op.Pattern), op.Batch)
	case "HSet":
		return fmt.Sprintf("HSet(%s, %s, %s)", q(op.Key), q(op.Field), qb(op.Value))
	case "HGet", "HExists":
		return fmt.Sprintf("%s(%s, %s)", op.Name, q(op.Key), q(op.Field))
	case "HDel":
		return fmt.Sprintf("HDel(%s, %s)", q(op.Key), qs(op.Fields))
	case "HDelBatch":
		parts := make([]string, len(op.Dels))
		for i, d := range op.Dels {
			parts[i] = fmt.Sprintf("{%s: [%s]}", q(d.Key), qs(d.Fields))
		}
		return fmt.Sprintf("HDelBatch([%s])", strings.Join(parts, ", "))
	case "SAdd", "SRem", "LPush", "RPush":
		return fmt.Sprintf("%s(%s, %s)", op.Name, q(op.Key), qs(op.Members))
	case "SIsMember":
		return fmt.Sprintf("SIsMember(%s, %s)", q(op.Key), q(op.Str))
	case "SRandMember":
		return fmt.Sprintf("SRandMember(%s, %d)", q(op.Key), op.Count)
	case "LRange", "LTrim":
		return fmt.Sprintf("%s(%s, %d, %d)", op.Name, q(op.Key), op.Start, op.Stop)
	case "SugAdd":
		parts := make([]string, len(op.Sugs))
		for i, s := range op.Sugs {
			parts[i] = fmt.Sprintf("{%s score %v incr %v payload %s}", q(s.String), s.Score, s.Incr, qb(s.Payload))
		}
		return fmt.Sprintf("SugAdd(%s, %s)", q(op.Key), strings.Join(parts, ", "))
	case "SugGet":
		return fmt.Sprintf("SugGet(%s, %s, %+v)", q(op.Key), q(op.Str), op.Opts)
	case "SugDel":
		return fmt.Sprintf("SugDel(%s, %s)", q(op.Key), q(op.Str))
	}
	return fmt.Sprintf("%+v", diffOpFields(op))
}

type diffOpFields diffOp // %+v without the String method

// exec runs op on both stores and compares the replies. It returns the
// kind of outcome, for the statistics.
func (r *diffRun) exec(op diffOp) (string, error) {
	ctx, m, d := r.ctx, r.mem, r.red
	switch op.Name {
	case "Set":
		t0 := time.Now()
		em := m.Set(ctx, op.Key, op.Value, op.TTL)
		ed := d.Set(ctx, op.Key, op.Value, op.TTL)
		r.ttlSpan[op.Key] = time.Since(t0)
		if out, err := diffSameErr(em, ed); err != nil || em != nil {
			return out, err
		}
		return "ok", r.settle(op)
	case "Get":
		vm, em := m.Get(ctx, op.Key)
		vd, ed := d.Get(ctx, op.Key)
		return diffCompare(vm, em, vd, ed, bytes.Equal)
	case "Del":
		vm, em := m.Del(ctx, op.Keys...)
		vd, ed := d.Del(ctx, op.Keys...)
		return diffCompare(vm, em, vd, ed, diffEq[int64])
	case "Exists":
		vm, em := m.Exists(ctx, op.Keys...)
		vd, ed := d.Exists(ctx, op.Keys...)
		return diffCompare(vm, em, vd, ed, diffEq[int64])
	case "Expire":
		t0 := time.Now()
		vm, em := m.Expire(ctx, op.Key, op.TTL)
		vd, ed := d.Expire(ctx, op.Key, op.TTL)
		r.ttlSpan[op.Key] = time.Since(t0)
		if out, err := diffCompare(vm, em, vd, ed, diffEq[bool]); err != nil || !vm {
			return out, err
		}
		return "true", r.settle(op)
	case "TTL":
		t0 := time.Now()
		vm, em := m.TTL(ctx, op.Key)
		vd, ed := d.TTL(ctx, op.Key)
		tol := diffTTLTolerance + time.Since(t0) + r.ttlSpan[op.Key]
		return diffCompare(vm, em, vd, ed, func(a, b time.Duration) bool {
			if a == 0 || b == 0 {
				return a == b
			}
			return a > 0 && b > 0 && (a-b).Abs() <= tol
		})
	case "Scan":
		vm, em := r.scan(m, op)
		vd, ed := r.scan(d, op)
		return diffCompare(vm, em, vd, ed, diffSameSet)
	case "ScanDel":
		vm, em := diffDeleteMatching(ctx, m, op.Pattern, r.prefix, op.Batch)
		vd, ed := diffDeleteMatching(ctx, d, op.Pattern, r.prefix, op.Batch)
		return diffCompare(vm, em, vd, ed, diffEq[int64])

	case "HSet":
		return diffSameErr(m.HSet(ctx, op.Key, op.Field, op.Value), d.HSet(ctx, op.Key, op.Field, op.Value))
	case "HGet":
		vm, em := m.HGet(ctx, op.Key, op.Field)
		vd, ed := d.HGet(ctx, op.Key, op.Field)
		return diffCompare(vm, em, vd, ed, bytes.Equal)
	case "HExists":
		vm, em := m.HExists(ctx, op.Key, op.Field)
		vd, ed := d.HExists(ctx, op.Key, op.Field)
		return diffCompare(vm, em, vd, ed, diffEq[bool])
	case "HGetAll":
		vm, em := m.HGetAll(ctx, op.Key)
		vd, ed := d.HGetAll(ctx, op.Key)
		return diffCompare(vm, em, vd, ed, func(a, b map[string][]byte) bool {
			if len(a) != len(b) {
				return false
			}
			for f, v := range a {
				if w, ok := b[f]; !ok || !bytes.Equal(v, w) {
					return false
				}
			}
			return true
		})
	case "HKeys":
		vm, em := m.HKeys(ctx, op.Key)
		vd, ed := d.HKeys(ctx, op.Key)
		return diffCompare(vm, em, vd, ed, diffSameSet)
	case "HDel":
		vm, em := m.HDel(ctx, op.Key, op.Fields...)
		vd, ed := d.HDel(ctx, op.Key, op.Fields...)
		return diffCompare(vm, em, vd, ed, diffEq[int64])
	case "HDelBatch":
		vm, em := m.HDelBatch(ctx, op.Dels)
		vd, ed := d.HDelBatch(ctx, op.Dels)
		return diffCompare(vm, em, vd, ed, diffEq[int64])

	case "SAdd":
		vm, em := m.SAdd(ctx, op.Key, op.Members...)
		vd, ed := d.SAdd(ctx, op.Key, op.Members...)
		return diffCompare(vm, em, vd, ed, diffEq[int64])
	case "SRem":
		vm, em := m.SRem(ctx, op.Key, op.Members...)
		vd, ed := d.SRem(ctx, op.Key, op.Members...)
		return diffCompare(vm, em, vd, ed, diffEq[int64])
	case "SIsMember":
		vm, em := m.SIsMember(ctx, op.Key, op.Str)
		vd, ed := d.SIsMember(ctx, op.Key, op.Str)
		return diffCompare(vm, em, vd, ed, diffEq[bool])
	case "SMembers":
		vm, em := m.SMembers(ctx, op.Key)
		vd, ed := d.SMembers(ctx, op.Key)
		return diffCompare(vm, em, vd, ed, diffSameSet)
	case "SPop":
		return r.spop(op)
	case "SRandMember":
		return r.srandmember(op)

	case "LPush":
		vm, em := m.LPush(ctx, op.Key, op.Members...)
		vd, ed := d.LPush(ctx, op.Key, op.Members...)
		return diffCompare(vm, em, vd, ed, diffEq[int64])
	case "RPush":
		vm, em := m.RPush(ctx, op.Key, op.Members...)
		vd, ed := d.RPush(ctx, op.Key, op.Members...)
		return diffCompare(vm, em, vd, ed, diffEq[int64])
	case "LPop":
		vm, em := m.LPop(ctx, op.Key)
		vd, ed := d.LPop(ctx, op.Key)
		return diffCompare(vm, em, vd, ed, diffEq[string])
	case "RPop":
		vm, em := m.RPop(ctx, op.Key)
		vd, ed := d.RPop(ctx, op.Key)
		return diffCompare(vm, em, vd, ed, diffEq[string])
	case "LLen":
		vm, em := m.LLen(ctx, op.Key)
		vd, ed := d.LLen(ctx, op.Key)
		return diffCompare(vm, em, vd, ed, diffEq[int64])
	case "LRange":
		vm, em := m.LRange(ctx, op.Key, op.Start, op.Stop)
		vd, ed := d.LRange(ctx, op.Key, op.Start, op.Stop)
		return diffCompare(vm, em, vd, ed, slices.Equal[[]string])
	case "LTrim":
		return diffSameErr(m.LTrim(ctx, op.Key, op.Start, op.Stop), d.LTrim(ctx, op.Key, op.Start, op.Stop))

	case "SugAdd":
		vm, em := m.SugAdd(ctx, op.Key, op.Sugs...)
		vd, ed := d.SugAdd(ctx, op.Key, op.Sugs...)
		return diffCompare(vm, em, vd, ed, diffEq[int64])
	case "SugGet":
		return r.sugget(op)
	case "SugDel":
		vm, em := m.SugDel(ctx, op.Key, op.Str)
		vd, ed := d.SugDel(ctx, op.Key, op.Str)
		return diffCompare(vm, em, vd, ed, diffEq[bool])
	case "SugLen":
		vm, em := m.SugLen(ctx, op.Key)
		vd, ed := d.SugLen(ctx, op.Key)
		return diffCompare(vm, em, vd, ed, diffEq[int64])
	}
	return "", fmt.Errorf("unknown operation %q", op.Name)
}

// settle waits, after a Set or Expire with a ttl of at most a few
// milliseconds, until both stores report the key gone, so that no later
// operation runs while one has expired it and the other not yet.
func (r *diffRun) settle(op diffOp) error {
	if op.TTL <= 0 || op.TTL > 10*time.Millisecond {
		return nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, em := r.mem.TTL(r.ctx, op.Key)
		_, ed := r.red.TTL(r.ctx, op.Key)
		r.extra += 2
		if errors.Is(em, domain.ErrNotFound) && errors.Is(ed, domain.ErrNotFound) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("key %q set to expire in %v still there after 5s: memory TTL error %v, redis TTL error %v",
				op.Key, op.TTL, em, ed)
		}
		time.Sleep(time.Millisecond)
	}
}

// scan lists the keys of the run's prefix that match op.Pattern.
func (r *diffRun) scan(s ports.Store, op diffOp) ([]string, error) {
	var keys []string
	seen := map[string]bool{}
	err := s.Scan(r.ctx, op.Pattern, op.Batch, func(batch []string) error {
		for _, k := range batch {
			if seen[k] {
				return fmt.Errorf("key %q reported twice", k)
			}
			seen[k] = true
			if strings.HasPrefix(k, r.prefix) {
				keys = append(keys, k)
			}
		}
		return nil
	})
	return keys, err
}

// diffDeleteMatching deletes, batch by batch, the keys of prefix that match
// pattern, as the Cache's DeleteKeys does, and returns how many it deleted.
func diffDeleteMatching(ctx context.Context, s ports.KeyValue, pattern, prefix string, batch int) (int64, error) {
	var n int64
	err := s.Scan(ctx, pattern, batch, func(batch []string) error {
		var mine []string
		for _, k := range batch {
			if strings.HasPrefix(k, prefix) {
				mine = append(mine, k)
			}
		}
		d, err := s.Del(ctx, mine...)
		n += d
		return err
	})
	return n, err
}

// spop compares SPop, whose member is random, then resynchronises the two
// sets deterministically: each popped member is put back and both remove
// the smallest member instead, so the sequence stays replayable.
func (r *diffRun) spop(op diffOp) (string, error) {
	ctx := r.ctx
	vm, em := r.mem.SPop(ctx, op.Key)
	vd, ed := r.red.SPop(ctx, op.Key)
	if out, err := diffSameErr(em, ed); err != nil || em != nil {
		return out, err
	}
	r.extra += 8
	for _, side := range []struct {
		name string
		s    ports.Store
		v    string
	}{{"memory", r.mem, vm}, {"redis", r.red, vd}} {
		if in, err := side.s.SIsMember(ctx, op.Key, side.v); err != nil || in {
			return "", fmt.Errorf("%s: popped %q is still a member (%v, %v)", side.name, side.v, in, err)
		}
		if _, err := side.s.SAdd(ctx, op.Key, side.v); err != nil {
			return "", fmt.Errorf("%s: putting back %q: %w", side.name, side.v, err)
		}
	}
	sm, em := r.mem.SMembers(ctx, op.Key)
	sd, ed := r.red.SMembers(ctx, op.Key)
	if _, err := diffCompare(sm, em, sd, ed, diffSameSet); err != nil {
		return "", fmt.Errorf("after putting back the popped members (memory %q, redis %q): %w", vm, vd, err)
	}
	if !slices.Contains(sm, vm) || !slices.Contains(sm, vd) {
		return "", fmt.Errorf("popped members (memory %q, redis %q) not in the set %q", vm, vd, sm)
	}
	least := slices.Min(sm)
	nm, em := r.mem.SRem(ctx, op.Key, least)
	nd, ed := r.red.SRem(ctx, op.Key, least)
	if _, err := diffCompare(nm, em, nd, ed, diffEq[int64]); err != nil {
		return "", err
	}
	return "ok", nil
}

// srandmember compares the properties of SRandMember's random answer: its
// size, distinctness for a positive count, and membership.
func (r *diffRun) srandmember(op diffOp) (string, error) {
	ctx := r.ctx
	vm, em := r.mem.SRandMember(ctx, op.Key, op.Count)
	vd, ed := r.red.SRandMember(ctx, op.Key, op.Count)
	if out, err := diffSameErr(em, ed); err != nil || em != nil {
		return out, err
	}
	r.extra += 2
	sm, em := r.mem.SMembers(ctx, op.Key)
	sd, ed := r.red.SMembers(ctx, op.Key)
	if _, err := diffCompare(sm, em, sd, ed, diffSameSet); err != nil {
		return "", fmt.Errorf("SMembers after SRandMember: %w", err)
	}
	want := 0
	switch {
	case op.Count > 0:
		want = min(op.Count, len(sm))
	case op.Count < 0 && len(sm) > 0:
		want = -op.Count
	}
	for _, side := range []struct {
		name string
		got  []string
	}{{"memory", vm}, {"redis", vd}} {
		if len(side.got) != want {
			return "", fmt.Errorf("%s: %d members %q, want %d (set %q)", side.name, len(side.got), side.got, want, sm)
		}
		seen := map[string]bool{}
		for _, v := range side.got {
			if !slices.Contains(sm, v) {
				return "", fmt.Errorf("%s: %q is not a member of %q", side.name, v, sm)
			}
			if seen[v] && op.Count > 0 {
				return "", fmt.Errorf("%s: %q repeated with a positive count: %q", side.name, v, side.got)
			}
			seen[v] = true
		}
	}
	return diffEmpty(len(vm)), nil
}

// sugget compares suggestion lists: in order, except that suggestions of
// equal ranking score may come in any order (and, in a list cut at its
// maximum, the last group of equal scores may hold different members).
// Without WithScores, a mismatch is checked again with the scores of the
// same query asked WithScores on both sides.
func (r *diffRun) sugget(op diffOp) (string, error) {
	ctx := r.ctx
	vm, em := r.mem.SugGet(ctx, op.Key, op.Str, op.Opts)
	vd, ed := r.red.SugGet(ctx, op.Key, op.Str, op.Opts)
	if out, err := diffSameErr(em, ed); err != nil || em != nil {
		return out, err
	}
	if diffSugsEqual(vm, vd) {
		return diffEmpty(len(vm)), nil
	}
	limit := op.Opts.Limit()
	scored := op.Opts
	scored.WithScores = true
	sm, sd := vm, vd
	if !op.Opts.WithScores {
		r.extra += 2
		var em, ed error
		sm, em = r.mem.SugGet(ctx, op.Key, op.Str, scored)
		sd, ed = r.red.SugGet(ctx, op.Key, op.Str, scored)
		if _, err := diffSameErr(em, ed); err != nil || em != nil {
			return "", fmt.Errorf("the same query WithScores: %w (%v)", err, em)
		}
	}
	if err := diffSugsTied(sm, sd, limit); err != nil {
		return "", fmt.Errorf("%w\nmemory: %s\nredis:  %s", err, diffSugsString(sm), diffSugsString(sd))
	}
	if !op.Opts.WithScores {
		// Give the unscored answers the scores of the scored ones (of
		// either side: the two agree, except on which suggestions of
		// the last tied group made the cut).
		score := map[string]float64{}
		for _, s := range slices.Concat(sm, sd) {
			score[s.String] = s.Score
		}
		for _, list := range [][]domain.Suggestion{vm, vd} {
			for i := range list {
				sc, ok := score[list[i].String]
				if !ok {
					return "", fmt.Errorf("%q missing from the scored answer\nmemory: %s\nredis:  %s",
						list[i].String, diffSugsString(vm), diffSugsString(vd))
				}
				list[i].Score = sc
			}
		}
		if err := diffSugsTied(vm, vd, limit); err != nil {
			return "", fmt.Errorf("%w\nmemory: %s\nredis:  %s", err, diffSugsString(vm), diffSugsString(vd))
		}
	}
	r.tieReorders++
	return "reordered ties", nil
}

func diffSugsEqual(a, b []domain.Suggestion) bool {
	return slices.EqualFunc(a, b, func(x, y domain.Suggestion) bool {
		return x.String == y.String && bytes.Equal(x.Payload, y.Payload) && diffScoreEq(x.Score, y.Score)
	})
}

// diffSugsTied compares two lists of scored suggestions position by position
// for the scores, and group of equal scores by group for the suggestions.
func diffSugsTied(a, b []domain.Suggestion, limit int) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d suggestions against %d", len(a), len(b))
	}
	for i := range a {
		if !diffScoreEq(a[i].Score, b[i].Score) {
			return fmt.Errorf("score %d: %v against %v", i, a[i].Score, b[i].Score)
		}
	}
	key := func(s domain.Suggestion) string { return s.String + "\x00" + string(s.Payload) }
	for i := 0; i < len(a); {
		j := i + 1
		for j < len(a) && diffScoreEq(a[j].Score, a[i].Score) {
			j++
		}
		if j == len(a) && len(a) == limit {
			break // the last group may have been cut differently
		}
		ga, gb := make([]string, 0, j-i), make([]string, 0, j-i)
		for k := i; k < j; k++ {
			ga, gb = append(ga, key(a[k])), append(gb, key(b[k]))
		}
		slices.Sort(ga)
		slices.Sort(gb)
		if !slices.Equal(ga, gb) {
			return fmt.Errorf("suggestions %d..%d of score %v differ: %q against %q", i, j-1, a[i].Score, ga, gb)
		}
		i = j
	}
	return nil
}

// diffScoreEq compares scores within 1e-6, relatively.
func diffScoreEq(a, b float64) bool {
	if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
		return true
	}
	return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b))
}

func diffSugsString(ss []domain.Suggestion) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = fmt.Sprintf("%q", s.String)
		if s.Score != 0 {
			parts[i] += fmt.Sprintf(" %v", s.Score)
		}
		if s.Payload != nil {
			parts[i] += fmt.Sprintf(" payload %q", s.Payload)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// --- comparisons ------------------------------------------------------------------

// diffErrKind names the domain sentinel err matches.
func diffErrKind(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, domain.ErrNotFound):
		return "ErrNotFound"
	case errors.Is(err, domain.ErrWrongType):
		return "ErrWrongType"
	case errors.Is(err, domain.ErrInvalidArgument):
		return "ErrInvalidArgument"
	}
	return "other"
}

// diffSameErr compares the error kinds of two replies and returns the kind.
func diffSameErr(em, ed error) (string, error) {
	km, kd := diffErrKind(em), diffErrKind(ed)
	if km != kd {
		return km, fmt.Errorf("error kinds differ:\n    memory: %s (%v)\n    redis:  %s (%v)", km, em, kd, ed)
	}
	if km == "nil" {
		km = "ok"
	}
	return km, nil
}

// diffCompare compares two replies: the error kinds, then, without error,
// the values with eq. It returns the error kind, or a rough class of the
// value ("empty", "true", ...).
func diffCompare[T any](vm T, em error, vd T, ed error, eq func(a, b T) bool) (string, error) {
	if out, err := diffSameErr(em, ed); err != nil || em != nil {
		return out, err
	}
	if !eq(vm, vd) {
		return "", fmt.Errorf("replies differ:\n    memory: %s\n    redis:  %s", diffShow(vm), diffShow(vd))
	}
	switch v := any(vm).(type) {
	case bool:
		return strconv.FormatBool(v), nil
	case int64:
		if v == 0 {
			return "0", nil
		}
		return "non-zero", nil
	case time.Duration:
		if v == 0 {
			return "no ttl", nil
		}
		return "ttl", nil
	case []byte:
		return diffEmpty(len(v)), nil
	case []string:
		return diffEmpty(len(v)), nil
	case map[string][]byte:
		return diffEmpty(len(v)), nil
	}
	return "ok", nil
}

func diffEmpty(n int) string {
	if n == 0 {
		return "empty"
	}
	return "non-empty"
}

func diffShow(v any) string {
	switch x := v.(type) {
	case []byte:
		return fmt.Sprintf("%q", x)
	case []string:
		return fmt.Sprintf("%q", x)
	case string:
		return strconv.Quote(x)
	case map[string][]byte:
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range x {
				if !yield(k) {
					return
				}
			}
		})
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q: %q", k, x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprintf("%v", v)
}

func diffEq[T comparable](a, b T) bool { return a == b }

func diffSameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// --- generation -------------------------------------------------------------------

// diffKeySuffixes name the 20 keys of a run (after its prefix): glob
// metacharacters, separators, upper case, bytes above 0x7f. Each group of
// four is the home of one family of operations.
var diffKeySuffixes = []string{
	"a", "a*b", "B", "k-1", // strings
	"ab", "[x]", "x\\y", "h", // hashes
	"abc", "a?c", "x]", "s^2", // sets
	"l", "user:1", "a|b", "\xff\x01", // lists
	"sug", "é", "Zz", "sp ace", // suggestions
}

const (
	famString = iota
	famHash
	famSet
	famList
	famSug
)

var diffFields = []string{"f0", "f1", "f2", "F0", "", "é", "f:1", "*"}
var diffMembers = []string{"m0", "m1", "m2", "M0", "", "é", "1", "2", "10", "-3"}
var diffSugTokens = []string{"a", "b", "ab", "ha", "hel", "lo", "É", "é", "東", "x", " ", "Ab", "HEL"}

// diffGen generates the operations of one seed.
type diffGen struct {
	rng    *rand.Rand
	prefix string
	keys   []string
	table  []diffWeighted
	total  int
	n      int
	// sugs are the suggestion strings generated so far, for SugDel and
	// SugGet to hit.
	sugs []string
}

type diffWeighted struct {
	weight int
	make   func(g *diffGen) diffOp
}

func newDiffGen(seed uint64, prefix string) *diffGen {
	g := &diffGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), prefix: prefix}
	for _, s := range diffKeySuffixes {
		g.keys = append(g.keys, prefix+s)
	}
	g.table = []diffWeighted{
		// KeyValue
		{8, func(g *diffGen) diffOp {
			return diffOp{Name: "Set", Key: g.key(famString), Value: g.value(), TTL: g.ttl(true)}
		}},
		{5, func(g *diffGen) diffOp { return diffOp{Name: "Get", Key: g.key(famString)} }},
		{3, func(g *diffGen) diffOp { return diffOp{Name: "Del", Keys: g.someKeys()} }},
		{3, func(g *diffGen) diffOp { return diffOp{Name: "Exists", Keys: g.someKeys()} }},
		{4, func(g *diffGen) diffOp { return diffOp{Name: "Expire", Key: g.anyKey(), TTL: g.ttl(false)} }},
		{5, func(g *diffGen) diffOp { return diffOp{Name: "TTL", Key: g.anyKey()} }},
		{4, func(g *diffGen) diffOp { return diffOp{Name: "Scan", Pattern: g.pattern(), Batch: g.batch()} }},
		{1, func(g *diffGen) diffOp { return diffOp{Name: "ScanDel", Pattern: g.pattern(), Batch: g.batch()} }},
		// Hash
		{7, func(g *diffGen) diffOp {
			return diffOp{Name: "HSet", Key: g.key(famHash), Field: g.pick(diffFields), Value: g.value()}
		}},
		{3, func(g *diffGen) diffOp { return diffOp{Name: "HGet", Key: g.key(famHash), Field: g.pick(diffFields)} }},
		{2, func(g *diffGen) diffOp {
			return diffOp{Name: "HExists", Key: g.key(famHash), Field: g.pick(diffFields)}
		}},
		{3, func(g *diffGen) diffOp { return diffOp{Name: "HGetAll", Key: g.key(famHash)} }},
		{2, func(g *diffGen) diffOp { return diffOp{Name: "HKeys", Key: g.key(famHash)} }},
		{3, func(g *diffGen) diffOp {
			return diffOp{Name: "HDel", Key: g.key(famHash), Fields: g.some(diffFields, 3)}
		}},
		{2, func(g *diffGen) diffOp {
			dels := make([]ports.HashFields, g.rng.IntN(4))
			for i := range dels {
				dels[i] = ports.HashFields{Key: g.key(famHash), Fields: g.some(diffFields, 3)}
			}
			return diffOp{Name: "HDelBatch", Dels: dels}
		}},
		// Set
		{6, func(g *diffGen) diffOp {
			return diffOp{Name: "SAdd", Key: g.key(famSet), Members: g.some(diffMembers, 4)}
		}},
		{3, func(g *diffGen) diffOp {
			return diffOp{Name: "SRem", Key: g.key(famSet), Members: g.some(diffMembers, 3)}
		}},
		{2, func(g *diffGen) diffOp {
			return diffOp{Name: "SIsMember", Key: g.key(famSet), Str: g.pick(diffMembers)}
		}},
		{3, func(g *diffGen) diffOp { return diffOp{Name: "SMembers", Key: g.key(famSet)} }},
		{2, func(g *diffGen) diffOp { return diffOp{Name: "SPop", Key: g.key(famSet)} }},
		{2, func(g *diffGen) diffOp {
			return diffOp{Name: "SRandMember", Key: g.key(famSet), Count: g.rng.IntN(11) - 5}
		}},
		// List
		{4, func(g *diffGen) diffOp {
			return diffOp{Name: "LPush", Key: g.key(famList), Members: g.some(diffMembers, 4)}
		}},
		{4, func(g *diffGen) diffOp {
			return diffOp{Name: "RPush", Key: g.key(famList), Members: g.some(diffMembers, 4)}
		}},
		{2, func(g *diffGen) diffOp { return diffOp{Name: "LPop", Key: g.key(famList)} }},
		{2, func(g *diffGen) diffOp { return diffOp{Name: "RPop", Key: g.key(famList)} }},
		{2, func(g *diffGen) diffOp { return diffOp{Name: "LLen", Key: g.key(famList)} }},
		{3, func(g *diffGen) diffOp {
			return diffOp{Name: "LRange", Key: g.key(famList), Start: g.index(), Stop: g.index()}
		}},
		{2, func(g *diffGen) diffOp {
			return diffOp{Name: "LTrim", Key: g.key(famList), Start: g.index(), Stop: g.index()}
		}},
		// Suggest
		{5, func(g *diffGen) diffOp {
			n := 1 + g.rng.IntN(3)
			if g.rng.IntN(20) == 0 {
				n = 0
			}
			sugs := make([]domain.Suggestion, n)
			for i := range sugs {
				sugs[i] = g.suggestion()
			}
			return diffOp{Name: "SugAdd", Key: g.key(famSug), Sugs: sugs}
		}},
		{6, func(g *diffGen) diffOp {
			opts := domain.SugGetOptions{
				Fuzzy:        g.rng.IntN(3) == 0,
				Max:          []int{0, 1, 2, 3, 5, 10, 11, -1}[g.rng.IntN(8)],
				WithScores:   g.rng.IntN(2) == 0,
				WithPayloads: g.rng.IntN(2) == 0,
			}
			return diffOp{Name: "SugGet", Key: g.key(famSug), Str: g.sugPrefix(), Opts: opts}
		}},
		{2, func(g *diffGen) diffOp { return diffOp{Name: "SugDel", Key: g.key(famSug), Str: g.sugKnown()} }},
		{2, func(g *diffGen) diffOp { return diffOp{Name: "SugLen", Key: g.key(famSug)} }},
	}
	for _, w := range g.table {
		g.total += w.weight
	}
	return g
}

func (g *diffGen) next() diffOp {
	g.n++
	x := g.rng.IntN(g.total)
	for _, w := range g.table {
		if x < w.weight {
			return w.make(g)
		}
		x -= w.weight
	}
	panic("unreachable")
}

// key returns a key of the family's home most of the time, any key else.
func (g *diffGen) key(family int) string {
	if g.rng.IntN(8) == 0 {
		return g.anyKey()
	}
	return g.keys[family*4+g.rng.IntN(4)]
}

func (g *diffGen) anyKey() string { return g.keys[g.rng.IntN(len(g.keys))] }

// someKeys returns 0 to 3 keys, possibly repeated.
func (g *diffGen) someKeys() []string {
	keys := make([]string, g.rng.IntN(4))
	for i := range keys {
		keys[i] = g.anyKey()
	}
	return keys
}

func (g *diffGen) pick(from []string) string { return from[g.rng.IntN(len(from))] }

// some returns 0 to max elements of from, possibly repeated.
func (g *diffGen) some(from []string, max int) []string {
	out := make([]string, g.rng.IntN(max+1))
	for i := range out {
		out[i] = g.pick(from)
	}
	return out
}

func (g *diffGen) value() []byte {
	switch g.rng.IntN(10) {
	case 0:
		return nil
	case 1:
		return []byte{}
	case 2:
		b := make([]byte, g.rng.IntN(20))
		for i := range b {
			b[i] = byte(g.rng.IntN(256))
		}
		return b
	case 3:
		if g.rng.IntN(10) == 0 {
			return bytes.Repeat([]byte("big"), 20000)
		}
	}
	return fmt.Appendf(nil, "v%d", g.n)
}

// ttl returns a ttl for Set (forSet) or Expire: mostly none (0) or long
// (minutes, so nothing expires by itself during a run), sometimes invalid,
// sometimes 1ms (the run then waits until both stores expired the key).
func (g *diffGen) ttl(forSet bool) time.Duration {
	x := g.rng.IntN(100)
	switch {
	case x < 40 && forSet, x < 25:
		return 0
	case x < 88:
		d := time.Duration(60_000+g.rng.IntN(7_140_000)) * time.Millisecond
		if g.rng.IntN(5) == 0 {
			d += time.Duration(g.rng.IntN(1000)) * time.Microsecond // truncated by both
		}
		return d
	case x < 95:
		return []time.Duration{-time.Second, -1, time.Nanosecond, 999 * time.Microsecond}[g.rng.IntN(4)]
	}
	return time.Millisecond
}

func (g *diffGen) batch() int { return []int{0, 1, 2, 3, 5, 100}[g.rng.IntN(6)] }

// index returns a list index: mostly small, sometimes extreme.
func (g *diffGen) index() int64 {
	if g.rng.IntN(10) == 0 {
		return []int64{math.MinInt64, math.MaxInt64, -1000, 1000}[g.rng.IntN(4)]
	}
	return int64(g.rng.IntN(15) - 7)
}

// globFragments build listing patterns: every glob construct, escapes,
// unclosed sets, and bytes of the key names.
var globFragments = []string{
	"*", "*", "?", "[ab]", "[^a]", "[a-c]", "[c-a]", "[\\]x]", "[^", "[x", "\\*", "\\[", "\\\\", "]",
	"a", "b", "x", "B", "k", "-", "^", "|", ":", "\xff", "é", "[a-]", "[]]", "[\\", "\\",
}

// pattern returns a Scan pattern: mostly the escaped run prefix followed by
// glob fragments, sometimes fragments after a leading '*' that also match
// within the prefix.
func (g *diffGen) pattern() string {
	var b strings.Builder
	if g.rng.IntN(5) == 0 {
		b.WriteString("*")
	} else {
		b.WriteString(domain.EscapeGlob(g.prefix))
	}
	for range g.rng.IntN(4) {
		b.WriteString(g.pick(globFragments))
	}
	if g.rng.IntN(3) == 0 {
		b.WriteString("*")
	}
	return b.String()
}

func (g *diffGen) sugString(maxTokens int) string {
	var b strings.Builder
	for range 1 + g.rng.IntN(maxTokens) {
		b.WriteString(g.pick(diffSugTokens))
	}
	return b.String()
}

// sugKnown returns a string added before (or a prefix of one, which
// RediSearch 1.2.2 may "delete" too), sometimes a new one.
func (g *diffGen) sugKnown() string {
	if len(g.sugs) == 0 || g.rng.IntN(4) == 0 {
		return g.sugString(2)
	}
	s := g.sugs[g.rng.IntN(len(g.sugs))]
	if g.rng.IntN(5) == 0 {
		return g.cut(s)
	}
	return s
}

// cut returns a prefix of s that ends on a rune boundary. (A string that
// ends inside a UTF-8 sequence makes the RediSearch module read past its
// buffer, which no emulation can reproduce: the memory adapter documents
// it as its one known difference.)
func (g *diffGen) cut(s string) string {
	n := g.rng.IntN(len(s) + 1)
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (g *diffGen) suggestion() domain.Suggestion {
	s := domain.Suggestion{String: g.sugString(3)}
	if g.rng.IntN(30) == 0 {
		s.String = ""
	}
	if g.rng.IntN(3) == 0 && len(g.sugs) > 0 {
		s.String = g.sugs[g.rng.IntN(len(g.sugs))] // re-add, or INCR
	} else {
		g.sugs = append(g.sugs, s.String)
	}
	scores := []float64{0, 0, 1, 2, 0.5, 3.25, -1, 100, 1e-3, 7, 1e6}
	if g.rng.IntN(20) == 0 {
		// float32 0 (not stored), float32 overflow, infinities.
		scores = []float64{1e-50, 1e39, -1e39, math.Inf(1), math.Inf(-1), math.MaxFloat32}
	}
	s.Score = scores[g.rng.IntN(len(scores))]
	s.Incr = g.rng.IntN(4) == 0
	switch x := g.rng.IntN(10); {
	case x < 5:
	case x < 6:
		s.Payload = []byte{}
	default:
		s.Payload = fmt.Appendf(nil, "p%d", g.n)
	}
	return s
}

func (g *diffGen) sugPrefix() string {
	switch x := g.rng.IntN(40); {
	case x == 0:
		return strings.Repeat("a", 200) // too long: Invalid query
	case x < 4:
		return ""
	case x < 8:
		return strings.ToUpper(g.sugString(2))
	case x < 24 && len(g.sugs) > 0:
		return g.cut(g.sugs[g.rng.IntN(len(g.sugs))])
	}
	return g.sugString(2)
}
