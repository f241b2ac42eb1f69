//! The pipeline's settings: `Pipeline::builder()` → [`PipelineParams`] →
//! [`PipelineParams::check`] → [`PipelineValidParams`], which fits.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use groundrec_embed::{Embedder, HashingEmbedder, Precision, TransformerEmbedder};
use groundrec_keywords::{Diversity, KeywordParams, KeywordValidParams};
use groundrec_sasrec::{Loss, SasRec, SasRecParams, SasRecValidParams};
use groundrec_shuffle::{FairRanker, FairRankerValidParams};
use serde::{Deserialize, Serialize};

use crate::catalog::Item;
use crate::error::{GroundrecError, Result};

/// Which sentence embedder the pipeline uses (what is saved with a fitted pipeline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EmbedderSpec {
    /// A Hugging Face model folder (safetensors + tokenizer.json), e.g. multilingual-e5-small
    /// with the prefix `"query: "`.
    Model {
        /// The folder.
        dir: PathBuf,
        /// Text put before every input (e5 models expect `"query: "`).
        prefix: String,
        /// The encoder's precision as asked ([`Precision::Auto`] by default, and for pipelines
        /// saved before this setting: it is resolved again wherever the pipeline loads).
        #[serde(default)]
        precision: Precision,
    },
    /// Feature hashing of words and character n-grams: no model needed, for tests and trials.
    Hashing {
        /// Output dimension.
        dim: usize,
    },
    /// An embedder of the caller's ([`PipelineParams::embedder`]); it is not saved, so loading
    /// takes it again ([`FittedPipeline::load_with_embedder`](crate::FittedPipeline::load_with_embedder)).
    Custom {
        /// What it said of itself ([`Embedder::describe`]).
        description: String,
        /// Its output width.
        dim: usize,
    },
}

impl EmbedderSpec {
    /// Builds the embedder a saved spec names; a custom one only its owner can give
    /// ([`GroundrecError::EmbedderRequired`]).
    pub(crate) fn build(&self) -> Result<Arc<dyn Embedder>> {
        Ok(match self {
            EmbedderSpec::Hashing { dim } => Arc::new(HashingEmbedder::new(*dim)?),
            EmbedderSpec::Model {
                dir,
                prefix,
                precision,
            } => Arc::new(
                TransformerEmbedder::builder(dir)
                    .prefix(prefix.clone())
                    .precision(*precision)
                    .build()?,
            ),
            EmbedderSpec::Custom { description, .. } => {
                return Err(GroundrecError::EmbedderRequired(description.clone()))
            }
        })
    }
}

/// What text of an item is embedded for clustering and content features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemText {
    /// The title followed by the extracted keywords (the default).
    TitleAndKeywords,
    /// The title and the description: the text keywords are extracted from, so the fit takes
    /// these vectors from the keyword stage and runs the encoder once.
    TitleAndDescription,
    /// The extracted keywords only.
    Keywords,
    /// No text: the mean of the keyword phrases' unit vectors, which the keyword stage has
    /// already made, so the fit runs no second encoder pass (an item without keywords gets
    /// its title embedded).
    KeywordMean,
}

impl ItemText {
    /// The text of `item` with these `keywords`.
    pub(crate) fn of(self, item: &Item, keywords: &[String]) -> String {
        match self {
            ItemText::TitleAndKeywords => format!("{}. {}", item.title, keywords.join(", ")),
            // The keywords' source text: the fit reuses its vectors instead of a second pass.
            ItemText::TitleAndDescription => keyword_source(item),
            ItemText::Keywords => keywords.join(", "),
            // What script centring reads, and what an item without keywords embeds.
            ItemText::KeywordMean if keywords.is_empty() => item.title.clone(),
            ItemText::KeywordMean => keywords.join(", "),
        }
    }
}

impl ItemText {
    /// Every item text, in the order the error message and the docs list them.
    pub const ALL: [ItemText; 4] = [
        ItemText::TitleAndKeywords,
        ItemText::TitleAndDescription,
        ItemText::Keywords,
        ItemText::KeywordMean,
    ];
}

impl std::fmt::Display for ItemText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ItemText::TitleAndKeywords => "title-keywords",
            ItemText::TitleAndDescription => "title-description",
            ItemText::Keywords => "keywords",
            ItemText::KeywordMean => "keyword-mean",
        })
    }
}

impl std::str::FromStr for ItemText {
    type Err = GroundrecError;

