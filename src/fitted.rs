//! A fitted pipeline: its parts, and a catalogue that changes while it serves (items added,
//! changed and retired without retraining).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use groundrec_embed::{normalize_rows, EmbedError, Embedder};
use groundrec_keywords::{
    AutoCandidates, KeywordExtractor, KeywordsError, KoreanAnalyzer, KoreanNounCandidates,
    NgramCandidates,
};
use groundrec_kmeans::KMeansModel;
use groundrec_sasrec::SasRecModel;
use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Item};
use crate::center::Centering;
use crate::error::{GroundrecError, Result};
use crate::params::{keyword_source, Fair, FairSettings, ItemText, PipelineConfig};

/// Texts every fit embeds to recognise its embedder later.
const PROBES: [&str; 3] = [
    "groundrec embedder probe",
    "분수의 덧셈과 뺄셈",
    "Linear equations with one unknown",
];

/// Lowest cosine between a probe's saved and fresh vectors for "the same embedder" (int8 or
/// bf16 kernels of one model stay above 0.99; different models are far below).
const SAME_EMBEDDER: f32 = 0.98;

/// What identifies an embedder: its width and its unit vectors of [`PROBES`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Fingerprint {
    pub(crate) dim: usize,
    pub(crate) probes: Vec<Vec<f32>>,
}

impl Fingerprint {
    pub(crate) fn of(embedder: &dyn Embedder) -> Result<Self> {
        let m = unit_rows(embedder, &PROBES)?;
        Ok(Self {
            dim: m.ncols(),
            probes: m.rows().into_iter().map(|r| r.to_vec()).collect(),
        })
    }

    /// Whether `embedder` is the one this fingerprint was taken of.
    pub(crate) fn check(&self, embedder: &dyn Embedder) -> Result<()> {
        if embedder.dim() != self.dim {
            return Err(GroundrecError::EmbedderMismatch(format!(
                "the pipeline was fitted with {}-wide embeddings, this embedder ({}) gives {}",
                self.dim,
                embedder.describe(),
                embedder.dim()
            )));
        }
        let fresh = unit_rows(embedder, &PROBES)?;
        for ((text, saved), row) in PROBES.iter().zip(&self.probes).zip(fresh.rows()) {
            let cos: f32 = saved.iter().zip(row).map(|(a, b)| a * b).sum();
            if cos < SAME_EMBEDDER {
                return Err(GroundrecError::EmbedderMismatch(format!(
                    "{} embeds the probe {text:?} at cosine {cos:.3} to the fitted vector \
                     (at least {SAME_EMBEDDER} for the same model)",
                    embedder.describe()
                )));
            }
        }
        Ok(())
    }
}

/// `texts` embedded, checked (width, finiteness) and scaled to unit length.
pub(crate) fn unit_rows(embedder: &dyn Embedder, texts: &[&str]) -> Result<Array2<f32>> {
    unit_rows_observed(embedder, texts, &|_, _| {})
}

/// [`unit_rows`] with progress.
pub(crate) fn unit_rows_observed(
    embedder: &dyn Embedder,
    texts: &[&str],
    progress: &dyn Fn(usize, usize),
) -> Result<Array2<f32>> {
    let mut m = embedder.embed_with_progress(texts, progress)?;
    if m.dim() != (texts.len(), embedder.dim()) {
        return Err(GroundrecError::EmbedderOutput(format!(
            "{} gave a {}x{} matrix for {} texts of width {}",
            embedder.describe(),
            m.nrows(),
            m.ncols(),
            texts.len(),
            embedder.dim()
        )));
    }
    if let Some(at) = m.iter().position(|v| !v.is_finite()) {
        return Err(GroundrecError::EmbedderOutput(format!(
            "{} gave NaN or infinite values for {:?}",
            embedder.describe(),
            texts[at / m.ncols().max(1)]
        )));
    }
    normalize_rows(&mut m);
    Ok(m)
}

pub(crate) type Extractor = KeywordExtractor<Arc<dyn Embedder>, AutoCandidates>;

/// The keyword extractor of a configuration, over `embedder`, never offering `excluded`.
pub(crate) fn extractor(
    config: &PipelineConfig,
    embedder: Arc<dyn Embedder>,
    excluded: &[String],
) -> Result<Extractor> {
    let korean = match &config.korean_dictionary {
        Some(dir) => Some(KoreanNounCandidates::new(
            Arc::new(KoreanAnalyzer::load(dir)?),
            config.keyword_max_words.max(2),
        )?),
        None => None,
    };
    let generator = AutoCandidates::new(NgramCandidates::new(1, config.keyword_max_words)?, korean);
    Ok(
        KeywordExtractor::new(embedder, generator, config.keywords.clone())
            .exclude(excluded.iter().cloned()),
    )
}

