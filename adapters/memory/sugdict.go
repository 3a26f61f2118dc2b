package memory

// This file emulates the suggestion dictionaries of the RediSearch module as
// Debian ships it (redis-redisearch 1.2.2, module "ft" version 10200): the
// value behind FT.SUGADD, FT.SUGGET, FT.SUGDEL and FT.SUGLEN. It depends on
// nothing else in the package; suggest.go stores a *sugDict under a key.
//
// The dictionary is a port of the module's compressed trie (trie.c), of its
// search (Trie_Search in trie_type.c, with the heap of util/heap.c), of its
// Levenshtein automaton (levenshtein.c) and of glibc's qsort (a stable merge
// sort), so that it answers exactly what a server with the module answers,
// quirks included. Every rule below was checked against the real module on
// Redis 7.0.15:
//
//   - Strings are decoded like the module's libnu does: by lead byte, without
//     validating continuation bytes, stopping at the first NUL code point.
//     Each code point is then truncated to 16 bits (the module's runes are
//     uint16): "😀" (U+1F600) is stored, returned and deleted as U+F600, and
//     returned strings are re-encoded from the 16-bit runes (surrogate values
//     as 3-byte sequences, like libnu).
//   - FT.SUGADD ignores a string of more than 510 bytes or of 255 runes or
//     more, an empty string and a score that is 0 once converted to float32.
//     Scores are float32; INCR adds in float32. The payload is replaced on
//     every add: none (or an empty one) clears it. The reply is the trie's
//     size counter.
//   - FT.SUGDEL compares the 16-bit runes exactly. It also "deletes" a
//     string that is only an inner node of the trie (a common prefix of two
//     entries, such as "x" for "xa" and "xb"): it answers 1 and decrements
//     the size counter while both entries stay, so FT.SUGLEN can drift below
//     the number of entries, even below 0.
//   - FT.SUGGET rejects a prefix of 200 bytes or more, or of 100 runes or
//     more, with "Invalid query" (only when the key exists).
//   - Matching folds both sides with the module's case folding (the first
//     code point of Unicode full case folding, as in libnu's Unicode 10
//     tables; see sugFoldRanges): the prefix is folded as 32-bit code points
//     then truncated, the stored runes are folded after truncation.
//   - FUZZY is the module's sparse Levenshtein automaton with distance 1
//     applied to the prefix, with its quirks: an empty prefix matches
//     everything at distance 1, the distance reported is the smallest one
//     seen along the matched path, and a rune U+0001 in the prefix matches
//     any rune (the automaton's default edge is built with rune 1).
//   - The ranking score is computed in float32 like the module: the stored
//     score, or 2147483648 when the entry has as many runes as the folded
//     prefix and memcmp(foldedPrefix, storedRunes, runeCount) is 0 (the
//     module compares runeCount bytes of uint16 runes: about the first half
//     of the runes, case-sensitively against the folded prefix); with FUZZY
//     times exp(-2*dist); then divided by sqrt(1+|entryRunes-prefixBytes|).
//   - Results are the N best by ranking score, N being MAX when it is in
//     1..10 and 5 otherwise, collected in a bounded heap while the trie is
//     walked children by best stored score first. Branches whose best
//     stored score is below the N-th best ranking score found so far are
//     skipped, so an exact match (or a fuzzy one) with a low stored score can
//     be missing; among equal ranking scores the trie layout decides.
//
// Known difference: when a truncated UTF-8 sequence ends a string, the
// module reads past its buffer (the bytes there are undefined); the
// emulation reads zeros.

import (
	"errors"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/rediscache/rediscache/domain"
)

// Limits of the RediSearch 1.2.2 suggestion trie.
const (
	// sugMaxStringBytes is the longest string FT.SUGADD stores, in bytes.
	sugMaxStringBytes = 510
	// sugMaxStringRunes bounds the runes of a stored string: it must have
	// fewer.
	sugMaxStringRunes = 255
	// sugMaxPrefixBytes bounds the bytes of an FT.SUGGET prefix: it must have
	// fewer.
	sugMaxPrefixBytes = 200
	// sugMaxPrefixRunes bounds the runes of an FT.SUGGET prefix: it must have
	// fewer.
	sugMaxPrefixRunes = 100
	// sugMaxDist is the Levenshtein distance of FUZZY.
	sugMaxDist = 1
	// sugExactScore is (float)INT_MAX, the score of an exact match.
	sugExactScore float32 = 2147483648
)

// errInvalidQuery is the error of a prefix that is too long (the module
// replies "Invalid query").
var errInvalidQuery = errors.New("invalid query: a prefix must have fewer than 200 bytes and 100 runes")

// sugMatch is one result of sugDict.get.
type sugMatch struct {
	str     string  // the stored runes, encoded
	score   float32 // the ranking score
	payload []byte  // shared with the trie: copy before returning it
}

// sugDict is a suggestion dictionary with the semantics of RediSearch
// 1.2.2 (see the top of this file). The zero value is not usable; use
// newSugDict. It is not safe for concurrent use, and get modifies it (it
// sorts children as the module does).
type sugDict struct {
	root *trieNode
	size int64 // the module's counter (size_t, replied as a signed integer)
}

// newSugDict returns an empty dictionary.
func newSugDict() *sugDict {
	return &sugDict{root: &trieNode{}}
}

// len returns the size counter (FT.SUGLEN); see FT.SUGDEL at the top of
// this file for why it may differ from the number of entries.
func (d *sugDict) len() int64 { return d.size }

