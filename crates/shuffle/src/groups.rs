//! Grouping items by key, shared by the shuffles.

use std::hash::Hash;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;

/// The random generator behind every shuffle: ChaCha8, so that a seed gives the same order on
/// every platform and with every version of `rand`'s default generator.
pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Indices of `items` grouped by key, groups in order of first appearance, indices ascending.
///
/// Two passes (group id per item, then exactly sized groups) with the Fx hash: grouping is the
/// largest fixed cost of the shuffles, and keys here are small (ids, short strings).
pub(crate) fn group_indices<T, G: Hash + Eq, I: Index>(
    items: &[T],
    key: impl Fn(&T) -> G,
) -> Vec<Vec<I>> {
    let mut slot: FxHashMap<G, u32> = FxHashMap::default();
    let mut sizes: Vec<usize> = Vec::new();
    let ids: Vec<u32> = items
        .iter()
        .map(|item| {
            let next = sizes.len() as u32;
            let g = *slot.entry(key(item)).or_insert(next);
            if g == next {
                sizes.push(0);
            }
            sizes[g as usize] += 1;
            g
        })
        .collect();
    let mut groups: Vec<Vec<I>> = sizes.into_iter().map(Vec::with_capacity).collect();
    for (i, g) in ids.into_iter().enumerate() {
        groups[g as usize].push(I::from_usize(i));
    }
    groups
}

/// Item indices: `usize`, or `u32` where halving the index arrays pays (callers check `n`).
pub(crate) trait Index: Copy {
    fn from_usize(i: usize) -> Self;
    fn to_usize(self) -> usize;
}

impl Index for usize {
    fn from_usize(i: usize) -> Self {
        i
    }
    fn to_usize(self) -> usize {
        self
    }
}

impl Index for u32 {
    fn from_usize(i: usize) -> Self {
        debug_assert!(u32::try_from(i).is_ok());
        i as u32
    }
    fn to_usize(self) -> usize {
        self as usize
    }
}

/// Moves the items out of `items` into the order given by `order` (a permutation of indices).
pub(crate) fn apply_order<T>(items: Vec<T>, order: impl IntoIterator<Item = usize>) -> Vec<T> {
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

/// Test input: `sizes[g]` items `(g, i)` for each group `g`.
#[cfg(test)]
pub(crate) fn labelled_items(sizes: &[usize]) -> Vec<(usize, usize)> {
    sizes
        .iter()
        .enumerate()
        .flat_map(|(g, &s)| (0..s).map(move |i| (g, i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_first_appearance_order() {
        let g = group_indices::<_, _, usize>(&["b", "a", "b", "c", "a"], |s| *s);
        assert_eq!(g, vec![vec![0, 2], vec![1, 4], vec![3]]);
        assert_eq!(
            apply_order(vec!['x', 'y', 'z'], [2, 0, 1]),
            vec!['z', 'x', 'y']
        );
    }
}
