//! Lists: recommendations for a history and similar items, with per-call options and filters,
//! and the reason each item is there.

use groundrec_sasrec::ItemIdx;
use rayon::prelude::*;
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

/// Which lists [`FittedPipeline::position_lists`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    /// The recommender's ranking, re-ranked by the pipeline's fairness settings.
    Fair,
    /// The recommender's ranking as it is.
    Model,
    /// The most popular items outside the history.
    Popularity,
}

/// A ranked list before it is dressed as [`Recommendation`]s.
struct Ranked {
    positions: Vec<usize>,
    scores: Vec<f32>,
    from_history: bool,
    empty: Option<EmptyReason>,
}

/// The options checked against the catalogue.
struct Plan {
    n: usize,
    /// Items that pass the filters and are live.
    eligible: Vec<bool>,
    any_eligible: bool,
    include_seen: bool,
    rerank: Option<Fair>,
    skip_unknown: bool,
}

impl FittedPipeline {
    fn plan(&self, o: &RecommendOptions, default_rerank: Option<&Fair>) -> Result<Plan> {
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

    /// Lists (item positions, best first) of `n` items for histories of item indices, one set
    /// of lists per entry of `kinds` (in that order): the recommender's ranking re-ranked by
    /// the pipeline's settings ([`ListKind::Fair`]) or as it is ([`ListKind::Model`]), or the
    /// most popular items outside each history ([`ListKind::Popularity`]). The recommender
    /// scores each history once for all the kinds that need its scores.
    pub(crate) fn position_lists(
        &self,
        histories: &[Vec<ItemIdx>],
        n: usize,
        kinds: &[ListKind],
    ) -> Result<Vec<Vec<Vec<usize>>>> {
        let plans = kinds
            .iter()
            .map(|k| {
                let rerank = match k {
                    ListKind::Fair => Rerank::Pipeline,
                    ListKind::Model | ListKind::Popularity => Rerank::Off,
                };
                self.plan(&RecommendOptions::new(n).rerank(rerank), Some(&self.fair))
            })
            .collect::<Result<Vec<_>>>()?;
        let scored: Vec<&Plan> = kinds
            .iter()
            .zip(&plans)
            .filter(|(k, _)| **k != ListKind::Popularity)
            .map(|(_, p)| p)
            .collect();
        let mut ranked = if scored.is_empty() {
            Vec::new()
        } else {
            self.ranked(histories, &scored)?
        }
        .into_iter();
        let popular = self.model.popularity_shares();
        kinds
            .iter()
            .zip(&plans)
            .map(|(k, plan)| match k {
                ListKind::Popularity => histories
                    .par_iter()
                    .map(|h| Ok(self.positions(popular, h, plan)?.unwrap_or_default()))
                    .collect(),
                ListKind::Fair | ListKind::Model => Ok(ranked
                    .next()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| r.positions)
                    .collect()),
            })
            .collect()
    }

