//! A trained model: scoring and recommending for any history, and items added after training.

use std::collections::HashMap;

use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::dataset::EvalCase;
use crate::error::{Result, SasRecError};
use crate::eval::{evaluate, top_k, EvalParams, Evaluation, ScoreRows};
use crate::infer::Weights;
use crate::item::ItemIdx;
use crate::model::ModelConfig;

/// Where a recommendation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// Scored by the network from the user's history.
    Model,
    /// The history was empty (or held only unknown items that were skipped): the most popular
    /// training items, scored by their share of training interactions.
    Popularity,
}

/// One recommended item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// External item id.
    pub item: String,
    /// The item's index.
    pub index: ItemIdx,
    /// The model's score (a logit), or the popularity share for [`Source::Popularity`].
    pub score: f32,
    /// Where the item came from.
    pub source: Source,
}

/// How [`SasRecModel::recommend_with`] treats a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecommendOptions {
    /// Leave the items of the history out of the list (default true).
    pub exclude_seen: bool,
    /// Drop unknown item ids from the history instead of failing (default false).
    pub skip_unknown: bool,
}

impl Default for RecommendOptions {
    fn default() -> Self {
        Self {
            exclude_seen: true,
            skip_unknown: false,
        }
    }
}

/// A trained SASRec model, ready to serve. Histories longer than `max_len` are read by their
/// last `max_len` items (all of them are still excluded from the recommendations).
///
/// Scoring runs in plain Rust on the exported weights, not on libtorch: the model is
/// `Send + Sync` (share one behind an `Arc` between request threads), a call uses the
/// calling thread (batches of more than 16 histories spread over rayon's pool), and items
/// can be added after training ([`SasRecModel::add_items`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SasRecModel {
    pub(crate) config: ModelConfig,
    pub(crate) weights: Weights,
    pub(crate) item_ids: Vec<String>,
    index: HashMap<String, ItemIdx>,
    /// Training interactions per item.
    pub(crate) popularity: Vec<u32>,
    /// `popularity` as shares of its total.
    shares: Vec<f32>,
}

fn shares(popularity: &[u32]) -> Vec<f32> {
    let total = popularity.iter().map(|&c| c as f64).sum::<f64>().max(1.0);
    popularity
        .iter()
        .map(|&c| (c as f64 / total) as f32)
        .collect()
}

impl SasRecModel {
    /// Checks that the parts describe the same items.
    pub(crate) fn new(
        config: ModelConfig,
        weights: Weights,
        item_ids: Vec<String>,
        popularity: Vec<u32>,
    ) -> Result<Self> {
        let n = weights.n_items();
        if config.n_items != n || item_ids.len() != n || popularity.len() != n {
            return Err(SasRecError::EmptyInput(format!(
                "{} items in the config, {n} in the weights, {} ids and {} popularity counts",
                config.n_items,
                item_ids.len(),
                popularity.len()
            )));
        }
        let mut index = HashMap::with_capacity(n);
        for (i, id) in item_ids.iter().enumerate() {
            if index.insert(id.clone(), ItemIdx::new(i as u32)).is_some() {
                return Err(SasRecError::DuplicateItem(id.clone()));
            }
        }
        Ok(Self {
            config,
            weights,
            item_ids,
            index,
            shares: shares(&popularity),
            popularity,
        })
    }

    /// The architecture.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Number of items the model scores.
    pub fn n_items(&self) -> usize {
        self.item_ids.len()
    }

    /// External id of every item index.
    pub fn item_ids(&self) -> &[String] {
        &self.item_ids
    }

    /// Index of an external item id.
    pub fn item_index(&self, item: &str) -> Option<ItemIdx> {
        self.index.get(item).copied()
    }

    /// Training interactions per item index (0 for items added after training).
    pub fn popularity(&self) -> &[u32] {
        &self.popularity
    }

