//! The `Pipeline` builder and `fit`: catalogue + events → keywords → embeddings → clusters →
//! SASRec with content features → a fitted pipeline and its report.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use groundrec_embed::{normalize_rows, Embedder, HashingEmbedder, TransformerEmbedder};
use groundrec_keywords::{
    AutoCandidates, KeywordExtractor, KeywordParams, KoreanAnalyzer, KoreanNounCandidates,
    NgramCandidates,
};
use groundrec_kmeans::{choose_k, KMeans, Metric};
use groundrec_sasrec::{Dataset, EvalCase, SasRec, SasRecParams};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::data::{Catalog, Event};
use crate::error::{GroundrecError, Result};
use crate::fitted::FittedPipeline;
use crate::report::{Report, Timing};

/// Which sentence embedder the pipeline uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EmbedderSpec {
    /// A Hugging Face model folder (safetensors + tokenizer.json), e.g. multilingual-e5-small
    /// with the prefix `"query: "`.
    Model {
        /// The folder.
        dir: PathBuf,
        /// Text put before every input (e5 models expect `"query: "`).
        prefix: String,
    },
    /// Feature hashing of words and character n-grams: no model needed, for tests and trials.
    Hashing {
        /// Output dimension.
        dim: usize,
    },
}

/// What text of an item is embedded for clustering and content features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemText {
    /// The title followed by the extracted keywords (the default).
    TitleAndKeywords,
    /// The title and the description.
    TitleAndDescription,
    /// The extracted keywords only.
    Keywords,
}

/// How many clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Clusters {
    /// Exactly this many.
    Fixed(usize),
    /// The best silhouette among `min..=max`.
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
    /// Candidates re-ranked per list, as a multiple of the list length.
    pub pool_factor: usize,
}

impl Default for FairSettings {
    fn default() -> Self {
        Self {
            window: 4,
            max_per_window: 2,
            pool_factor: 3,
        }
    }
}

/// Every setting of a pipeline (saved with the fitted pipeline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineConfig {
    /// The embedder.
    pub embedder: EmbedderSpec,
    /// A lindera mecab-ko-dic folder for Korean noun candidates (`None`: word n-grams only).
    pub korean_dictionary: Option<PathBuf>,
    /// Keyword extraction settings.
    pub keywords: KeywordParams,
    /// Longest keyword n-gram for non-Korean text.
    pub keyword_max_words: usize,
    /// What is embedded per item.
    pub item_text: ItemText,
    /// Number of clusters.
    pub clusters: Clusters,
    /// The recommender's settings.
    pub sasrec: SasRecParams,
    /// Fair re-ranking.
    pub fair: FairSettings,
    /// Hold each user's last event out of training and report held-out metrics (the model is
    /// then trained without those events).
    pub holdout: bool,
    /// Seed of every random step.
    pub seed: u64,
    /// No progress output.
    pub quiet: bool,
}

/// Builder of a [`Pipeline`]; [`PipelineBuilder::build`] validates the settings.
#[derive(Debug, Clone)]
pub struct PipelineBuilder(PipelineConfig);

/// A validated pipeline, ready to [`fit`](Pipeline::fit).
#[derive(Debug, Clone)]
pub struct Pipeline(pub(crate) PipelineConfig);

impl Pipeline {
    /// Defaults: hashing embedder (set a model with [`PipelineBuilder::model`]), 5 keywords
    /// with MMR 0.5, (1, 2)-grams, title + keywords embedded, k chosen in 6..=16, SASRec with
    /// sampled softmax and early stopping (hidden 64, max length 50), window cap 2 of 4,
    /// held-out evaluation on, seed 42.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder(PipelineConfig {
            embedder: EmbedderSpec::Hashing { dim: 256 },
            korean_dictionary: None,
            keywords: KeywordParams::default()
                .top_n(5)
                .diversity(groundrec_keywords::Diversity::Mmr { diversity: 0.5 }),
            keyword_max_words: 2,
            item_text: ItemText::TitleAndKeywords,
            clusters: Clusters::Auto { min: 6, max: 16 },
            sasrec: SasRec::params().epochs(60),
            fair: FairSettings::default(),
            holdout: true,
            seed: 42,
            quiet: false,
        })
    }

    /// The settings.
    pub fn config(&self) -> &PipelineConfig {
        &self.0
    }
}

