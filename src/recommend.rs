//! Lists: recommendations for a history and similar items, with per-call options and filters,
//! and the reason each item is there.

use groundrec_sasrec::ItemIdx;
use serde::{Deserialize, Serialize};

use crate::error::{GroundrecError, Result};
use crate::fitted::FittedPipeline;
use crate::params::{Fair, FairSettings};

/// Fair re-ranking of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Rerank {
    /// The pipeline's settings for recommendations; none for similar items (default).
    #[default]
    Pipeline,
    /// No re-ranking: the score order.
    Off,
    /// These settings.
    With(FairSettings),
}

/// Options of one [`FittedPipeline::recommend`] or [`FittedPipeline::similar`] call.
///
/// Filters restrict which items may appear, before re-ranking: an item must be in one of the
/// `categories` (when any are given), in one of the `languages` ([`Item::in_language`]), in
/// one of the `clusters`, not `exclude`d and not retired. Filter values that name nothing in
/// the catalogue are errors ([`GroundrecError::UnknownFilter`], [`GroundrecError::UnknownItem`]);
/// a filter that leaves no item gives an empty list with [`EmptyReason::NoMatch`].
///
/// [`Item::in_language`]: crate::Item::in_language
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecommendOptions {
    n: usize,
    exclude: Vec<String>,
    categories: Vec<String>,
    languages: Vec<String>,
    clusters: Vec<usize>,
    include_seen: bool,
    rerank: Rerank,
    skip_unknown: bool,
}

impl Default for RecommendOptions {
    fn default() -> Self {
        Self::new(10)
    }
}

impl RecommendOptions {
    /// `n` items (at least 1; fewer come back when fewer items qualify), no filters, seen
    /// items left out, the pipeline's re-ranking.
    pub fn new(n: usize) -> Self {
        Self {
            n,
            exclude: Vec::new(),
            categories: Vec::new(),
            languages: Vec::new(),
            clusters: Vec::new(),
            include_seen: false,
            rerank: Rerank::Pipeline,
            skip_unknown: false,
        }
    }
    /// The list length.
    pub fn n(mut self, n: usize) -> Self {
        self.n = n;
        self
    }
    /// Items never to list.
    pub fn exclude<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.exclude = ids.into_iter().map(Into::into).collect();
        self
    }
    /// Only items of these categories.
    pub fn categories<S: Into<String>>(mut self, c: impl IntoIterator<Item = S>) -> Self {
        self.categories = c.into_iter().map(Into::into).collect();
        self
    }
    /// Only items in these languages.
    pub fn languages<S: Into<String>>(mut self, l: impl IntoIterator<Item = S>) -> Self {
        self.languages = l.into_iter().map(Into::into).collect();
        self
    }
    /// Only items of these clusters.
    pub fn clusters(mut self, c: impl IntoIterator<Item = usize>) -> Self {
        self.clusters = c.into_iter().collect();
        self
    }
    /// List items of the history too (reviews); off by default.
    pub fn include_seen(mut self, on: bool) -> Self {
        self.include_seen = on;
        self
    }
    /// Fair re-ranking for this call.
    pub fn rerank(mut self, r: Rerank) -> Self {
        self.rerank = r;
        self
    }
    /// Read past history ids the pipeline does not know instead of failing (for histories
    /// kept elsewhere, such as a store that outlived a catalogue change).
    pub fn skip_unknown_history(mut self, on: bool) -> Self {
        self.skip_unknown = on;
        self
    }
    /// The list length asked for.
    pub fn len(&self) -> usize {
        self.n
    }
    /// Whether the list length is zero (an invalid request).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// The filters: categories, languages, clusters, excluded ids, and whether seen items
    /// may come back.
    pub fn filters(&self) -> (&[String], &[String], &[usize], &[String], bool) {
        (
            &self.categories,
            &self.languages,
            &self.clusters,
            &self.exclude,
            self.include_seen,
        )
    }
}

/// Why an item is in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    /// The recommender ranked it from the history (an item it learned from events).
    Model,
    /// The recommender ranked it from the history through its content alone (an item without
    /// training events: new, or never taken).
    ContentOnly,
    /// No usable history: among the most popular items that pass the filters.
    Popularity,
    /// Close to the query item's embedding ([`FittedPipeline::similar`]).
    Similar,
}

/// Why a list is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmptyReason {
    /// No live item passes the filters.
    NoMatch,
    /// Items pass the filters, but the history or `exclude` holds all of them.
    AllSeen,
}

/// One listed item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Item id.
    pub item: String,
    /// Item title.
    pub title: String,
    /// The score it was ranked by: a logit, a popularity share, or a cosine.
    pub score: f32,
    /// The item's cluster.
    pub cluster: usize,
    /// The item's top keywords (at most three).
    pub keywords: Vec<String>,
    /// Why it is there.
    pub reason: Reason,
}

/// A list and, when it is empty, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecommendList {
    /// The items, best first.
    pub items: Vec<Recommendation>,
    /// Set when `items` is empty.
    pub empty: Option<EmptyReason>,
}

/// The options checked against the catalogue.
pub(crate) struct Plan {
    pub(crate) n: usize,
    /// Items that pass the filters and are live.
    pub(crate) eligible: Vec<bool>,
    pub(crate) any_eligible: bool,
    pub(crate) include_seen: bool,
    pub(crate) rerank: Option<Fair>,
    pub(crate) skip_unknown: bool,
}

