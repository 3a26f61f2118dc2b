package memory

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The expected values in this file are replies of redis-redisearch 1.2.2 on
// Redis 7.0.15 (scores as the module prints them, float32 widened to
// float64).

// sugResult is an expected result of sugDict.get.
type sugResult struct {
	str   string
	score float64
}

// sugDictOf builds a dictionary from string/score pairs added in order.
func sugDictOf(t *testing.T, pairs ...any) *sugDict {
	t.Helper()
	d := newSugDict()
	for i := 0; i < len(pairs); i += 2 {
		d.add(pairs[i].(string), pairs[i+1].(float64), false, nil)
	}
	return d
}

// expectGet checks d.get against want, in order and with exact scores.
func expectGet(t *testing.T, d *sugDict, prefix string, fuzzy bool, max int, want ...sugResult) {
	t.Helper()
	got, err := d.get(prefix, fuzzy, max)
	if err != nil {
		t.Fatalf("get(%q, fuzzy=%v, max=%d): %v", prefix, fuzzy, max, err)
	}
	var gotR []sugResult
	for _, m := range got {
		gotR = append(gotR, sugResult{m.str, float64(m.score)})
	}
	if !slices.Equal(gotR, want) {
		t.Errorf("get(%q, fuzzy=%v, max=%d) = %v, want %v", prefix, fuzzy, max, gotR, want)
	}
}

func TestSugFoldTableMatchesModule(t *testing.T) {
	// SHA-256 of the module's fold of every 16-bit rune (little-endian
	// uint16s), measured with one FT.SUGGET per rune.
	const want = "870643042d5952323d5ecb134a11c3caefbc9bfe013f43233e37b6d8c6951b05"
	b := make([]byte, 2<<16)
	for r := range 1 << 16 {
		binary.LittleEndian.PutUint16(b[2*r:], sugFold16(uint16(r)))
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("fold table hash = %s, want %s", got, want)
	}
	for _, tt := range []struct{ in, want rune }{
		{'A', 'a'}, {'a', 'a'}, {'Ü', 'ü'}, {'É', 'é'}, {'東', '東'},
		{'ß', 's'}, {'ẞ', 's'}, {'ſ', 's'}, {'ﬁ', 'f'}, {'İ', 'i'}, {'ı', 'ı'},
		{'\u212a', 'k'}, {'Σ', 'σ'}, {'ς', 'σ'}, {'ΐ', 'ι'},
		{'\uab70', '\u13a0'}, {'\u13f8', '\u13f0'}, // Cherokee folds to capitals
		{'\u1c90', '\u1c90'}, {'\ua7b8', '\ua7b8'}, // Unicode 11 and later: not folded
	} {
		if got := rune(sugFold16(uint16(tt.in))); got != tt.want {
			t.Errorf("fold(%U) = %U, want %U", tt.in, got, tt.want)
		}
	}
}

func TestSugFoldQuery(t *testing.T) {
	for _, tt := range []struct {
		in   rune
		want uint16
	}{
		{'A', 'a'},
		{'\U0001F600', 0xF600}, // truncated
		{'\U00010400', 0x0428}, // Deseret: folded to U+10428, then truncated
		{'\U0001E900', 0xE922}, // Adlam
		{'\U00010570', 0x0570}, // Vithkuqi (Unicode 14): not folded
		{'\U000104B0', 0x04D8}, // Osage
		{'\U00010C80', 0x0CC0}, // Old Hungarian
		{'\U000118A0', 0x18C0}, // Warang Citi
		{'\U00016E40', 0x6E40}, // Medefaidrin (Unicode 11): not folded
		{0x1E1880, 0x1880},     // beyond Unicode (from an invalid sequence)
		{'\U0010FFFF', 0xFFFF},
	} {
		if got := sugFoldQuery(uint32(tt.in)); got != tt.want {
			t.Errorf("foldQuery(%U) = %#04x, want %#04x", tt.in, got, tt.want)
		}
	}
}

