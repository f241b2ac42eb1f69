//! Merge shuffle: the fewest adjacent same-group pairs possible, in linear time.

use std::collections::HashSet;
use std::hash::Hash;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::groups::{apply_order, group_indices, rng};

const NIL: usize = usize::MAX;

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

    let head = n; // gap "at the front"
    let mut next = vec![NIL; n + 1];
    let mut members: Vec<usize> = Vec::with_capacity(n); // items merged so far, any order
    let mut pos = vec![0usize; n]; // item -> index in `members`
    let mut forced: Vec<usize> = Vec::new(); // gaps (after these items) that must be filled next

    for (_, _, group) in keyed {
        let a = members.len();
        let b = group.len();
        let gap_of = |v: usize, members: &[usize]| if v == 0 { head } else { members[v - 1] };
        if b <= a + 1 {
            // Intersperse: the forced gaps first, then distinct random other gaps.
            let mut forced_v: Vec<usize> = forced
                .iter()
                .map(|&g| if g == head { 0 } else { pos[g] + 1 })
                .collect();
            forced_v.sort_unstable();
            let free = a + 1 - forced_v.len();
            let picks = floyd_sample(&mut rng, free, b - forced_v.len());
            let mut gaps: Vec<usize> = forced_v.iter().map(|&v| gap_of(v, &members)).collect();
            gaps.extend(
                picks
                    .into_iter()
                    .map(|u| gap_of(skip_forced(u, &forced_v), &members)),
            );
            for (&gap, &item) in gaps.iter().zip(&group) {
                next[item] = next[gap];
                next[gap] = item;
            }
            forced.clear();
        } else {
            // Interleave: every gap gets base or base + 1 items, the larger share at random gaps.
            let gaps = a + 1;
            let base = b / gaps;
            let extra: HashSet<usize> =
                floyd_sample(&mut rng, gaps, b % gaps).into_iter().collect();
            forced.clear();
            let mut it = group.iter().copied();
            for v in 0..gaps {
                let gap = gap_of(v, &members);
                let count = base + usize::from(extra.contains(&v));
                let chain: Vec<usize> = it.by_ref().take(count).collect();
                if let (Some(&first), Some(&last)) = (chain.first(), chain.last()) {
                    next[last] = next[gap];
                    for w in chain.windows(2) {
                        next[w[0]] = w[1];
                        forced.push(w[0]);
                    }
                    next[gap] = first;
                }
            }
        }
        for &item in &group {
            pos[item] = members.len();
            members.push(item);
        }
    }

    let mut order = Vec::with_capacity(n);
    let mut cur = next[head];
    while cur != NIL {
        order.push(cur);
        cur = next[cur];
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

/// `k` distinct values from `0..m`, uniformly (Floyd's algorithm), in `O(k)` expected time.
pub(crate) fn floyd_sample(rng: &mut ChaCha8Rng, m: usize, k: usize) -> Vec<usize> {
    debug_assert!(k <= m);
    let mut chosen = HashSet::with_capacity(k);
    let mut out = Vec::with_capacity(k);
    for j in m - k..m {
        let t = rng.gen_range(0..=j);
        let pick = if chosen.contains(&t) { j } else { t };
        chosen.insert(pick);
        out.push(pick);
    }
    out
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

    fn items(sizes: &[usize]) -> Vec<(usize, usize)> {
        sizes
            .iter()
            .enumerate()
            .flat_map(|(g, &s)| (0..s).map(move |i| (g, i)))
            .collect()
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
