//! Spotify-style spreading (2014) and Fiedler's balanced shuffle.

use std::hash::Hash;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Result, ShuffleError};
use crate::groups::{apply_order, group_indices, rng, Index};

/// Options of [`spread`] (unchecked): how much each item may move away from its evenly spaced
/// slot. [`SpreadParams::check`] gives [`SpreadValidParams`].
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SpreadParams(SpreadValidParams);

/// Checked options of [`spread`] (the default is valid).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpreadValidParams {
    jitter: f64,
}

impl Default for SpreadValidParams {
    fn default() -> Self {
        Self { jitter: 0.3 }
    }
}

impl SpreadParams {
    /// Jitter in `[0, 1)`, as a fraction of a group's spacing (default 0.3). 0 places a group's
    /// items exactly evenly (after a random offset); larger values look less regular.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.0.jitter = jitter;
        self
    }

    /// Validates the options.
    pub fn check(self) -> Result<SpreadValidParams> {
        let jitter = self.0.jitter;
        if !(0.0..1.0).contains(&jitter) {
            return Err(ShuffleError::InvalidParam {
                param: "jitter",
                reason: format!("must be in [0, 1), got {jitter}"),
            });
        }
        Ok(self.0)
    }
}

impl SpreadValidParams {
    /// The jitter setting.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// The largest distance [`spread`] can put between two consecutive items of a group of
    /// `size` items, in a list where the other groups have the sizes `others`:
    /// `1 + Σ_h (⌊(1 + J)·k_h / ((1 − J)·k)⌋ + 1)`.
    ///
    /// Why: consecutive positions of a group of `k` items differ by `(1 ± J)/k`, and an interval
    /// of length `L` holds at most `⌊L·k_h/(1 − J)⌋ + 1` positions of a group of `k_h` items.
    pub fn max_gap_bound(&self, size: usize, others: &[usize]) -> usize {
        let j = self.jitter;
        1 + others
            .iter()
            .map(|&kh| ((1.0 + j) * kh as f64 / ((1.0 - j) * size as f64)).floor() as usize + 1)
            .sum::<usize>()
    }
}

/// Below this many items a comparison sort beats the radix sort's fixed cost.
const RADIX_MIN: usize = 1 << 12;

/// An order of items: packed `(key << 32) | item` records, or plain indices.
enum Order {
    Packed(Vec<u64>),
    Plain(Vec<usize>),
}

impl Order {
    /// Moves `items` into this order.
    fn apply<T>(self, items: Vec<T>) -> Vec<T> {
        match self {
            Order::Packed(v) => apply_order(items, v.into_iter().map(|r| r as u32 as usize)),
            Order::Plain(v) => apply_order(items, v),
        }
    }

    fn into_indices(self) -> Vec<usize> {
        match self {
            Order::Packed(v) => v.into_iter().map(|r| r as u32 as usize).collect(),
            Order::Plain(v) => v,
        }
    }
}

/// Orders the items of `groups` (each already in its within-group order) by position: a group
/// of `k` items gets `(i + offset + wiggle_i) / k`, which lies in `[-0.5, 1.5)` and increases
/// along the group (consecutive positions differ by `(1 ± J) / k`, `J < 1`). Ties go by item.
///
/// Positions are quantised to 32 bits over that fixed range and packed with the item into one
/// `u64`, so the sort moves 8-byte records in a few sequential passes (see [`radix_sort`]);
/// a comparison sort or a bucket scatter over `n` buckets leaves the caches at a million items
/// (measured in docs/benchmarks.md). Quantisation keeps the order of positions more than
/// `2^-31` apart. Closer positions may come out in item order, which can only swap items of one
/// group when their spacing `(1 - J) / k` is below `2^-31`, and such a swap changes no gap.
fn spread_order_of<I: Index>(
    groups: &[Vec<I>],
    params: SpreadValidParams,
    rng: &mut ChaCha8Rng,
) -> Order {
    let n: usize = groups.iter().map(Vec::len).sum();
    if n > u32::MAX as usize {
        let mut keyed: Vec<(f64, usize)> = Vec::with_capacity(n);
        for_each_position(groups, params.jitter, rng, |p, item| keyed.push((p, item)));
        keyed.sort_unstable_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        return Order::Plain(keyed.into_iter().map(|(_, i)| i).collect());
    }
    let scale = (1u64 << 31) as f64;
    let mut records: Vec<u64> = Vec::with_capacity(n);
    for_each_position(groups, params.jitter, rng, |p, item| {
        // `as u32` saturates, so rounding at either end cannot wrap.
        records.push((u64::from(((p + 0.5) * scale) as u32) << 32) | item as u64);
    });
    if n < RADIX_MIN {
        records.sort_unstable();
    } else {
        radix_sort(&mut records);
    }
    Order::Packed(records)
}