// add stores s with score like FT.SUGADD (INCR when incr, PAYLOAD when
// payload is not empty) and returns 1 when it counted as a new entry.
// Strings the module ignores (empty, too long, or with a score that is 0 in
// float32) leave the dictionary unchanged.
func (d *sugDict) add(s string, score float64, incr bool, payload []byte) int {
	if len(s) > sugMaxStringBytes {
		return 0
	}
	runes := sugRunes(s)
	if len(runes) == 0 || len(runes) >= sugMaxStringRunes {
		return 0
	}
	rc := trieAdd(&d.root, runes, payload, float32(score), incr)
	d.size += int64(rc)
	return rc
}

// del removes s like FT.SUGDEL and returns 1 when the module counts it as
// deleted.
func (d *sugDict) del(s string) int {
	runes := sugRunes(s)
	if len(runes) > sugMaxStringRunes {
		return 0
	}
	rc := trieDelete(d.root, runes)
	d.size -= int64(rc)
	return rc
}

// entries returns the stored strings (terminal nodes), for tests.
func (d *sugDict) entries() []string {
	var out []string
	var walk func(n *trieNode, prefix []uint16)
	walk = func(n *trieNode, prefix []uint16) {
		prefix = append(slices.Clip(prefix), n.str...)
		if n.flags&trieTerminal != 0 && n.flags&trieDeleted == 0 {
			out = append(out, sugEncode(prefix))
		}
		for _, ch := range n.children {
			walk(ch, prefix)
		}
	}
	walk(d.root, nil)
	slices.Sort(out)
	return out
}

// get returns the best suggestions for prefix like FT.SUGGET: at most max
// (1..domain.MaxSugMax, anything else meaning domain.ModuleSugMax), best
// ranking score first. It fails with errInvalidQuery when prefix has 200
// bytes or 100 runes or more.
func (d *sugDict) get(prefix string, fuzzy bool, max int) ([]sugMatch, error) {
	if len(prefix) >= sugMaxPrefixBytes {
		return nil, errInvalidQuery
	}
	cps := sugDecode(prefix)
	if len(cps) >= sugMaxPrefixRunes {
		return nil, errInvalidQuery
	}
	q := make([]uint16, len(cps))
	for i, c := range cps {
		q[i] = sugFoldQuery(c)
	}
	num := max
	if num < 1 || num > domain.MaxSugMax {
		num = domain.ModuleSugMax
	}
	maxDist := int32(0)
	if fuzzy {
		maxDist = sugMaxDist
	}
	it := newTrieIter(d.root, newSugFilter(q, maxDist))
	pq := sugHeap{size: num}
	dist := maxDist + 1
	for {
		runes, score, payload, ok := it.next(&dist)
		if !ok {
			break
		}
		// Trie_Search: the exact-match boost, the fuzzy penalty and the
		// length normalisation, each rounded to float.
		slen := len(runes)
		if slen > 0 && slen == len(q) && sugMemcmpRunes(q, runes) {
			score = sugExactScore
		}
		if fuzzy {
			score = float32(float64(score) * math.Exp(float64(-(2 * dist))))
		}
		diff := slen - len(prefix)
		if diff < 0 {
			diff = -diff
		}
		score = float32(float64(score) / math.Sqrt(float64(1+diff)))

		if pq.count() < pq.size {
			pq.offer(&sugMatch{str: sugEncode(runes), score: score, payload: payload})
			if pq.count() == pq.size {
				it.minScore = pq.peek().score
			}
		} else if score >= it.minScore {
			pq.poll()
			pq.offer(&sugMatch{str: sugEncode(runes), score: score, payload: payload})
			if qe := pq.peek(); qe.score > it.minScore {
				it.minScore = qe.score
			}
		}
	}
	n := min(pq.count(), num)
	out := make([]sugMatch, n)
	for i := range n {
		out[n-i-1] = *pq.poll()
	}
	return out, nil
}

// sugMemcmpRunes is the module's exact-match test, memcmp(q, s, len(s)) == 0
// on little-endian uint16 runes: it compares len(s) bytes, i.e. the first
// len(s)/2 runes and, for an odd length, the low byte of the next one.
func sugMemcmpRunes(q, s []uint16) bool {
	n := len(s)
	for i := 0; i < n/2; i++ {
		if q[i] != s[i] {
			return false
		}
	}
	return n%2 == 0 || byte(q[n/2]) == byte(s[n/2])
}

// Flags of a trie node.
const (
	trieTerminal uint8 = 1 << iota // the node ends an entry
	trieDeleted                    // the node was deleted (and is not terminal)
	trieSorted                     // the children are sorted
)

// trieNode is a node of the module's compressed trie (TrieNode).
type trieNode struct {
	str      []uint16 // the runes of this node (the root has none)
	score    float32
	maxChild float32 // maxChildScore, maintained as loosely as the module does
	flags    uint8
	payload  []byte
	children []*trieNode
}

// newTrieNode is __newTrieNode: maxChild starts at 0.
func newTrieNode(str []uint16, payload []byte, score float32, terminal bool) *trieNode {
	n := &trieNode{str: slices.Clone(str), score: score}
	if terminal {
		n.flags = trieTerminal
	}
	if len(payload) > 0 {
		n.payload = slices.Clone(payload)
	}
	return n
}

// cmax is C's MAX macro: b unless a > b.
func cmax(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}

// setPayload replaces the payload: none when p is empty.
func (n *trieNode) setPayload(p []byte) {
	n.payload = nil
	if len(p) > 0 {
		n.payload = slices.Clone(p)
	}
}

// addChild is __trie_AddChild: a new terminal leaf at the end.
func (n *trieNode) addChild(str []uint16, payload []byte, score float32) {
	n.children = append(n.children, newTrieNode(str, payload, score, true))
	n.flags &^= trieSorted
}

