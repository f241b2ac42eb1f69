//! Fitting: catalogue + events → keywords → embeddings → clusters → SASRec with content
//! features → a fitted pipeline and its report.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use groundrec_kmeans::{choose_k, KMeans, Metric};
use groundrec_sasrec::{fnv1a64, Dataset, ItemIdx, Split};

use crate::catalog::Catalog;
use crate::center::Centering;
use crate::error::{GroundrecError, Result};
use crate::events::Event;
use crate::fitted::{extractor, item_keywords, Fingerprint, FittedPipeline};
use crate::lists::ListKind;
use crate::observe::{Observer, Stage, Training};
use crate::params::{Clusters, PipelineValidParams};
use crate::report::{HeldLists, Rankings, Report, ReportParts, Timing};

/// The report's lists: with holdout, every test case's final list, the recommender's own
/// ranking and popularity's, all by the serving rule (history left out); without, final lists
/// for every user's whole training history. Users with fewer unseen items than 10 get the
/// shorter list they allow.
fn held_lists(fitted: &FittedPipeline, data: &Dataset) -> Result<HeldLists> {
    if data.test.is_empty() {
        let inputs: Vec<Vec<ItemIdx>> = data
            .train
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
        return Ok(HeldLists {
            lists: fitted
                .position_lists(&inputs, 10, &[ListKind::Fair])?
                .pop()
                .unwrap_or_default(),
            holdout: None,
            repeated: 0,
        });
    }
    let inputs: Vec<Vec<ItemIdx>> = data.test.iter().map(|c| c.input.clone()).collect();
    let targets: Vec<usize> = data.test.iter().map(|c| c.target.index()).collect();
    let repeated = data
        .test
        .iter()
        .filter(|c| c.input.contains(&c.target))
        .count();
    let kinds = [ListKind::Fair, ListKind::Model, ListKind::Popularity];
    let mut sets = fitted.position_lists(&inputs, 10, &kinds)?.into_iter();
    let mut next = || sets.next().unwrap_or_default();
    let (lists, model, popularity) = (next(), next(), next());
    Ok(HeldLists {
        lists,
        holdout: Some(Rankings {
            model,
            popularity,
            targets,
        }),
        repeated,
    })
}

/// Users' item sequences (time order, consecutive repeats collapsed) from validated events.
pub(crate) fn sequences(catalog: &Catalog, events: &[Event]) -> (Vec<String>, Vec<Vec<ItemIdx>>) {
    let mut by_user: HashMap<&str, Vec<(i64, usize, u32)>> = HashMap::new();
    for (n, e) in events.iter().enumerate() {
        if let Some(p) = catalog.position(&e.item) {
            by_user
                .entry(&e.user)
                .or_default()
                .push((e.timestamp, n, p as u32));
        }
    }
    let mut users: Vec<&str> = by_user.keys().copied().collect();
    users.sort_unstable();
    let seqs = users
        .iter()
        .map(|u| {
            let mut v = by_user.remove(u).unwrap_or_default();
            v.sort_unstable();
            let mut s: Vec<ItemIdx> = v.into_iter().map(|(_, _, i)| ItemIdx::new(i)).collect();
            s.dedup(); // repeated consecutive events on one item count once
            s
        })
        .collect();
    (users.into_iter().map(str::to_string).collect(), seqs)
}

/// The k to fit: fixed (at most the number of items), or the best silhouette in a range
/// clamped to what `n` items allow.
fn choose_clusters(
    clusters: Clusters,
    x: &ndarray::ArrayView2<'_, f32>,
    km: &groundrec_kmeans::KMeansParams,
) -> Result<usize> {
    let n = x.nrows();
    match clusters {
        Clusters::Fixed(k) if k > n => Err(GroundrecError::param(
            "clusters",
            format!("{k} clusters for {n} items"),
        )),
        Clusters::Fixed(k) => Ok(k),
        Clusters::Auto { .. } if n < 3 => Ok(1),
        Clusters::Auto { min, max } => {
            let hi = max.min(n - 1);
            let lo = min.min(hi);
            let ks: Vec<usize> = (lo..=hi).collect();
            Ok(choose_k(x, &ks, km, 2000)?.silhouette)
        }
    }
}

