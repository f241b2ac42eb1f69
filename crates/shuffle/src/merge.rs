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
    let order = merge_order(&items, key, seed);
    apply_order(items, &order)
}

/// The permutation behind [`merge_shuffle`]: `order[i]` is the input index placed at position `i`.
pub fn merge_order<T, G: Hash + Eq>(items: &[T], key: impl Fn(&T) -> G, seed: u64) -> Vec<usize> {
    let n = items.len();
    assert!(
        n < NIL as usize,
        "merge_shuffle handles fewer than 2^32 - 1 items"
    );
    let mut rng = rng(seed);
    let mut groups = group_indices(items, key);
    for g in &mut groups {
        g.shuffle(&mut rng);
    }
    // Smallest first; equal sizes in random order.
    let mut keyed: Vec<(usize, u64, Vec<usize>)> = groups
        .into_iter()
        .map(|g| (g.len(), rng.gen(), g))
        .collect();
    keyed.sort_unstable_by_key(|(len, tie, _)| (*len, *tie));

    // Items are renumbered in merge order, so the items merged so far are exactly `0..a` and
    // gap `v` is "at the front" (v = 0) or "after item v - 1": no lookup tables, fewer cache
    // misses. `orig` maps the new numbers back to input indices.
    let orig: Vec<usize> = keyed
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
                .chain(picks.into_iter().map(|u| skip_forced(u, &forced)));
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

    let mut order = Vec::with_capacity(n);
    let mut cur = next[n];
    while cur != NIL {
        order.push(orig[cur as usize]);
        cur = next[cur as usize];
    }
    order
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

/// Scratch marks for sampling without replacement: a value is marked when its stamp equals the
/// current epoch, so clearing is free and no hashing is needed.
struct Marks {
    stamp: Vec<u32>,
    epoch: u32,
}

impl Marks {
    fn new(size: usize) -> Self {
        Self {
            stamp: vec![0; size],
            epoch: 0,
        }
    }

    fn is_marked(&self, v: usize) -> bool {
        self.stamp[v] == self.epoch
    }

    /// `k` distinct values from `0..m`, uniformly (Floyd's algorithm), `O(k)`; they stay marked
    /// until the next call.
    fn sample(&mut self, rng: &mut ChaCha8Rng, m: usize, k: usize) -> Vec<usize> {
        debug_assert!(k <= m && m <= self.stamp.len());
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.fill(0);
            self.epoch = 1;
        }
        let mut out = Vec::with_capacity(k);
        for j in m - k..m {
            let t = rng.gen_range(0..=j);
            let pick = if self.is_marked(t) { j } else { t };
            self.stamp[pick] = self.epoch;
            out.push(pick);
        }
        out
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