/// Keywords (surface forms) of each item, and the candidate phrases dropped as too common.
pub(crate) fn item_keywords(
    extractor: &Extractor,
    items: &[&Item],
    progress: &dyn Fn(usize, usize),
) -> Result<ItemKeywords> {
    let docs: Vec<String> = items.iter().map(|i| keyword_source(i)).collect();
    let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let corpus = extractor
        .extract_corpus_vectors(&refs, &groundrec_keywords::Seeds::None, progress)
        .map_err(|e| match e {
            // The embedder's output broke its contract: the caller's embedder is at fault.
            KeywordsError::Embed(
                e @ (EmbedError::NonFinite { .. } | EmbedError::DimensionMismatch { .. }),
            ) => GroundrecError::EmbedderOutput(format!(
                "{} while embedding keyword candidates: {e}",
                extractor.embedder().describe()
            )),
            e => e.into(),
        })?;
    let keywords = corpus
        .docs
        .into_iter()
        .map(|d| d.keywords.into_iter().map(|k| k.surface).collect())
        .collect();
    Ok(ItemKeywords {
        keywords,
        frequent: corpus.frequent,
        source_vectors: corpus.doc_vectors,
        phrase_vectors: corpus.phrase_vectors,
        keyword_rows: corpus.keyword_rows,
    })
}

/// What [`item_keywords`] found.
pub(crate) struct ItemKeywords {
    /// Each item's keywords (surface forms).
    pub(crate) keywords: Vec<Vec<String>>,
    /// Phrases over the `max_df` ceiling.
    pub(crate) frequent: Vec<String>,
    /// Unit vectors of each item's keyword source text ([`keyword_source`]).
    pub(crate) source_vectors: Array2<f32>,
    /// Unit vectors of the embedded candidate phrases.
    pub(crate) phrase_vectors: Array2<f32>,
    /// Each item's keywords as rows of `phrase_vectors`.
    pub(crate) keyword_rows: Vec<Vec<usize>>,
}

impl ItemKeywords {
    /// The unit vectors of `texts` (the items' texts under `item_text`): the keyword stage's
    /// (moved out) when the text is the keyword source, otherwise from `embedder`.
    pub(crate) fn item_vectors(
        &mut self,
        item_text: ItemText,
        embedder: &dyn Embedder,
        texts: &[&str],
        progress: &dyn Fn(usize, usize),
    ) -> Result<Array2<f32>> {
        match item_text {
            ItemText::TitleAndDescription => {
                progress(texts.len(), texts.len());
                Ok(std::mem::take(&mut self.source_vectors))
            }
            ItemText::KeywordMean => self.keyword_means(embedder, texts, progress),
            _ => unit_rows_observed(embedder, texts, progress),
        }
    }

    /// Each item's mean keyword vector, scaled to unit length; items without keywords get
    /// their text (the title) embedded.
    fn keyword_means(
        &self,
        embedder: &dyn Embedder,
        texts: &[&str],
        progress: &dyn Fn(usize, usize),
    ) -> Result<Array2<f32>> {
        let dim = embedder.dim();
        let mut out = Array2::<f32>::zeros((texts.len(), dim));
        let bare: Vec<usize> = (0..texts.len())
            .filter(|&i| self.keyword_rows[i].is_empty())
            .collect();
        for (i, rows) in self.keyword_rows.iter().enumerate() {
            for &r in rows {
                out.row_mut(i)
                    .zip_mut_with(&self.phrase_vectors.row(r), |o, &v| *o += v);
            }
        }
        let titles: Vec<&str> = bare.iter().map(|&i| texts[i]).collect();
        let embedded = unit_rows_observed(embedder, &titles, progress)?;
        for (k, &i) in bare.iter().enumerate() {
            out.row_mut(i).assign(&embedded.row(k));
        }
        normalize_rows(&mut out);
        progress(texts.len(), texts.len());
        Ok(out)
    }
}

/// Everything a fitted pipeline holds. It is `Send + Sync`: share one behind an `Arc` between
/// request threads (reads run in parallel; [`FittedPipeline::upsert_items`] and
/// [`FittedPipeline::retire`] take `&mut self`, so a server puts it behind an `RwLock` or swaps
/// in a changed copy).
pub struct FittedPipeline {
    pub(crate) config: PipelineConfig,
    /// `config.fair`, checked.
    pub(crate) fair: Fair,
    pub(crate) catalog: Catalog,
    pub(crate) keywords: Vec<Vec<String>>,
    pub(crate) embeddings: Array2<f32>,
    pub(crate) kmeans: KMeansModel<f32>,
    /// Cluster of every item (items added after the fit: their nearest centroid).
    pub(crate) clusters: Vec<usize>,
    pub(crate) model: SasRecModel,
    pub(crate) retired: Vec<bool>,
    pub(crate) fingerprint: Fingerprint,
    /// Script means removed from item embeddings.
    pub(crate) centering: Centering,
    /// Keyword phrases the fit found in too many items (`max_df`), never given to items
    /// added later.
    pub(crate) frequent_keys: Vec<String>,
    /// Identifies the fit (a checksum of its settings and training curve).
    pub(crate) model_id: String,
    /// The embedder and keyword extractor, loaded on first need.
    pub(crate) embedder: Mutex<Option<Arc<dyn Embedder>>>,
    pub(crate) extractor: Mutex<Option<Arc<Extractor>>>,
}

