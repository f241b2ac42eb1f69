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
use crate::params::Protocol;
use crate::serve::SasRecModel;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalParams {
    /// The cut-off K of HR@K and NDCG@K.
    pub k: usize,
    /// The paper's protocol with this many uniformly sampled unseen negatives (100 in the
    /// paper), or `None` to skip it.
    pub sampled_negatives: Option<usize>,
    /// Full ranking over all items minus the user's input history (also gives coverage).
    pub full: bool,
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
}

/// Hit rate and NDCG at K under one protocol.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankMetrics {
    /// Share of cases whose target ranks in the top K.
    pub hr: f64,
    /// Mean of `1 / log2(rank + 2)` over cases with rank < K (rank 0 is the top).
    pub ndcg: f64,
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
            write!(f, "full HR@{k} {:.4} NDCG@{k} {:.4}  ", m.hr, m.ndcg)?;
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
    top: Vec<u32>,
}

fn gain(rank: usize, k: usize) -> (f64, f64) {
    if rank < k {
        (1.0, 1.0 / ((rank + 2) as f64).log2())
    } else {
        (0.0, 0.0)
    }
}

impl SasRecModel {
    /// Evaluates `cases` under the protocols in `params`.
    pub fn evaluate(&self, cases: &[EvalCase], params: &EvalParams) -> Result<Evaluation> {
        let n = self.n_items();
        if cases.is_empty() {
            return Err(SasRecError::EmptyInput("no evaluation cases".into()));
        }
        if params.k == 0 || params.k > n || params.batch_size == 0 {
            return Err(SasRecError::InvalidParam(format!(
                "need 1 <= k <= {n} items and batch_size >= 1, got k = {} and batch_size = {}",
                params.k, params.batch_size
            )));
        }
        if params.sampled_negatives == Some(0) {
            return Err(SasRecError::InvalidParam(
                "the sampled protocol needs at least one negative".into(),
            ));
        }
        let mut results = Vec::with_capacity(cases.len());
        for (b, chunk) in cases.chunks(params.batch_size).enumerate() {
            for c in chunk {
                self.check_ids(c.input.iter().chain(&c.history).chain([&c.target]))?;
            }
            let inputs: Vec<&[u32]> = chunk.iter().map(|c| c.input.as_slice()).collect();
            let scores = self.score_rows(&inputs)?;
            let m = n + 1;
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
        let mean = |ranks: Vec<usize>| {
            let (hr, ndcg) = ranks.iter().fold((0.0, 0.0), |(h, g), &r| {
                let (dh, dg) = gain(r, params.k);
                (h + dh, g + dg)
            });
            RankMetrics {
                hr: hr / users as f64,
                ndcg: ndcg / users as f64,
            }
        };
        let sampled = params
            .sampled_negatives
            .map(|_| mean(results.iter().filter_map(|r| r.sampled_rank).collect()));
        let full = params
            .full
            .then(|| mean(results.iter().filter_map(|r| r.full_rank).collect()));
        let coverage = params.full.then(|| {
            let seen: HashSet<u32> = results.iter().flat_map(|r| r.top.iter().copied()).collect();
            seen.len() as f64 / n as f64
        });
        Ok(Evaluation {
            users,
            k: params.k,
            sampled_negatives: params.sampled_negatives,
            sampled,
            full,
            coverage,
        })
    }
}

fn rank_case(row: &[f32], c: &EvalCase, params: &EvalParams, index: usize) -> CaseResult {
    let target = row[c.target as usize];
    let higher = |i: u32| row[i as usize] > target;
    let sampled_rank = params.sampled_negatives.map(|k| {
        let mut history = c.history.clone();
        history.push(c.target);
        history.sort_unstable();
        let n = row.len() as u32 - 1;
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
                .map(|_| rng.gen_range(1..=n))
                .find(|i| history.binary_search(i).is_err());
            rank += neg.is_some_and(higher) as usize;
        }
        rank
    });
    let (full_rank, top) = if params.full {
        let mut input: Vec<u32> = c.input.iter().copied().filter(|&i| i != c.target).collect();
        input.sort_unstable();
        input.dedup();
        let all = (1..row.len() as u32).filter(|&i| higher(i)).count();
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

/// The `k` best items of `row` (padding and the sorted `exclude` left out), best first.
pub(crate) fn top_k(row: &[f32], exclude: &[u32], k: usize) -> Vec<u32> {
    let mut cand: Vec<(f32, u32)> = (1..row.len() as u32)
        .filter(|i| exclude.binary_search(i).is_err())
        .map(|i| (row[i as usize], i))
        .collect();
    let by_score = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    if cand.len() > k {
        cand.select_nth_unstable_by(k - 1, by_score);
        cand.truncate(k);
    }
    cand.sort_unstable_by(by_score);
    cand.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_orders_and_excludes() {
        let row = [9.0, 0.1, 0.5, 0.3, 0.9, 0.5];
        assert_eq!(top_k(&row, &[4], 3), vec![2, 5, 3]);
        assert_eq!(top_k(&row, &[], 10), vec![4, 2, 5, 3, 1]);
    }

    #[test]
    fn ranks_count_strictly_higher_scores_outside_the_input() {
        let row = [0.0, 0.2, 0.8, 0.5, 0.9, 0.1];
        let case = EvalCase {
            user: 0,
            input: vec![4],
            target: 3,
            history: vec![4, 3],
        };
        let p = EvalParams {
            k: 2,
            sampled_negatives: None,
            full: true,
            seed: 0,
            batch_size: 1,
        };
        let r = rank_case(&row, &case, &p, 0);
        // Item 4 is masked as history; only item 2 beats the target.
        assert_eq!(r.full_rank, Some(1));
        assert_eq!(r.top, vec![2, 3]);
        assert_eq!(gain(1, 2), (1.0, 1.0 / 3f64.log2()));
        assert_eq!(gain(2, 2), (0.0, 0.0));
    }
}
