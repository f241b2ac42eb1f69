//! The monitoring report of a fit, built from explicit parts (lists, targets, clusters,
//! embeddings) so that it depends on no pipeline type.

use std::collections::HashSet;
use std::fmt;

use groundrec_sasrec::{Dataset, EpochLog, Loss, RankMetrics, TrainReport};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

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

impl From<RankMetrics> for HitMetrics {
    fn from(m: RankMetrics) -> Self {
        Self {
            hr_at_10: m.hr,
            ndcg_at_10: m.ndcg,
        }
    }
}

/// Held-out evaluation: each user's last event, predicted from everything before it. All
/// three figures use the rule lists are served by: every item of the user's history is left
/// out, every other live item competes (so a held-out item the user had taken before counts
/// as a miss for all three).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holdout {
    /// Users evaluated.
    pub users: usize,
    /// The recommender's own ranking (no re-ranking).
    pub model: HitMetrics,
    /// The final lists (after fair re-ranking).
    pub lists: HitMetrics,
    /// The most popular items (baseline).
    pub popularity: HitMetrics,
    /// Held-out items that were already in the user's history (unreachable under the rule).
    pub repeated_targets: usize,
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
    /// The embedder that ran, as it describes itself (a model's line names the precision
    /// its encoder ran in, e.g. `int8`, which `Precision::Auto` chose).
    #[serde(default)]
    pub embedder: String,
    /// Catalogue items.
    pub items: usize,
    /// Users with events.
    pub users: usize,
    /// Training interactions.
    pub train_events: usize,
    /// Held-out metrics (when holdout is on).
    pub holdout: Option<Holdout>,
    /// Share of the catalogue in at least one final list.
    pub coverage: f64,
    /// Mean pairwise cosine distance between the items of a list.
    pub intra_list_diversity: f64,
    /// Per cluster: size and exposure.
    pub clusters: Vec<ClusterExposure>,
    /// Adjusted Rand index between the clusters and the items' categories (1: clusters are
    /// the categories; about 0: unrelated), when at least two categories are given.
    #[serde(default)]
    pub category_agreement: Option<f64>,
    /// Items with no training events that appear in some list.
    pub cold_items_recommended: usize,
    /// Items with no training events.
    pub cold_items: usize,
    /// The recommender's training curve.
    pub training: Vec<EpochLog>,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// The loss that trained the recommender (absent in reports saved before it was kept).
    #[serde(default)]
    pub loss: Option<Loss>,
    /// Wall time per step.
    pub timings: Vec<Timing>,
}

/// Lists made for the report (item positions, best first).
pub(crate) struct HeldLists {
    /// Final lists, one per user the report looks at.
    pub(crate) lists: Vec<Vec<usize>>,
    /// With holdout: the other rankings of the same users, and their targets.
    pub(crate) holdout: Option<Rankings>,
    /// Held-out targets already in the history.
    pub(crate) repeated: usize,
}

/// The recommender's own lists and popularity's, beside the final ones, and each user's
/// held-out item.
pub(crate) struct Rankings {
    pub(crate) model: Vec<Vec<usize>>,
    pub(crate) popularity: Vec<Vec<usize>>,
    pub(crate) targets: Vec<usize>,
}

/// Everything the report is made of.
pub(crate) struct ReportParts<'a> {
    pub(crate) embedder: String,
    pub(crate) users: usize,
    /// Each item's category, where it has one.
    pub(crate) categories: Vec<Option<&'a str>>,
    pub(crate) data: &'a Dataset,
    pub(crate) held: HeldLists,
    pub(crate) clusters: &'a [usize],
    pub(crate) embeddings: &'a Array2<f32>,
    pub(crate) keywords: &'a [Vec<String>],
    pub(crate) train: TrainReport,
    pub(crate) timings: Vec<Timing>,
}