impl std::fmt::Debug for FittedPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FittedPipeline")
            .field("items", &self.catalog.len())
            .field("clusters", &self.kmeans.k())
            .field("model_id", &self.model_id)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Clone for FittedPipeline {
    fn clone(&self) -> Self {
        let lock =
            |m: &Mutex<Option<Arc<dyn Embedder>>>| m.lock().map(|g| g.clone()).ok().flatten();
        Self {
            config: self.config.clone(),
            fair: self.fair.clone(),
            catalog: self.catalog.clone(),
            keywords: self.keywords.clone(),
            embeddings: self.embeddings.clone(),
            kmeans: self.kmeans.clone(),
            clusters: self.clusters.clone(),
            model: self.model.clone(),
            retired: self.retired.clone(),
            fingerprint: self.fingerprint.clone(),
            centering: self.centering.clone(),
            frequent_keys: self.frequent_keys.clone(),
            model_id: self.model_id.clone(),
            embedder: Mutex::new(lock(&self.embedder)),
            extractor: Mutex::new(self.extractor.lock().map(|g| g.clone()).ok().flatten()),
        }
    }
}

/// Items prepared for [`FittedPipeline::apply_upsert`]: keywords, embeddings and clusters
/// computed, nothing changed yet (so a server can do the slow part outside its write lock).
#[derive(Debug, Clone)]
pub struct PreparedItems {
    items: Vec<Item>,
    keywords: Vec<Vec<String>>,
    embeddings: Array2<f32>,
    clusters: Vec<usize>,
    model_id: String,
}

/// What an upsert did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpsertReport {
    /// Ids of items that were new.
    pub added: Vec<String>,
    /// Ids of items that existed and were replaced (retired ones are live again).
    pub updated: Vec<String>,
}

impl FittedPipeline {
    /// The settings it was fitted with.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Changes how recommendation lists are served (fair re-ranking and new-item slots)
    /// without refitting; saved with the pipeline. The model and its id stay the same.
    pub fn set_fair(&mut self, fair: FairSettings) -> Result<()> {
        self.fair = fair.check()?;
        self.config.fair = fair;
        Ok(())
    }

    /// The catalogue (items added after the fit at the end; retired items included).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Extracted keywords per item (catalogue order).
    pub fn keywords(&self) -> &[Vec<String>] {
        &self.keywords
    }

    /// Unit-length item embeddings (rows in catalogue order).
    pub fn embeddings(&self) -> &Array2<f32> {
        &self.embeddings
    }

    /// Cluster of every item (catalogue order).
    pub fn clusters(&self) -> &[usize] {
        &self.clusters
    }

    /// The k-means model of the item embeddings.
    pub fn kmeans(&self) -> &KMeansModel<f32> {
        &self.kmeans
    }

    /// The recommender.
    pub fn recommender(&self) -> &SasRecModel {
        &self.model
    }

    /// An id of the fit: the same settings and training give the same id.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// Whether the item is retired (kept out of lists, still read in histories). Unknown ids
    /// are not retired.
    pub fn is_retired(&self, id: &str) -> bool {
        self.catalog.position(id).is_some_and(|p| self.retired[p])
    }

    /// Number of items that can appear in lists.
    pub fn live_items(&self) -> usize {
        self.retired.iter().filter(|r| !**r).count()
    }

    /// The embedder, loaded (and checked against the fitted one) on first use.
    pub fn embedder(&self) -> Result<Arc<dyn Embedder>> {
        let mut slot = self
            .embedder
            .lock()
            .map_err(|_| GroundrecError::Data("the embedder lock is poisoned".into()))?;
        if let Some(e) = slot.as_ref() {
            return Ok(e.clone());
        }
        let e = self.config.embedder.build()?;
        self.fingerprint.check(&*e)?;
        *slot = Some(e.clone());
        Ok(e)
    }

    /// Uses `embedder` from now on (after checking it is the fitted one).
    pub(crate) fn set_embedder(&self, embedder: Arc<dyn Embedder>) -> Result<()> {
        self.fingerprint.check(&*embedder)?;
        if let Ok(mut slot) = self.embedder.lock() {
            *slot = Some(embedder);
        }
        Ok(())
    }

