//! HR@K and NDCG@K under the paper's sampled protocol and under full ranking, plus catalogue
//! coverage.

use std::collections::HashSet;
use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::EvalCase;
use crate::error::{Result, SasRecError};
use crate::item::ItemIdx;
use crate::params::Protocol;

/// Anything that scores every item after each of a batch of histories: the libtorch network
/// while it trains, the serving model after.
pub(crate) trait ScoreRows {
    /// Number of items (columns of a score row).
    fn n_items(&self) -> usize;
    /// Scores `[inputs, n_items]`, row-major, of the next item after each non-empty input.
    fn score_rows(&self, inputs: &[&[ItemIdx]]) -> Result<Vec<f32>>;
}

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalParams {
    /// The cut-off K of HR@K and NDCG@K.
    pub k: usize,
    /// The paper's protocol with this many uniformly sampled unseen negatives (100 in the
    /// paper), or `None` to skip it.
    pub sampled_negatives: Option<usize>,
    /// Full ranking over all items (also gives coverage).
    pub full: bool,
    /// Whether full ranking leaves the user's input items out (`true`, the default: an item
    /// already seen is never served again) or ranks every item (`false`: RecBole's rule for
    /// sequential models, which masks only its padding id). The target always competes.
    #[serde(default = "yes")]
    pub mask_input: bool,
    /// Seed of the sampled negatives (each case draws from its own stream, so results do not
    /// depend on batching or threads).
    pub seed: u64,
    /// Cases scored per forward pass.
    pub batch_size: usize,
}

impl EvalParams {
    /// Both protocols at K = 10 with 100 sampled negatives.
    pub fn paper_and_full() -> Self {
        Self {
            k: 10,
            sampled_negatives: Some(100),
            full: true,
            mask_input: true,
            seed: 1,
            batch_size: 256,
        }
    }

    /// Full ranking only, K = 10.
    pub fn full() -> Self {
        Self {
            sampled_negatives: None,
            ..Self::paper_and_full()
        }
    }

    /// The sampled protocol only, K = 10.
    pub fn sampled(negatives: usize) -> Self {
        Self {
            sampled_negatives: Some(negatives),
            full: false,
            ..Self::paper_and_full()
        }
    }

    /// The same with another seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same with the input masked in full ranking or not (see the field of that name).
    pub fn mask_input(mut self, mask: bool) -> Self {
        self.mask_input = mask;
        self
    }
}

fn yes() -> bool {
    true
}

/// Hit rate and NDCG at K under one protocol.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankMetrics {
    /// Share of cases whose target ranks in the top K.
    pub hr: f64,
    /// Mean of `1 / log2(rank + 2)` over cases with rank < K (rank 0 is the top).
    pub ndcg: f64,
}

impl RankMetrics {
    /// HR@K and NDCG@K of cases whose target ranked at `rank` (0 is the top; `None`: the
    /// target is not in the list at all). No cases give zeros.
    pub fn from_ranks(ranks: impl IntoIterator<Item = Option<usize>>, k: usize) -> Self {
        let (mut cases, mut hr, mut ndcg) = (0usize, 0.0, 0.0);
        for r in ranks {
            cases += 1;
            if let Some(r) = r {
                let (h, g) = gain(r, k);
                hr += h;
                ndcg += g;
            }
        }
        let n = cases.max(1) as f64;
        RankMetrics {
            hr: hr / n,
            ndcg: ndcg / n,
        }
    }
}

/// The outcome of an evaluation; every figure names its protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Number of cases.
    pub users: usize,
    /// The cut-off K.
    pub k: usize,
    /// Negatives of the sampled protocol, if it ran.
    pub sampled_negatives: Option<usize>,
    /// Metrics under the sampled protocol.
    pub sampled: Option<RankMetrics>,
    /// Metrics under full ranking.
    pub full: Option<RankMetrics>,
    /// Whether full ranking left the input out (the `mask_input` of [`EvalParams`]).
    #[serde(default = "yes")]
    pub mask_input: bool,
    /// Share of the catalogue that appears in at least one full-ranking top-K list.
    pub coverage: Option<f64>,
}