/// Calls `f(position, item)` for every item of every group, group by group.
fn for_each_position<I: Index>(
    groups: &[Vec<I>],
    jitter: f64,
    rng: &mut ChaCha8Rng,
    mut f: impl FnMut(f64, usize),
) {
    for g in groups {
        let k = g.len() as f64;
        let offset: f64 = rng.gen();
        for (i, &item) in g.iter().enumerate() {
            let wiggle = jitter * (rng.gen::<f64>() - 0.5);
            f((i as f64 + offset + wiggle) / k, item.to_usize());
        }
    }
}

/// Shuffles each group, then orders all items by position.
fn spread_groups<I: Index>(
    mut groups: Vec<Vec<I>>,
    params: SpreadValidParams,
    rng: &mut ChaCha8Rng,
) -> Order {
    for g in &mut groups {
        g.shuffle(rng);
    }
    spread_order_of(&groups, params, rng)
}

/// Sorts `v` ascending: a stable LSD radix sort on the top 22 bits (two passes of 11 bits,
/// both histograms from one read), then each run of equal top bits sorted in place. Runs are
/// short because positions spread over their range: a million items fill about 2^21 of the
/// 2^22 prefixes.
fn radix_sort(v: &mut Vec<u64>) {
    const BITS: u32 = 11;
    const LOW: u32 = 64 - 2 * BITS;
    let digit = |x: u64, pass: u32| ((x >> (LOW + pass * BITS)) & ((1 << BITS) - 1)) as usize;
    let mut counts = vec![[0usize; 1 << BITS]; 2];
    for &x in v.iter() {
        counts[0][digit(x, 0)] += 1;
        counts[1][digit(x, 1)] += 1;
    }
    let mut buf = vec![0u64; v.len()];
    for (pass, start) in counts.iter_mut().enumerate() {
        let mut sum = 0;
        for c in start.iter_mut() {
            let count = *c;
            *c = sum;
            sum += count;
        }
        for &x in v.iter() {
            let d = digit(x, pass as u32);
            buf[start[d]] = x;
            start[d] += 1;
        }
        std::mem::swap(v, &mut buf);
    }
    let mut i = 0;
    while i < v.len() {
        let top = v[i] >> LOW;
        let mut j = i + 1;
        while j < v.len() && v[j] >> LOW == top {
            j += 1;
        }
        if j - i > 1 {
            v[i..j].sort_unstable();
        }
        i = j;
    }
}

/// Spreads each group's items evenly through the list (Spotify's 2014 shuffle): a group of `k`
/// items gets positions `(i + offset + jitter_i) / k` with a random offset per group, items are
/// shuffled within their group, and the list is ordered by position.
///
/// Every group's distances stay below [`SpreadValidParams::max_gap_bound`]. `O(n log n)`.
pub fn spread<T, G: Hash + Eq>(
    items: Vec<T>,
    key: impl Fn(&T) -> G,
    params: SpreadValidParams,
    seed: u64,
) -> Vec<T> {
    let mut rng = rng(seed);
    // 32-bit indices halve the index arrays, which matters once they leave the caches.
    let order = if items.len() <= u32::MAX as usize {
        spread_groups(group_indices::<_, _, u32>(&items, key), params, &mut rng)
    } else {
        spread_groups(group_indices::<_, _, usize>(&items, key), params, &mut rng)
    };
    order.apply(items)
}

