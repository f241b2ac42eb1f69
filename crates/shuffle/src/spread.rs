//! Spotify-style spreading (2014) and Fiedler's balanced shuffle.

use std::hash::Hash;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Result, ShuffleError};
use crate::groups::{apply_order, group_indices, rng};

/// Options of [`spread`]: how much each item may move away from its evenly spaced slot.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpreadParams {
    jitter: f64,
}

impl Default for SpreadParams {
    fn default() -> Self {
        Self { jitter: 0.3 }
    }
}

impl SpreadParams {
    /// Jitter in `[0, 1)`, as a fraction of a group's spacing (default 0.3). 0 places a group's
    /// items exactly evenly (after a random offset); larger values look less regular.
    pub fn jitter(jitter: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&jitter) {
            return Err(ShuffleError::InvalidParam(format!(
                "jitter must be in [0, 1), got {jitter}"
            )));
        }
        Ok(Self { jitter })
    }

    /// The jitter setting.
    pub fn get_jitter(&self) -> f64 {
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

/// Positions in `[0, 1)`-ish for a group whose items are already in their within-group order.
fn place(group: &[usize], jitter: f64, rng: &mut ChaCha8Rng, keyed: &mut Vec<(f64, usize)>) {
    let k = group.len() as f64;
    let offset: f64 = rng.gen();
    for (i, &item) in group.iter().enumerate() {
        let wiggle = jitter * (rng.gen::<f64>() - 0.5);
        keyed.push(((i as f64 + offset + wiggle) / k, item));
    }
}

/// Items ordered by position (ties by index): a bucket sort, `O(n)` expected, since positions
/// spread over their range by construction.
fn order_by_position(keyed: Vec<(f64, usize)>) -> Vec<usize> {
    let n = keyed.len();
    if n < 2 {
        return keyed.into_iter().map(|(_, i)| i).collect();
    }
    let (lo, hi) = keyed
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(p, _)| {
            (lo.min(p), hi.max(p))
        });
    let scale = if hi > lo { n as f64 / (hi - lo) } else { 0.0 };
    let bucket = |p: f64| (((p - lo) * scale) as usize).min(n - 1);
    let mut start = vec![0usize; n + 1];
    for &(p, _) in &keyed {
        start[bucket(p) + 1] += 1;
    }
    for b in 0..n {
        start[b + 1] += start[b];
    }
    let mut fill = start.clone();
    let mut sorted = vec![(0.0f64, 0usize); n];
    for (p, i) in keyed {
        let b = bucket(p);
        sorted[fill[b]] = (p, i);
        fill[b] += 1;
    }
    for b in 0..n {
        let part = &mut sorted[start[b]..start[b + 1]];
        if part.len() > 1 {
            part.sort_unstable_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        }
    }
    sorted.into_iter().map(|(_, i)| i).collect()
}

fn spread_order_of(
    groups: Vec<Vec<usize>>,
    params: SpreadParams,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let n = groups.iter().map(Vec::len).sum();
    let mut keyed = Vec::with_capacity(n);
    for g in &groups {
        place(g, params.jitter, rng, &mut keyed);
    }
    order_by_position(keyed)
}

/// Spreads each group's items evenly through the list (Spotify's 2014 shuffle): a group of `k`
/// items gets positions `(i + offset + jitter_i) / k` with a random offset per group, items are
/// shuffled within their group, and the list is ordered by position.
///
/// Every group's distances stay below [`SpreadParams::max_gap_bound`]. `O(n log n)`.
pub fn spread<T, G: Hash + Eq>(
    items: Vec<T>,
    key: impl Fn(&T) -> G,
    params: SpreadParams,
    seed: u64,
) -> Vec<T> {
    let mut rng = rng(seed);
    let mut groups = group_indices(&items, key);
    for g in &mut groups {
        g.shuffle(&mut rng);
    }
    let order = spread_order_of(groups, params, &mut rng);
    apply_order(items, &order)
}

/// Two-level [`spread`]: groups by `key` (e.g. cluster) are spread through the list, and within
/// each group the items are first spread by `subkey` (e.g. teacher), so that a group's turns
/// also rotate through its subgroups.
pub fn spread_nested<T, G: Hash + Eq, S: Hash + Eq>(
    items: Vec<T>,
    key: impl Fn(&T) -> G,
    subkey: impl Fn(&T) -> S,
    params: SpreadParams,
    seed: u64,
) -> Vec<T> {
    let mut rng = rng(seed);
    let groups: Vec<Vec<usize>> = group_indices(&items, key)
        .into_iter()
        .map(|members| {
            let mut subgroups = group_indices(&members, |&i| subkey(&items[i]));
            for s in &mut subgroups {
                s.shuffle(&mut rng);
            }
            spread_order_of(subgroups, params, &mut rng)
                .into_iter()
                .map(|local| members[local])
                .collect()
        })
        .collect();
    let order = spread_order_of(groups, params, &mut rng);
    apply_order(items, &order)
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
    let mut groups = group_indices(&items, key);
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
    apply_order(items, &order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::gap_stats;
    use proptest::prelude::*;
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
    fn jitter_out_of_range_is_an_error() {
        assert!(SpreadParams::jitter(1.0).is_err());
        assert!(SpreadParams::jitter(-0.1).is_err());
        assert!(SpreadParams::jitter(f64::NAN).is_err());
    }

    #[test]
    fn nested_spread_rotates_subgroups() {
        // One cluster, three teachers with 4 items each: teachers should rotate, not clump.
        let input: Vec<(u8, u8)> = (0..12).map(|i| (0, (i / 4) as u8)).collect();
        let out = spread_nested(
            input,
            |x| x.0,
            |x| x.1,
            SpreadParams::jitter(0.0).expect("valid"),
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
            let params = SpreadParams::jitter(jitter).expect("valid");
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
            let n = spread_nested(input.clone(), |x| x.0 % 3, |x| x.0, SpreadParams::default(), seed);
            prop_assert!(is_permutation(&input, &n));
        }
    }
}