impl Evaluation {
    /// NDCG@K under `protocol` (0 when that protocol did not run).
    pub fn ndcg(&self, protocol: Protocol) -> f64 {
        match protocol {
            Protocol::Full => self.full.map_or(0.0, |m| m.ndcg),
            Protocol::Sampled { .. } => self.sampled.map_or(0.0, |m| m.ndcg),
        }
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = self.k;
        if let (Some(m), Some(n)) = (self.sampled, self.sampled_negatives) {
            write!(f, "sampled{n} HR@{k} {:.4} NDCG@{k} {:.4}  ", m.hr, m.ndcg)?;
        }
        if let Some(m) = self.full {
            let rule = if self.mask_input {
                ""
            } else {
                " (nothing masked)"
            };
            write!(f, "full{rule} HR@{k} {:.4} NDCG@{k} {:.4}  ", m.hr, m.ndcg)?;
        }
        if let Some(c) = self.coverage {
            write!(f, "coverage@{k} {c:.4}  ")?;
        }
        write!(f, "({} users)", self.users)
    }
}

/// Per-case outcome.
struct CaseResult {
    sampled_rank: Option<usize>,
    full_rank: Option<usize>,
    top: Vec<ItemIdx>,
}

fn gain(rank: usize, k: usize) -> (f64, f64) {
    if rank < k {
        (1.0, 1.0 / ((rank + 2) as f64).log2())
    } else {
        (0.0, 0.0)
    }
}

/// Evaluates `cases` under the protocols in `params` with any scorer.
pub(crate) fn evaluate(
    scorer: &impl ScoreRows,
    cases: &[EvalCase],
    params: &EvalParams,
) -> Result<Evaluation> {
    let n = scorer.n_items();
    if cases.is_empty() {
        return Err(SasRecError::EmptyInput("no evaluation cases".into()));
    }
    if params.k == 0 || params.k > n {
        return Err(SasRecError::ListLength {
            k: params.k,
            max: n,
        });
    }
    if params.batch_size == 0 {
        return Err(SasRecError::param("batch_size", "must be at least 1"));
    }
    if params.sampled_negatives == Some(0) {
        return Err(SasRecError::param(
            "sampled_negatives",
            "the sampled protocol needs at least one negative",
        ));
    }
    let mut results = Vec::with_capacity(cases.len());
    for (b, chunk) in cases.chunks(params.batch_size).enumerate() {
        for c in chunk {
            let all = c.input.iter().chain(&c.history).chain([&c.target]);
            if let Some(i) = all.into_iter().find(|i| i.index() >= n) {
                return Err(SasRecError::UnknownItem(format!(
                    "item index {i} is outside 0..{n}"
                )));
            }
        }
        let inputs: Vec<&[ItemIdx]> = chunk.iter().map(|c| c.input.as_slice()).collect();
        let scores = scorer.score_rows(&inputs)?;
        let m = n;
        let first = b * params.batch_size;
        let part: Vec<CaseResult> = chunk
            .par_iter()
            .enumerate()
            .map(|(r, c)| {
                let row = &scores[r * m..(r + 1) * m];
                rank_case(row, c, params, first + r)
            })
            .collect();
        results.extend(part);
    }
    let users = results.len();
    let sampled = params
        .sampled_negatives
        .map(|_| RankMetrics::from_ranks(results.iter().map(|r| r.sampled_rank), params.k));
    let full = params
        .full
        .then(|| RankMetrics::from_ranks(results.iter().map(|r| r.full_rank), params.k));
    let coverage = params.full.then(|| {
        let seen: HashSet<ItemIdx> = results.iter().flat_map(|r| r.top.iter().copied()).collect();
        seen.len() as f64 / n as f64
    });
    Ok(Evaluation {
        users,
        k: params.k,
        sampled_negatives: params.sampled_negatives,
        sampled,
        full,
        mask_input: params.mask_input,
        coverage,
    })
}