    /// Ranked lists for histories of item indices, one set per plan (`[plan][history]`); each
    /// history is scored once for all the plans.
    fn ranked(&self, histories: &[Vec<ItemIdx>], plans: &[&Plan]) -> Result<Vec<Vec<Ranked>>> {
        let popular = self.model.popularity_shares();
        let mut out: Vec<Vec<Ranked>> = plans
            .iter()
            .map(|_| Vec::with_capacity(histories.len()))
            .collect();
        for chunk in histories.chunks(256) {
            let with: Vec<Vec<ItemIdx>> = chunk.iter().filter(|h| !h.is_empty()).cloned().collect();
            let scores = if with.is_empty() {
                None
            } else {
                Some(self.model.scores(&with)?)
            };
            let mut rows = scores.as_ref().map(|s| s.outer_iter());
            let jobs: Vec<(&Vec<ItemIdx>, Option<ndarray::ArrayView1<'_, f32>>)> = chunk
                .iter()
                .map(|h| {
                    let row = match h.is_empty() {
                        true => None,
                        false => rows.as_mut().and_then(|r| r.next()),
                    };
                    (h, row)
                })
                .collect();
            let lists: Vec<Result<Vec<Ranked>>> = jobs
                .into_par_iter()
                .map(|(h, row)| {
                    let owned;
                    let scores: &[f32] = match &row {
                        Some(r) => match r.as_slice() {
                            Some(s) => s,
                            None => {
                                owned = r.to_vec();
                                &owned
                            }
                        },
                        None => popular,
                    };
                    plans
                        .iter()
                        .map(|plan| {
                            Ok(match self.positions(scores, h, plan)? {
                                Ok(positions) => Ranked {
                                    scores: positions.iter().map(|&p| scores[p]).collect(),
                                    positions,
                                    from_history: row.is_some(),
                                    empty: None,
                                },
                                Err(empty) => Ranked {
                                    positions: Vec::new(),
                                    scores: Vec::new(),
                                    from_history: row.is_some(),
                                    empty: Some(empty),
                                },
                            })
                        })
                        .collect()
                })
                .collect();
            for per_plan in lists {
                for (o, r) in out.iter_mut().zip(per_plan?) {
                    o.push(r);
                }
            }
        }
        Ok(out)
    }

    /// The list (item positions) from scores over every item, or why it is empty.
    fn positions(
        &self,
        scores: &[f32],
        seen: &[ItemIdx],
        plan: &Plan,
    ) -> Result<std::result::Result<Vec<usize>, EmptyReason>> {
        let mut ok = plan.eligible.clone();
        if !plan.include_seen {
            for i in seen {
                ok[i.index()] = false;
            }
        }
        let pool = match &plan.rerank {
            Some(f) => plan.n.saturating_mul(f.pool_factor),
            None => plan.n,
        };
        let best = top(scores, &ok, pool);
        if best.is_empty() {
            return Ok(Err(if plan.any_eligible {
                EmptyReason::AllSeen
            } else {
                EmptyReason::NoMatch
            }));
        }
        let mut ordered = match &plan.rerank {
            Some(f) => {
                f.ranker
                    .rerank_top(
                        best,
                        plan.n,
                        |&p| f64::from(scores[p]),
                        |&p| self.clusters[p],
                    )?
                    .items
            }
            None => best,
        };
        ordered.truncate(plan.n);
        if let Some(f) = plan.rerank.as_ref().filter(|f| f.new_item_slots > 0) {
            let counts = self.model.popularity();
            let fresh = |p: usize| counts[p] == 0;
            keep_new_item_slots(&mut ordered, scores, ok, fresh, plan.n, f.new_item_slots);
        }
        Ok(Ok(ordered))
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

/// Makes at least `slots` of the `n` items of `list` new ones (`fresh`), as far as allowed new
/// items (`ok`, consumed as the scratch mask) are left: the best-scored new items not yet
/// listed take the last places, in score order, in place of the lowest-placed items that are
/// not new. New items already listed count and keep their places.
fn keep_new_item_slots(
    list: &mut Vec<usize>,
    scores: &[f32],
    mut ok: Vec<bool>,
    fresh: impl Fn(usize) -> bool,
    n: usize,
    slots: usize,
) {
    let have = list.iter().filter(|&&p| fresh(p)).count();
    let want = slots.min(n);
    if have >= want {
        return;
    }
    for (p, o) in ok.iter_mut().enumerate() {
        *o = *o && fresh(p);
    }
    for &p in list.iter() {
        ok[p] = false;
    }
    let extra = top(scores, &ok, want - have);
    while list.len() + extra.len() > n {
        match list.iter().rposition(|&p| !fresh(p)) {
            Some(at) => {
                list.remove(at);
            }
            None => break,
        }
    }
    list.extend(extra);
}

/// Positions of the `k` best `scores` where `ok`, best first (ties: lower position first):
/// [`crate::sasrec::best_k`] over the positions `ok` covers.
pub(crate) fn top(scores: &[f32], ok: &[bool], k: usize) -> Vec<usize> {
    let n = scores.len().min(ok.len());
    crate::sasrec::best_k(&scores[..n], k, |p| ok[p])
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The heap gives what sorting every allowed candidate gives, ties included.
        #[test]
        fn top_equals_a_full_sort(
            raw in proptest::collection::vec((0u8..6, proptest::bool::weighted(0.8)), 0..200),
            k in 0usize..40,
        ) {
            let scores: Vec<f32> = raw.iter().map(|r| f32::from(r.0) / 2.0).collect();
            let ok: Vec<bool> = raw.iter().map(|r| r.1).collect();
            let mut want: Vec<usize> = (0..scores.len()).filter(|&p| ok[p]).collect();
            want.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            want.truncate(k);
            proptest::prop_assert_eq!(top(&scores, &ok, k), want);
        }
    }

    proptest::proptest! {
        /// The new-item slots: the list keeps its length (or grows to n), holds
        /// min(slots, n, new items allowed) new items, keeps every new item it had, keeps
        /// the old items it keeps in their order, and adds the best new ones in score order.
        #[test]
        fn new_item_slots_hold(
            raw in proptest::collection::vec((0u8..8, proptest::bool::ANY, proptest::bool::weighted(0.8)), 1..60),
            start in 0usize..12,
            n in 1usize..12,
            slots in 0usize..5,
        ) {
            let scores: Vec<f32> = raw.iter().map(|r| f32::from(r.0)).collect();
            let fresh: Vec<bool> = raw.iter().map(|r| r.1).collect();
            let ok: Vec<bool> = raw.iter().map(|r| r.2).collect();
            let before = top(&scores, &ok, start.min(n));
            let mut list = before.clone();
            keep_new_item_slots(&mut list, &scores, ok.clone(), |p| fresh[p], n, slots);
            let new_in = |l: &[usize]| l.iter().filter(|&&p| fresh[p]).count();
            let available = (0..scores.len()).filter(|&p| ok[p] && fresh[p]).count();
            let want = slots.min(n).min(available).max(new_in(&before));
            proptest::prop_assert_eq!(new_in(&list), want);
            proptest::prop_assert!(list.len() <= n);
            proptest::prop_assert!(list.len() >= before.len());
            let mut unique = list.clone();
            unique.sort_unstable();
            unique.dedup();
            proptest::prop_assert_eq!(unique.len(), list.len());
            for p in before.iter().filter(|&&p| fresh[p]) {
                proptest::prop_assert!(list.contains(p));
            }
            let kept: Vec<usize> = before.iter().copied().filter(|p| list.contains(p)).collect();
            proptest::prop_assert_eq!(&list[..kept.len()], &kept[..]);
            let added = &list[kept.len()..];
            proptest::prop_assert!(added.iter().all(|&p| fresh[p] && ok[p]));
            proptest::prop_assert!(added.windows(2).all(|w| scores[w[0]] >= scores[w[1]]));
            // No new item left out scores above one added.
            if let Some(&worst) = added.last() {
                proptest::prop_assert!((0..scores.len())
                    .filter(|p| ok[*p] && fresh[*p] && !list.contains(p))
                    .all(|p| scores[p] <= scores[worst]));
            }
        }
    }

    #[test]
    fn top_keeps_the_best_allowed_in_order() {
        let s = [0.5, 0.9, 0.1, 0.9, 0.7];
        assert_eq!(top(&s, &[true; 5], 3), vec![1, 3, 4]);
        assert_eq!(top(&s, &[true, false, true, true, true], 2), vec![3, 4]);
        assert_eq!(top(&s, &[false; 5], 2), Vec::<usize>::new());
        assert_eq!(top(&s, &[true; 5], 9).len(), 5);
    }
}
