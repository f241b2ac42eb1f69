//! How well a list is spread, and how much relevance a re-ranking kept.

use std::collections::HashMap;
use std::hash::Hash;

/// Number of neighbouring positions whose items belong to the same group.
pub fn adjacent_same_group<T, G: PartialEq>(items: &[T], key: impl Fn(&T) -> G) -> usize {
    items
        .windows(2)
        .filter(|w| key(&w[0]) == key(&w[1]))
        .count()
}

/// How far a list is from the best spreading its group sizes allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Spreading {
    /// Number of distinct groups.
    pub groups: usize,
    /// Neighbouring items of the same group in this list.
    pub adjacent: usize,
    /// The fewest such neighbours any order of these items can have:
    /// `max(0, n_max − (n − n_max) − 1)` (what [`merge_shuffle`](crate::merge_shuffle) reaches).
    pub fewest_possible: usize,
    /// Whether the order matters at all for spreading: false for fewer than two items or a
    /// single group, where every order is the same to a group-spreading shuffle.
    pub possible: bool,
}

/// [`Spreading`] of a list.
pub fn spreading<T, G: Hash + Eq>(items: &[T], key: impl Fn(&T) -> G) -> Spreading {
    let mut sizes: HashMap<G, usize> = HashMap::new();
    for item in items {
        *sizes.entry(key(item)).or_insert(0) += 1;
    }
    let n = items.len();
    let n_max = sizes.values().copied().max().unwrap_or(0);
    Spreading {
        groups: sizes.len(),
        adjacent: adjacent_same_group(items, key),
        fewest_possible: n_max.saturating_sub(n - n_max + 1),
        possible: sizes.len() >= 2,
    }
}

/// "k-badness": the number of maximal runs of one group that are `k` or more items long.
pub fn runs_at_least<T, G: PartialEq>(items: &[T], key: impl Fn(&T) -> G, k: usize) -> usize {
    let mut runs = 0;
    let mut len = 0;
    for i in 0..items.len() {
        if i > 0 && key(&items[i]) == key(&items[i - 1]) {
            len += 1;
        } else {
            if len >= k && len > 0 {
                runs += 1;
            }
            len = 1;
        }
    }
    if len >= k && len > 0 {
        runs += 1;
    }
    runs
}

/// Distances between consecutive items of the same group, over all groups with two or more
/// items, also relative to each group's ideal distance `n / size` (1.0 = perfectly even).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GapStats {
    /// Smallest distance (1 = neighbours).
    pub min: usize,
    /// Mean distance.
    pub mean: f64,
    /// Largest distance.
    pub max: usize,
    /// Smallest distance divided by its group's ideal `n / size`.
    pub min_ratio: f64,
    /// Largest distance divided by its group's ideal `n / size`.
    pub max_ratio: f64,
    /// Number of distances measured (0 when no group has two items).
    pub count: usize,
}

/// [`GapStats`] of a list; `None` when no group has two or more items.
pub fn gap_stats<T, G: Hash + Eq>(items: &[T], key: impl Fn(&T) -> G) -> Option<GapStats> {
    let n = items.len();
    let mut positions: HashMap<G, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        positions.entry(key(item)).or_default().push(i);
    }
    let mut s = GapStats {
        min: usize::MAX,
        mean: 0.0,
        max: 0,
        min_ratio: f64::INFINITY,
        max_ratio: 0.0,
        count: 0,
    };
    let mut sum = 0usize;
    for p in positions.values().filter(|p| p.len() >= 2) {
        let ideal = n as f64 / p.len() as f64;
        for w in p.windows(2) {
            let d = w[1] - w[0];
            s.min = s.min.min(d);
            s.max = s.max.max(d);
            s.min_ratio = s.min_ratio.min(d as f64 / ideal);
            s.max_ratio = s.max_ratio.max(d as f64 / ideal);
            sum += d;
            s.count += 1;
        }
    }
    (s.count > 0).then(|| GapStats {
        mean: sum as f64 / s.count as f64,
        ..s
    })
}

/// Each group's share of the first `k` items (or of all items when the list is shorter),
/// groups in order of first appearance.
pub fn exposure_share<T, G: Hash + Eq + Clone>(
    items: &[T],
    key: impl Fn(&T) -> G,
    k: usize,
) -> Vec<(G, f64)> {
    let top = &items[..k.min(items.len())];
    let mut order: Vec<G> = Vec::new();
    let mut counts: HashMap<G, usize> = HashMap::new();
    for item in top {
        let g = key(item);
        let c = counts.entry(g.clone()).or_insert(0);
        if *c == 0 {
            order.push(g);
        }
        *c += 1;
    }
    order
        .into_iter()
        .map(|g| {
            let c = counts[&g];
            (g, c as f64 / top.len() as f64)
        })
        .collect()
}

