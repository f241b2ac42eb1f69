//! Choosing keywords from similarities: plain ranking, MMR and MaxSum (as KeyBERT defines them).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

/// How the top keywords are chosen among a document's candidates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Diversity {
    /// The `top_n` candidates most similar to the document.
    None,
    /// Maximal Marginal Relevance: each next keyword maximises
    /// `(1 − diversity)·sim(doc) − diversity·max sim(chosen)`; `diversity` in `[0, 1]`.
    Mmr {
        /// 0 = plain ranking, 1 = only novelty.
        diversity: f32,
    },
    /// Max Sum Similarity: among the `nr_candidates` most similar candidates, the `top_n` whose
    /// pairwise similarity sum is smallest. When there are more than `max_combinations`
    /// combinations to try, MMR with diversity 0.5 is used instead and the result says so.
    MaxSum {
        /// Pool of best candidates the combinations are drawn from.
        nr_candidates: usize,
        /// Most combinations tried before falling back to MMR.
        max_combinations: u64,
    },
}

/// Indices of the `top_n` largest values, best first (ties: lower index first).
pub(crate) fn top_indices(sim: &[f32], top_n: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..sim.len()).collect();
    idx.sort_by(|&a, &b| sim[b].total_cmp(&sim[a]).then(a.cmp(&b)));
    idx.truncate(top_n);
    idx
}

