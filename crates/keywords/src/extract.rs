//! [`KeywordExtractor`]: embeds documents and candidates and picks each document's keyphrases.

use std::collections::HashMap;

use groundrec_embed::{normalize_rows, Embedder};
use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::candidates::{Candidate, CandidateGenerator};
use crate::error::{KeywordsError, Result};
use crate::select::{max_sum, mmr, top_indices, Diversity};

/// Scoring options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordParams {
    top_n: usize,
    diversity: Diversity,
    min_df: usize,
}

impl Default for KeywordParams {
    /// KeyBERT's defaults: top 5 by cosine similarity, every candidate kept.
    fn default() -> Self {
        Self {
            top_n: 5,
            diversity: Diversity::None,
            min_df: 1,
        }
    }
}

impl KeywordParams {
    /// Keywords per document (default 5).
    pub fn top_n(mut self, n: usize) -> Self {
        self.top_n = n;
        self
    }
    /// Plain ranking (default), MMR or MaxSum.
    pub fn diversity(mut self, d: Diversity) -> Self {
        self.diversity = d;
        self
    }
    /// Drop candidates found in fewer than `n` documents of the batch (default 1).
    pub fn min_df(mut self, n: usize) -> Self {
        self.min_df = n;
        self
    }

    fn check(&self) -> Result<()> {
        match self.diversity {
            Diversity::Mmr { diversity } if !(0.0..=1.0).contains(&diversity) => {
                Err(KeywordsError::InvalidParam(format!(
                    "MMR diversity must be in [0, 1], got {diversity}"
                )))
            }
            Diversity::MaxSum { nr_candidates, .. } if nr_candidates < self.top_n => {
                Err(KeywordsError::InvalidParam(format!(
                    "MaxSum needs nr_candidates ({nr_candidates}) >= top_n ({})",
                    self.top_n
                )))
            }
            _ if self.min_df == 0 => Err(KeywordsError::InvalidParam(
                "min_df must be at least 1".into(),
            )),
            _ => Ok(()),
        }
    }
}

/// Seed keywords that steer the document embedding: KeyBERT's `(3·doc + mean(seeds)) / 4`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Seeds {
    /// No steering.
    #[default]
    None,
    /// The same seeds for every document.
    Global(Vec<String>),
    /// One list per document (an empty list leaves that document alone).
    PerDocument(Vec<Vec<String>>),
}

/// One chosen keyphrase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyword {
    /// Normalised form (what was embedded).
    pub key: String,
    /// First occurrence as written in the document.
    pub surface: String,
    /// Cosine similarity to the (seeded) document embedding.
    pub score: f32,
    /// Byte ranges of every occurrence.
    pub spans: Vec<(usize, usize)>,
}

/// The keywords of one document.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DocKeywords {
    /// Best first (for MMR: in the order chosen).
    pub keywords: Vec<Keyword>,
    /// MaxSum had too many combinations and MMR (diversity 0.5) chose instead.
    pub fell_back_to_mmr: bool,
}

/// KeyBERT-style extraction over any embedder and candidate generator.
#[derive(Debug)]
pub struct KeywordExtractor<E, C> {
    embedder: E,
    generator: C,
    params: KeywordParams,
}

impl<E: Embedder, C: CandidateGenerator> KeywordExtractor<E, C> {
    /// Checks the parameters and builds the extractor.
    pub fn new(embedder: E, generator: C, params: KeywordParams) -> Result<Self> {
        params.check()?;
        Ok(Self {
            embedder,
            generator,
            params,
        })
    }

    /// Keywords of each document, without seeds.
    pub fn extract(&self, docs: &[&str]) -> Result<Vec<DocKeywords>> {
        self.extract_with_seeds(docs, &Seeds::None)
    }