    /// `title-keywords`, `title-description`, `keywords` or `keyword-mean` (as `Display`
    /// writes them).
    fn from_str(s: &str) -> Result<Self> {
        ItemText::ALL
            .into_iter()
            .find(|t| t.to_string() == s)
            .ok_or_else(|| {
                let names: Vec<String> = ItemText::ALL.iter().map(|t| t.to_string()).collect();
                GroundrecError::param(
                    "item_text",
                    format!("{s:?} is not one of {}", names.join(", ")),
                )
            })
    }
}

/// The text keywords are extracted from.
pub(crate) fn keyword_source(item: &Item) -> String {
    format!("{}. {}", item.title, item.description)
}

/// How many clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Clusters {
    /// Exactly this many (at most the number of items).
    Fixed(usize),
    /// The best silhouette among `min..=max`, clamped to what the catalogue allows (at most
    /// one cluster fewer than items; a catalogue of one or two items gets one cluster).
    Auto {
        /// Smallest k tried.
        min: usize,
        /// Largest k tried.
        max: usize,
    },
}

/// Fair re-ranking of recommendation lists by cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FairSettings {
    /// At most `max_per_window` items of one cluster in any `window` consecutive slots.
    pub window: usize,
    /// See `window`.
    pub max_per_window: usize,
    /// Candidates re-ranked per list, as a multiple of the list length (1..=100).
    pub pool_factor: usize,
    /// Slots at the end of each list kept for new items: items no training event names (added
    /// to the catalogue after the fit, or never interacted with), ranked among themselves by
    /// the model's content-based score. New items already in the list count toward them; the
    /// window rule does not apply to these slots. Without them a new item rarely reaches a list
    /// against items with a training history, so it never gathers the events that would let
    /// the next fit learn it. At most the list length; 0 turns the rule off.
    #[serde(default)]
    pub new_item_slots: usize,
}

impl Default for FairSettings {
    fn default() -> Self {
        Self {
            window: 4,
            max_per_window: 2,
            pool_factor: 3,
            new_item_slots: 0,
        }
    }
}

/// Checked fair settings: the pool size, the ranker over cluster numbers and the new-item
/// slots.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fair {
    pub(crate) pool_factor: usize,
    pub(crate) ranker: FairRankerValidParams<usize>,
    pub(crate) new_item_slots: usize,
}

impl FairSettings {
    /// Checks the settings (the window rule is shuffle's to check).
    pub(crate) fn check(&self) -> Result<Fair> {
        if !(1..=100).contains(&self.pool_factor) {
            return Err(GroundrecError::param(
                "fair",
                format!("pool_factor must be in 1..=100, got {}", self.pool_factor),
            ));
        }
        Ok(Fair {
            pool_factor: self.pool_factor,
            new_item_slots: self.new_item_slots,
            ranker: FairRanker::params()
                .window(self.window, self.max_per_window)
                .check()?,
        })
    }
}

/// Every setting of a fitted pipeline, checked (saved with it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineConfig {
    /// The embedder.
    pub embedder: EmbedderSpec,
    /// A lindera mecab-ko-dic folder for Korean noun candidates (`None`: word n-grams only).
    pub korean_dictionary: Option<PathBuf>,
    /// Keyword extraction settings.
    pub keywords: KeywordValidParams,
    /// Longest keyword n-gram for non-Korean text (and noun compound for Korean).
    pub keyword_max_words: usize,
    /// What is embedded per item.
    pub item_text: ItemText,
    /// Remove each script's mean vector from the item embeddings.
    pub center_languages: bool,
    /// Number of clusters.
    pub clusters: Clusters,
    /// The recommender's settings (its seed is the pipeline's).
    pub sasrec: SasRecValidParams,
    /// Fair re-ranking of served lists (checked).
    pub fair: FairSettings,
    /// Hold each user's last event out of training and report held-out metrics (the model is
    /// then trained without those events).
    pub holdout: bool,
    /// Seed of every random step.
    pub seed: u64,
}

/// Entry point: [`Pipeline::builder`].
#[derive(Debug, Clone, Copy)]
pub struct Pipeline;

impl Pipeline {
    /// The recommender's settings in [`Pipeline::builder`]: [`SasRec::params`] with 60 epochs
    /// (early stopping on), every rating of a long history trained
    /// ([`SasRecParams::history_windows`]) and [`Loss::Auto`]: the full softmax up to
    /// 5,000 items, 256 sampled negatives above. On MovieLens-100K these two took NDCG@10
    /// from 0.088 to 0.130 (docs/benchmarks.md). Above 5,000 items the item tables are updated
    /// row by row ([`SasRecParams::row_updates`]), so a training step costs its batch, not the
    /// catalogue. Start from these to change one setting.
    pub fn sasrec_defaults() -> SasRecParams {
        SasRec::params()
            .epochs(60)
            .history_windows(true)
            .loss(Loss::Auto {
                full_up_to: 5_000,
                negatives: 256,
            })
            .row_updates(true)
    }