    fn check_ids<'a>(&self, ids: impl IntoIterator<Item = &'a ItemIdx>) -> Result<()> {
        let n = self.n_items();
        match ids.into_iter().find(|i| i.index() >= n) {
            Some(i) => Err(SasRecError::UnknownItem(format!(
                "item index {i} is outside 0..{n}"
            ))),
            None => Ok(()),
        }
    }

    /// Scores of every item after each history: `[histories, n_items]`, column `i` is item
    /// `i`. Histories must be non-empty.
    pub fn scores(&self, histories: &[Vec<ItemIdx>]) -> Result<Array2<f32>> {
        for h in histories {
            self.check_ids(h)?;
        }
        let refs: Vec<&[ItemIdx]> = histories.iter().map(Vec::as_slice).collect();
        self.checked_scores(&refs)
    }

    /// Scores of non-empty histories of known items, checked to be finite.
    fn checked_scores(&self, histories: &[&[ItemIdx]]) -> Result<Array2<f32>> {
        if histories.iter().any(|h| h.is_empty()) {
            return Err(SasRecError::EmptyInput(
                "every history needs at least one item".into(),
            ));
        }
        let scores = self.weights.scores(&self.config, histories);
        if scores.iter().any(|v| !v.is_finite()) {
            return Err(SasRecError::Diverged("non-finite scores".into()));
        }
        Ok(scores)
    }

    /// Evaluates `cases` under the protocols in `params`.
    pub fn evaluate(&self, cases: &[EvalCase], params: &EvalParams) -> Result<Evaluation> {
        evaluate(self, cases, params)
    }

    /// The `k` best next items after `history` (external ids, oldest first): seen items are
    /// excluded and an unknown id is an error. An empty history gets the most popular items.
    pub fn recommend(&self, history: &[&str], k: usize) -> Result<Vec<Recommendation>> {
        self.recommend_with(history, k, RecommendOptions::default())
    }

    /// [`SasRecModel::recommend`] with options.
    pub fn recommend_with(
        &self,
        history: &[&str],
        k: usize,
        options: RecommendOptions,
    ) -> Result<Vec<Recommendation>> {
        let mut indices = Vec::with_capacity(history.len());
        for item in history {
            match self.item_index(item) {
                Some(i) => indices.push(i),
                None if options.skip_unknown => {}
                None => return Err(SasRecError::UnknownItem(format!("{item:?}"))),
            }
        }
        let mut out = self.recommend_indices(&[indices], k, options.exclude_seen)?;
        Ok(out.pop().unwrap_or_default())
    }

    /// Batch recommendation over histories of item indices (each may be empty: popularity
    /// fallback). With `exclude_seen`, a list holds at most the items its history leaves.
    pub fn recommend_indices(
        &self,
        histories: &[Vec<ItemIdx>],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Vec<Vec<Recommendation>>> {
        let n = self.n_items();
        if k == 0 || k > n {
            return Err(SasRecError::ListLength { k, max: n });
        }
        let with_history: Vec<Vec<ItemIdx>> = histories
            .iter()
            .filter(|h| !h.is_empty())
            .cloned()
            .collect();
        let scores = self.scores(&with_history)?;
        let popular = self.popularity_shares();
        let mut rows = scores.outer_iter();
        let mut out = Vec::with_capacity(histories.len());
        for h in histories {
            let mut exclude = if exclude_seen { h.clone() } else { Vec::new() };
            exclude.sort_unstable();
            exclude.dedup();
            // The score rows are borrowed, not copied (400 KB a list at 100,000 items).
            let (row, source): (std::borrow::Cow<'_, [f32]>, Source) = match h.is_empty() {
                true => (popular.into(), Source::Popularity),
                false => {
                    let r = rows.next().map_or_else(Default::default, |r| {
                        r.to_slice().map_or_else(|| r.to_vec().into(), Into::into)
                    });
                    (r, Source::Model)
                }
            };
            let list = top_k(&row, &exclude, k)
                .into_iter()
                .map(|i| Recommendation {
                    item: self.item_ids[i.index()].clone(),
                    index: i,
                    score: row[i.index()],
                    source,
                })
                .collect();
            out.push(list);
        }
        Ok(out)
    }

    /// Popularity shares of every item (training interactions over their total).
    pub fn popularity_shares(&self) -> &[f32] {
        &self.shares
    }

    /// Width of the model's content features (0 without).
    pub fn feature_dim(&self) -> usize {
        self.config.feature_dim
    }

    fn check_features(&self, features: ArrayView2<'_, f32>) -> Result<()> {
        let f = self.config.feature_dim;
        if f == 0 {
            return Err(SasRecError::Features(
                "the model was trained without content features, so it cannot score items \
                 it has not seen"
                    .into(),
            ));
        }
        if features.ncols() != f {
            return Err(SasRecError::Features(format!(
                "expected {f} columns, got {}",
                features.ncols()
            )));
        }
        if let Some(r) = features
            .rows()
            .into_iter()
            .position(|r| r.iter().any(|v| !v.is_finite()))
        {
            return Err(SasRecError::Features(format!(
                "NaN or infinite value in row {r}"
            )));
        }
        Ok(())
    }

    /// Adds items after training: `features` has one row per id, of the model's feature
    /// width. They are scored by their content alone (as items without training interactions
    /// are), can appear in lists and in histories at once, and have popularity 0. Ids already
    /// known, or repeated, are [`SasRecError::DuplicateItem`]; a model without content
    /// features cannot add items. Nothing changes on an error.
    pub fn add_items(
        &mut self,
        ids: &[String],
        features: ArrayView2<'_, f32>,
    ) -> Result<Vec<ItemIdx>> {
        self.check_features(features)?;
        if features.nrows() != ids.len() {
            return Err(SasRecError::Features(format!(
                "{} feature rows for {} ids",
                features.nrows(),
                ids.len()
            )));
        }
        let mut fresh = std::collections::HashSet::new();
        for id in ids {
            if self.index.contains_key(id) || !fresh.insert(id.as_str()) {
                return Err(SasRecError::DuplicateItem(id.clone()));
            }
        }
        self.weights.push_items(features);
        let start = self.item_ids.len();
        let mut out = Vec::with_capacity(ids.len());
        for (k, id) in ids.iter().enumerate() {
            let i = ItemIdx::new((start + k) as u32);
            self.index.insert(id.clone(), i);
            self.item_ids.push(id.clone());
            self.popularity.push(0);
            self.shares.push(0.0);
            out.push(i);
        }
        self.config.n_items = self.item_ids.len();
        Ok(out)
    }

    /// Replaces the content features of an item (its text changed). The learned part of its
    /// vector, if it had training interactions, stays.
    pub fn set_item_features(
        &mut self,
        item: ItemIdx,
        features: ArrayView1<'_, f32>,
    ) -> Result<()> {
        self.check_ids([&item])?;
        let row = features.insert_axis(ndarray::Axis(0));
        self.check_features(row)?;
        self.weights.set_features(item.index(), features);
        Ok(())
    }
}

impl ScoreRows for SasRecModel {
    fn n_items(&self) -> usize {
        SasRecModel::n_items(self)
    }

    fn score_rows(&self, inputs: &[&[ItemIdx]]) -> Result<Vec<f32>> {
        let scores = self.checked_scores(inputs)?;
        Ok(if scores.is_standard_layout() {
            scores.into_raw_vec_and_offset().0
        } else {
            scores.iter().copied().collect()
        })
    }
}