func TestSugDecodeEncode(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []uint16
		out  string
	}{
		{"héllo", []uint16{'h', 0xE9, 'l', 'l', 'o'}, "héllo"},
		{"😀x", []uint16{0xF600, 'x'}, "\uf600x"},
		{"ab\x00cd", []uint16{'a', 'b'}, "ab"}, // stops at NUL
		{"x\xc0\x80y", []uint16{'x'}, "x"},     // overlong NUL stops too
		{"\x80ab", []uint16{'!', 'b'}, "!b"},   // continuation byte read as a 2-byte lead
		{"\xc3(z", []uint16{0xE8, 'z'}, "èz"},  // continuation not checked
		{"\xf8abcd", []uint16{0x18A3, 'd'}, "\u18a3d"},
		{"\xedb\x80", []uint16{0xD880}, "\xed\xa2\x80"}, // surrogate, encoded as libnu does
		{"", nil, ""},
	} {
		got := sugRunes(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("runes(%q) = %#04x, want %#04x", tt.in, got, tt.want)
		}
		if out := sugEncode(got); out != tt.out {
			t.Errorf("encode(runes(%q)) = %q, want %q", tt.in, out, tt.out)
		}
	}
}

func TestSugDictRanking(t *testing.T) {
	d := sugDictOf(t, "help", 3.0, "hello", 2.0, "hell", 1.0)
	expectGet(t, d, "hel", false, 0,
		sugResult{"help", 2.1213202476501465}, sugResult{"hello", 1.1547005176544189}, sugResult{"hell", 0.70710676908493042})
	expectGet(t, d, "HELL", false, 0,
		sugResult{"hell", 2147483648}, sugResult{"hello", 1.4142135381698608})

	d = sugDictOf(t, "abc", 0.1, "Abc", 1.0)
	expectGet(t, d, "ab", false, 0, sugResult{"Abc", 0.70710676908493042}, sugResult{"abc", 0.0707106813788414})
	expectGet(t, d, "abc", false, 0, sugResult{"abc", 2147483648}, sugResult{"Abc", 1})

	d = sugDictOf(t, "Zürich", 1.0, "東京", 1.0, "héllo", 1.0, "ZÜRICH", 2.0)
	expectGet(t, d, "zü", false, 0, sugResult{"ZÜRICH", 1}, sugResult{"Zürich", 0.5})
	expectGet(t, d, "ZÜ", false, 0, sugResult{"ZÜRICH", 1}, sugResult{"Zürich", 0.5})
	expectGet(t, d, "zu", false, 0)
	expectGet(t, d, "東", false, 0, sugResult{"東京", 0.70710676908493042})
	expectGet(t, d, "東京", false, 0, sugResult{"東京", 960383872})
	expectGet(t, d, "HÉ", false, 0, sugResult{"héllo", 0.57735025882720947})
	expectGet(t, d, "zürich", false, 0, sugResult{"ZÜRICH", 1.4142135381698608}, sugResult{"Zürich", 0.70710676908493042})

	// A NUL ends the prefix, but its length in bytes still counts.
	d = sugDictOf(t, "ab\x00cd", 1.0)
	expectGet(t, d, "ab\x00zzz", false, 0, sugResult{"ab", 960383872})
}

func TestSugDictFuzzy(t *testing.T) {
	d := sugDictOf(t, "hello", 1.0, "abcd", 1.0)
	expectGet(t, d, "hxllo", true, 0, sugResult{"hello", 0.1353352814912796})
	expectGet(t, d, "hexlo", true, 0, sugResult{"hello", 0.1353352814912796})
	expectGet(t, d, "hello", true, 0, sugResult{"hello", 2147483648})
	// memcmp compares as many bytes as runes: "hel" only, so "hellx" is
	// boosted, times exp(-2).
	expectGet(t, d, "hellx", true, 0, sugResult{"hello", 290630304})
	expectGet(t, d, "abxd", true, 0, sugResult{"abcd", 290630304})
	expectGet(t, d, "abce", true, 0, sugResult{"abcd", 290630304})
	// The empty prefix matches at distance 1; one rune too.
	expectGet(t, d, "", true, 0, sugResult{"abcd", 0.060523778200149536}, sugResult{"hello", 0.055250398814678192})
	expectGet(t, d, "x", true, 0, sugResult{"abcd", 0.067667640745639801}, sugResult{"hello", 0.060523778200149536})
	expectGet(t, d, "", false, 0, sugResult{"abcd", 0.44721359014511108}, sugResult{"hello", 0.40824830532073975})
	// No transposition, no distance 2.
	expectGet(t, d, "bacd", true, 0)
	expectGet(t, d, "axxd", true, 0)

	d = sugDictOf(t, "hello", 2.0, "abcd", 1.0)
	expectGet(t, d, "hwll", true, 0, sugResult{"hello", 0.19139298796653748})
	expectGet(t, d, "abx", true, 0, sugResult{"abcd", 0.095696493983268738})

	// U+0001 in the prefix matches any rune: the automaton's default edge
	// is built with rune 1.
	d = sugDictOf(t, "\x01", 1.0, "a", 2.0, "\x01b", 3.0)
	expectGet(t, d, "\x01", false, 0,
		sugResult{"\x01", 2147483648}, sugResult{"\x01b", 2.1213202476501465}, sugResult{"a", 2})
}