fn rank_case(row: &[f32], c: &EvalCase, params: &EvalParams, index: usize) -> CaseResult {
    let target = row[c.target.index()];
    let higher = |i: ItemIdx| row[i.index()] > target;
    let sampled_rank = params.sampled_negatives.map(|k| {
        let mut history = c.history.clone();
        history.push(c.target);
        history.sort_unstable();
        let n = row.len() as u32;
        let mut rng = ChaCha8Rng::seed_from_u64(
            params
                .seed
                .wrapping_add((index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        );
        let mut rank = 0;
        for _ in 0..k {
            // Uniform over the unseen items (rejection; a user who has seen everything gets
            // no negatives and rank 0).
            let neg = (0..1000)
                .map(|_| ItemIdx::new(rng.gen_range(1..=n) - 1))
                .find(|i| history.binary_search(i).is_err());
            rank += neg.is_some_and(higher) as usize;
        }
        rank
    });
    let (full_rank, top) = if params.full {
        let mut input: Vec<ItemIdx> = if params.mask_input {
            c.input.iter().copied().filter(|&i| i != c.target).collect()
        } else {
            Vec::new()
        };
        input.sort_unstable();
        input.dedup();
        let all = row.iter().filter(|&&s| s > target).count();
        let masked = input.iter().filter(|&&i| higher(i)).count();
        (Some(all - masked), top_k(row, &input, params.k))
    } else {
        (None, Vec::new())
    };
    CaseResult {
        sampled_rank,
        full_rank,
        top,
    }
}

/// The `k` best items of `row` (the sorted `exclude` left out), best first; ties go to the
/// lower index (scores ordered by `total_cmp`).
pub(crate) fn top_k(row: &[f32], exclude: &[ItemIdx], k: usize) -> Vec<ItemIdx> {
    // `exclude` is sorted and `best_k` asks in increasing order: one walk beside the items.
    let mut excluded = exclude.iter().map(|i| i.index()).peekable();
    let allowed = |i: usize| {
        while excluded.next_if(|&e| e < i).is_some() {}
        excluded.next_if_eq(&i).is_none()
    };
    best_k(row, k, allowed)
        .into_iter()
        .map(|i| ItemIdx::new(i as u32))
        .collect()
}

/// Positions of the `k` highest `scores` that `allowed` lets through, best first; ties go to
/// the lower position (scores ordered by `total_cmp`, so `NaN` sorts above everything).
/// `allowed` is asked at most once per position, in increasing order, and only for a position
/// whose score would enter the `k` kept so far.
///
/// A bounded heap in one pass: once `k` are kept, a position costs one `total_cmp` with the
/// worst kept score unless it enters (later positions lose ties, so only a strictly higher score
/// enters), and memory is `k` entries whatever the catalogue (collecting every candidate
/// first wrote 800 KB per list at 100,000 items). The one top-k of the workspace: SASRec's
/// lists and metrics and the facade's ranked, filtered and re-ranked lists use it.
pub fn best_k(scores: &[f32], k: usize, mut allowed: impl FnMut(usize) -> bool) -> Vec<usize> {
    use std::cmp::{Ordering, Reverse};
    use std::collections::BinaryHeap;
    /// Orders by score, then by lower position (so the heap's least is the worst kept).
    #[derive(PartialEq)]
    struct Entry(f32, usize);
    impl Eq for Entry {}
    impl PartialOrd for Entry {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Entry {
        fn cmp(&self, other: &Self) -> Ordering {
            self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
        }
    }
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::with_capacity(k.min(scores.len()) + 1);
    // The worst score kept, once `k` are kept.
    let mut worst: Option<f32> = None;
    for (p, &s) in scores.iter().enumerate() {
        if worst.is_some_and(|w| s.total_cmp(&w).is_le()) || !allowed(p) {
            continue;
        }
        if heap.len() == k {
            heap.pop();
        }
        heap.push(Reverse(Entry(s, p)));
        if heap.len() == k {
            worst = heap.peek().map(|w| w.0 .0);
        }
    }
    let mut best: Vec<Entry> = heap.into_iter().map(|r| r.0).collect();
    best.sort_unstable_by(|a, b| b.cmp(a));
    let mut out = Vec::with_capacity(best.len());
    out.extend(best.iter().map(|e| e.1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::item::items;

    #[test]
    fn top_k_orders_and_excludes() {
        let row = [0.1, 0.5, 0.3, 0.9, 0.5];
        assert_eq!(top_k(&row, &items([3]), 3), items([1, 4, 2]));
        assert_eq!(top_k(&row, &[], 10), items([3, 1, 4, 2, 0]));
        assert_eq!(top_k(&row, &[], 0), vec![]);
    }

    proptest::proptest! {
        /// Against sorting every candidate: scores from a few values (so ties are common,
        /// signed zeros, NaN and -inf among them), any sorted exclusion, any k.
        #[test]
        fn top_k_is_the_head_of_the_full_sort(
            row in proptest::collection::vec(
                proptest::sample::select(
                    vec![-1.0f32, -0.0, 0.0, 0.5, 2.0, f32::NAN, f32::NEG_INFINITY]),
                0..60),
            exclude in proptest::collection::btree_set(0u32..70, 0..10),
            k in 0usize..70,
        ) {
            let exclude: Vec<ItemIdx> = exclude.into_iter().map(ItemIdx::new).collect();
            let mut all: Vec<u32> = (0..row.len() as u32)
                .filter(|i| !exclude.contains(&ItemIdx::new(*i)))
                .collect();
            all.sort_by(|&a, &b| row[b as usize].total_cmp(&row[a as usize]).then(a.cmp(&b)));
            all.truncate(k);
            let expected: Vec<ItemIdx> = all.into_iter().map(ItemIdx::new).collect();
            proptest::prop_assert_eq!(top_k(&row, &exclude, k), expected);
        }
    }

    #[test]
    fn top_k_holds_room_for_k_items_only() {
        let row: Vec<f32> = (0..100_000).map(|i| (i % 977) as f32).collect();
        let top = top_k(&row, &items([5, 9]), 10);
        assert_eq!(top.len(), 10);
        assert!(top.capacity() <= 10, "capacity {}", top.capacity());
    }

    #[test]
    fn ranks_count_strictly_higher_scores_outside_the_input() {
        let row = [0.2, 0.8, 0.5, 0.9, 0.1];
        let case = EvalCase {
            user: 0,
            input: items([3]),
            target: ItemIdx::new(2),
            history: items([3, 2]),
        };
        let p = EvalParams {
            k: 2,
            sampled_negatives: None,
            full: true,
            mask_input: true,
            seed: 0,
            batch_size: 1,
        };
        let r = rank_case(&row, &case, &p, 0);
        // Item 3 is masked as history; only item 1 beats the target.
        assert_eq!(r.full_rank, Some(1));
        assert_eq!(r.top, items([1, 2]));
        // RecBole's rule: nothing masked, so item 3 beats the target too.
        let r = rank_case(&row, &case, &p.mask_input(false), 0);
        assert_eq!(r.full_rank, Some(2));
        assert_eq!(r.top, items([3, 1]));
        assert_eq!(gain(1, 2), (1.0, 1.0 / 3f64.log2()));
        assert_eq!(gain(2, 2), (0.0, 0.0));
        let m = RankMetrics::from_ranks([Some(0), Some(1), Some(5), None], 2);
        assert_eq!(m.hr, 0.5);
        assert!((m.ndcg - (1.0 + 1.0 / 3f64.log2()) / 4.0).abs() < 1e-12);
    }
}