impl FittedPipeline {
    pub(crate) fn plan(&self, o: &RecommendOptions, default_rerank: Option<&Fair>) -> Result<Plan> {
        if o.n == 0 {
            return Err(GroundrecError::ZeroLength);
        }
        let items = self.catalog.items();
        for (field, values) in [("category", &o.categories), ("language", &o.languages)] {
            for v in values {
                let known = items.iter().any(|i| match field {
                    "category" => i.category.as_deref() == Some(v.as_str()),
                    _ => i.in_language(v),
                });
                if !known {
                    return Err(GroundrecError::UnknownFilter {
                        field,
                        value: v.clone(),
                    });
                }
            }
        }
        let k = self.kmeans.k();
        if let Some(c) = o.clusters.iter().find(|&&c| c >= k) {
            return Err(GroundrecError::UnknownFilter {
                field: "cluster",
                value: c.to_string(),
            });
        }
        let mut eligible: Vec<bool> = items
            .iter()
            .enumerate()
            .map(|(p, i)| {
                !self.retired[p]
                    && (o.categories.is_empty()
                        || o.categories
                            .iter()
                            .any(|c| i.category.as_deref() == Some(c)))
                    && (o.languages.is_empty() || o.languages.iter().any(|l| i.in_language(l)))
                    && (o.clusters.is_empty() || o.clusters.contains(&self.clusters[p]))
            })
            .collect();
        let any_eligible = eligible.iter().any(|e| *e);
        for id in &o.exclude {
            let p = self
                .catalog
                .position(id)
                .ok_or_else(|| GroundrecError::UnknownItem(id.clone()))?;
            eligible[p] = false;
        }
        let rerank = match o.rerank {
            Rerank::Pipeline => default_rerank.cloned(),
            Rerank::Off => None,
            Rerank::With(f) => Some(f.check()?),
        };
        Ok(Plan {
            n: o.n,
            eligible,
            any_eligible,
            include_seen: o.include_seen,
            rerank,
            skip_unknown: o.skip_unknown,
        })
    }

    /// A history of ids as item indices, consecutive repeats collapsed as in training.
    pub(crate) fn history(&self, ids: &[&str], skip_unknown: bool) -> Result<Vec<ItemIdx>> {
        let mut out: Vec<ItemIdx> = Vec::with_capacity(ids.len());
        for id in ids {
            match self.catalog.position(id) {
                Some(p) => {
                    let i = ItemIdx::new(p as u32);
                    if out.last() != Some(&i) {
                        out.push(i);
                    }
                }
                None if skip_unknown => {}
                None => return Err(GroundrecError::UnknownItem((*id).to_string())),
            }
        }
        Ok(out)
    }

    /// The next items for a history of item ids (oldest first). The recommender scores every
    /// item; the best `pool_factor × n` that pass the options are re-ranked so that no cluster
    /// takes more than `max_per_window` of any `window` consecutive slots, and the first `n`
    /// are the list. An empty history gets the most popular items that pass the filters
    /// (popular within a category or cluster when the options ask for one). Unknown ids are
    /// an error unless [`RecommendOptions::skip_unknown_history`] is set.
    pub fn recommend(&self, history: &[&str], options: &RecommendOptions) -> Result<RecommendList> {
        Ok(self
            .recommend_batch(&[history], options)?
            .pop()
            .unwrap_or(RecommendList {
                items: Vec::new(),
                empty: Some(EmptyReason::NoMatch),
            }))
    }

    /// [`FittedPipeline::recommend`] for many histories at once (scored in batches, lists
    /// built in parallel on rayon's pool).
    pub fn recommend_batch(
        &self,
        histories: &[&[&str]],
        options: &RecommendOptions,
    ) -> Result<Vec<RecommendList>> {
        let plan = self.plan(options, Some(&self.fair))?;
        let indexed = histories
            .iter()
            .map(|h| self.history(h, plan.skip_unknown))
            .collect::<Result<Vec<_>>>()?;
        let counts = self.model.popularity();
        Ok(self
            .ranked(&indexed, &[&plan])?
            .pop()
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                let items = r
                    .positions
                    .iter()
                    .zip(&r.scores)
                    .map(|(&p, &score)| {
                        let reason = match (r.from_history, counts[p] > 0) {
                            (false, _) => Reason::Popularity,
                            (true, true) => Reason::Model,
                            (true, false) => Reason::ContentOnly,
                        };
                        self.entry(p, score, reason)
                    })
                    .collect();
                RecommendList {
                    items,
                    empty: r.empty,
                }
            })
            .collect())
    }

    fn entry(&self, p: usize, score: f32, reason: Reason) -> Recommendation {
        Recommendation {
            item: self.catalog.items()[p].id.clone(),
            title: self.catalog.items()[p].title.clone(),
            score,
            cluster: self.clusters[p],
            keywords: self.keywords[p].iter().take(3).cloned().collect(),
            reason,
        }
    }

    /// Items closest to `id` by the cosine of their embeddings (the same text embedding that
    /// places items in clusters, so a lecture's Korean and English versions find each other
    /// with a multilingual model), with the same options as [`FittedPipeline::recommend`]:
    /// filters apply, the item itself never appears, re-ranking only when the options set
    /// [`Rerank::With`]. The query item may be retired.
    pub fn similar(&self, id: &str, options: &RecommendOptions) -> Result<RecommendList> {
        let p = self
            .catalog
            .position(id)
            .ok_or_else(|| GroundrecError::UnknownItem(id.to_string()))?;
        let plan = self.plan(options, None)?;
        let scores: Vec<f32> = self.embeddings.dot(&self.embeddings.row(p)).to_vec();
        let me = [ItemIdx::new(p as u32)];
        let plan = Plan {
            include_seen: false,
            ..plan
        };
        Ok(match self.positions(&scores, &me, &plan)? {
            Ok(list) => RecommendList {
                items: list
                    .into_iter()
                    .map(|q| self.entry(q, scores[q], Reason::Similar))
                    .collect(),
                empty: None,
            },
            Err(empty) => RecommendList {
                items: Vec::new(),
                empty: Some(empty),
            },
        })
    }
}