func TestSugDictMax(t *testing.T) {
	d := newSugDict()
	for i := 1; i <= 12; i++ {
		d.add("w"+strconv.Itoa(i), float64(i), false, nil)
	}
	top5 := []sugResult{
		{"w12", 6.9282031059265137}, {"w9", 6.3639612197875977}, {"w11", 6.3508529663085938},
		{"w10", 5.7735028266906738}, {"w8", 5.6568541526794434},
	}
	for _, max := range []int{0, -1, 11, 1000} {
		expectGet(t, d, "w", false, max, top5...)
	}
	expectGet(t, d, "w", false, 1, top5[0])
	got, _ := d.get("w", false, 10)
	if len(got) != 10 {
		t.Errorf("max 10 gave %d results", len(got))
	}
	got, _ = d.get("w1", false, 10)
	if len(got) != 4 {
		t.Errorf("prefix w1 gave %d results, want 4", len(got))
	}
}

func TestSugDictPruning(t *testing.T) {
	// Children are visited best stored score first, and a branch whose
	// stored scores are below the lowest result kept is skipped, exact
	// matches included.
	d := sugDictOf(t, "b", 10.0, "a", 1.0)
	expectGet(t, d, "a", true, 1, sugResult{"b", 1.3533527851104736})
	expectGet(t, d, "a", true, 2, sugResult{"a", 2147483648}, sugResult{"b", 1.3533527851104736})

	d = sugDictOf(t, "abcd", 5.0, "abxd", 1.0)
	expectGet(t, d, "abxd", true, 1, sugResult{"abcd", 290630304})
	expectGet(t, d, "abxd", true, 2, sugResult{"abxd", 2147483648}, sugResult{"abcd", 290630304})

	// A leaf's maxChildScore is 0, so "x" (holding "xa" and "xb") sorts
	// before the leaf "y" and "xb", INCRed to 6, is found.
	d = sugDictOf(t, "xa", 1.0, "xb", 1.0)
	for range 5 {
		d.add("xb", 1, true, nil)
	}
	d.add("y", 3, false, nil)
	expectGet(t, d, "", false, 1, sugResult{"xb", 3.4641015529632568})
	expectGet(t, d, "", false, 3,
		sugResult{"xb", 3.4641015529632568}, sugResult{"y", 2.1213202476501465}, sugResult{"xa", 0.57735025882720947})
}