impl PipelineBuilder {
    /// Embed with a Hugging Face model folder; `prefix` goes before every text.
    pub fn model(mut self, dir: impl Into<PathBuf>, prefix: impl Into<String>) -> Self {
        self.0.embedder = EmbedderSpec::Model {
            dir: dir.into(),
            prefix: prefix.into(),
        };
        self
    }

    /// Embed with feature hashing of this dimension (no model).
    pub fn hashing(mut self, dim: usize) -> Self {
        self.0.embedder = EmbedderSpec::Hashing { dim };
        self
    }

    /// Korean noun candidates from this mecab-ko-dic folder.
    pub fn korean_dictionary(mut self, dir: impl Into<PathBuf>) -> Self {
        self.0.korean_dictionary = Some(dir.into());
        self
    }

    /// Keyword settings.
    pub fn keywords(mut self, params: KeywordParams) -> Self {
        self.0.keywords = params;
        self
    }

    /// What text of an item is embedded.
    pub fn item_text(mut self, text: ItemText) -> Self {
        self.0.item_text = text;
        self
    }

    /// The number of clusters.
    pub fn clusters(mut self, clusters: Clusters) -> Self {
        self.0.clusters = clusters;
        self
    }

    /// The recommender's settings.
    pub fn sasrec(mut self, params: SasRecParams) -> Self {
        self.0.sasrec = params;
        self
    }

    /// Fair re-ranking settings.
    pub fn fair(mut self, fair: FairSettings) -> Self {
        self.0.fair = fair;
        self
    }

    /// Hold out each user's last event for the report.
    pub fn holdout(mut self, on: bool) -> Self {
        self.0.holdout = on;
        self
    }

    /// Seed of every random step.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }

    /// No progress output (also passed to the recommender).
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.0.quiet = quiet;
        self
    }

    /// Validates the settings.
    pub fn build(self) -> Result<Pipeline> {
        let c = &self.0;
        let bad = |m: String| Err(GroundrecError::InvalidParam(m));
        match c.clusters {
            Clusters::Fixed(0) => return bad("clusters must be at least 1".into()),
            Clusters::Auto { min, max } if min < 2 || max < min => {
                return bad(format!(
                    "automatic k needs 2 <= min <= max, got {min}..={max}"
                ))
            }
            _ => {}
        }
        if c.fair.window < 2 || c.fair.max_per_window == 0 || c.fair.max_per_window >= c.fair.window
        {
            return bad(
                "fair re-ranking needs window >= 2 and 1 <= max_per_window < window".into(),
            );
        }
        if c.fair.pool_factor == 0 || c.keyword_max_words == 0 {
            return bad("pool_factor and keyword_max_words must be at least 1".into());
        }
        if let EmbedderSpec::Hashing { dim: 0 } = c.embedder {
            return bad("the hashing dimension must be at least 1".into());
        }
        let sasrec = c.sasrec.clone().seed(c.seed).quiet(c.quiet);
        sasrec.clone().check()?;
        let mut config = self.0;
        config.sasrec = sasrec;
        Ok(Pipeline(config))
    }
}

/// Users' item sequences (catalogue positions, time order) from validated events.
pub(crate) fn sequences(catalog: &Catalog, events: &[Event]) -> (Vec<String>, Vec<Vec<u32>>) {
    let mut by_user: HashMap<&str, Vec<(i64, usize, u32)>> = HashMap::new();
    for (n, e) in events.iter().enumerate() {
        if let Some(p) = catalog.position(&e.item) {
            by_user
                .entry(&e.user)
                .or_default()
                .push((e.timestamp, n, p as u32 + 1));
        }
    }
    let mut users: Vec<&str> = by_user.keys().copied().collect();
    users.sort_unstable();
    let seqs = users
        .iter()
        .map(|u| {
            let mut v = by_user.remove(u).unwrap_or_default();
            v.sort_unstable();
            let mut s: Vec<u32> = v.into_iter().map(|(_, _, i)| i).collect();
            s.dedup(); // repeated consecutive events on one item count once
            s
        })
        .collect();
    (users.into_iter().map(str::to_string).collect(), seqs)
}

impl Pipeline {
    pub(crate) fn embedder(&self) -> Result<Box<dyn Embedder>> {
        Ok(match &self.0.embedder {
            EmbedderSpec::Hashing { dim } => Box::new(HashingEmbedder::new(*dim)?),
            EmbedderSpec::Model { dir, prefix } => Box::new(
                TransformerEmbedder::builder(dir)
                    .prefix(prefix.clone())
                    .progress(!self.0.quiet)
                    .build()?,
            ),
        })
    }

