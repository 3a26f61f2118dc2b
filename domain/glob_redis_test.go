package domain_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rediscache/rediscache/domain"
)

// globRedisFile is the golden table of (pattern, string, want) triples that a
// real redis-server answered with SCAN MATCH. Each line holds the pattern and
// the string as Go-quoted strings and the answer, separated by tabs; lines
// starting with '#' are comments.
const globRedisFile = "testdata/glob_redis.txt"

// updateGlobRedis regenerates globRedisFile against a redis-server that the
// test starts on a free loopback port (and stops):
//
//	go test ./domain/ -run '^TestMatchGlobRedisGolden$' -update-glob-redis
var updateGlobRedis = flag.Bool("update-glob-redis", false,
	"regenerate "+globRedisFile+" with SCAN MATCH on a redis-server started for the purpose")

// TestMatchGlobRedisGolden checks MatchGlob against every row of the table a
// real Redis answered.
func TestMatchGlobRedisGolden(t *testing.T) {
	if *updateGlobRedis {
		generateGlobRedis(t)
	}
	data, err := os.ReadFile(globRedisFile)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parseGlobRedis(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 1000 {
		t.Fatalf("%s has only %d rows", globRedisFile, len(rows))
	}
	var matches, failures int
	for _, r := range rows {
		if r.want {
			matches++
		}
		if got := domain.MatchGlob(r.pattern, r.s); got != r.want {
			failures++
			if failures <= 50 {
				t.Errorf("MatchGlob(%q, %q) = %v, Redis says %v", r.pattern, r.s, got, r.want)
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d rows differ from Redis", failures, len(rows))
	}
	// A table of nothing but misses (or hits) would prove little.
	if matches < len(rows)/5 || matches > len(rows)*4/5 {
		t.Errorf("unbalanced table: %d matches of %d rows", matches, len(rows))
	}
}

type globRow struct {
	pattern, s string
	want       bool
}

func parseGlobRedis(data []byte) ([]globRow, error) {
	var rows []globRow
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: %d fields", i+1, len(f))
		}
		p, err1 := strconv.Unquote(f[0])
		s, err2 := strconv.Unquote(f[1])
		want, err3 := strconv.ParseBool(f[2])
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		rows = append(rows, globRow{p, s, want})
	}
	return rows, nil
}

// --- generation ---------------------------------------------------------------

// Bytes the generated patterns and strings are made of: every byte with a
// meaning in a glob, letters on both sides of the ranges used, and bytes
// above 0x7f (Redis compares them as signed chars).
const (
	globPatternAlphabet = `ab-^]\[*?zA` + "\x80\xff\x01"
	globStringAlphabet  = `ab-^]\[*?zAB` + "\x80\xff\x01"
)

// generateGlobRedis writes globRedisFile from the answers of a fresh
// redis-server.
func generateGlobRedis(t *testing.T) {
	conn := startGlobRedis(t)
	rng := rand.New(rand.NewPCG(20240611, 7))

	patterns := []string{
		"*", "**", "?", "??", "[", "[]", "[]]", "[^]", "[^", "[a-]", "[-a]", "[a-c]", "[c-a]",
		`\`, `\\`, `a\`, `[\`, `[\]]`, `[a\]`, `[\a-c]`, `[--0]`, "[\x01-\xff]", "[a-\x80]",
		"*a*a*", "a*b?", "[ab", "[^ab]*", `\*`, `\?`, `\[a]`, "*]", "]", "^", "[^^]", "[]-a]",
	}
	seen := map[string]bool{}
	for _, p := range patterns {
		seen[p] = true
	}
	for len(patterns) < 420 {
		p := randomGlob(rng, 1+rng.IntN(7))
		if !seen[p] {
			seen[p] = true
			patterns = append(patterns, p)
		}
	}

	var out bytes.Buffer
	out.WriteString("# (pattern, string, Redis matches) triples answered by a real redis-server with\n")
	out.WriteString("# SCAN 0 MATCH <pattern> over keys holding the strings. Regenerate with\n")
	out.WriteString("#   go test ./domain/ -run '^TestMatchGlobRedisGolden$' -update-glob-redis\n")
	fmt.Fprintf(&out, "# Generated with %s.\n", strings.TrimSpace(conn.serverVersion))
	rows := 0
	for _, p := range patterns {
		strs := map[string]bool{}
		for range 6 {
			strs[randomString(rng, rng.IntN(5))] = true
		}
		for range 14 {
			strs[instantiate(rng, p)] = true
		}
		if p == "*" {
			// SCAN MATCH * does not run the matcher at all, so it would
			// list the empty key that "*" does not match.
			delete(strs, "")
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for s := range strs {
				if !yield(s) {
					return
				}
			}
		})
		matched := conn.scanMatch(t, p, keys)
		for _, s := range keys {
			fmt.Fprintf(&out, "%s\t%s\t%v\n", strconv.Quote(p), strconv.Quote(s), matched[s])
			rows++
		}
	}
	if err := os.WriteFile(globRedisFile, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d rows for %d patterns to %s", rows, len(patterns), globRedisFile)
}

func randomGlob(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = globPatternAlphabet[rng.IntN(len(globPatternAlphabet))]
	}
	return string(b)
}

func randomString(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = globStringAlphabet[rng.IntN(len(globStringAlphabet))]
	}
	return string(b)
}

// instantiate returns a string that roughly follows pattern (stars become
// short runs, '?' and sets one byte, escapes their byte), sometimes mutated,
// so that about half the strings match.
func instantiate(rng *rand.Rand, pattern string) string {
	var b []byte
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b = append(b, randomString(rng, rng.IntN(3))...)
		case '?':
			b = append(b, randomString(rng, 1)...)
		case '[':
			j := i + 1
			for j < len(pattern) && pattern[j] != ']' {
				j++
			}
			set := pattern[i+1 : j]
			if set == "" || rng.IntN(5) == 0 {
				b = append(b, randomString(rng, 1)...)
			} else {
				b = append(b, set[rng.IntN(len(set))])
			}
			i = j
		case '\\':
			if i+1 < len(pattern) {
				i++
			}
			b = append(b, pattern[i])
		default:
			b = append(b, c)
		}
	}
	switch rng.IntN(10) {
	case 0:
		b = append(b, randomString(rng, 1)...)
	case 1:
		if len(b) > 0 {
			b = b[:len(b)-1]
		}
	case 2:
		if len(b) > 0 {
			b[rng.IntN(len(b))] = globStringAlphabet[rng.IntN(len(globStringAlphabet))]
		}
	}
	return string(b)
}

// --- a throw-away redis-server, spoken to in RESP ---------------------------

type globRedisConn struct {
	c             net.Conn
	r             *bufio.Reader
	serverVersion string
}

// startGlobRedis starts redis-server on a free loopback port; the cleanup
// stops it by its PID.
func startGlobRedis(t *testing.T) *globRedisConn {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is needed to regenerate %s: %v", globRedisFile, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var c net.Conn
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { _ = c.Close() })
	conn := &globRedisConn{c: c, r: bufio.NewReader(c)}
	info := conn.do(t, "INFO", "server").(string)
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "redis_version:"); ok {
			conn.serverVersion = "redis-server " + strings.TrimSpace(v)
		}
	}
	return conn
}

// scanMatch stores keys (empty values) in a flushed database and returns
// which of them SCAN MATCH pattern lists.
func (c *globRedisConn) scanMatch(t *testing.T, pattern string, keys []string) map[string]bool {
	c.do(t, "FLUSHALL")
	for _, k := range keys {
		c.do(t, "SET", k, "")
	}
	got := map[string]bool{}
	cursor := "0"
	for {
		reply := c.do(t, "SCAN", cursor, "MATCH", pattern, "COUNT", "1000").([]any)
		cursor = reply[0].(string)
		for _, k := range reply[1].([]any) {
			got[k.(string)] = true
		}
		if cursor == "0" {
			return got
		}
	}
}

func (c *globRedisConn) do(t *testing.T, args ...string) any {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.c.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	v, err := readRESP(c.r)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return v
}

// readRESP reads one RESP2 reply: strings and integers as string, arrays as
// []any, nil as nil; an error reply is returned as an error.
func readRESP(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return nil, errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readRESP(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}