impl PipelineValidParams {
    /// Fits every step on a catalogue and validated events; returns the fitted pipeline and
    /// its report (held-out metrics when `holdout` is on). Prints nothing.
    pub fn fit(&self, catalog: &Catalog, events: &[Event]) -> Result<(FittedPipeline, Report)> {
        self.fit_observed(catalog, events, &())
    }

    /// [`PipelineValidParams::fit`] reporting every stage, embedding batch, training step and
    /// epoch to `observer`.
    pub fn fit_observed(
        &self,
        catalog: &Catalog,
        events: &[Event],
        observer: &dyn Observer,
    ) -> Result<(FittedPipeline, Report)> {
        let c = &self.config;
        let timings_cell = Mutex::new(Vec::new());
        let timings = &timings_cell;
        let run = |stage: Stage| {
            observer.stage(stage);
            let start = Instant::now();
            move || {
                let seconds = start.elapsed().as_secs_f64();
                observer.stage_done(stage, seconds);
                if let Ok(mut t) = timings.lock() {
                    t.push(Timing {
                        step: stage.name().to_string(),
                        seconds,
                    });
                }
            }
        };
        let progress =
            |stage: Stage| move |done: usize, total: usize| observer.progress(stage, done, total);

        let done = run(Stage::LoadEmbedder);
        let embedder = self.load_embedder()?;
        let fingerprint = Fingerprint::of(&*embedder)?;
        let embedder_line = embedder.describe();
        let extractor = extractor(c, embedder.clone(), &[])?;
        done();

        let done = run(Stage::Keywords);
        let items: Vec<&crate::Item> = catalog.items().iter().collect();
        let mut found = item_keywords(&extractor, &items, &progress(Stage::Keywords))?;
        done();

        let done = run(Stage::Embeddings);
        let texts: Vec<String> = items
            .iter()
            .zip(&found.keywords)
            .map(|(i, k)| c.item_text.of(i, k))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut embeddings =
            found.item_vectors(c.item_text, &*embedder, &refs, &progress(Stage::Embeddings))?;
        let (keywords, frequent_keys) = (found.keywords, found.frequent);
        let centering = if c.center_languages {
            Centering::fit(&refs, &embeddings)
        } else {
            Centering::default()
        };
        centering.apply(&refs, &mut embeddings);
        done();

        let done = run(Stage::Clusters);
        let km = KMeans::params(2)
            .metric(Metric::Cosine)
            .seed(c.seed)
            .n_init(3);
        let k = choose_clusters(c.clusters, &embeddings.view(), &km)?;
        let kmeans = km.k(k).fit(&embeddings.view())?;
        done();

        let done = run(Stage::Recommender);
        let (users, seqs) = sequences(catalog, events);
        let split = if c.holdout {
            Split::LeaveOneOut
        } else {
            Split::None
        };
        let ids = catalog.items().iter().map(|i| i.id.clone()).collect();
        let data = Dataset::from_sequences(ids, seqs, split)?;
        let training = Training {
            observer,
            epochs: c.sasrec.epochs(),
        };
        let (model, train) = c
            .sasrec
            .fit_observed(&data, Some(embeddings.view()), &training)?;
        done();

        let done = run(Stage::Report);
        let model_id = fnv1a64(
            format!(
                "{}{}",
                serde_json::to_string(c).unwrap_or_default(),
                serde_json::to_string(&train).unwrap_or_default()
            )
            .as_bytes(),
        );
        let n = catalog.len();
        let fitted = FittedPipeline {
            config: c.clone(),
            fair: self.fair.clone(),
            catalog: catalog.clone(),
            keywords,
            clusters: kmeans.labels().to_vec(),
            embeddings,
            kmeans,
            model,
            retired: vec![false; n],
            fingerprint,
            centering,
            frequent_keys: frequent_keys.clone(),
            model_id,
            embedder: Mutex::new(Some(embedder)),
            extractor: Mutex::new(Some(std::sync::Arc::new(extractor.exclude(frequent_keys)))),
        };
        let held = held_lists(&fitted, &data)?;
        done();
        let timings = timings_cell.into_inner().unwrap_or_default();
        let report = Report::build(ReportParts {
            embedder: embedder_line,
            users: users.len(),
            categories: catalog
                .items()
                .iter()
                .map(|i| i.category.as_deref())
                .collect(),
            data: &data,
            held,
            clusters: fitted.clusters(),
            embeddings: fitted.embeddings(),
            keywords: fitted.keywords(),
            train,
            timings,
        });
        Ok((fitted, report))
    }
}
