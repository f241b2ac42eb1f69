//! The monitoring report of a fitted pipeline.

use std::collections::HashSet;
use std::fmt;

use groundrec_sasrec::{Dataset, EpochLog, EvalParams, TrainReport};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::fitted::FittedPipeline;

/// Wall time of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// The step.
    pub step: String,
    /// Seconds.
    pub seconds: f64,
}

/// HR@10 and NDCG@10 of one way of making lists, on the held-out last events.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HitMetrics {
    /// Share of users whose held-out item is in their top 10.
    pub hr_at_10: f64,
    /// NDCG@10 of the held-out item.
    pub ndcg_at_10: f64,
}

/// Held-out evaluation: each user's last event, predicted from everything before it, under
/// full ranking (every unseen item competes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holdout {
    /// Users evaluated.
    pub users: usize,
    /// The recommender's own ranking.
    pub model: HitMetrics,
    /// The final lists (after fair re-ranking).
    pub lists: HitMetrics,
    /// The most popular unseen items (baseline).
    pub popularity: HitMetrics,
}

/// One cluster's size and the share of list slots it received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterExposure {
    /// Cluster index.
    pub cluster: usize,
    /// Items in the cluster.
    pub items: usize,
    /// Share of the catalogue.
    pub catalogue_share: f64,
    /// Share of all recommended slots.
    pub exposure_share: f64,
    /// A few keywords of the cluster's items.
    pub keywords: Vec<String>,
}

/// What fitting produced and how good the lists are (printable, serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Catalogue items.
    pub items: usize,
    /// Users with events.
    pub users: usize,
    /// Training interactions.
    pub train_events: usize,
    /// Held-out metrics (when holdout is on).
    pub holdout: Option<Holdout>,
    /// Share of the catalogue in at least one top-10 list.
    pub coverage: f64,
    /// Mean pairwise cosine distance between the items of a list.
    pub intra_list_diversity: f64,
    /// Per cluster: size and exposure.
    pub clusters: Vec<ClusterExposure>,
    /// Items with no training events that appear in some list.
    pub cold_items_recommended: usize,
    /// Items with no training events.
    pub cold_items: usize,
    /// The recommender's training curve.
    pub training: Vec<EpochLog>,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Wall time per step.
    pub timings: Vec<Timing>,
}

fn hit(list: &[u32], target: u32) -> (f64, f64) {
    match list.iter().position(|&i| i == target) {
        Some(p) => (1.0, 1.0 / ((p + 2) as f64).log2()),
        None => (0.0, 0.0),
    }
}

fn mean_hits(hits: &[(f64, f64)]) -> HitMetrics {
    let n = hits.len().max(1) as f64;
    HitMetrics {
        hr_at_10: hits.iter().map(|h| h.0).sum::<f64>() / n,
        ndcg_at_10: hits.iter().map(|h| h.1).sum::<f64>() / n,
    }
}

