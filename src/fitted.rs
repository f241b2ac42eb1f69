//! A fitted pipeline: recommendations with fair re-ranking, and atomic save/load.

use std::fs;
use std::path::{Path, PathBuf};

use groundrec_kmeans::KMeansModel;
use groundrec_sasrec::{fnv1a64, SasRecModel, Source};
use groundrec_shuffle::FairRanker;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::data::Catalog;
use crate::error::{io_err, GroundrecError, Result};
use crate::pipeline::PipelineConfig;

/// Version of the artifact folder layout this build writes and reads.
pub const PIPELINE_FORMAT_VERSION: u32 = 1;
const FORMAT: &str = "groundrec-pipeline";

/// One recommended item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Item id.
    pub item: String,
    /// Item title.
    pub title: String,
    /// The recommender's score (a logit; a popularity share for cold users).
    pub score: f32,
    /// The item's cluster.
    pub cluster: usize,
    /// The item's top keywords (at most three).
    pub keywords: Vec<String>,
    /// Whether the list came from the model or, for an empty history, from popularity.
    pub from_history: bool,
}

/// Everything a fitted pipeline holds.
#[derive(Debug)]
pub struct FittedPipeline {
    pub(crate) config: PipelineConfig,
    pub(crate) catalog: Catalog,
    pub(crate) keywords: Vec<Vec<String>>,
    pub(crate) embeddings: Array2<f32>,
    pub(crate) kmeans: KMeansModel<f32>,
    pub(crate) model: SasRecModel,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    format: String,
    version: u32,
    config: PipelineConfig,
    catalog: Catalog,
    keywords: Vec<Vec<String>>,
    embeddings_shape: (usize, usize),
    embeddings_fnv1a64: String,
}