    /// Keywords of each document. Candidates of the whole batch are de-duplicated and embedded
    /// in one call, the documents in another.
    pub fn extract_with_seeds(&self, docs: &[&str], seeds: &Seeds) -> Result<Vec<DocKeywords>> {
        if let Seeds::PerDocument(s) = seeds {
            if s.len() != docs.len() {
                return Err(KeywordsError::InvalidParam(format!(
                    "{} seed lists for {} documents",
                    s.len(),
                    docs.len()
                )));
            }
        }
        let per_doc: Vec<Vec<Candidate>> = docs
            .iter()
            .map(|d| self.generator.candidates(d))
            .collect::<Result<_>>()?;
        // Corpus vocabulary with document frequencies.
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut vocab: Vec<&str> = Vec::new();
        let mut df: Vec<usize> = Vec::new();
        for cands in &per_doc {
            for c in cands {
                let i = *index.entry(c.key.as_str()).or_insert_with(|| {
                    vocab.push(c.key.as_str());
                    df.push(0);
                    vocab.len() - 1
                });
                df[i] += 1;
            }
        }
        let words = self.embed_unit(&vocab)?;
        let mut doc_emb = self.embed_unit(docs)?;
        self.apply_seeds(&mut doc_emb, seeds)?;

        let mut out = Vec::with_capacity(docs.len());
        for (d, cands) in per_doc.iter().enumerate() {
            let kept: Vec<(&Candidate, usize)> = cands
                .iter()
                .map(|c| (c, index[c.key.as_str()]))
                .filter(|&(_, i)| df[i] >= self.params.min_df)
                .collect();
            if kept.is_empty() || self.params.top_n == 0 {
                out.push(DocKeywords::default());
                continue;
            }
            let rows: Vec<usize> = kept.iter().map(|&(_, i)| i).collect();
            let cand_emb = words.select(Axis(0), &rows);
            let doc_sim: Vec<f32> = cand_emb.dot(&doc_emb.row(d)).to_vec();
            let mut fell_back = false;
            let picked = match self.params.diversity {
                Diversity::None => top_indices(&doc_sim, self.params.top_n),
                Diversity::Mmr { diversity } => mmr(
                    &doc_sim,
                    cand_emb.dot(&cand_emb.t()).view(),
                    self.params.top_n,
                    diversity,
                ),
                Diversity::MaxSum {
                    nr_candidates,
                    max_combinations,
                } => {
                    let word_sim = cand_emb.dot(&cand_emb.t());
                    max_sum(
                        &doc_sim,
                        word_sim.view(),
                        self.params.top_n,
                        nr_candidates,
                        max_combinations,
                    )
                    .unwrap_or_else(|| {
                        fell_back = true;
                        mmr(&doc_sim, word_sim.view(), self.params.top_n, 0.5)
                    })
                }
            };
            out.push(DocKeywords {
                keywords: picked
                    .into_iter()
                    .map(|i| Keyword {
                        key: kept[i].0.key.clone(),
                        surface: kept[i].0.surface.clone(),
                        score: doc_sim[i],
                        spans: kept[i].0.spans.clone(),
                    })
                    .collect(),
                fell_back_to_mmr: fell_back,
            });
        }
        Ok(out)
    }

    /// Embeds and scales rows to unit length, checking the embedder's output.
    fn embed_unit(&self, texts: &[&str]) -> Result<Array2<f32>> {
        let mut m = self.embedder.embed(texts)?;
        groundrec_embed::check_output(&m, texts.len(), self.embedder.dim())?;
        normalize_rows(&mut m);
        Ok(m)
    }

    /// Mean unit embedding of a seed list (`None` for an empty list, which leaves a document alone).
    fn seed_mean(&self, list: &[String]) -> Result<Option<Array1<f32>>> {
        if list.is_empty() {
            return Ok(None);
        }
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        Ok(self.embed_unit(&refs)?.mean_axis(Axis(0)))
    }

    fn apply_seeds(&self, doc_emb: &mut Array2<f32>, seeds: &Seeds) -> Result<()> {
        let blend = |row: &mut ndarray::ArrayViewMut1<'_, f32>, mean: &Array1<f32>| {
            row.zip_mut_with(mean, |d, &s| *d = (3.0 * *d + s) / 4.0);
        };
        match seeds {
            Seeds::None => {}
            Seeds::Global(list) => {
                if let Some(mean) = self.seed_mean(list)? {
                    for mut row in doc_emb.rows_mut() {
                        blend(&mut row, &mean);
                    }
                }
            }
            Seeds::PerDocument(lists) => {
                for (mut row, list) in doc_emb.rows_mut().into_iter().zip(lists) {
                    if let Some(mean) = self.seed_mean(list)? {
                        blend(&mut row, &mean);
                    }
                }
            }
        }
        normalize_rows(doc_emb);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::{ListCandidates, NgramCandidates};
    use groundrec_embed::HashingEmbedder;
    use proptest::prelude::*;

    fn extractor(params: KeywordParams) -> KeywordExtractor<HashingEmbedder, NgramCandidates> {
        KeywordExtractor::new(
            HashingEmbedder::new(256).expect("valid"),
            NgramCandidates::new(1, 2).expect("valid"),
            params,
        )
        .expect("valid params")
    }