impl Report {
    pub(crate) fn build(
        fitted: &FittedPipeline,
        data: &Dataset,
        users: &[String],
        train: TrainReport,
        timings: Vec<Timing>,
    ) -> Result<Self> {
        let n = fitted.catalog.len();
        let counts = data.train_counts();
        // Lists for the held-out users, or for every user's whole history.
        let (inputs, targets): (Vec<Vec<u32>>, Vec<Option<u32>>) = if data.test.is_empty() {
            data.train
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| (s.clone(), None))
                .unzip()
        } else {
            data.test
                .iter()
                .map(|c| (c.input.clone(), Some(c.target)))
                .unzip()
        };
        let lists = fitted.recommend_dense(&inputs, 10.min(n.saturating_sub(1)).max(1))?;
        let dense: Vec<Vec<u32>> = lists
            .iter()
            .map(|l| {
                l.iter()
                    .filter_map(|r| fitted.catalog.position(&r.item).map(|p| p as u32 + 1))
                    .collect()
            })
            .collect();
        let holdout = if data.test.is_empty() {
            None
        } else {
            let eval = fitted.model.evaluate(&data.test, &EvalParams::full())?;
            let model = eval.full.map_or(
                HitMetrics {
                    hr_at_10: 0.0,
                    ndcg_at_10: 0.0,
                },
                |m| HitMetrics {
                    hr_at_10: m.hr,
                    ndcg_at_10: m.ndcg,
                },
            );
            let mut by_pop: Vec<u32> = (1..=n as u32).collect();
            by_pop.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
            let pop_hits: Vec<(f64, f64)> = data
                .test
                .iter()
                .map(|c| {
                    let seen: HashSet<u32> =
                        c.input.iter().copied().filter(|&i| i != c.target).collect();
                    let top: Vec<u32> = by_pop
                        .iter()
                        .copied()
                        .filter(|i| !seen.contains(i))
                        .take(10)
                        .collect();
                    hit(&top, c.target)
                })
                .collect();
            let list_hits: Vec<(f64, f64)> = dense
                .iter()
                .zip(&targets)
                .map(|(l, t)| t.map_or((0.0, 0.0), |t| hit(l, t)))
                .collect();
            Some(Holdout {
                users: data.test.len(),
                model,
                lists: mean_hits(&list_hits),
                popularity: mean_hits(&pop_hits),
            })
        };
        let shown: HashSet<u32> = dense.iter().flatten().copied().collect();
        let cold: Vec<u32> = (1..=n as u32)
            .filter(|&i| counts[i as usize] == 0)
            .collect();
        let emb = &fitted.embeddings;
        let mut ild = Vec::new();
        for l in &dense {
            let mut s = 0.0;
            let mut pairs = 0;
            for a in 0..l.len() {
                for b in a + 1..l.len() {
                    let dot = emb.row(l[a] as usize - 1).dot(&emb.row(l[b] as usize - 1));
                    s += 1.0 - f64::from(dot);
                    pairs += 1;
                }
            }
            if pairs > 0 {
                ild.push(s / f64::from(pairs));
            }
        }
        let labels = fitted.clusters();
        let k = labels.iter().max().map_or(0, |m| m + 1);
        let slots = dense.iter().map(Vec::len).sum::<usize>().max(1) as f64;
        let clusters = (0..k)
            .map(|c| {
                let members: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
                let exposure = dense
                    .iter()
                    .flatten()
                    .filter(|&&i| labels[i as usize - 1] == c)
                    .count() as f64
                    / slots;
                let mut kw: Vec<String> = Vec::new();
                for &m in &members {
                    if let Some(w) = fitted.keywords[m].first() {
                        if !kw.contains(w) && kw.len() < 4 {
                            kw.push(w.clone());
                        }
                    }
                }
                ClusterExposure {
                    cluster: c,
                    items: members.len(),
                    catalogue_share: members.len() as f64 / n as f64,
                    exposure_share: exposure,
                    keywords: kw,
                }
            })
            .collect();
        Ok(Report {
            items: n,
            users: users.len(),
            train_events: data.train.iter().map(Vec::len).sum(),
            holdout,
            coverage: shown.len() as f64 / n as f64,
            intra_list_diversity: ild.iter().sum::<f64>() / ild.len().max(1) as f64,
            clusters,
            cold_items_recommended: cold.iter().filter(|i| shown.contains(i)).count(),
            cold_items: cold.len(),
            best_epoch: train.best_epoch,
            training: train.epochs,
            timings,
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} items, {} users, {} training events, {} clusters",
            self.items,
            self.users,
            self.train_events,
            self.clusters.len()
        )?;
        if let Some(h) = &self.holdout {
            writeln!(
                f,
                "held-out last event of {} users (full ranking, top 10):",
                h.users
            )?;
            for (name, m) in [
                ("recommender", h.model),
                ("final lists", h.lists),
                ("popularity", h.popularity),
            ] {
                writeln!(
                    f,
                    "  {name:<12} HR@10 {:.4}  NDCG@10 {:.4}",
                    m.hr_at_10, m.ndcg_at_10
                )?;
            }
        }
        writeln!(
            f,
            "coverage {:.3}, intra-list diversity {:.3}, cold items recommended {}/{}",
            self.coverage, self.intra_list_diversity, self.cold_items_recommended, self.cold_items
        )?;
        writeln!(
            f,
            "cluster exposure (share of slots vs share of catalogue):"
        )?;
        for c in &self.clusters {
            writeln!(
                f,
                "  {:>2}: {:.3} vs {:.3}  {}",
                c.cluster,
                c.exposure_share,
                c.catalogue_share,
                c.keywords.join(", ")
            )?;
        }
        write!(
            f,
            "training: {} epochs (kept {}); ",
            self.training.len(),
            self.best_epoch
        )?;
        let steps: Vec<String> = self
            .timings
            .iter()
            .map(|t| format!("{} {:.1}s", t.step, t.seconds))
            .collect();
        write!(f, "{}", steps.join(", "))
    }
}
