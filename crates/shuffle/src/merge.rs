//! Merge shuffle: the fewest adjacent same-group pairs possible, in linear time.

use std::hash::Hash;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::groups::{apply_order, group_indices, rng};

const NIL: u32 = u32::MAX;

/// Shuffles `items` so that the number of neighbouring items of the same group is the smallest
/// possible: `max(0, n_max - (n - n_max) - 1)` for `n` items whose largest group has `n_max`
/// (zero whenever no group holds more than half the list, rounded up).
///
/// Groups are merged from the smallest to the largest. Merging a group of `b` items into the
/// list built so far (`a` items) either *intersperses* it (`b <= a + 1`: every new item goes into
/// its own gap, first into the gaps between the list's same-group neighbours, the rest into
/// random gaps) or *interleaves* it (`b > a + 1`: every gap, ends included, gets one or more new
/// items, spread as evenly as possible, which splits all old neighbours apart). Only the group
/// merged last can leave neighbours behind, and exactly the unavoidable number of them.
///
/// The list is a linked list of "insert after item x" operations, so the whole shuffle runs in
/// `O(n)` expected time (plus `O(c log c)` to order `c` groups).
pub fn merge_shuffle<T, G: Hash + Eq>(items: Vec<T>, key: impl Fn(&T) -> G, seed: u64) -> Vec<T> {
    let order = merge_order_u32(&items, key, seed);
    apply_order(items, order.into_iter().map(|i| i as usize))
}

/// The permutation behind [`merge_shuffle`]: `order[i]` is the input index placed at position `i`.
pub fn merge_order<T, G: Hash + Eq>(items: &[T], key: impl Fn(&T) -> G, seed: u64) -> Vec<usize> {
    merge_order_u32(items, key, seed)
        .into_iter()
        .map(|i| i as usize)
        .collect()
}

/// [`merge_order`] with 32-bit indices: every index array is half the size, which matters once
/// they leave the caches.
fn merge_order_u32<T, G: Hash + Eq>(items: &[T], key: impl Fn(&T) -> G, seed: u64) -> Vec<u32> {
    let n = items.len();
    assert!(
        n < NIL as usize,
        "merge_shuffle handles fewer than 2^32 - 1 items"
    );
    let mut rng = rng(seed);
    let mut groups = group_indices::<T, G, u32>(items, key);
    for g in &mut groups {
        g.shuffle(&mut rng);
    }
    // Smallest first; equal sizes in random order.
    let mut keyed: Vec<(usize, u64, Vec<u32>)> = groups
        .into_iter()
        .map(|g| (g.len(), rng.gen(), g))
        .collect();
    keyed.sort_unstable_by_key(|(len, tie, _)| (*len, *tie));

    // Items are renumbered in merge order, so the items merged so far are exactly `0..a` and
    // gap `v` is "at the front" (v = 0) or "after item v - 1": no lookup tables, fewer cache
    // misses. `orig` maps the new numbers back to input indices.
    let orig: Vec<u32> = keyed
        .iter()
        .flat_map(|(_, _, g)| g.iter().copied())
        .collect();
    let head = n as u32;
    let gap = |v: usize| if v == 0 { head } else { (v - 1) as u32 };
    let mut next = vec![NIL; n + 1];
    let mut forced: Vec<usize> = Vec::new(); // gaps (as v) that must be filled next, sorted
    let mut marks = Marks::new(n + 1);
    let mut a = 0usize;
    for (b, _, _) in keyed {
        let new_items = a as u32..(a + b) as u32;
        if b <= a + 1 {
            // Intersperse: the forced gaps first, then distinct random other gaps.
            let free = a + 1 - forced.len();
            let picks = marks.sample(&mut rng, free, b - forced.len());
            let gaps = forced
                .iter()
                .copied()
                .chain(picks.iter().map(|&u| skip_forced(u, &forced)));
            for (v, item) in gaps.zip(new_items) {
                let g = gap(v) as usize;
                next[item as usize] = next[g];
                next[g] = item;
            }
            forced.clear();
        } else {
            // Interleave: every gap gets base or base + 1 items, the larger share at random gaps.
            let gaps = a + 1;
            let base = b / gaps;
            marks.sample(&mut rng, gaps, b % gaps);
            forced.clear();
            let mut item = a as u32;
            for v in 0..gaps {
                let count = base + usize::from(marks.is_marked(v));
                if count == 0 {
                    continue;
                }
                let g = gap(v) as usize;
                let (first, last) = (item, item + count as u32 - 1);
                next[last as usize] = next[g];
                for x in first..last {
                    next[x as usize] = x + 1;
                    forced.push(x as usize + 1); // the gap after x, as v
                }
                next[g] = first;
                item += count as u32;
            }
        }
        a += b;
    }

    read_list(&next, n, &orig)
}