// split is __trie_SplitNode: n keeps its first offset runes and gets one
// child holding the rest, its score, flags, payload and children.
func (n *trieNode) split(offset int) {
	child := &trieNode{
		str:      slices.Clone(n.str[offset:]),
		score:    n.score,
		maxChild: n.maxChild,
		flags:    n.flags,
		payload:  n.payload,
		children: n.children,
	}
	n.str = slices.Clone(n.str[:offset])
	n.children = []*trieNode{child}
	n.score = 0
	n.flags &^= trieSorted | trieTerminal | trieDeleted
	n.maxChild = cmax(n.maxChild, child.score)
	n.payload = nil
}

// trieAdd is TrieNode_Add: it returns 1 when str counts as a new entry.
func trieAdd(np **trieNode, str []uint16, payload []byte, score float32, incr bool) int {
	if score == 0 || len(str) == 0 {
		return 0
	}
	n := *np
	offset := 0
	for offset < len(str) && offset < len(n.str) && str[offset] == n.str[offset] {
		offset++
	}
	if offset < len(n.str) {
		n.split(offset)
		if offset == len(str) {
			n.score = score
			n.flags |= trieTerminal
			n.setPayload(payload)
		} else {
			n.addChild(str[offset:], payload, score)
			n.maxChild = cmax(n.maxChild, score)
		}
		return 1
	}
	n.maxChild = cmax(n.maxChild, score)
	if offset == len(str) {
		wasEntry := n.flags&trieTerminal != 0 && n.flags&trieDeleted == 0
		if incr {
			n.score += score
		} else {
			n.score = score
		}
		n.setPayload(payload)
		n.flags |= trieTerminal
		n.flags &^= trieDeleted
		if wasEntry {
			return 0
		}
		return 1
	}
	for i, ch := range n.children {
		if str[offset] == ch.str[0] {
			return trieAdd(&n.children[i], str[offset:], payload, score, incr)
		}
	}
	n.addChild(str[offset:], payload, score)
	return 1
}

// trieDelete is TrieNode_Delete: it marks the node spelling str deleted
// (whether it was an entry or not) and returns 1 unless it already was,
// then tidies the nodes on the path.
func trieDelete(root *trieNode, str []uint16) int {
	var stack []*trieNode
	rc := 0
	n := root
	offset := 0
walk:
	for n != nil && offset < len(str) {
		stack = append(stack, n)
		local := 0
		for offset < len(str) && local < len(n.str) && str[offset] == n.str[local] {
			offset++
			local++
		}
		switch {
		case offset == len(str):
			if local == len(n.str) {
				if n.flags&trieDeleted == 0 {
					n.flags |= trieDeleted
					n.flags &^= trieTerminal
					n.score = 0
					rc = 1
				}
				break walk
			}
		case local == len(n.str):
			var next *trieNode
			for _, ch := range n.children {
				if str[offset] == ch.str[0] {
					next = ch
					break
				}
			}
			n = next
		default:
			break walk
		}
	}
	for i := len(stack) - 1; i >= 0; i-- {
		stack[i].optimizeChildren()
	}
	return rc
}

// optimizeChildren is __trieNode_optimizeChildren, with its quirks: at
// most one deleted leaf is removed (the children after it are then neither
// merged nor looked at), maxChild becomes the node's own score or the
// largest maxChild of its children (not their scores), and the children are
// sorted if they were not.
func (n *trieNode) optimizeChildren() {
	nodes := n.children
	num := len(nodes)
	n.maxChild = n.score
	for i := 0; i < num; i++ {
		if len(nodes[i].children) == 0 && nodes[i].flags&trieDeleted != 0 {
			nodes[i] = nil
			for i < num-1 {
				nodes[i] = nodes[i+1]
				n.maxChild = cmax(n.maxChild, nodes[i].maxChild)
				i++
			}
			num--
			nodes[num] = nil
		} else {
			if len(nodes[i].children) == 1 {
				nodes[i] = nodes[i].mergeWithSingleChild()
			}
			n.maxChild = cmax(n.maxChild, nodes[i].maxChild)
		}
	}
	n.children = nodes[:num]
	n.sortChildren()
}

// mergeWithSingleChild is __trieNode_MergeWithSingleChild: a non-terminal
// node with one child becomes that child, with the runes of both.
func (n *trieNode) mergeWithSingleChild() *trieNode {
	if n.flags&trieTerminal != 0 || len(n.children) != 1 {
		return n
	}
	ch := n.children[0]
	str := make([]uint16, 0, len(n.str)+len(ch.str))
	str = append(append(str, n.str...), ch.str...)
	return &trieNode{
		str:      str,
		score:    ch.score,
		maxChild: ch.maxChild,
		flags:    ch.flags,
		payload:  ch.payload,
		children: ch.children,
	}
}

// sortChildren is __trieNode_sortChildren: once, by maxChild descending,
// with glibc's qsort (a stable merge sort for arrays this small).
func (n *trieNode) sortChildren() {
	if n.flags&trieSorted == 0 && len(n.children) > 1 {
		msortNodes(n.children, make([]*trieNode, len(n.children)))
	}
	n.flags |= trieSorted
}

// cmpNodes is __trieNode_Cmp.
func cmpNodes(a, b *trieNode) int {
	switch {
	case a.maxChild < b.maxChild:
		return 1
	case a.maxChild > b.maxChild:
		return -1
	}
	return 0
}