fn artifact(path: &Path, reason: impl Into<String>) -> GroundrecError {
    GroundrecError::Artifact {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl FittedPipeline {
    pub(crate) fn new(
        config: PipelineConfig,
        catalog: Catalog,
        keywords: Vec<Vec<String>>,
        embeddings: Array2<f32>,
        kmeans: KMeansModel<f32>,
        model: SasRecModel,
    ) -> Self {
        Self {
            config,
            catalog,
            keywords,
            embeddings,
            kmeans,
            model,
        }
    }

    /// The settings it was fitted with.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// The catalogue.
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
        self.kmeans.labels()
    }

    /// The k-means model of the item embeddings.
    pub fn kmeans(&self) -> &KMeansModel<f32> {
        &self.kmeans
    }

    /// The recommender.
    pub fn recommender(&self) -> &SasRecModel {
        &self.model
    }

    /// The `n` next items for a history of item ids (oldest first): SASRec candidates
    /// (`pool_factor × n`, seen items excluded) re-ranked so that no cluster takes more than
    /// `max_per_window` of any `window` consecutive slots. An empty history gets a
    /// diversified list of popular items; unknown ids are an error.
    pub fn recommend(&self, history: &[&str], n: usize) -> Result<Vec<Recommendation>> {
        let mut dense = Vec::with_capacity(history.len());
        for id in history {
            let p = self
                .catalog
                .position(id)
                .ok_or_else(|| GroundrecError::UnknownItem((*id).to_string()))?;
            dense.push(p as u32 + 1);
        }
        Ok(self.recommend_dense(&[dense], n)?.pop().unwrap_or_default())
    }

    /// [`FittedPipeline::recommend`] for many histories of dense ids (catalogue position + 1).
    pub(crate) fn recommend_dense(
        &self,
        histories: &[Vec<u32>],
        n: usize,
    ) -> Result<Vec<Vec<Recommendation>>> {
        let items = self.catalog.len();
        let fair = self.config.fair;
        let ranker = FairRanker::new().window(fair.window, fair.max_per_window)?;
        let labels = self.kmeans.labels();
        // Every history is checked first, then scored in one SASRec call per candidate-pool
        // size (the pool depends on how many items a history leaves unseen; nearly always one
        // size), so the model sees batches rather than one history at a time.
        let mut pools = Vec::with_capacity(histories.len());
        for h in histories {
            let mut seen = h.clone();
            seen.sort_unstable();
            seen.dedup();
            let unseen = items - seen.len();
            if n == 0 || n > unseen {
                return Err(GroundrecError::InvalidParam(format!(
                    "n must be in 1..={unseen} (items not in the history), got {n}"
                )));
            }
            pools.push((n * fair.pool_factor).min(unseen));
        }
        let mut candidates: Vec<Vec<_>> = (0..histories.len()).map(|_| Vec::new()).collect();
        let mut sizes = pools.clone();
        sizes.sort_unstable();
        sizes.dedup();
        for size in sizes {
            let members: Vec<usize> = (0..histories.len()).filter(|&i| pools[i] == size).collect();
            let group: Vec<Vec<u32>> = members.iter().map(|&i| histories[i].clone()).collect();
            let scored = self.model.recommend_dense(&group, size, true)?;
            for (i, c) in members.into_iter().zip(scored) {
                candidates[i] = c;
            }
        }
        let mut out = Vec::with_capacity(histories.len());
        for cands in candidates {
            let reranked = ranker.rerank(
                cands,
                |r| f64::from(r.score),
                |r| labels[r.index as usize - 1],
            )?;
            let list = reranked
                .items
                .into_iter()
                .take(n)
                .map(|r| {
                    let p = r.index as usize - 1;
                    Recommendation {
                        item: r.item,
                        title: self.catalog.items()[p].title.clone(),
                        score: r.score,
                        cluster: labels[p],
                        keywords: self.keywords[p].iter().take(3).cloned().collect(),
                        from_history: r.source == Source::Model,
                    }
                })
                .collect();
            out.push(list);
        }
        Ok(out)
    }

    /// Saves every fitted part into `dir`: `pipeline.json` (format version, settings,
    /// catalogue, keywords, checksum), `embeddings.safetensors`, `kmeans.json` and `sasrec/`.
    /// The folder is written under a temporary name and swapped into place, so `dir` holds
    /// either the old or the new pipeline, never a mix.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "pipeline".into());
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(io_err(parent))?;
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
        self.write_into(&tmp)?;
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        let had_old = dir.exists();
        if had_old {
            fs::rename(dir, &old).map_err(io_err(dir))?;
        }
        fs::rename(&tmp, dir).map_err(io_err(dir))?;
        if had_old {
            let _ = fs::remove_dir_all(&old);
        }
        Ok(())
    }

    fn write_into(&self, dir: &Path) -> Result<()> {
        let (rows, cols) = self.embeddings.dim();
        let flat: Vec<u8> = self
            .embeddings
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![rows, cols], &flat)
                .map_err(|e| artifact(dir, e.to_string()))?;
        let bytes = safetensors::serialize([("embeddings", view)], &None)
            .map_err(|e| artifact(dir, e.to_string()))?;
        let path = dir.join("embeddings.safetensors");
        fs::write(&path, &bytes).map_err(io_err(&path))?;
        let path = dir.join("kmeans.json");
        let km = serde_json::to_vec(&self.kmeans).map_err(|e| artifact(&path, e.to_string()))?;
        fs::write(&path, km).map_err(io_err(&path))?;
        self.model.save(dir.join("sasrec"))?;
        let meta = Meta {
            format: FORMAT.into(),
            version: PIPELINE_FORMAT_VERSION,
            config: self.config.clone(),
            catalog: self.catalog.clone(),
            keywords: self.keywords.clone(),
            embeddings_shape: (rows, cols),
            embeddings_fnv1a64: fnv1a64(&bytes),
        };
        let path = dir.join("pipeline.json");
        let json = serde_json::to_vec_pretty(&meta).map_err(|e| artifact(&path, e.to_string()))?;
        fs::write(&path, json).map_err(io_err(&path))
    }

    /// Loads a pipeline saved by [`FittedPipeline::save`]. Missing or damaged files, another
    /// format version and parts that do not fit together are [`GroundrecError::Artifact`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let path = dir.join("pipeline.json");
        let text = fs::read(&path).map_err(|e| artifact(&path, e.to_string()))?;
        let meta: Meta = serde_json::from_slice(&text)
            .map_err(|e| artifact(&path, format!("not a pipeline description: {e}")))?;
        if meta.format != FORMAT || meta.version != PIPELINE_FORMAT_VERSION {
            return Err(artifact(
                &path,
                format!(
                    "format {} version {}; this build reads {FORMAT} version {PIPELINE_FORMAT_VERSION}",
                    meta.format, meta.version
                ),
            ));
        }
        let mut catalog = meta.catalog;
        catalog.reindex();
        let n = catalog.len();
        let path: PathBuf = dir.join("embeddings.safetensors");
        let bytes = fs::read(&path).map_err(|e| artifact(&path, e.to_string()))?;
        if fnv1a64(&bytes) != meta.embeddings_fnv1a64 {
            return Err(artifact(
                &path,
                "checksum mismatch: truncated, altered or from another save",
            ));
        }
        let st = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| artifact(&path, e.to_string()))?;
        let t = st
            .tensor("embeddings")
            .map_err(|e| artifact(&path, e.to_string()))?;
        let (rows, cols) = meta.embeddings_shape;
        if t.shape() != [rows, cols] || rows != n || t.dtype() != safetensors::Dtype::F32 {
            return Err(artifact(
                &path,
                format!("shape {:?} for {n} items", t.shape()),
            ));
        }
        let values: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let embeddings = Array2::from_shape_vec((rows, cols), values)
            .map_err(|e| artifact(&path, e.to_string()))?;
        let path = dir.join("kmeans.json");
        let km_text = fs::read(&path).map_err(|e| artifact(&path, e.to_string()))?;
        let kmeans: KMeansModel<f32> =
            serde_json::from_slice(&km_text).map_err(|e| artifact(&path, e.to_string()))?;
        let model = SasRecModel::load(dir.join("sasrec"))?;
        let ids_match = model.n_items() == n
            && model.item_ids()[1..]
                .iter()
                .zip(catalog.items())
                .all(|(a, b)| *a == b.id);
        if kmeans.labels().len() != n || meta.keywords.len() != n || !ids_match {
            return Err(artifact(
                dir,
                "the saved parts do not describe the same catalogue",
            ));
        }
        Ok(Self::new(
            meta.config,
            catalog,
            meta.keywords,
            embeddings,
            kmeans,
            model,
        ))
    }
}