    /// Defaults: hashing embedder (set a model with [`PipelineParams::model`]), 5 keywords
    /// with MMR 0.5, no phrase shared by more than 5 % of the items and none nested in a
    /// better one, (1, 2)-grams, title + keywords embedded and centred per script, k chosen
    /// in 6..=16, SASRec as [`Pipeline::sasrec_defaults`] (hidden 64, max length 50), window
    /// cap 2 of 4 over a pool of 3 × n, held-out evaluation on, seed 42.
    pub fn builder() -> PipelineParams {
        PipelineParams {
            embedder: EmbedderSpec::Hashing { dim: 256 },
            custom: None,
            precision: Precision::Auto,
            korean_dictionary: None,
            // Phrases more than 5 % of the items share are boilerplate ("short examples",
            // "문제"): on the demo this ceiling took clusters from ARI 0.056 against the
            // subjects to 0.708 at the same HR@10 (docs/benchmarks.md).
            // Nested phrases dropped ("선형" after "선형 회귀"): the Korean longer-description
            // set went from 0.583 to 0.750 of its terms with this and whole nouns.
            keywords: KeywordParams::default()
                .top_n(5)
                .diversity(Diversity::Mmr { diversity: 0.5 })
                .max_df(0.05)
                .drop_nested(true),
            keyword_max_words: 2,
            item_text: ItemText::TitleAndKeywords,
            center_languages: true,
            clusters: Clusters::Auto { min: 6, max: 16 },
            sasrec: Pipeline::sasrec_defaults(),
            fair: FairSettings::default(),
            holdout: true,
            seed: 42,
        }
    }
}

/// Unchecked settings of a pipeline; [`PipelineParams::check`] validates each part once.
#[derive(Clone)]
pub struct PipelineParams {
    embedder: EmbedderSpec,
    custom: Option<Arc<dyn Embedder>>,
    precision: Precision,
    korean_dictionary: Option<PathBuf>,
    keywords: KeywordParams,
    keyword_max_words: usize,
    item_text: ItemText,
    center_languages: bool,
    clusters: Clusters,
    sasrec: SasRecParams,
    fair: FairSettings,
    holdout: bool,
    seed: u64,
}

impl std::fmt::Debug for PipelineParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineParams")
            .field("embedder", &self.embedder)
            .field("clusters", &self.clusters)
            .field("sasrec", &self.sasrec)
            .field("fair", &self.fair)
            .finish_non_exhaustive()
    }
}

impl PipelineParams {
    /// Embed with a Hugging Face model folder; `prefix` goes before every text. The encoder
    /// runs at [`Precision::Auto`] unless [`PipelineParams::precision`] says otherwise.
    pub fn model(mut self, dir: impl Into<PathBuf>, prefix: impl Into<String>) -> Self {
        self.embedder = EmbedderSpec::Model {
            dir: dir.into(),
            prefix: prefix.into(),
            precision: self.precision,
        };
        self.custom = None;
        self
    }