// msortNodes is glibc's msort_with_tmp for pointers: top-down, the left
// half first on ties.
func msortNodes(b, tmp []*trieNode) {
	n := len(b)
	if n <= 1 {
		return
	}
	n1 := n / 2
	msortNodes(b[:n1], tmp)
	msortNodes(b[n1:], tmp)
	i, j, k := 0, n1, 0
	for i < n1 && j < n {
		if cmpNodes(b[i], b[j]) <= 0 {
			tmp[k] = b[i]
			i++
		} else {
			tmp[k] = b[j]
			j++
		}
		k++
	}
	for ; i < n1; i++ {
		tmp[k] = b[i]
		k++
	}
	copy(b[:k], tmp[:k])
}

// States of a trie iterator frame.
const (
	iterSelf     = iota // feeding the node's runes to the filter
	iterChildren        // pushing the children
	iterMatch           // stopped on a match; popped on the next step
)

// Results of trieIter.step.
const (
	stepStop = iota
	stepCont
	stepMatch
)

// trieFrame is one node on the iterator's stack (stackNode).
type trieFrame struct {
	n            *trieNode
	childOffset  int
	stringOffset int
	state        int
}

// trieIter is the module's TrieIterator driven by a DFA filter.
type trieIter struct {
	stack    []trieFrame
	buf      []uint16
	minScore float32
	filter   *sugFilter
}

// newTrieIter is TrieNode_Iterate: minScore starts at 0.
func newTrieIter(root *trieNode, f *sugFilter) *trieIter {
	it := &trieIter{filter: f}
	it.push(root)
	return it
}

func (it *trieIter) push(n *trieNode) { it.stack = append(it.stack, trieFrame{n: n}) }

// pop is __ti_Pop: the runes the frame consumed leave the buffer and the
// filter's stack.
func (it *trieIter) pop() {
	cur := it.stack[len(it.stack)-1]
	it.filter.pop(cur.stringOffset)
	it.buf = it.buf[:len(it.buf)-cur.stringOffset]
	it.stack = it.stack[:len(it.stack)-1]
}

// step is __ti_step.
func (it *trieIter) step(dist *int32) int {
	if len(it.stack) == 0 {
		return stepStop
	}
	cur := &it.stack[len(it.stack)-1]
	switch cur.state {
	case iterMatch:
		it.pop()
		return stepCont
	case iterSelf:
		if cur.stringOffset < len(cur.n.str) {
			b := cur.n.str[cur.stringOffset]
			cont, matched := it.filter.feed(b, dist)
			if !cont {
				if matched {
					cur.state = iterMatch
					return stepMatch
				}
				it.pop()
				return stepCont
			}
			it.buf = append(it.buf, b)
			cur.stringOffset++
			if matched {
				return stepMatch
			}
			return stepCont
		}
		cur.state = iterChildren
		fallthrough
	default:
		cur.n.sortChildren()
		if cur.childOffset < len(cur.n.children) {
			ch := cur.n.children[cur.childOffset]
			cur.childOffset++
			if ch.maxChild >= it.minScore || ch.score >= it.minScore {
				it.push(ch)
			}
		} else {
			it.pop()
		}
	}
	return stepCont
}

// next is TrieIterator_Next: the runes, score and payload of the next
// entry the filter matches. The runes alias the iterator's buffer.
func (it *trieIter) next(dist *int32) ([]uint16, float32, []byte, bool) {
	for {
		switch it.step(dist) {
		case stepStop:
			return nil, 0, nil, false
		case stepMatch:
			sn := &it.stack[len(it.stack)-1]
			if sn.n.flags&trieTerminal != 0 && len(sn.n.str) == sn.stringOffset && sn.n.flags&trieDeleted == 0 {
				return it.buf, sn.n.score, sn.n.payload, true
			}
		}
	}
}

// sugFilter is the module's DFAFilter in prefix mode (FilterFunc), over
// folded runes: a stack of automaton states, nil-like (dead) once the
// prefix has matched, and of the smallest distance seen on the path.
type sugFilter struct {
	a      sugAutomaton
	states []sugFilterState
	dists  []int32
}

// sugFilterState is one DFA node: a state, the start node (whose distance
// is 0), or the dead node pushed after a match.
type sugFilterState struct {
	v     sugSparse
	start bool
	dead  bool
}

func newSugFilter(q []uint16, maxDist int32) *sugFilter {
	f := &sugFilter{a: sugAutomaton{s: q, max: maxDist}}
	f.states = append(f.states, sugFilterState{v: f.a.start(), start: true})
	f.dists = append(f.dists, maxDist+1)
	return f
}

// distance is a DFA node's distance: the value of its last cell, 0 for the
// start node.
func (s *sugFilterState) distance() int32 {
	if s.start {
		return 0
	}
	return s.v.e[s.v.n-1].val
}

func (f *sugFilter) push(s sugFilterState, dist int32) {
	f.states = append(f.states, s)
	f.dists = append(f.dists, dist)
}

// pop is StackPop.
func (f *sugFilter) pop(n int) {
	f.states = f.states[:len(f.states)-n]
	f.dists = f.dists[:len(f.dists)-n]
}

// feed is FilterFunc with runeFold for the stored rune b: it reports
// whether to continue below b and whether b completes a match, and sets
// *dist on a match.
func (f *sugFilter) feed(b uint16, dist *int32) (cont, matched bool) {
	dn := &f.states[len(f.states)-1]
	minDist := f.dists[len(f.dists)-1]
	if dn.dead {
		f.push(sugFilterState{dead: true}, minDist)
		return true, true
	}
	matched = f.a.isMatch(&dn.v)
	if matched {
		*dist = min(dn.distance(), minDist)
	}
	if nv, ok := f.a.next(&dn.v, sugFold16(b)); ok {
		next := sugFilterState{v: nv}
		d := next.distance()
		if f.a.isMatch(&nv) {
			matched = true
			*dist = min(d, minDist)
		}
		f.push(next, min(d, minDist))
		return true, matched
	}
	if matched {
		f.push(sugFilterState{dead: true}, minDist)
		return true, true
	}
	return false, false
}

