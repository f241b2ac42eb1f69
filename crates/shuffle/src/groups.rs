//! Grouping items by key, shared by the shuffles.

use std::collections::HashMap;
use std::hash::Hash;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random generator behind every shuffle: ChaCha8, so that a seed gives the same order on
/// every platform and with every version of `rand`'s default generator.
pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Indices of `items` grouped by key, groups in order of first appearance, indices ascending.
pub(crate) fn group_indices<T, G: Hash + Eq>(
    items: &[T],
    key: impl Fn(&T) -> G,
) -> Vec<Vec<usize>> {
    let mut slot: HashMap<G, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let next = groups.len();
        let g = *slot.entry(key(item)).or_insert(next);
        if g == next {
            groups.push(Vec::new());
        }
        groups[g].push(i);
    }
    groups
}

/// Moves the items out of `items` into the order given by `order` (a permutation of indices).
pub(crate) fn apply_order<T>(items: Vec<T>, order: &[usize]) -> Vec<T> {
    debug_assert_eq!(items.len(), order.len());
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order
        .iter()
        .filter_map(|&i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_first_appearance_order() {
        let g = group_indices(&["b", "a", "b", "c", "a"], |s| *s);
        assert_eq!(g, vec![vec![0, 2], vec![1, 4], vec![3]]);
        assert_eq!(
            apply_order(vec!['x', 'y', 'z'], &[2, 0, 1]),
            vec!['z', 'x', 'y']
        );
    }
}