func TestSugDictAdd(t *testing.T) {
	d := newSugDict()
	for _, tt := range []struct {
		s     string
		score float64
		rc    int
	}{
		{"hello", 1, 1},
		{"hello", 2, 0}, // update
		{"Hello", 1, 1}, // another case, another entry
		{"", 1, 0},
		{"zero", 0, 0},
		{"tiny", 1e-50, 0}, // 0 in float32
		{"neg", -1, 1},
		{strings.Repeat("a", 254), 1, 1},
		{strings.Repeat("b", 255), 1, 0},
		{strings.Repeat("é", 254), 1, 1}, // 508 bytes
		{strings.Repeat("ü", 255), 1, 0},
		{strings.Repeat("東", 170), 1, 1}, // 510 bytes
		{strings.Repeat("東", 170) + "a", 1, 0},
		{"inf", math.Inf(1), 1},
		{"big", 1e300, 1}, // +inf in float32
	} {
		if rc := d.add(tt.s, tt.score, false, nil); rc != tt.rc {
			t.Errorf("add(%.20q, %v) = %d, want %d", tt.s, tt.score, rc, tt.rc)
		}
	}
	if d.len() != 8 {
		t.Errorf("len = %d, want 8", d.len())
	}
	expectGet(t, d, "ne", false, 0, sugResult{"neg", -0.70710676908493042})
	expectGet(t, d, "bi", false, 0, sugResult{"big", math.Inf(1)})

	// INCR adds in float32; re-adding replaces.
	d = newSugDict()
	d.add("apple", 1, false, nil)
	d.add("apple", 2, true, nil)
	d.add("apricot", 2, true, nil)
	expectGet(t, d, "ap", false, 0, sugResult{"apple", 1.5}, sugResult{"apricot", 0.81649661064147949})
	d.add("apple", 0.1, false, nil)
	d.add("apple", 0.2, true, nil)
	expectGet(t, d, "apple", false, 0, sugResult{"apple", 2147483648})
	expectGet(t, d, "a", false, 0,
		sugResult{"apricot", float64(float32(2 / math.Sqrt(7)))},
		sugResult{"apple", float64(float32(float64(float32(0.1)+float32(0.2)) / math.Sqrt(5)))})
}

func TestSugDictPayload(t *testing.T) {
	d := newSugDict()
	payload := func(s string) []byte {
		t.Helper()
		got, err := d.get(s, false, 0)
		if err != nil || len(got) == 0 {
			t.Fatalf("get(%q) = %v, %v", s, got, err)
		}
		return got[0].payload
	}
	p := []byte("p1")
	d.add("x", 1, false, p)
	p[0] = 'X' // the dictionary keeps a copy
	if got := payload("x"); string(got) != "p1" {
		t.Errorf("payload = %q, want p1", got)
	}
	d.add("x", 1, false, []byte("p2"))
	if got := payload("x"); string(got) != "p2" {
		t.Errorf("payload = %q, want p2", got)
	}
	d.add("x", 1, true, nil) // INCR without a payload clears it too
	if got := payload("x"); got != nil {
		t.Errorf("payload = %q, want none", got)
	}
	d.add("x", 1, false, []byte("p3"))
	d.add("x", 1, false, []byte{}) // an empty payload is none
	if got := payload("x"); got != nil {
		t.Errorf("payload = %q, want none", got)
	}
}

func TestSugDictDel(t *testing.T) {
	d := sugDictOf(t, "help", 1.0, "Hello", 1.0, "😀", 1.0)
	for _, tt := range []struct {
		s  string
		rc int
	}{
		{"HELP", 0}, {"help", 1}, {"help", 0}, {"hel", 0}, {"", 0}, {"nothere", 0},
		{"\uf600", 1}, // "😀" was stored as U+F600
	} {
		if rc := d.del(tt.s); rc != tt.rc {
			t.Errorf("del(%q) = %d, want %d", tt.s, rc, tt.rc)
		}
	}
	if got := d.entries(); !slices.Equal(got, []string{"Hello"}) {
		t.Errorf("entries = %q", got)
	}
	if d.len() != 1 {
		t.Errorf("len = %d, want 1", d.len())
	}

	// Deleting an inner node (a common prefix) answers 1 and decrements
	// the counter; the entries stay.
	d = sugDictOf(t, "xa", 1.0, "xb", 1.0)
	if rc := d.del("x"); rc != 1 {
		t.Errorf("del(inner node) = %d, want 1", rc)
	}
	if rc := d.del("x"); rc != 0 {
		t.Errorf("del(inner node) again = %d, want 0", rc)
	}
	if got := d.entries(); !slices.Equal(got, []string{"xa", "xb"}) {
		t.Errorf("entries = %q", got)
	}
	d.del("xa")
	d.del("xb")
	if d.len() != -1 {
		t.Errorf("len = %d, want -1 (as FT.SUGLEN answers)", d.len())
	}
	if rc := d.add("xa", 1, false, nil); rc != 1 || d.len() != 0 {
		t.Errorf("re-add: rc %d, len %d; want 1, 0 (FT.SUGADD answers 0)", rc, d.len())
	}
	expectGet(t, d, "x", false, 0, sugResult{"xa", 0.70710676908493042})
}