    #[test]
    fn the_document_topic_ranks_first() {
        let doc = "Fractions fractions fractions: adding fractions, comparing fractions, and a short note on music.";
        let k = extractor(KeywordParams::default().top_n(3))
            .extract(&[doc])
            .expect("ok");
        assert_eq!(k[0].keywords[0].key, "fractions");
        let spans = &k[0].keywords[0].spans;
        assert!(spans
            .iter()
            .all(|&(s, e)| doc[s..e].eq_ignore_ascii_case("fractions")));
        assert!(k[0].keywords.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn min_df_and_empty_documents() {
        let docs = [
            "linear algebra basics",
            "linear algebra exercises",
            "",
            "the and of",
        ];
        let k = extractor(KeywordParams::default().min_df(2))
            .extract(&docs)
            .expect("ok");
        let keys: Vec<&str> = k[0].keywords.iter().map(|k| k.key.as_str()).collect();
        assert!(
            keys.iter()
                .all(|k| ["linear", "algebra", "linear algebra"].contains(k)),
            "{keys:?}"
        );
        assert!(k[2].keywords.is_empty() && k[3].keywords.is_empty());
    }

    #[test]
    fn max_sum_falls_back_to_mmr_above_the_cap() {
        let doc = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda";
        let capped = extractor(
            KeywordParams::default()
                .top_n(4)
                .diversity(Diversity::MaxSum {
                    nr_candidates: 10,
                    max_combinations: 5,
                }),
        );
        let r = capped.extract(&[doc]).expect("ok");
        assert!(r[0].fell_back_to_mmr);
        assert_eq!(r[0].keywords.len(), 4);
        let full = extractor(
            KeywordParams::default()
                .top_n(4)
                .diversity(Diversity::MaxSum {
                    nr_candidates: 10,
                    max_combinations: 1_000,
                }),
        );
        assert!(!full.extract(&[doc]).expect("ok")[0].fell_back_to_mmr);
    }

    #[test]
    fn seeds_pull_keywords_toward_them() {
        let doc = "statistics lecture with probability examples and some history of mathematics";
        let plain = extractor(KeywordParams::default().top_n(1))
            .extract(&[doc])
            .expect("ok");
        let seeded = extractor(KeywordParams::default().top_n(1))
            .extract_with_seeds(
                &[doc],
                &Seeds::Global(vec!["probability".into(), "probabilities".into()]),
            )
            .expect("ok");
        assert!(
            !plain[0].keywords[0].key.contains("probability"),
            "{:?}",
            plain[0].keywords
        );
        assert!(
            seeded[0].keywords[0].key.contains("probability"),
            "{:?}",
            seeded[0].keywords
        );
        let wrong = extractor(KeywordParams::default())
            .extract_with_seeds(&[doc], &Seeds::PerDocument(vec![]));
        assert!(wrong.is_err());
    }

    #[test]
    fn bad_params_are_rejected() {
        let e = || HashingEmbedder::new(8).expect("valid");
        let g = || ListCandidates::new(["a"]);
        assert!(KeywordExtractor::new(
            e(),
            g(),
            KeywordParams::default().diversity(Diversity::Mmr { diversity: 1.5 })
        )
        .is_err());
        assert!(KeywordExtractor::new(e(), g(), KeywordParams::default().min_df(0)).is_err());
        assert!(KeywordExtractor::new(
            e(),
            g(),
            KeywordParams::default()
                .top_n(5)
                .diversity(Diversity::MaxSum {
                    nr_candidates: 3,
                    max_combinations: 10
                })
        )
        .is_err());
    }

    proptest! {
        #[test]
        fn any_text_gives_short_valid_results(docs in proptest::collection::vec(".{0,80}", 0..5), top_n in 0usize..8) {
            for diversity in [Diversity::None, Diversity::Mmr { diversity: 0.5 }, Diversity::MaxSum { nr_candidates: 10, max_combinations: 500 }] {
                let params = KeywordParams::default().top_n(top_n).diversity(diversity);
                let Ok(x) = KeywordExtractor::new(HashingEmbedder::new(32).expect("valid"), NgramCandidates::new(1, 2).expect("valid"), params) else {
                    continue;
                };
                let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
                let out = x.extract(&refs).expect("never fails on text");
                prop_assert_eq!(out.len(), refs.len());
                for (d, k) in refs.iter().zip(&out) {
                    prop_assert!(k.keywords.len() <= top_n);
                    for kw in &k.keywords {
                        prop_assert!(kw.score.is_finite());
                        for &(s, e) in &kw.spans { prop_assert!(d.get(s..e).is_some()); }
                    }
                }
            }
        }
    }
}
