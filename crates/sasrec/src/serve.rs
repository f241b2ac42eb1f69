//! A trained model: scoring, recommending for any history.

use std::collections::HashMap;

use ndarray::Array2;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Result, SasRecError};
use crate::eval::top_k;
use crate::model::{ModelConfig, Network};

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
    /// Dense item id (`1..=n_items`).
    pub index: u32,
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

/// A trained SASRec model. Histories longer than `max_len` are read by their last `max_len`
/// items (all of them are still excluded from the recommendations).
pub struct SasRecModel {
    net: Network,
    pub(crate) item_ids: Vec<String>,
    index: HashMap<String, u32>,
    /// Training interactions per dense item (index 0 unused).
    pub(crate) popularity: Vec<u32>,
}

impl std::fmt::Debug for SasRecModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SasRecModel")
            .field("config", &self.net.config)
            .finish_non_exhaustive()
    }
}

impl SasRecModel {
    pub(crate) fn new(net: Network, item_ids: Vec<String>, popularity: Vec<u32>) -> Self {
        let index = item_ids
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, s)| (s.clone(), i as u32))
            .collect();
        Self {
            net,
            item_ids,
            index,
            popularity,
        }
    }

    pub(crate) fn net(&self) -> &Network {
        &self.net
    }

    /// The architecture.
    pub fn config(&self) -> &ModelConfig {
        &self.net.config
    }

    /// Number of items the model scores.
    pub fn n_items(&self) -> usize {
        self.net.config.n_items
    }

    /// External id of every dense item id (index 0 is padding).
    pub fn item_ids(&self) -> &[String] {
        &self.item_ids
    }

    /// Dense id of an external item id.
    pub fn item_index(&self, item: &str) -> Option<u32> {
        self.index.get(item).copied()
    }

    /// Training interactions per dense item id (index 0 unused).
    pub fn popularity(&self) -> &[u32] {
        &self.popularity
    }

    pub(crate) fn snapshot(&self) -> HashMap<String, Tensor> {
        self.net
            .vs
            .variables()
            .into_iter()
            .map(|(k, v)| (k, v.detach().copy()))
            .collect()
    }

    pub(crate) fn restore(&mut self, weights: &HashMap<String, Tensor>) -> Result<()> {
        tch::no_grad(|| -> Result<()> {
            for (name, mut var) in self.net.vs.variables() {
                let src = weights
                    .get(&name)
                    .ok_or_else(|| SasRecError::Torch(format!("snapshot lacks variable {name}")))?;
                var.f_copy_(src)?;
            }
            Ok(())
        })
    }

    pub(crate) fn check_ids<'a>(&self, ids: impl IntoIterator<Item = &'a u32>) -> Result<()> {
        let n = self.n_items() as u32;
        match ids.into_iter().find(|&&i| i == 0 || i > n) {
            Some(i) => Err(SasRecError::UnknownItem(format!(
                "dense id {i} is outside 1..={n}"
            ))),
            None => Ok(()),
        }
    }

    /// Scores `[inputs, n_items + 1]` (row-major) of the next item after each non-empty input.
    pub(crate) fn score_rows(&self, inputs: &[&[u32]]) -> Result<Vec<f32>> {
        let max_len = self.net.config.max_len;
        let len = inputs
            .iter()
            .map(|s| s.len().min(max_len))
            .max()
            .unwrap_or(0);
        if len == 0 || inputs.iter().any(|s| s.is_empty()) {
            return Err(SasRecError::EmptyInput(
                "every history needs at least one item".into(),
            ));
        }
        let mut flat = Vec::with_capacity(inputs.len() * len);
        for s in inputs {
            let tail = &s[s.len().saturating_sub(len)..];
            flat.extend(std::iter::repeat_n(0i64, len - tail.len()));
            flat.extend(tail.iter().map(|&i| i64::from(i)));
        }
        let device = self.net.vs.device();
        let scores = tch::no_grad(|| {
            let seq = Tensor::from_slice(&flat)
                .view([inputs.len() as i64, len as i64])
                .to_device(device);
            let h = self
                .net
                .queries(self.net.forward_t(&seq, false).select(1, len as i64 - 1));
            h.mm(&self.net.all_targets().tr())
                .to_kind(Kind::Float)
                .to_device(tch::Device::Cpu)
                .contiguous()
        });
        let numel = scores.numel();
        let mut out = vec![0f32; numel];
        scores.f_copy_data(&mut out, numel)?;
        if out.iter().any(|v| !v.is_finite()) {
            return Err(SasRecError::Diverged("non-finite scores".into()));
        }
        Ok(out)
    }

    /// Scores of every item after each history: `[histories, n_items + 1]`, column `i` is
    /// dense item `i`, column 0 (padding) is `-inf`. Histories hold dense ids and must be
    /// non-empty.
    pub fn scores(&self, histories: &[Vec<u32>]) -> Result<Array2<f32>> {
        for h in histories {
            self.check_ids(h)?;
        }
        let m = self.n_items() + 1;
        let mut out = Vec::with_capacity(histories.len() * m);
        for chunk in histories.chunks(256) {
            let inputs: Vec<&[u32]> = chunk.iter().map(Vec::as_slice).collect();
            out.extend(self.score_rows(&inputs)?);
        }
        let mut a = Array2::from_shape_vec((histories.len(), m), out)
            .map_err(|e| SasRecError::Torch(e.to_string()))?;
        a.column_mut(0).fill(f32::NEG_INFINITY);
        Ok(a)
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
        let mut dense = Vec::with_capacity(history.len());
        for item in history {
            match self.item_index(item) {
                Some(i) => dense.push(i),
                None if options.skip_unknown => {}
                None => return Err(SasRecError::UnknownItem(format!("{item:?}"))),
            }
        }
        let mut out = self.recommend_dense(&[dense], k, options.exclude_seen)?;
        Ok(out.pop().unwrap_or_default())
    }

    /// Batch recommendation over dense histories (each may be empty: popularity fallback).
    pub fn recommend_dense(
        &self,
        histories: &[Vec<u32>],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Vec<Vec<Recommendation>>> {
        let n = self.n_items();
        if k == 0 || k > n {
            return Err(SasRecError::InvalidParam(format!(
                "k must be in 1..={n}, got {k}"
            )));
        }
        let with_history: Vec<Vec<u32>> = histories
            .iter()
            .filter(|h| !h.is_empty())
            .cloned()
            .collect();
        let scores = self.scores(&with_history)?;
        let popular = self.popularity_row();
        let mut rows = scores.outer_iter();
        let mut out = Vec::with_capacity(histories.len());
        for h in histories {
            let mut exclude = if exclude_seen { h.clone() } else { Vec::new() };
            exclude.sort_unstable();
            exclude.dedup();
            let (row, source) = match h.is_empty() {
                true => (popular.clone(), Source::Popularity),
                false => {
                    let r = rows.next().map(|r| r.to_vec()).unwrap_or_default();
                    (r, Source::Model)
                }
            };
            let list = top_k(&row, &exclude, k)
                .into_iter()
                .map(|i| Recommendation {
                    item: self.item_ids[i as usize].clone(),
                    index: i,
                    score: row[i as usize],
                    source,
                })
                .collect();
            out.push(list);
        }
        Ok(out)
    }

    fn popularity_row(&self) -> Vec<f32> {
        let total = self
            .popularity
            .iter()
            .map(|&c| c as f64)
            .sum::<f64>()
            .max(1.0);
        self.popularity
            .iter()
            .map(|&c| (c as f64 / total) as f32)
            .collect()
    }
}
