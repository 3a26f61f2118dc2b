// Package wtinylfu is the admission and eviction policy of the ClientCache's
// local store: W-TinyLFU (Einziger, Friedman and Manes, "TinyLFU: A Highly
// Efficient Cache Admission Policy", 2017, as Caffeine and otter implement
// it) with an adaptive window, bounded by a number of entries, by a total
// weight (bytes), or by both.
//
// The policy holds no keys and no values. The store embeds a [Node] in each
// of its entries; the policy links the nodes into its queues, counts them and
// their weights exactly, and tells the store which entries to drop. It
// imports only the standard library. DESIGN.md says why the store keeps its
// own map with this policy rather than adopting otter.
//
// # Structure
//
//   - A window: an LRU queue that every new entry enters, initially 1% of
//     the capacity (initialWindow). It gives recent keys a chance to prove
//     themselves before they compete.
//   - A main space in two segments (segmented LRU): probation, where
//     entries admitted from the window arrive, and protected (80% of the
//     main space at the start, protectedShare), where a hit in probation
//     promotes an entry. protected's least recently used entries fall back
//     to probation when it is over its share.
//   - A frequency sketch estimating how often each key was requested
//     recently: a count-min sketch of 4-bit counters, 16 per entry of
//     capacity in Caffeine's 64-byte blocks, with conservative increments,
//     halved every 10 × capacity requests (sketchSamplesPerEntry) so the
//     history fades. An optional doorkeeper (Config.Doorkeeper) keeps keys
//     seen once out of the counters; it is off by default because it
//     lowered the hit ratios of tests/bench (by 2 to 3 points summed over
//     its 18 rows in the tuning runs, though it helped on a few).
//
// # Admission and eviction
//
// When an Add makes the window exceed its share, its least recently used
// entries move to probation as candidates. While a bound is exceeded, each
// candidate, oldest first, competes with the least recently used entries of
// probation (then protected) that would have to go to make room for it, on
// their estimated frequencies; the loser leaves (a losing candidate is
// rejected: CauseRejected).
//
//   - When the count is over, the contest is per entry: the candidate must
//     be requested more often than its victims together (with one victim,
//     TinyLFU's contest).
//   - When only the weight is over, it is per unit of weight: the candidate's
//     frequency per byte must exceed the victims' summed frequency per
//     summed byte. Under a byte budget that keeps the entries serving the
//     most requests per byte (the greedy knapsack), so a large value cannot
//     push out smaller ones requested more often together, and a small one
//     may push out a larger, colder one. When the candidates from the
//     window's overflow are used up and the weight is still over (moving one
//     heavy entry out can leave the window well under its share, and the
//     light entries added next fit without pushing out any candidate), the
//     window's other entries compete too, as in Caffeine.
//
// A candidate that lost with a frequency of at least 6 is still admitted
// with probability 1/128 (hashDoSThreshold), so that no key can be kept out
// forever by making its victims look as hot. When no candidate is left and a
// bound is still exceeded, the least recently used entries go.
//
// Weights: the window and the protected segment have a share of each bound
// (count and weight). A new entry heavier than the window's share enters it
// at the least recently used end, so it is the first candidate out. An
// entry heavier than Config.MaxEntryWeight (by default a quarter of
// MaxWeight, DefaultEntryShare) is rejected by Add without evicting
// anything, and one that grows above it is evicted.
//
// # Adaptive window
//
// The split between window and protected segment adapts to the workload,
// from a window of nothing to 80.2% of the capacity (adaptableShare). Two
// ghosts remember the key hashes of the last entries each side lost (the
// window's rejected candidates, the main space's victims), each about 10%
// of the entries (ghostShare, within a factor of two). A miss on a key the
// window lost means a larger window would have hit: the window grows by half
// an entry's share of the capacity (ghostStep); a miss on a key the main
// space evicted shrinks it as much. This is ARC's signal (Megiddo and Modha,
// 2003) driving W-TinyLFU's split: a hill climb on the hit rate whose
// gradient is read per miss, rather than from the difference between the
// hit rates of successive samples as Caffeine's and otter's climber does
// (step 6.25%, restart on a 5% change, decay 0.98). Both were implemented
// and run on tests/bench (with an earlier admission rule for weights): the
// ghosts did better on 17 of its 18 rows, by up to 2.5 points on web12,
// whose phase changes drown the effect of the window in the hit-rate
// differences the sampled climber reads, and worse on one (Zipf bounded by
// bytes at 5%, by 0.6 points); see the tuning log in tests/bench/README.md.
//
// # Concurrency and cost
//
// Every method but Access takes the policy's mutex, never calls back into
// the caller and returns with it released. A hit calls [Policy.Access],
// which never blocks and never allocates: it records the node into one of
// several lock-free stripes (4 per GOMAXPROCS, stripesPerProc; one per
// goroutine, chosen by the address of its stack) with one CAS, and drops the
// access when the stripe already holds 16 (ringSize). The policy applies the
// recorded accesses (sketch increment, move to the most recently used end,
// promotion) in a batch at the next Add, SetWeight, Clear or
// [Policy.Drain]: the policy's work is paid on the miss path, where a round
// trip to Redis dwarfs it. Dropping the accesses of long runs of hits
// between two misses moved no hit ratio of tests/bench by more than 0.11
// points, either way.
//
// # Exactness
//
// The count and the total weight the policy reports ([Policy.Len],
// [Policy.Weight], [Policy.Stats]) are the sums over the nodes linked in
// its queues, updated with every link and unlink, and after every Add and
// SetWeight both bounds hold. A node leaves for good: once removed,
// evicted, rejected or cleared it is dead, Add refuses it, and Access
// ignores it. So the store's map and the policy agree exactly when the store
// follows three rules:
//
//  1. Init a node and insert its entry into the map before Add; drop from
//     the map every entry Add or SetWeight lists as evicted, if the map still
//     holds that very entry.
//  2. Remove the node of every entry the map drops for any other reason
//     (invalidation, delete, expiry), before or after Add: a node removed
//     before its Add is never added.
//  3. Empty the map and call Clear under the lock that keeps entries from
//     being inserted meanwhile (all shards of a sharded map). A node
//     initialised before Clear is never added afterwards.
package wtinylfu