/// Mean over lists of the mean pairwise cosine distance `1 − cos` between a list's items
/// (item positions into the unit-length `embeddings`; lists of fewer than two items count
/// for nothing). The report's `intra_list_diversity`.
pub fn intra_list_diversity(lists: &[Vec<usize>], embeddings: &Array2<f32>) -> f64 {
    let mut per_list = Vec::new();
    for l in lists {
        let mut s = 0.0;
        let mut pairs = 0;
        for a in 0..l.len() {
            for b in a + 1..l.len() {
                s += 1.0 - f64::from(embeddings.row(l[a]).dot(&embeddings.row(l[b])));
                pairs += 1;
            }
        }
        if pairs > 0 {
            per_list.push(s / f64::from(pairs));
        }
    }
    per_list.iter().sum::<f64>() / per_list.len().max(1) as f64
}

fn metrics(lists: &[Vec<usize>], targets: &[usize]) -> HitMetrics {
    RankMetrics::from_ranks(
        lists
            .iter()
            .zip(targets)
            .map(|(l, t)| l.iter().position(|p| p == t)),
        10,
    )
    .into()
}

impl Report {
    pub(crate) fn build(p: ReportParts<'_>) -> Self {
        let n = p.data.n_items();
        let counts = p.data.train_counts();
        let lists = &p.held.lists;
        let holdout = p.held.holdout.as_ref().map(|r| Holdout {
            users: r.targets.len(),
            model: metrics(&r.model, &r.targets),
            lists: metrics(lists, &r.targets),
            popularity: metrics(&r.popularity, &r.targets),
            repeated_targets: p.held.repeated,
        });
        let shown: HashSet<usize> = lists.iter().flatten().copied().collect();
        let cold: Vec<usize> = (0..n).filter(|&i| counts[i] == 0).collect();
        let labels = p.clusters;
        let k = labels.iter().max().map_or(0, |m| m + 1);
        let slots = lists.iter().map(Vec::len).sum::<usize>().max(1) as f64;
        let clusters = (0..k)
            .map(|c| {
                let members: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
                let exposure =
                    lists.iter().flatten().filter(|&&i| labels[i] == c).count() as f64 / slots;
                let mut kw: Vec<String> = Vec::new();
                for &m in &members {
                    if let Some(w) = p.keywords[m].first() {
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
        let category_agreement = {
            let mut names: Vec<&str> = p.categories.iter().flatten().copied().collect();
            names.sort_unstable();
            names.dedup();
            let with: Vec<usize> = (0..n).filter(|&i| p.categories[i].is_some()).collect();
            (names.len() >= 2).then(|| {
                let cat: Vec<usize> = with
                    .iter()
                    .map(|&i| {
                        names
                            .binary_search(&p.categories[i].unwrap_or(""))
                            .unwrap_or(0)
                    })
                    .collect();
                let lab: Vec<usize> = with.iter().map(|&i| labels[i]).collect();
                groundrec_kmeans::adjusted_rand_index(&lab, &cat)
            })
        };
        Report {
            embedder: p.embedder,
            items: n,
            users: p.users,
            category_agreement,
            train_events: p.data.train.iter().map(Vec::len).sum(),
            holdout,
            coverage: shown.len() as f64 / n.max(1) as f64,
            intra_list_diversity: intra_list_diversity(lists, p.embeddings),
            clusters,
            cold_items_recommended: cold.iter().filter(|i| shown.contains(i)).count(),
            cold_items: cold.len(),
            best_epoch: p.train.best_epoch,
            loss: Some(p.train.loss),
            training: p.train.epochs,
            timings: p.timings,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "embedder: {}", self.embedder)?;
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
                "held-out last event of {} users (top 10 of the items outside each history; \
                 {} held-out items were in the history already):",
                h.users, h.repeated_targets
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
        if let Some(a) = self.category_agreement {
            writeln!(f, "clusters against categories: adjusted Rand index {a:.3}")?;
        }
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
            "training: {} epochs (kept {}){}; ",
            self.training.len(),
            self.best_epoch,
            self.loss.map(|l| format!(", {l}")).unwrap_or_default()
        )?;
        let steps: Vec<String> = self
            .timings
            .iter()
            .map(|t| format!("{} {:.1}s", t.step, t.seconds))
            .collect();
        write!(f, "{}", steps.join(", "))
    }
}