/// Below this many nodes the list is simply followed.
const RULERS_MIN: usize = 1 << 14;
/// Above this many nodes the rulers walk on two threads or more.
const THREADS_MIN: usize = 1 << 18;
/// One ruler every this many nodes.
const RULER_STRIDE: usize = 32;

/// `label[x]` for the nodes `x` of the linked list `next` that starts after `head`, in list order.
///
/// Following a long list one node at a time is a chain of dependent cache misses. Instead,
/// every 32nd node is made a *ruler* and all rulers walk their own stretch of the list (up to the
/// next ruler) side by side, one step each per round: the loads of one round do not depend on
/// each other, so the memory system serves many at once. Long lists split the rulers between
/// threads. The stretches are then joined in the order of their rulers, so the result does not
/// depend on the number of threads.
fn read_list<L: Copy + Send + Sync>(next: &[u32], head: usize, label: &[L]) -> Vec<L> {
    let size = next.len();
    let mut out = Vec::with_capacity(size.saturating_sub(1));
    if size < RULERS_MIN {
        let mut cur = next[head];
        while cur != NIL {
            out.push(label[cur as usize]);
            cur = next[cur as usize];
        }
        return out;
    }
    let list = RulerList { next, head, label };
    let rulers: Vec<u32> = (0..size as u32)
        .step_by(RULER_STRIDE)
        .chain((!head.is_multiple_of(RULER_STRIDE)).then_some(head as u32))
        .collect();
    let threads = if size >= THREADS_MIN {
        std::thread::available_parallelism().map_or(1, |t| t.get().min(8))
    } else {
        1
    };
    let per_thread = rulers.len().div_ceil(threads);
    let walked: Vec<Walked<L>> = if threads == 1 {
        list.walk(&rulers)
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = rulers
                .chunks(per_thread)
                .map(|part| scope.spawn(|| list.walk(part)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let mut stretch: Vec<Vec<L>> = vec![Vec::new(); rulers.len()];
    let mut successor = vec![NIL; rulers.len()];
    for w in walked {
        successor[w.ruler as usize] = w.successor;
        stretch[w.ruler as usize] = w.seen;
    }
    let mut j = list.ruler_id(head as u32);
    while j != NIL {
        out.extend_from_slice(&stretch[j as usize]);
        j = successor[j as usize];
    }
    out
}

/// A linked list read by rulers: every multiple of [`RULER_STRIDE`] and the head.
struct RulerList<'a, L> {
    next: &'a [u32],
    head: usize,
    label: &'a [L],
}

/// One ruler's stretch of the list and the ruler that follows it.
struct Walked<L> {
    ruler: u32,
    successor: u32,
    seen: Vec<L>,
}

impl<L: Copy> RulerList<'_, L> {
    /// Telling a ruler needs no lookup.
    fn is_ruler(&self, x: u32) -> bool {
        (x as usize).is_multiple_of(RULER_STRIDE) || x as usize == self.head
    }

    fn ruler_id(&self, x: u32) -> u32 {
        if (x as usize).is_multiple_of(RULER_STRIDE) {
            (x as usize / RULER_STRIDE) as u32
        } else {
            // The head, when it is not a multiple, comes after all multiples.
            self.next.len().div_ceil(RULER_STRIDE) as u32
        }
    }

    /// Walks the stretches of `rulers` side by side.
    fn walk(&self, rulers: &[u32]) -> Vec<Walked<L>> {
        let mut done = Vec::with_capacity(rulers.len());
        let mut walkers: Vec<(u32, Walked<L>)> = rulers
            .iter()
            .map(|&r| {
                let mut seen = Vec::with_capacity(2 * RULER_STRIDE);
                if r as usize != self.head {
                    seen.push(self.label[r as usize]);
                }
                let w = Walked {
                    ruler: self.ruler_id(r),
                    successor: NIL,
                    seen,
                };
                (self.next[r as usize], w)
            })
            .collect();
        while !walkers.is_empty() {
            let mut i = 0;
            while i < walkers.len() {
                let cur = walkers[i].0;
                if cur == NIL || self.is_ruler(cur) {
                    let (_, mut w) = walkers.swap_remove(i);
                    w.successor = if cur == NIL { NIL } else { self.ruler_id(cur) };
                    done.push(w);
                    continue;
                }
                let w = &mut walkers[i];
                w.1.seen.push(self.label[cur as usize]);
                w.0 = self.next[cur as usize];
                i += 1;
            }
        }
        done
    }
}

/// Maps the `u`-th gap that is not forced to its index among all gaps (`forced` sorted, distinct).
fn skip_forced(u: usize, forced: &[usize]) -> usize {
    // forced[j] - j is non-decreasing: the first j with forced[j] - j > u is how many precede.
    let mut lo = 0usize;
    let mut hi = forced.len();
    while lo < hi {
        let mid = (lo + hi) / 2;
        if forced[mid] - mid <= u {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    u + lo
}

/// Scratch marks for sampling without replacement: a bit per value (an eighth of a megabyte
/// per million values, so it stays in the caches), cleared pick by pick before the next sample.
struct Marks {
    bits: Vec<u64>,
    picked: Vec<usize>,
}

impl Marks {
    fn new(size: usize) -> Self {
        Self {
            bits: vec![0; size.div_ceil(64)],
            picked: Vec::new(),
        }
    }

    fn is_marked(&self, v: usize) -> bool {
        self.bits[v >> 6] & (1 << (v & 63)) != 0
    }

    fn mark(&mut self, v: usize) {
        self.bits[v >> 6] |= 1 << (v & 63);
    }

    /// `k` distinct values from `0..m`, uniformly (Floyd's algorithm), `O(k)`; they stay marked
    /// until the next call.
    fn sample(&mut self, rng: &mut ChaCha8Rng, m: usize, k: usize) -> &[usize] {
        debug_assert!(k <= m && m <= self.bits.len() * 64);
        for v in std::mem::take(&mut self.picked) {
            self.bits[v >> 6] &= !(1 << (v & 63));
        }
        self.picked.reserve(k);
        for j in m - k..m {
            let t = rng.gen_range(0..=j);
            let pick = if self.is_marked(t) { j } else { t };
            self.mark(pick);
            self.picked.push(pick);
        }
        &self.picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::adjacent_same_group;
    use proptest::prelude::*;

    fn lower_bound(sizes: &[usize]) -> usize {
        let n: usize = sizes.iter().sum();
        let max = sizes.iter().copied().max().unwrap_or(0);
        max.saturating_sub(n - max + 1)
    }

    use crate::groups::labelled_items as items;

    #[test]
    fn reading_a_long_list_with_rulers_matches_following_it() {
        // A random cyclic order of 0..n threaded through `next`, head n.
        let n = 3 * RULERS_MIN + 17;
        let mut perm: Vec<u32> = (0..n as u32).collect();
        perm.shuffle(&mut rng(5));
        let mut next = vec![NIL; n + 1];
        let mut prev = n;
        for &x in &perm {
            next[prev] = x;
            prev = x as usize;
        }
        let label: Vec<u64> = (0..n as u64).map(|x| x * 3).collect();
        let expected: Vec<u64> = perm.iter().map(|&x| u64::from(x) * 3).collect();
        assert_eq!(read_list(&next, n, &label), expected);
    }

    #[test]
    fn skip_forced_counts_the_forced_gaps_before() {
        let forced = [1, 2, 5];
        let mapped: Vec<usize> = (0..5).map(|u| skip_forced(u, &forced)).collect();
        assert_eq!(mapped, vec![0, 3, 4, 6, 7]);
    }

    #[test]
    fn one_dominant_group_leaves_exactly_the_unavoidable_pairs() {
        let out = merge_shuffle(items(&[10, 2, 1]), |x| x.0, 7);
        assert_eq!(adjacent_same_group(&out, |x| x.0), 10 - 3 - 1);
    }

    proptest! {
        #[test]
        fn meets_the_lower_bound_and_is_a_permutation(
            sizes in proptest::collection::vec(0usize..30, 0..12),
            seed in any::<u64>(),
        ) {
            let input = items(&sizes);
            let out = merge_shuffle(input.clone(), |x| x.0, seed);
            let mut sorted = out.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, input);
            prop_assert_eq!(adjacent_same_group(&out, |x| x.0), lower_bound(&sizes));
        }

        #[test]
        fn same_seed_same_order(sizes in proptest::collection::vec(1usize..10, 1..6), seed in any::<u64>()) {
            let input = items(&sizes);
            prop_assert_eq!(merge_shuffle(input.clone(), |x| x.0, seed), merge_shuffle(input, |x| x.0, seed));
        }
    }
}