func TestSugDictInvalidQuery(t *testing.T) {
	d := sugDictOf(t, "a", 1.0)
	for _, tt := range []struct {
		prefix string
		ok     bool
	}{
		{strings.Repeat("a", 99), true},
		{strings.Repeat("a", 100), false},
		{strings.Repeat("é", 99), true},   // 198 bytes
		{strings.Repeat("é", 100), false}, // 200 bytes
		{strings.Repeat("東", 66) + "a", true},
		{strings.Repeat("東", 66) + "aa", false}, // 200 bytes, 68 runes
		{strings.Repeat("東", 67), false},
	} {
		_, err := d.get(tt.prefix, false, 0)
		if (err == nil) != tt.ok {
			t.Errorf("get(%d bytes): err = %v, want ok %v", len(tt.prefix), err, tt.ok)
		}
	}
}

// FuzzSugDict adds, deletes and looks up random strings and checks that
// nothing panics, that the entries are those added and not deleted, that
// the size counter only drifts by the deletions of strings that were not
// entries, and that lookups return stored strings, best first.
func FuzzSugDict(f *testing.F) {
	f.Add([]byte("\x00hello\x01\x00help\x02\x01hel\x00\x02hel"))
	f.Add([]byte("\x00xa\x00\x00xb\x00\x01x\x00\x02\x00"))
	f.Add([]byte("\x00Zürich\x03\x00東京\x01\x02zü\x00\x02😀\x00\x01\xf0\x9f\x98\x80"))
	f.Add([]byte("\x00\xff\xfe\x05\x02\x01\x80"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := newSugDict()
		model := map[string]string{} // runeKey -> encoded string
		drift := int64(0)
		key := func(s string) string { // the stored runes, as a map key
			var b []byte
			for _, r := range sugRunes(s) {
				b = binary.LittleEndian.AppendUint16(b, r)
			}
			return string(b)
		}
		for len(data) >= 2 {
			op, n := data[0]%4, int(data[1])%12
			data = data[2:]
			n = min(n, len(data))
			s := string(data[:n])
			data = data[n:]
			switch op {
			case 0, 1: // add, with INCR on 1
				score := float64(int(n)%5) - 1
				if len(data) > 0 {
					score += float64(data[0]) / 7
				}
				rc := d.add(s, score, op == 1, []byte(s))
				runes := sugRunes(s)
				valid := len(s) <= sugMaxStringBytes && len(runes) > 0 && len(runes) < sugMaxStringRunes && float32(score) != 0
				_, had := model[key(s)]
				if want := valid && !had; (rc == 1) != want {
					t.Fatalf("add(%q, %v) = %d, want new=%v", s, score, rc, want)
				}
				if valid {
					model[key(s)] = sugEncode(runes)
				}
			case 2: // del
				_, had := model[key(s)]
				rc := d.del(s)
				switch {
				case had && rc != 1:
					t.Fatalf("del(%q) of an entry = %d", s, rc)
				case had:
					delete(model, key(s))
				case rc == 1:
					drift++
				}
			case 3: // get
				max := n - 1
				for _, fuzzy := range []bool{false, true} {
					got, err := d.get(s, fuzzy, max)
					if err != nil {
						t.Fatalf("get(%q): %v", s, err)
					}
					limit := max
					if limit < 1 || limit > 10 {
						limit = 5
					}
					if len(got) > limit {
						t.Fatalf("get(%q, max %d) returned %d results", s, max, len(got))
					}
					stored := map[string]bool{}
					for _, v := range model {
						stored[v] = true
					}
					for i, m := range got {
						if !stored[m.str] {
							t.Fatalf("get(%q) returned %q, which is not stored", s, m.str)
						}
						if i > 0 && m.score > got[i-1].score {
							t.Fatalf("get(%q) is not best first: %v", s, got)
						}
					}
				}
			}
			var want []string
			for _, v := range model {
				want = append(want, v)
			}
			slices.Sort(want)
			if got := d.entries(); !slices.Equal(got, want) {
				t.Fatalf("entries = %q, want %q", got, want)
			}
			if d.len() != int64(len(model))-drift {
				t.Fatalf("len = %d, want %d entries - %d inner-node deletions", d.len(), len(model), drift)
			}
		}
	})
}