// sugHeap is the bounded heap of util/heap.c with Trie_Search's cmpEntries:
// its top is the lowest ranking score.
type sugHeap struct {
	size int
	a    []*sugMatch
}

// cmpMatches is cmpEntries.
func cmpMatches(x, y *sugMatch) int {
	switch {
	case x.score < y.score:
		return 1
	case x.score > y.score:
		return -1
	}
	return 0
}

func (h *sugHeap) count() int        { return len(h.a) }
func (h *sugHeap) peek() *sugMatch   { return h.a[0] }
func (h *sugHeap) swap(i, j int)     { h.a[i], h.a[j] = h.a[j], h.a[i] }
func (h *sugHeap) offer(m *sugMatch) { h.a = append(h.a, m); h.pushUp(len(h.a) - 1) }

// pushUp is __pushup: an item moves up past parents it does not beat.
func (h *sugHeap) pushUp(idx int) {
	for idx != 0 {
		parent := (idx - 1) / 2
		if cmpMatches(h.a[idx], h.a[parent]) < 0 {
			return
		}
		h.swap(idx, parent)
		idx = parent
	}
}

// pushDown is __pushdown.
func (h *sugHeap) pushDown(idx int) {
	for {
		l, r := 2*idx+1, 2*idx+2
		var child int
		switch {
		case r >= len(h.a):
			if l >= len(h.a) {
				return
			}
			child = l
		case cmpMatches(h.a[l], h.a[r]) < 0:
			child = r
		default:
			child = l
		}
		if cmpMatches(h.a[idx], h.a[child]) >= 0 {
			return
		}
		h.swap(idx, child)
		idx = child
	}
}

// poll is heap_poll: it removes and returns the top.
func (h *sugHeap) poll() *sugMatch {
	top := h.a[0]
	last := len(h.a) - 1
	h.a[0] = h.a[last]
	h.a[last] = nil
	h.a = h.a[:last]
	if len(h.a) > 1 {
		h.pushDown(0)
	}
	return top
}

// sugDecode decodes s like libnu's nu_utf8_read loop: the lead byte alone
// sets the length of a sequence (continuation bytes are masked, not
// checked; bytes past the end read as 0) and decoding stops at the first
// code point 0.
func sugDecode(s string) []uint32 {
	at := func(i int) uint32 {
		if i < len(s) {
			return uint32(s[i])
		}
		return 0
	}
	var out []uint32
	for i := 0; i < len(s); {
		c := uint32(s[i])
		var cp uint32
		switch {
		case c < 0x80:
			cp = c
			i++
		case c < 0xE0:
			cp = (c&0x1F)<<6 | at(i+1)&0x3F
			i += 2
		case c < 0xF0:
			cp = (c&0x0F)<<12 | (at(i+1)&0x3F)<<6 | at(i+2)&0x3F
			i += 3
		default:
			cp = (c&0x07)<<18 | (at(i+1)&0x3F)<<12 | (at(i+2)&0x3F)<<6 | at(i+3)&0x3F
			i += 4
		}
		if cp == 0 {
			break
		}
		out = append(out, cp)
	}
	return out
}

// sugRunes decodes s into the module's 16-bit runes (strToRunes).
func sugRunes(s string) []uint16 {
	cps := sugDecode(s)
	runes := make([]uint16, len(cps))
	for i, c := range cps {
		runes[i] = uint16(c)
	}
	return runes
}

// sugEncode encodes 16-bit runes like libnu's nu_utf8_write (surrogate
// values included), stopping at a rune 0.
func sugEncode(runes []uint16) string {
	var b strings.Builder
	b.Grow(3 * len(runes))
	for _, r := range runes {
		switch {
		case r == 0:
			return b.String()
		case r < 0x80:
			b.WriteByte(byte(r))
		case r < 0x800:
			b.WriteByte(0xC0 | byte(r>>6))
			b.WriteByte(0x80 | byte(r&0x3F))
		default:
			b.WriteByte(0xE0 | byte(r>>12))
			b.WriteByte(0x80 | byte(r>>6&0x3F))
			b.WriteByte(0x80 | byte(r&0x3F))
		}
	}
	return b.String()
}

// sugFoldQuery folds a code point of the prefix (strToFoldedRunes): fold
// the 32-bit code point, then truncate it to a 16-bit rune.
func sugFoldQuery(c uint32) uint16 {
	if c < 0x10000 {
		return sugFold16(uint16(c))
	}
	for _, r := range sugFoldAstral {
		if c >= r.lo && c <= r.hi {
			return uint16(c + r.delta)
		}
	}
	return uint16(c)
}

// sugFold16 folds a 16-bit rune (runeFold): the first code point of its
// full case folding in libnu's tables.
func sugFold16(r uint16) uint16 {
	sugFoldOnce.Do(buildSugFold)
	return sugFoldTable[r]
}

var (
	sugFoldOnce  sync.Once
	sugFoldTable *[1 << 16]uint16
)

// buildSugFold expands sugFoldRanges into sugFoldTable.
func buildSugFold() {
	t := new([1 << 16]uint16)
	for i := range t {
		t[i] = uint16(i)
	}
	for _, r := range sugFoldRanges {
		for c := int(r.lo); c <= int(r.hi); c += int(r.stride) {
			t[c] = uint16(c + int(r.delta))
		}
	}
	sugFoldTable = t
}