    /// Fits every step on a catalogue and validated events; returns the fitted pipeline and
    /// its report (held-out metrics when `holdout` is on).
    pub fn fit(&self, catalog: &Catalog, events: &[Event]) -> Result<(FittedPipeline, Report)> {
        let c = &self.0;
        let mut timings = Vec::new();
        let mut clock = Instant::now();
        let mut lap = |name: &str, timings: &mut Vec<Timing>| {
            timings.push(Timing {
                step: name.to_string(),
                seconds: clock.elapsed().as_secs_f64(),
            });
            clock = Instant::now();
        };
        let say = |m: &str| {
            if !c.quiet {
                eprintln!("groundrec: {m}");
            }
        };
        let embedder = self.embedder()?;
        lap("load embedder", &mut timings);

        say(&format!("keywords for {} items", catalog.len()));
        let korean = match &c.korean_dictionary {
            Some(dir) => Some(KoreanNounCandidates::new(
                std::sync::Arc::new(KoreanAnalyzer::load(dir)?),
                c.keyword_max_words.max(2),
            )?),
            None => None,
        };
        let generator = AutoCandidates::new(NgramCandidates::new(1, c.keyword_max_words)?, korean);
        let extractor = KeywordExtractor::new(&*embedder, generator, c.keywords.clone())?;
        let docs: Vec<String> = catalog
            .items()
            .iter()
            .map(|i| format!("{}. {}", i.title, i.description))
            .collect();
        let doc_refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let keywords: Vec<Vec<String>> = extractor
            .extract(&doc_refs)?
            .into_iter()
            .map(|d| d.keywords.into_iter().map(|k| k.surface).collect())
            .collect();
        lap("keywords", &mut timings);

        say("item embeddings");
        let texts: Vec<String> = catalog
            .items()
            .iter()
            .zip(&keywords)
            .map(|(i, k)| match c.item_text {
                ItemText::TitleAndKeywords => format!("{}. {}", i.title, k.join(", ")),
                ItemText::TitleAndDescription => format!("{}. {}", i.title, i.description),
                ItemText::Keywords => k.join(", "),
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut embeddings: Array2<f32> = embedder.embed(&refs)?;
        normalize_rows(&mut embeddings);
        lap("embeddings", &mut timings);

        say("clusters");
        let km = KMeans::params(2)
            .metric(Metric::Cosine)
            .seed(c.seed)
            .n_init(3);
        let k = match c.clusters {
            Clusters::Fixed(k) => k,
            Clusters::Auto { min, max } => {
                let ks: Vec<usize> =
                    (min..=max.min(catalog.len().saturating_sub(1)).max(min)).collect();
                choose_k(&embeddings.view(), &ks, &km, 2000)?.silhouette
            }
        };
        let kmeans = km.k(k).fit(&embeddings.view())?;
        lap("clusters", &mut timings);

        say("recommender");
        let (users, seqs) = sequences(catalog, events);
        let data = self.dataset(catalog, seqs);
        let (model, train) = c
            .sasrec
            .clone()
            .check()?
            .fit_with_features(&data, embeddings.view())?;
        lap("sasrec", &mut timings);

        let fitted = FittedPipeline::new(
            self.0.clone(),
            catalog.clone(),
            keywords,
            embeddings,
            kmeans,
            model,
        );
        let report = Report::build(&fitted, &data, &users, train, timings)?;
        Ok((fitted, report))
    }

    fn dataset(&self, catalog: &Catalog, seqs: Vec<Vec<u32>>) -> Dataset {
        let item_ids = std::iter::once(String::new())
            .chain(catalog.items().iter().map(|i| i.id.clone()))
            .collect();
        let mut data = Dataset {
            item_ids,
            ..Default::default()
        };
        for (u, s) in seqs.into_iter().enumerate() {
            if !self.0.holdout || s.len() < 3 {
                data.train.push(s);
                continue;
            }
            let n = s.len();
            data.valid.push(EvalCase {
                user: u,
                input: s[..n - 2].to_vec(),
                target: s[n - 2],
                history: s.clone(),
            });
            data.test.push(EvalCase {
                user: u,
                input: s[..n - 1].to_vec(),
                target: s[n - 1],
                history: s.clone(),
            });
            data.train.push(s[..n - 2].to_vec());
        }
        data
    }
}