    /// The model encoder's precision (default [`Precision::Auto`]: the fastest of int8 and
    /// bf16, timed when the model loads, among those this CPU runs natively and that keep the
    /// model's vectors within the gate of float32, else float32; the report's embedder line
    /// says which ran). No effect on the hashing or a custom embedder.
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        if let EmbedderSpec::Model { precision: p, .. } = &mut self.embedder {
            *p = precision;
        }
        self
    }

    /// Embed with feature hashing of this dimension (no model).
    pub fn hashing(mut self, dim: usize) -> Self {
        self.embedder = EmbedderSpec::Hashing { dim };
        self.custom = None;
        self
    }

    /// Embed with any embedder of yours. It is not saved with the fitted pipeline: load it
    /// with [`FittedPipeline::load_with_embedder`](crate::FittedPipeline::load_with_embedder)
    /// to add or change items.
    pub fn embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.embedder = EmbedderSpec::Custom {
            description: embedder.describe(),
            dim: embedder.dim(),
        };
        self.custom = Some(embedder);
        self
    }

    /// Korean noun candidates from this mecab-ko-dic folder.
    pub fn korean_dictionary(mut self, dir: impl Into<PathBuf>) -> Self {
        self.korean_dictionary = Some(dir.into());
        self
    }

    /// Keyword settings.
    pub fn keywords(mut self, params: KeywordParams) -> Self {
        self.keywords = params;
        self
    }

    /// Longest keyword n-gram (and Korean noun compound), at least 1 (default 2).
    pub fn keyword_max_words(mut self, n: usize) -> Self {
        self.keyword_max_words = n;
        self
    }

    /// What text of an item is embedded.
    pub fn item_text(mut self, text: ItemText) -> Self {
        self.item_text = text;
        self
    }

    /// Remove each script's mean vector from the item embeddings (default on): a
    /// multilingual encoder places texts of one script near each other whatever they say, so
    /// without this the Korean and English versions of a lecture land apart.
    pub fn center_languages(mut self, on: bool) -> Self {
        self.center_languages = on;
        self
    }

    /// The number of clusters.
    pub fn clusters(mut self, clusters: Clusters) -> Self {
        self.clusters = clusters;
        self
    }

    /// The recommender's settings (its seed is replaced by the pipeline's).
    pub fn sasrec(mut self, params: SasRecParams) -> Self {
        self.sasrec = params;
        self
    }

    /// Fair re-ranking settings.
    pub fn fair(mut self, fair: FairSettings) -> Self {
        self.fair = fair;
        self
    }

    /// Hold out each user's last event for the report.
    pub fn holdout(mut self, on: bool) -> Self {
        self.holdout = on;
        self
    }

    /// Seed of every random step.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every part once.
    pub fn check(self) -> Result<PipelineValidParams> {
        match self.clusters {
            Clusters::Fixed(0) => {
                return Err(GroundrecError::param("clusters", "k must be at least 1"))
            }
            Clusters::Auto { min, max } if min < 2 || max < min => {
                return Err(GroundrecError::param(
                    "clusters",
                    format!("automatic k needs 2 <= min <= max, got {min}..={max}"),
                ))
            }
            _ => {}
        }
        let fair = self.fair.check()?;
        if self.keyword_max_words == 0 {
            return Err(GroundrecError::param(
                "keyword_max_words",
                "must be at least 1",
            ));
        }
        if let EmbedderSpec::Hashing { dim: 0 } = self.embedder {
            return Err(GroundrecError::param(
                "hashing",
                "the dimension must be at least 1",
            ));
        }
        let config = PipelineConfig {
            embedder: self.embedder,
            korean_dictionary: self.korean_dictionary,
            keywords: self.keywords.check()?,
            keyword_max_words: self.keyword_max_words,
            item_text: self.item_text,
            center_languages: self.center_languages,
            clusters: self.clusters,
            sasrec: self.sasrec.seed(self.seed).check()?,
            fair: self.fair,
            holdout: self.holdout,
            seed: self.seed,
        };
        Ok(PipelineValidParams {
            config,
            fair,
            custom: self.custom,
        })
    }
}

/// Checked settings, ready to [`fit`](PipelineValidParams::fit).
#[derive(Clone)]
pub struct PipelineValidParams {
    pub(crate) config: PipelineConfig,
    pub(crate) fair: Fair,
    pub(crate) custom: Option<Arc<dyn Embedder>>,
}

impl std::fmt::Debug for PipelineValidParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineValidParams")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PipelineValidParams {
    /// Every setting.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// The embedder description.
    pub fn embedder(&self) -> &EmbedderSpec {
        &self.config.embedder
    }

    /// The Korean dictionary folder, if any.
    pub fn korean_dictionary(&self) -> Option<&Path> {
        self.config.korean_dictionary.as_deref()
    }

    /// Keyword settings.
    pub fn keywords(&self) -> &KeywordValidParams {
        &self.config.keywords
    }

    /// The recommender's settings.
    pub fn sasrec(&self) -> &SasRecValidParams {
        &self.config.sasrec
    }

    /// Fair re-ranking.
    pub fn fair(&self) -> FairSettings {
        self.config.fair
    }

    /// Whether the last event of each user is held out for the report.
    pub fn holdout(&self) -> bool {
        self.config.holdout
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    /// The embedder to fit with: the custom one, or the one the spec names.
    pub(crate) fn load_embedder(&self) -> Result<Arc<dyn Embedder>> {
        match &self.custom {
            Some(e) => Ok(e.clone()),
            None => self.config.embedder.build(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_text_names_round_trip_and_others_are_refused() {
        for t in ItemText::ALL {
            assert_eq!(t.to_string().parse::<ItemText>().expect("round trip"), t);
        }
        let err = "title".parse::<ItemText>().expect_err("not a name");
        assert!(err.to_string().contains("keyword-mean"), "{err}");
    }
}