// sugFoldRange maps every stride-th code point from lo to hi to itself plus
// delta.
type sugFoldRange struct {
	lo, hi uint16
	stride uint8
	delta  int32
}

// sugFoldRanges is the case folding of the module for the BMP: every code
// point not listed folds to itself. It was measured on redis-redisearch
// 1.2.2, one query per code point (Unicode 10 full case folding, first code
// point: "ß" folds to "s", "ﬁ" to "f", Cherokee small letters to capitals,
// Georgian Mtavruli and later additions not at all).
var sugFoldRanges = [...]sugFoldRange{
	{0x0041, 0x005A, 1, 32}, {0x00B5, 0x00B5, 1, 775}, {0x00C0, 0x00D6, 1, 32},
	{0x00D8, 0x00DE, 1, 32}, {0x00DF, 0x00DF, 1, -108}, {0x0100, 0x012E, 2, 1},
	{0x0130, 0x0130, 1, -199}, {0x0132, 0x0136, 2, 1}, {0x0139, 0x0147, 2, 1},
	{0x0149, 0x0149, 1, 371}, {0x014A, 0x0176, 2, 1}, {0x0178, 0x0178, 1, -121},
	{0x0179, 0x017D, 2, 1}, {0x017F, 0x017F, 1, -268}, {0x0181, 0x0181, 1, 210},
	{0x0182, 0x0184, 2, 1}, {0x0186, 0x0186, 1, 206}, {0x0187, 0x0187, 1, 1},
	{0x0189, 0x018A, 1, 205}, {0x018B, 0x018B, 1, 1}, {0x018E, 0x018E, 1, 79},
	{0x018F, 0x018F, 1, 202}, {0x0190, 0x0190, 1, 203}, {0x0191, 0x0191, 1, 1},
	{0x0193, 0x0193, 1, 205}, {0x0194, 0x0194, 1, 207}, {0x0196, 0x0196, 1, 211},
	{0x0197, 0x0197, 1, 209}, {0x0198, 0x0198, 1, 1}, {0x019C, 0x019C, 1, 211},
	{0x019D, 0x019D, 1, 213}, {0x019F, 0x019F, 1, 214}, {0x01A0, 0x01A4, 2, 1},
	{0x01A6, 0x01A6, 1, 218}, {0x01A7, 0x01A7, 1, 1}, {0x01A9, 0x01A9, 1, 218},
	{0x01AC, 0x01AC, 1, 1}, {0x01AE, 0x01AE, 1, 218}, {0x01AF, 0x01AF, 1, 1},
	{0x01B1, 0x01B2, 1, 217}, {0x01B3, 0x01B5, 2, 1}, {0x01B7, 0x01B7, 1, 219},
	{0x01B8, 0x01B8, 1, 1}, {0x01BC, 0x01BC, 1, 1}, {0x01C4, 0x01C4, 1, 2},
	{0x01C5, 0x01C5, 1, 1}, {0x01C7, 0x01C7, 1, 2}, {0x01C8, 0x01C8, 1, 1},
	{0x01CA, 0x01CA, 1, 2}, {0x01CB, 0x01DB, 2, 1}, {0x01DE, 0x01EE, 2, 1},
	{0x01F0, 0x01F0, 1, -390}, {0x01F1, 0x01F1, 1, 2}, {0x01F2, 0x01F4, 2, 1},
	{0x01F6, 0x01F6, 1, -97}, {0x01F7, 0x01F7, 1, -56}, {0x01F8, 0x021E, 2, 1},
	{0x0220, 0x0220, 1, -130}, {0x0222, 0x0232, 2, 1}, {0x023A, 0x023A, 1, 10795},
	{0x023B, 0x023B, 1, 1}, {0x023D, 0x023D, 1, -163}, {0x023E, 0x023E, 1, 10792},
	{0x0241, 0x0241, 1, 1}, {0x0243, 0x0243, 1, -195}, {0x0244, 0x0244, 1, 69},
	{0x0245, 0x0245, 1, 71}, {0x0246, 0x024E, 2, 1}, {0x0345, 0x0345, 1, 116},
	{0x0370, 0x0372, 2, 1}, {0x0376, 0x0376, 1, 1}, {0x037F, 0x037F, 1, 116},
	{0x0386, 0x0386, 1, 38}, {0x0388, 0x038A, 1, 37}, {0x038C, 0x038C, 1, 64},
	{0x038E, 0x038F, 1, 63}, {0x0390, 0x0390, 1, 41}, {0x0391, 0x03A1, 1, 32},
	{0x03A3, 0x03AB, 1, 32}, {0x03B0, 0x03B0, 1, 21}, {0x03C2, 0x03C2, 1, 1},
	{0x03CF, 0x03CF, 1, 8}, {0x03D0, 0x03D0, 1, -30}, {0x03D1, 0x03D1, 1, -25},
	{0x03D5, 0x03D5, 1, -15}, {0x03D6, 0x03D6, 1, -22}, {0x03D8, 0x03EE, 2, 1},
	{0x03F0, 0x03F0, 1, -54}, {0x03F1, 0x03F1, 1, -48}, {0x03F4, 0x03F4, 1, -60},
	{0x03F5, 0x03F5, 1, -64}, {0x03F7, 0x03F7, 1, 1}, {0x03F9, 0x03F9, 1, -7},
	{0x03FA, 0x03FA, 1, 1}, {0x03FD, 0x03FF, 1, -130}, {0x0400, 0x040F, 1, 80},
	{0x0410, 0x042F, 1, 32}, {0x0460, 0x0480, 2, 1}, {0x048A, 0x04BE, 2, 1},
	{0x04C0, 0x04C0, 1, 15}, {0x04C1, 0x04CD, 2, 1}, {0x04D0, 0x052E, 2, 1},
	{0x0531, 0x0556, 1, 48}, {0x0587, 0x0587, 1, -34}, {0x10A0, 0x10C5, 1, 7264},
	{0x10C7, 0x10C7, 1, 7264}, {0x10CD, 0x10CD, 1, 7264}, {0x13F8, 0x13FD, 1, -8},
	{0x1C80, 0x1C80, 1, -6222}, {0x1C81, 0x1C81, 1, -6221}, {0x1C82, 0x1C82, 1, -6212},
	{0x1C83, 0x1C84, 1, -6210}, {0x1C85, 0x1C85, 1, -6211}, {0x1C86, 0x1C86, 1, -6204},
	{0x1C87, 0x1C87, 1, -6180}, {0x1C88, 0x1C88, 1, 35267}, {0x1E00, 0x1E94, 2, 1},
	{0x1E96, 0x1E96, 1, -7726}, {0x1E97, 0x1E97, 1, -7715}, {0x1E98, 0x1E98, 1, -7713},
	{0x1E99, 0x1E99, 1, -7712}, {0x1E9A, 0x1E9A, 1, -7737}, {0x1E9B, 0x1E9B, 1, -58},
	{0x1E9E, 0x1E9E, 1, -7723}, {0x1EA0, 0x1EFE, 2, 1}, {0x1F08, 0x1F0F, 1, -8},
	{0x1F18, 0x1F1D, 1, -8}, {0x1F28, 0x1F2F, 1, -8}, {0x1F38, 0x1F3F, 1, -8},
	{0x1F48, 0x1F4D, 1, -8}, {0x1F50, 0x1F50, 1, -7051}, {0x1F52, 0x1F52, 1, -7053},
	{0x1F54, 0x1F54, 1, -7055}, {0x1F56, 0x1F56, 1, -7057}, {0x1F59, 0x1F5F, 2, -8},
	{0x1F68, 0x1F6F, 1, -8}, {0x1F80, 0x1F87, 1, -128}, {0x1F88, 0x1F8F, 1, -136},
	{0x1F90, 0x1F97, 1, -112}, {0x1F98, 0x1F9F, 1, -120}, {0x1FA0, 0x1FA7, 1, -64},
	{0x1FA8, 0x1FAF, 1, -72}, {0x1FB2, 0x1FB2, 1, -66}, {0x1FB3, 0x1FB3, 1, -7170},
	{0x1FB4, 0x1FB4, 1, -7176}, {0x1FB6, 0x1FB6, 1, -7173}, {0x1FB7, 0x1FB7, 1, -7174},
	{0x1FB8, 0x1FB9, 1, -8}, {0x1FBA, 0x1FBB, 1, -74}, {0x1FBC, 0x1FBC, 1, -7179},
	{0x1FBE, 0x1FBE, 1, -7173}, {0x1FC2, 0x1FC2, 1, -78}, {0x1FC3, 0x1FC3, 1, -7180},
	{0x1FC4, 0x1FC4, 1, -7190}, {0x1FC6, 0x1FC6, 1, -7183}, {0x1FC7, 0x1FC7, 1, -7184},
	{0x1FC8, 0x1FCB, 1, -86}, {0x1FCC, 0x1FCC, 1, -7189}, {0x1FD2, 0x1FD2, 1, -7193},
	{0x1FD3, 0x1FD3, 1, -7194}, {0x1FD6, 0x1FD6, 1, -7197}, {0x1FD7, 0x1FD7, 1, -7198},
	{0x1FD8, 0x1FD9, 1, -8}, {0x1FDA, 0x1FDB, 1, -100}, {0x1FE2, 0x1FE2, 1, -7197},
	{0x1FE3, 0x1FE3, 1, -7198}, {0x1FE4, 0x1FE4, 1, -7203}, {0x1FE6, 0x1FE6, 1, -7201},
	{0x1FE7, 0x1FE7, 1, -7202}, {0x1FE8, 0x1FE9, 1, -8}, {0x1FEA, 0x1FEB, 1, -112},
	{0x1FEC, 0x1FEC, 1, -7}, {0x1FF2, 0x1FF2, 1, -118}, {0x1FF3, 0x1FF3, 1, -7210},
	{0x1FF4, 0x1FF4, 1, -7206}, {0x1FF6, 0x1FF6, 1, -7213}, {0x1FF7, 0x1FF7, 1, -7214},
	{0x1FF8, 0x1FF9, 1, -128}, {0x1FFA, 0x1FFB, 1, -126}, {0x1FFC, 0x1FFC, 1, -7219},
	{0x2126, 0x2126, 1, -7517}, {0x212A, 0x212A, 1, -8383}, {0x212B, 0x212B, 1, -8262},
	{0x2132, 0x2132, 1, 28}, {0x2160, 0x216F, 1, 16}, {0x2183, 0x2183, 1, 1},
	{0x24B6, 0x24CF, 1, 26}, {0x2C00, 0x2C2E, 1, 48}, {0x2C60, 0x2C60, 1, 1},
	{0x2C62, 0x2C62, 1, -10743}, {0x2C63, 0x2C63, 1, -3814}, {0x2C64, 0x2C64, 1, -10727},
	{0x2C67, 0x2C6B, 2, 1}, {0x2C6D, 0x2C6D, 1, -10780}, {0x2C6E, 0x2C6E, 1, -10749},
	{0x2C6F, 0x2C6F, 1, -10783}, {0x2C70, 0x2C70, 1, -10782}, {0x2C72, 0x2C72, 1, 1},
	{0x2C75, 0x2C75, 1, 1}, {0x2C7E, 0x2C7F, 1, -10815}, {0x2C80, 0x2CE2, 2, 1},
	{0x2CEB, 0x2CED, 2, 1}, {0x2CF2, 0x2CF2, 1, 1}, {0xA640, 0xA66C, 2, 1},
	{0xA680, 0xA69A, 2, 1}, {0xA722, 0xA72E, 2, 1}, {0xA732, 0xA76E, 2, 1},
	{0xA779, 0xA77B, 2, 1}, {0xA77D, 0xA77D, 1, -35332}, {0xA77E, 0xA786, 2, 1},
	{0xA78B, 0xA78B, 1, 1}, {0xA78D, 0xA78D, 1, -42280}, {0xA790, 0xA792, 2, 1},
	{0xA796, 0xA7A8, 2, 1}, {0xA7AA, 0xA7AA, 1, -42308}, {0xA7AB, 0xA7AB, 1, -42319},
	{0xA7AC, 0xA7AC, 1, -42315}, {0xA7AD, 0xA7AD, 1, -42305}, {0xA7AE, 0xA7AE, 1, -42308},
	{0xA7B0, 0xA7B0, 1, -42258}, {0xA7B1, 0xA7B1, 1, -42282}, {0xA7B2, 0xA7B2, 1, -42261},
	{0xA7B3, 0xA7B3, 1, 928}, {0xA7B4, 0xA7B6, 2, 1}, {0xAB70, 0xABBF, 1, -38864},
	{0xFB00, 0xFB00, 1, -64154}, {0xFB01, 0xFB01, 1, -64155}, {0xFB02, 0xFB02, 1, -64156},
	{0xFB03, 0xFB03, 1, -64157}, {0xFB04, 0xFB04, 1, -64158}, {0xFB05, 0xFB05, 1, -64146},
	{0xFB06, 0xFB06, 1, -64147}, {0xFB13, 0xFB13, 1, -62879}, {0xFB14, 0xFB14, 1, -62880},
	{0xFB15, 0xFB15, 1, -62881}, {0xFB16, 0xFB16, 1, -62872}, {0xFB17, 0xFB17, 1, -62883},
	{0xFF21, 0xFF3A, 1, 32},
}