    fn extractor(&self) -> Result<Arc<Extractor>> {
        if let Some(x) = self.extractor.lock().ok().and_then(|g| g.clone()) {
            return Ok(x);
        }
        let x = Arc::new(extractor(
            &self.config,
            self.embedder()?,
            &self.frequent_keys,
        )?);
        if let Ok(mut slot) = self.extractor.lock() {
            *slot = Some(x.clone());
        }
        Ok(x)
    }

    /// Keywords, embeddings and clusters of new or changed items, without changing anything.
    /// Empty ids or titles are [`GroundrecError::InvalidItem`], an id twice is
    /// [`GroundrecError::DuplicateItem`], a custom embedder that gives the wrong width or NaN
    /// is [`GroundrecError::EmbedderOutput`].
    pub fn prepare_upsert(&self, items: &[Item]) -> Result<PreparedItems> {
        let mut ids = HashSet::new();
        for item in items {
            if let Some(p) = item.problem() {
                return Err(GroundrecError::InvalidItem {
                    id: item.id.clone(),
                    reason: p.into(),
                });
            }
            if !ids.insert(item.id.as_str()) {
                return Err(GroundrecError::DuplicateItem(item.id.clone()));
            }
        }
        let extractor = self.extractor()?;
        let refs: Vec<&Item> = items.iter().collect();
        let mut found = item_keywords(&extractor, &refs, &|_, _| {})?;
        let texts: Vec<String> = items
            .iter()
            .zip(&found.keywords)
            .map(|(i, k)| self.config.item_text.of(i, k))
            .collect();
        let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let embedder = self.embedder()?;
        let mut embeddings =
            found.item_vectors(self.config.item_text, &*embedder, &text_refs, &|_, _| {})?;
        let keywords = found.keywords;
        self.centering.apply(&text_refs, &mut embeddings);
        let clusters = if items.is_empty() {
            Vec::new()
        } else {
            self.kmeans.predict(&embeddings.view())?
        };
        Ok(PreparedItems {
            items: items.to_vec(),
            keywords,
            embeddings,
            clusters,
            model_id: self.model_id.clone(),
        })
    }

    /// Applies prepared items: new ids join the catalogue at its end, known ids are replaced
    /// (and retired ones are live again). Items are recommendable at once: the recommender
    /// scores a new item by its content through the learned projection, and a changed item's
    /// content part follows its new text while its learned part stays. All or nothing.
    pub fn apply_upsert(&mut self, prepared: PreparedItems) -> Result<UpsertReport> {
        if prepared.model_id != self.model_id {
            return Err(GroundrecError::Data(
                "these items were prepared by another fitted pipeline".into(),
            ));
        }
        let mut report = UpsertReport::default();
        let (mut new_rows, mut new_ids) = (Vec::new(), Vec::new());
        for (r, item) in prepared.items.iter().enumerate() {
            if self.catalog.position(&item.id).is_none() {
                new_rows.push(r);
                new_ids.push(item.id.clone());
            }
        }
        let fresh = prepared.embeddings.select(Axis(0), &new_rows);
        self.model.add_items(&new_ids, fresh.view())?;
        for (r, item) in prepared.items.into_iter().enumerate() {
            let row = prepared.embeddings.row(r);
            match self.catalog.position(&item.id) {
                Some(p) => {
                    let index = groundrec_sasrec::ItemIdx::new(p as u32);
                    self.model.set_item_features(index, row)?;
                    self.embeddings.row_mut(p).assign(&row);
                    self.keywords[p] = prepared.keywords[r].clone();
                    self.clusters[p] = prepared.clusters[r];
                    self.retired[p] = false;
                    report.updated.push(item.id.clone());
                    self.catalog.replace(p, item);
                }
                None => {
                    // Infallible: the row has the embeddings' width.
                    let _ = self.embeddings.push_row(row);
                    self.keywords.push(prepared.keywords[r].clone());
                    self.clusters.push(prepared.clusters[r]);
                    self.retired.push(false);
                    report.added.push(item.id.clone());
                    self.catalog.push(item);
                }
            }
        }
        Ok(report)
    }

    /// [`FittedPipeline::prepare_upsert`] then [`FittedPipeline::apply_upsert`].
    pub fn upsert_items(&mut self, items: &[Item]) -> Result<UpsertReport> {
        let prepared = self.prepare_upsert(items)?;
        self.apply_upsert(prepared)
    }

    /// Keeps an item out of every list from now on; histories that hold it still read it.
    /// An unknown id is [`GroundrecError::UnknownItem`]; retiring twice is fine.
    pub fn retire(&mut self, id: &str) -> Result<()> {
        let p = self
            .catalog
            .position(id)
            .ok_or_else(|| GroundrecError::UnknownItem(id.to_string()))?;
        self.retired[p] = true;
        Ok(())
    }
}