/// KeyBERT's MMR: start from the best candidate, then add the best trade-off each time.
pub(crate) fn mmr(
    doc_sim: &[f32],
    word_sim: ArrayView2<'_, f32>,
    top_n: usize,
    diversity: f32,
) -> Vec<usize> {
    let n = doc_sim.len();
    if n == 0 || top_n == 0 {
        return Vec::new();
    }
    let first = top_indices(doc_sim, 1)[0];
    let mut chosen = vec![first];
    let mut left: Vec<usize> = (0..n).filter(|&i| i != first).collect();
    while chosen.len() < top_n.min(n) {
        let score = |c: usize| {
            let redundancy = chosen
                .iter()
                .map(|&k| word_sim[[c, k]])
                .fold(f32::NEG_INFINITY, f32::max);
            (1.0 - diversity) * doc_sim[c] - diversity * redundancy
        };
        let Some((pos, _)) = left
            .iter()
            .enumerate()
            .map(|(p, &c)| (p, score(c)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        else {
            break;
        };
        chosen.push(left.remove(pos));
    }
    chosen
}

/// Indices of the candidates (keys of space-separated words) that survive nesting, best
/// `scores` first: a candidate goes when its word set contains, or is contained in, the word
/// set of a better-scored survivor.
pub(crate) fn not_nested(keys: &[&str], scores: &[f32]) -> Vec<usize> {
    let sets: Vec<Vec<&str>> = keys
        .iter()
        .map(|k| {
            let mut w: Vec<&str> = k.split(' ').collect();
            w.sort_unstable();
            w.dedup();
            w
        })
        .collect();
    let within = |a: &[&str], b: &[&str]| a.iter().all(|w| b.binary_search(w).is_ok());
    let mut kept: Vec<usize> = Vec::new();
    for i in top_indices(scores, scores.len()) {
        let nested = kept
            .iter()
            .any(|&k| within(&sets[i], &sets[k]) || within(&sets[k], &sets[i]));
        if !nested {
            kept.push(i);
        }
    }
    kept
}

/// Number of `k`-subsets of `n` things, saturating.
pub(crate) fn combinations(n: usize, k: usize) -> u64 {
    if k > n {
        return 0;
    }
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k {
        c = c * (n - i) as u128 / (i + 1) as u128;
        if c > u64::MAX as u128 {
            return u64::MAX;
        }
    }
    c as u64
}

/// KeyBERT's Max Sum Similarity; `None` when the combinations exceed `max_combinations`.
pub(crate) fn max_sum(
    doc_sim: &[f32],
    word_sim: ArrayView2<'_, f32>,
    top_n: usize,
    nr_candidates: usize,
    max_combinations: u64,
) -> Option<Vec<usize>> {
    let pool = top_indices(doc_sim, nr_candidates.max(top_n));
    let k = top_n.min(pool.len());
    if k == 0 {
        return Some(Vec::new());
    }
    if combinations(pool.len(), k) > max_combinations {
        return None;
    }
    let mut best: Option<(f32, Vec<usize>)> = None;
    let mut comb: Vec<usize> = (0..k).collect();
    loop {
        let mut sum = 0.0f32;
        for (a, &i) in comb.iter().enumerate() {
            for &j in &comb[a + 1..] {
                sum += word_sim[[pool[i], pool[j]]];
            }
        }
        if best.as_ref().is_none_or(|b| sum < b.0) {
            best = Some((sum, comb.clone()));
        }
        // Next combination in lexicographic order.
        let mut i = k;
        loop {
            if i == 0 {
                let mut picked: Vec<usize> = best
                    .map(|b| b.1.into_iter().map(|c| pool[c]).collect())
                    .unwrap_or_default();
                picked.sort_by(|&a, &b| doc_sim[b].total_cmp(&doc_sim[a]).then(a.cmp(&b)));
                return Some(picked);
            }
            i -= 1;
            if comb[i] < pool.len() - k + i {
                break;
            }
        }
        comb[i] += 1;
        for j in i + 1..k {
            comb[j] = comb[j - 1] + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn nested_candidates_give_way_to_better_scored_ones() {
        let keys = [
            "선형 회귀",
            "선형",
            "회귀 모델",
            "경사 하강법",
            "하강법",
            "체세포 분열",
            "감수 분열",
            "선형 회귀 모델",
        ];
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];
        assert_eq!(not_nested(&keys, &scores), vec![0, 2, 3, 5, 6]);
        // A longer phrase goes too when its part scored better; order follows the scores.
        assert_eq!(
            not_nested(&["판다스 라이브러리", "판다스"], &[0.1, 0.5]),
            vec![1]
        );
        assert_eq!(
            not_nested(&["a b", "b a", "c"], &[0.3, 0.2, 0.1]),
            vec![0, 2]
        );
    }

    #[test]
    fn mmr_trades_relevance_for_novelty() {
        // 0 and 1 are near duplicates; 2 is less relevant but different.
        let doc = [0.9f32, 0.89, 0.6];
        let words = array![[1.0f32, 0.99, 0.1], [0.99, 1.0, 0.1], [0.1, 0.1, 1.0]];
        assert_eq!(mmr(&doc, words.view(), 2, 0.0), vec![0, 1]);
        assert_eq!(mmr(&doc, words.view(), 2, 0.7), vec![0, 2]);
    }

    #[test]
    fn max_sum_picks_the_least_similar_pair_and_respects_the_cap() {
        let doc = [0.9f32, 0.89, 0.6];
        let words = array![[1.0f32, 0.99, 0.1], [0.99, 1.0, 0.2], [0.1, 0.2, 1.0]];
        assert_eq!(max_sum(&doc, words.view(), 2, 3, 100), Some(vec![0, 2]));
        assert_eq!(max_sum(&doc, words.view(), 2, 3, 2), None);
        assert_eq!(combinations(20, 5), 15504);
        assert_eq!(combinations(3, 5), 0);
    }

    proptest! {
        #[test]
        fn selections_are_distinct_and_in_range(sims in proptest::collection::vec(-1.0f32..1.0, 0..12), top_n in 0usize..6) {
            let n = sims.len();
            let words = ndarray::Array2::from_shape_fn((n, n), |(i, j)| if i == j { 1.0 } else { sims[(i + j) % n] });
            for picked in [top_indices(&sims, top_n), mmr(&sims, words.view(), top_n, 0.5),
                           max_sum(&sims, words.view(), top_n, 8, 10_000).unwrap_or_default()] {
                prop_assert!(picked.len() <= top_n.min(n));
                let set: std::collections::HashSet<_> = picked.iter().collect();
                prop_assert_eq!(set.len(), picked.len());
                prop_assert!(picked.iter().all(|&i| i < n));
            }
        }
    }
}