// sugFoldAstral is the case folding of the module beyond the BMP (applied
// to prefixes only, before truncation): Deseret, Osage, Old Hungarian,
// Warang Citi and Adlam capitals.
var sugFoldAstral = [...]struct{ lo, hi, delta uint32 }{
	{0x10400, 0x10427, 40}, {0x104B0, 0x104D3, 40}, {0x10C80, 0x10CB2, 64},
	{0x118A0, 0x118BF, 32}, {0x1E900, 0x1E921, 34},
}

// sugAutomaton is the module's sparse Levenshtein automaton for the folded
// prefix s with maximum distance max (levenshtein.c), run in prefix mode the
// way its DFA filter drives it over the trie.
type sugAutomaton struct {
	s   []uint16
	max int32
}

// sugSparse is a state: the cells of one Levenshtein row whose value is at
// most max, by increasing idx. With max <= 1 a row has at most 3 of them.
type sugSparse struct {
	n int
	e [4]struct{ idx, val int32 }
}

func (v *sugSparse) push(idx, val int32) {
	v.e[v.n].idx, v.e[v.n].val = idx, val
	v.n++
}

// start is SparseAutomaton_Start: cells 0..max with values 0..max (even
// past the end of s).
func (a *sugAutomaton) start() sugSparse {
	var v sugSparse
	for i := int32(0); i <= a.max; i++ {
		v.push(i, i)
	}
	return v
}