/// Two-level [`spread`]: groups by `key` (e.g. cluster) are spread through the list, and within
/// each group the items are first spread by `subkey` (e.g. teacher), so that a group's turns
/// also rotate through its subgroups.
pub fn spread_nested<T, G: Hash + Eq, S: Hash + Eq>(
    items: Vec<T>,
    key: impl Fn(&T) -> G,
    subkey: impl Fn(&T) -> S,
    params: SpreadValidParams,
    seed: u64,
) -> Vec<T> {
    let mut rng = rng(seed);
    let groups: Vec<Vec<usize>> = group_indices::<_, _, usize>(&items, key)
        .into_iter()
        .map(|members| {
            let subgroups = group_indices::<_, _, usize>(&members, |&i| subkey(&items[i]));
            spread_groups(subgroups, params, &mut rng)
                .into_indices()
                .into_iter()
                .map(|local| members[local])
                .collect()
        })
        .collect();
    spread_order_of(&groups, params, &mut rng).apply(items)
}

/// Fiedler's balanced shuffle ("the art of shuffling music"): every group is stretched to the
/// length `m` of the largest group, its items in evenly spaced columns with a random offset, and
/// the columns are read one after the other, each in a random order. `O(n + m)`.
pub fn balanced_shuffle<T, G: Hash + Eq>(
    items: Vec<T>,
    key: impl Fn(&T) -> G,
    seed: u64,
) -> Vec<T> {
    let mut rng = rng(seed);
    let mut groups = group_indices::<_, _, usize>(&items, key);
    let m = groups.iter().map(Vec::len).max().unwrap_or(0);
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); m];
    for g in &mut groups {
        g.shuffle(&mut rng);
        let k = g.len() as f64;
        let offset: f64 = rng.gen();
        for (i, &item) in g.iter().enumerate() {
            let col = (((i as f64 + offset) * m as f64 / k) as usize).min(m - 1);
            columns[col].push(item);
        }
    }
    let mut order = Vec::with_capacity(items.len());
    for mut col in columns {
        col.shuffle(&mut rng);
        order.extend(col);
    }
    apply_order(items, order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::gap_stats;
    use proptest::prelude::*;
    use rand::Rng;
    use std::collections::HashMap;

    use crate::groups::labelled_items as items;

    fn is_permutation(a: &[(usize, usize)], b: &[(usize, usize)]) -> bool {
        let mut a = a.to_vec();
        let mut b = b.to_vec();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    }

    #[test]
    fn radix_sort_sorts() {
        let mut r = rng(9);
        // Coarse high halves (many equal prefixes and whole-key ties on the high half), random
        // low halves, above the radix threshold.
        let mut v: Vec<u64> = (0..3 * RADIX_MIN)
            .map(|_| (r.gen_range(0..5000u64) * 858_993) << 32 | r.gen_range(0..1u64 << 32))
            .collect();
        let mut expected = v.clone();
        expected.sort_unstable();
        radix_sort(&mut v);
        assert_eq!(v, expected);
    }

    #[test]
    fn large_spread_keeps_gaps_within_the_bound() {
        // Above the radix threshold: 40 groups of 50 to 1,000 items.
        let sizes: Vec<usize> = (0..40).map(|g| 50 + 25 * g).collect();
        let params = SpreadValidParams::default();
        let out = spread(items(&sizes), |x| x.0, params, 11);
        assert!(out.len() >= RADIX_MIN);
        let mut last: HashMap<usize, usize> = HashMap::new();
        for (pos, item) in out.iter().enumerate() {
            if let Some(prev) = last.insert(item.0, pos) {
                let others: Vec<usize> = sizes
                    .iter()
                    .enumerate()
                    .filter(|(g, _)| *g != item.0)
                    .map(|(_, &s)| s)
                    .collect();
                assert!(pos - prev <= params.max_gap_bound(sizes[item.0], &others));
            }
        }
    }

    #[test]
    fn empty_and_single_group_inputs() {
        use crate::{merge_shuffle, metrics::spreading};
        type Shuffle = fn(Vec<(usize, usize)>, u64) -> Vec<(usize, usize)>;
        let all: [Shuffle; 4] = [
            |v, s| spread(v, |x| x.0, SpreadValidParams::default(), s),
            |v, s| spread_nested(v, |x| x.0, |x| x.1 % 3, SpreadValidParams::default(), s),
            |v, s| balanced_shuffle(v, |x| x.0, s),
            |v, s| merge_shuffle(v, |x| x.0, s),
        ];
        for f in all {
            assert!(f(Vec::new(), 1).is_empty());
            // One group: a permutation, shuffled (some seed moves something), and the metric
            // says no spreading was possible.
            let one = items(&[20]);
            let outs: Vec<_> = (0..5).map(|s| f(one.clone(), s)).collect();
            for out in &outs {
                assert!(is_permutation(&one, out));
                assert!(!spreading(out, |x| x.0).possible);
            }
            assert!(outs.iter().any(|o| o != &one));
        }
    }

    #[test]
    fn jitter_out_of_range_is_an_error() {
        assert!(SpreadParams::default().jitter(1.0).check().is_err());
        assert!(SpreadParams::default().jitter(-0.1).check().is_err());
        assert!(SpreadParams::default().jitter(f64::NAN).check().is_err());
    }

    #[test]
    fn nested_spread_rotates_subgroups() {
        // One cluster, three teachers with 4 items each: teachers should rotate, not clump.
        let input: Vec<(u8, u8)> = (0..12).map(|i| (0, (i / 4) as u8)).collect();
        let out = spread_nested(
            input,
            |x| x.0,
            |x| x.1,
            SpreadParams::default().jitter(0.0).check().expect("valid"),
            3,
        );
        let g = gap_stats(&out, |x| x.1).expect("gaps");
        assert!(g.min >= 2, "{out:?}");
    }

    proptest! {
        #[test]
        fn spread_keeps_gaps_within_the_bound(
            sizes in proptest::collection::vec(1usize..40, 1..10),
            jitter in 0.0f64..0.9,
            seed in any::<u64>(),
        ) {
            let params = SpreadParams::default().jitter(jitter).check().expect("valid");
            let input = items(&sizes);
            let out = spread(input.clone(), |x| x.0, params, seed);
            prop_assert!(is_permutation(&input, &out));
            prop_assert_eq!(&out, &spread(input.clone(), |x| x.0, params, seed));
            let mut last: HashMap<usize, usize> = HashMap::new();
            for (pos, item) in out.iter().enumerate() {
                if let Some(prev) = last.insert(item.0, pos) {
                    let others: Vec<usize> = sizes.iter().enumerate()
                        .filter(|(g, _)| *g != item.0).map(|(_, &s)| s).collect();
                    let bound = params.max_gap_bound(sizes[item.0], &others);
                    prop_assert!(pos - prev <= bound, "gap {} > bound {}", pos - prev, bound);
                }
            }
        }

        #[test]
        fn balanced_and_nested_are_seeded_permutations(
            sizes in proptest::collection::vec(0usize..20, 0..8),
            seed in any::<u64>(),
        ) {
            let input = items(&sizes);
            let b = balanced_shuffle(input.clone(), |x| x.0, seed);
            prop_assert!(is_permutation(&input, &b));
            prop_assert_eq!(&b, &balanced_shuffle(input.clone(), |x| x.0, seed));
            let n = spread_nested(input.clone(), |x| x.0 % 3, |x| x.0, SpreadValidParams::default(), seed);
            prop_assert!(is_permutation(&input, &n));
        }
    }
}
