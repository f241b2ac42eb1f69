//! Fair shuffling for groundrec, in the spirit of Spotify's shuffle: items of one group
//! (cluster, category, teacher) are spread through a list instead of bunched together.
//!
//! Status: the list metrics are in place; the shuffles and the fair re-ranker follow.
//!
//! # Example
//!
//! ```
//! use groundrec_shuffle::adjacent_same_group;
//!
//! let clumped = ["a", "a", "a", "b", "b", "c"];
//! let spread = ["a", "b", "a", "c", "a", "b"];
//! assert_eq!(adjacent_same_group(&clumped, |x| *x), 3);
//! assert_eq!(adjacent_same_group(&spread, |x| *x), 0);
//! ```
#![deny(missing_docs)]

/// Number of neighbouring positions whose items belong to the same group.
pub fn adjacent_same_group<T, G: PartialEq>(items: &[T], group: impl Fn(&T) -> G) -> usize {
    items
        .windows(2)
        .filter(|w| group(&w[0]) == group(&w[1]))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_single_group_has_n_minus_one_adjacent_pairs(n in 0usize..50) {
            let items = vec![7u8; n];
            prop_assert_eq!(adjacent_same_group(&items, |x| *x), n.saturating_sub(1));
        }
    }
}