// step is SparseAutomaton_Step.
func (a *sugAutomaton) step(st *sugSparse, c uint16) sugSparse {
	var nv sugSparse
	if st.n > 0 && st.e[0].idx == 0 && st.e[0].val < a.max {
		nv.push(0, st.e[0].val+1)
	}
	for j := 0; j < st.n; j++ {
		idx := st.e[j].idx
		if int(idx) == len(a.s) {
			break
		}
		val := st.e[j].val
		if a.s[idx] != c {
			val++
		}
		if nv.n > 0 && nv.e[nv.n-1].idx == idx {
			val = min(val, nv.e[nv.n-1].val+1)
		}
		if j+1 < st.n && st.e[j+1].idx == idx+1 {
			val = min(val, st.e[j+1].val+1)
		}
		if val <= a.max {
			nv.push(idx+1, val)
		}
	}
	return nv
}

// isMatch is SparseAutomaton_IsMatch.
func (a *sugAutomaton) isMatch(v *sugSparse) bool {
	return v.n > 0 && int(v.e[v.n-1].idx) == len(a.s)
}

// next is the DFA transition on rune c: the edge built for c when c labels
// one of the state's cells and leads somewhere, else the default edge,
// built with rune 1. ok is false when neither exists.
func (a *sugAutomaton) next(st *sugSparse, c uint16) (nv sugSparse, ok bool) {
	for j := 0; j < st.n; j++ {
		if idx := st.e[j].idx; int(idx) < len(a.s) && a.s[idx] == c {
			if nv = a.step(st, c); nv.n > 0 {
				return nv, true
			}
			break
		}
	}
	nv = a.step(st, 1)
	return nv, nv.n > 0
}