/// NDCG@k of a list whose items have the given relevance scores, in list order: DCG of this
/// order divided by the DCG of the same scores sorted best first. Scores are shifted so the
/// lowest is 0 (model scores may be negative). 1.0 means the order kept every item by score.
pub fn ndcg(scores_in_order: &[f64], k: usize) -> f64 {
    let min = scores_in_order
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let gains: Vec<f64> = scores_in_order.iter().map(|s| s - min).collect();
    let dcg = |g: &[f64]| -> f64 {
        g.iter()
            .take(k)
            .enumerate()
            .map(|(i, v)| v / (i as f64 + 2.0).log2())
            .sum()
    };
    let mut ideal = gains.clone();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let best = dcg(&ideal);
    if best <= 0.0 {
        1.0
    } else {
        dcg(&gains) / best
    }
}

/// Kendall's tau between two orders of the same items: `rank[i]` is where the item at position
/// `i` of the new order stood in the reference order (a permutation of `0..n`). 1.0 = same
/// order, -1.0 = reversed. `O(n log n)`.
pub fn kendall_tau(rank: &[usize]) -> f64 {
    let n = rank.len();
    if n < 2 {
        return 1.0;
    }
    let mut v = rank.to_vec();
    let mut buf = vec![0usize; n];
    let inversions = count_inversions(&mut v, &mut buf);
    let pairs = (n * (n - 1) / 2) as f64;
    1.0 - 2.0 * inversions as f64 / pairs
}

fn count_inversions(v: &mut [usize], buf: &mut [usize]) -> u64 {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut inv = {
        let (l, r) = v.split_at_mut(mid);
        let (bl, br) = buf.split_at_mut(mid);
        count_inversions(l, bl) + count_inversions(r, br)
    };
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        if v[i] <= v[j] {
            buf[k] = v[i];
            i += 1;
        } else {
            buf[k] = v[j];
            inv += (mid - i) as u64;
            j += 1;
        }
        k += 1;
    }
    buf[k..k + mid - i].copy_from_slice(&v[i..mid]);
    k += mid - i;
    buf[k..k + n - j].copy_from_slice(&v[j..n]);
    v.copy_from_slice(&buf[..n]);
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spreading_knows_when_order_cannot_matter() {
        let one = ["a", "a", "a"];
        let s = spreading(&one, |x| *x);
        assert_eq!(
            (s.groups, s.adjacent, s.fewest_possible, s.possible),
            (1, 2, 2, false)
        );
        let empty: [&str; 0] = [];
        assert!(!spreading(&empty, |x| *x).possible);
        let l = ["a", "a", "b", "a"];
        let s = spreading(&l, |x| *x);
        assert_eq!(
            (s.groups, s.adjacent, s.fewest_possible, s.possible),
            (2, 1, 1, true)
        );
    }

    #[test]
    fn runs_and_pairs() {
        let l = ["a", "a", "a", "b", "a", "a", "c"];
        assert_eq!(adjacent_same_group(&l, |x| *x), 3);
        assert_eq!(runs_at_least(&l, |x| *x, 2), 2);
        assert_eq!(runs_at_least(&l, |x| *x, 3), 1);
        assert_eq!(runs_at_least(&l, |x| *x, 1), 4);
    }

    #[test]
    fn gaps_of_a_perfect_alternation_are_ideal() {
        let l = ["a", "b", "a", "b", "a", "b"];
        let g = gap_stats(&l, |x| *x).expect("two groups of three");
        assert_eq!((g.min, g.max, g.count), (2, 2, 4));
        assert!((g.max_ratio - 1.0).abs() < 1e-12);
        assert!(gap_stats(&["x", "y"], |x| *x).is_none());
    }

    #[test]
    fn exposure_counts_only_the_top() {
        let l = ["a", "a", "b", "c"];
        assert_eq!(exposure_share(&l, |x| *x, 2), vec![("a", 1.0)]);
        assert_eq!(exposure_share(&l, |x| *x, 10).len(), 3);
    }

    #[test]
    fn ndcg_is_one_for_sorted_and_less_for_reversed() {
        assert!((ndcg(&[3.0, 2.0, 1.0], 3) - 1.0).abs() < 1e-12);
        assert!(ndcg(&[1.0, 2.0, 3.0], 3) < 0.8);
    }

    proptest! {
        #[test]
        fn kendall_tau_matches_the_quadratic_definition(perm in Just((0..30usize).collect::<Vec<_>>()).prop_shuffle()) {
            let n = perm.len();
            let mut concordant = 0i64;
            for i in 0..n {
                for j in i + 1..n {
                    concordant += if perm[i] < perm[j] { 1 } else { -1 };
                }
            }
            let expected = concordant as f64 / (n * (n - 1) / 2) as f64;
            prop_assert!((kendall_tau(&perm) - expected).abs() < 1e-12);
        }
    }
}
