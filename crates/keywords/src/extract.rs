//! [`KeywordExtractor`]: embeds documents and candidates and picks each document's keyphrases.

use std::collections::HashMap;

use groundrec_embed::{normalize_rows, Embedder};
use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::candidates::{Candidate, CandidateGenerator};
use crate::error::{KeywordsError, Result};
use crate::select::{max_sum, mmr, not_nested, top_indices, Diversity};

/// Scoring options (unchecked); [`KeywordParams::check`] gives [`KeywordValidParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordParams(KeywordValidParams);

/// Checked scoring options, with getters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordValidParams {
    top_n: usize,
    diversity: Diversity,
    min_df: usize,
    #[serde(default = "all")]
    max_df: f64,
    #[serde(default = "default_max_candidates")]
    max_candidates: usize,
    #[serde(default)]
    drop_nested: bool,
}

fn all() -> f64 {
    1.0
}

fn default_max_candidates() -> usize {
    DEFAULT_MAX_CANDIDATES
}

/// Candidates kept per document by default (see [`KeywordParams::max_candidates`]).
pub const DEFAULT_MAX_CANDIDATES: usize = 256;

impl Default for KeywordParams {
    /// KeyBERT's defaults: top 5 by cosine similarity, every candidate kept (up to
    /// [`DEFAULT_MAX_CANDIDATES`] per document).
    fn default() -> Self {
        Self(KeywordValidParams {
            top_n: 5,
            diversity: Diversity::None,
            min_df: 1,
            max_df: 1.0,
            max_candidates: DEFAULT_MAX_CANDIDATES,
            drop_nested: false,
        })
    }
}

impl KeywordParams {
    /// Keywords per document (default 5).
    pub fn top_n(mut self, n: usize) -> Self {
        self.0.top_n = n;
        self
    }
    /// Plain ranking (default), MMR or MaxSum.
    pub fn diversity(mut self, d: Diversity) -> Self {
        self.0.diversity = d;
        self
    }
    /// Drop candidates found in fewer than `n` documents of the batch (default 1).
    pub fn min_df(mut self, n: usize) -> Self {
        self.0.min_df = n;
        self
    }
    /// Drop candidates found in more than this share of the batch's documents (default 1.0:
    /// none dropped), like scikit-learn's `max_df` that KeyBERT users pass for boilerplate
    /// phrases. Applies to batches of at least 100 documents, where a share means something
    /// (in 48 lectures of six subjects, 5 % is two documents, and every subject's own words
    /// would count as boilerplate).
    pub fn max_df(mut self, share: f64) -> Self {
        self.0.max_df = share;
        self
    }
    /// Candidates considered per document (default [`DEFAULT_MAX_CANDIDATES`]): the most
    /// frequent in the document, ties broken by first occurrence. This bounds the work and
    /// memory of one document whatever its length: at most this many candidate embeddings per
    /// document, and a `max_candidates²` similarity matrix for MMR and MaxSum (256 KB at the
    /// default), where an unbounded 12,000-word text needed 2.5 GB.
    pub fn max_candidates(mut self, n: usize) -> Self {
        self.0.max_candidates = n;
        self
    }
    /// Drop a candidate whose words nest with those of a better-scored one: all its words are
    /// in it ("선형" after "선형 회귀") or it holds all of its words ("판다스 라이브러리" after
    /// "판다스"). The top n then name different things instead of one term three ways. Off by
    /// default (KeyBERT keeps them); the groundrec pipeline turns it on. Partial overlaps
    /// stay ("체세포 분열" and "감수 분열").
    pub fn drop_nested(mut self, on: bool) -> Self {
        self.0.drop_nested = on;
        self
    }

    /// Validates the options.
    pub fn check(self) -> Result<KeywordValidParams> {
        let p = self.0;
        let bad = |param: &'static str, m: String| Err(KeywordsError::param(param, m));
        match p.diversity {
            Diversity::Mmr { diversity } if !(0.0..=1.0).contains(&diversity) => {
                return bad(
                    "diversity",
                    format!("MMR diversity must be in [0, 1], got {diversity}"),
                )
            }
            Diversity::MaxSum { nr_candidates, .. } if nr_candidates < p.top_n => {
                return bad(
                    "diversity",
                    format!(
                        "MaxSum needs nr_candidates ({nr_candidates}) >= top_n ({})",
                        p.top_n
                    ),
                )
            }
            _ => {}
        }
        if p.min_df == 0 {
            return bad("min_df", "must be at least 1".into());
        }
        if !(p.max_df > 0.0 && p.max_df <= 1.0) {
            return bad("max_df", format!("must be in (0, 1], got {}", p.max_df));
        }
        if p.max_candidates < p.top_n.max(1) {
            return bad(
                "max_candidates",
                format!(
                    "{} must be at least top_n ({}) and 1",
                    p.max_candidates, p.top_n
                ),
            );
        }
        Ok(p)
    }
}

impl KeywordValidParams {
    /// Keywords per document.
    pub fn top_n(&self) -> usize {
        self.top_n
    }
    /// How keywords are diversified.
    pub fn diversity(&self) -> Diversity {
        self.diversity
    }
    /// The document-frequency floor.
    pub fn min_df(&self) -> usize {
        self.min_df
    }
    /// The document-frequency ceiling (a share of the batch).
    pub fn max_df(&self) -> f64 {
        self.max_df
    }
    /// Whether candidates nested in better-scored ones are dropped.
    pub fn drop_nested(&self) -> bool {
        self.drop_nested
    }

    /// Candidates considered per document.
    pub fn max_candidates(&self) -> usize {
        self.max_candidates
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

/// What [`KeywordExtractor::extract_corpus_vectors`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusKeywords {
    /// The keywords of each document, in order.
    pub docs: Vec<DocKeywords>,
    /// Candidate keys over the `max_df` ceiling, sorted.
    pub frequent: Vec<String>,
    /// Unit embedding of each document `[docs, dim]`, as the embedder gave it (seeds not
    /// applied).
    pub doc_vectors: Array2<f32>,
    /// Unit embeddings of the embedded candidate phrases `[phrases, dim]`.
    pub phrase_vectors: Array2<f32>,
    /// For each document, the rows of [`CorpusKeywords::phrase_vectors`] of its chosen
    /// keywords, in the order of its [`DocKeywords::keywords`].
    pub keyword_rows: Vec<Vec<usize>>,
}

/// KeyBERT-style extraction over any embedder and candidate generator.
#[derive(Debug)]
pub struct KeywordExtractor<E, C> {
    embedder: E,
    generator: C,
    params: KeywordValidParams,
    excluded: std::collections::HashSet<String>,
}

/// Each distinct candidate key of a batch (first-occurrence order) and its document frequency.
fn vocabulary(per_doc: &[Vec<Candidate>]) -> (HashMap<&str, usize>, Vec<&str>, Vec<usize>) {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut vocab: Vec<&str> = Vec::new();
    let mut df: Vec<usize> = Vec::new();
    for cands in per_doc {
        for c in cands {
            let i = *index.entry(c.key.as_str()).or_insert_with(|| {
                vocab.push(c.key.as_str());
                df.push(0);
                vocab.len() - 1
            });
            df[i] += 1;
        }
    }
    (index, vocab, df)
}

impl<E: Embedder, C: CandidateGenerator> KeywordExtractor<E, C> {
    /// An extractor with checked parameters.
    pub fn new(embedder: E, generator: C, params: KeywordValidParams) -> Self {
        Self {
            embedder,
            generator,
            params,
            excluded: Default::default(),
        }
    }

    /// Never offers these candidate keys (normalised forms, as [`Keyword::key`]): for example
    /// the phrases [`KeywordExtractor::extract_corpus`] found too common in a corpus, kept out of the
    /// documents that arrive later one by one, where a share of documents means nothing.
    pub fn exclude(mut self, keys: impl IntoIterator<Item = String>) -> Self {
        self.excluded.extend(keys);
        self
    }

    /// Most documents of a batch of `n` a kept candidate may occur in.
    fn ceiling(&self, n: usize) -> usize {
        if n >= 100 {
            (self.params.max_df * n as f64).floor() as usize
        } else {
            usize::MAX
        }
    }

    /// The parameters.
    pub fn params(&self) -> &KeywordValidParams {
        &self.params
    }

    /// The embedder.
    pub fn embedder(&self) -> &E {
        &self.embedder
    }

    /// Keywords of each document, without seeds.
    pub fn extract(&self, docs: &[&str]) -> Result<Vec<DocKeywords>> {
        self.extract_with_seeds(docs, &Seeds::None)
    }

    /// Keywords of each document. Candidates of the whole batch are de-duplicated and embedded
    /// in one call, the documents in another.
    pub fn extract_with_seeds(&self, docs: &[&str], seeds: &Seeds) -> Result<Vec<DocKeywords>> {
        self.extract_observed(docs, seeds, &|_, _| {})
    }

    /// [`KeywordExtractor::extract_with_seeds`] reporting `(texts embedded, texts to embed)` as
    /// the embedder goes (candidates first, then documents).
    pub fn extract_observed(
        &self,
        docs: &[&str],
        seeds: &Seeds,
        progress: &dyn Fn(usize, usize),
    ) -> Result<Vec<DocKeywords>> {
        Ok(self.extract_corpus(docs, seeds, progress)?.0)
    }

    /// [`KeywordExtractor::extract_observed`] that also returns the candidate keys `max_df`
    /// dropped (found in more than that share of a batch of at least 100 documents), sorted:
    /// what a corpus shares too widely to be a keyword, to [`exclude`](Self::exclude) from
    /// documents that come later one by one.
    pub fn extract_corpus(
        &self,
        docs: &[&str],
        seeds: &Seeds,
        progress: &dyn Fn(usize, usize),
    ) -> Result<(Vec<DocKeywords>, Vec<String>)> {
        let c = self.extract_corpus_vectors(docs, seeds, progress)?;
        Ok((c.docs, c.frequent))
    }

    /// [`KeywordExtractor::extract_corpus`] that also returns the documents' unit embeddings
    /// (before seeding), for a caller that needs the same vectors and would otherwise run the
    /// encoder over the documents a second time.
    pub fn extract_corpus_vectors(
        &self,
        docs: &[&str],
        seeds: &Seeds,
        progress: &dyn Fn(usize, usize),
    ) -> Result<CorpusKeywords> {
        if let Seeds::PerDocument(s) = seeds {
            if s.len() != docs.len() {
                return Err(KeywordsError::param(
                    "seeds",
                    format!("{} seed lists for {} documents", s.len(), docs.len()),
                ));
            }
        }
        let per_doc: Vec<Vec<Candidate>> = docs
            .iter()
            .map(|d| {
                let mut c = self.generator.candidates(d)?;
                if !self.excluded.is_empty() {
                    c.retain(|c| !self.excluded.contains(&c.key));
                }
                Ok(cap(c, self.params.max_candidates))
            })
            .collect::<Result<_>>()?;
        // Corpus vocabulary with document frequencies.
        let (index, vocab, df) = vocabulary(&per_doc);
        // The ceiling applies where a share of documents means something.
        let max_df = self.ceiling(docs.len());
        // Only candidates within the frequency bounds can be chosen, so only they are
        // embedded: `row[i]` is vocabulary entry i's row in `words` (`None`: out of bounds).
        let mut embedded: Vec<&str> = Vec::new();
        let row: Vec<Option<usize>> = vocab
            .iter()
            .zip(&df)
            .map(|(&key, &d)| {
                (d >= self.params.min_df && d <= max_df).then(|| {
                    embedded.push(key);
                    embedded.len() - 1
                })
            })
            .collect();
        let total = embedded.len() + docs.len();
        let words = self.embed_unit(&embedded, &|done, _| progress(done, total))?;
        let doc_vectors =
            self.embed_unit(docs, &|done, _| progress(embedded.len() + done, total))?;
        // Seeds steer a copy: the vectors returned are the documents' own.
        let seeded = match seeds {
            Seeds::None => None,
            _ => {
                let mut d = doc_vectors.clone();
                self.apply_seeds(&mut d, seeds)?;
                Some(d)
            }
        };
        let doc_emb = seeded.as_ref().unwrap_or(&doc_vectors);

        let mut out = Vec::with_capacity(docs.len());
        let mut keyword_rows = Vec::with_capacity(docs.len());
        for (d, cands) in per_doc.iter().enumerate() {
            let kept: Vec<(&Candidate, usize)> = cands
                .iter()
                .filter_map(|c| row[index[c.key.as_str()]].map(|r| (c, r)))
                .collect();
            if kept.is_empty() || self.params.top_n == 0 {
                out.push(DocKeywords::default());
                keyword_rows.push(Vec::new());
                continue;
            }
            let rows: Vec<usize> = kept.iter().map(|&(_, i)| i).collect();
            let cand_emb = words.select(Axis(0), &rows);
            let doc_sim: Vec<f32> = cand_emb.dot(&doc_emb.row(d)).to_vec();
            let (kept, cand_emb, doc_sim) = if self.params.drop_nested {
                let keys: Vec<&str> = kept.iter().map(|(c, _)| c.key.as_str()).collect();
                let keep = not_nested(&keys, &doc_sim);
                (
                    keep.iter().map(|&i| kept[i]).collect(),
                    cand_emb.select(Axis(0), &keep),
                    keep.iter().map(|&i| doc_sim[i]).collect(),
                )
            } else {
                (kept, cand_emb, doc_sim)
            };
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
            keyword_rows.push(picked.iter().map(|&i| kept[i].1).collect());
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
        let mut frequent: Vec<String> = vocab
            .iter()
            .zip(&df)
            .filter(|(_, &d)| d > max_df)
            .map(|(k, _)| (*k).to_string())
            .collect();
        frequent.sort();
        Ok(CorpusKeywords {
            docs: out,
            frequent,
            doc_vectors,
            phrase_vectors: words,
            keyword_rows,
        })
    }

    /// Embeds and scales rows to unit length, checking the embedder's output.
    fn embed_unit(&self, texts: &[&str], progress: &dyn Fn(usize, usize)) -> Result<Array2<f32>> {
        let mut m = self.embedder.embed_with_progress(texts, progress)?;
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
        Ok(self.embed_unit(&refs, &|_, _| {})?.mean_axis(Axis(0)))
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

/// The `max` candidates that occur most often (ties: first occurrence first), in their order.
fn cap(mut cands: Vec<Candidate>, max: usize) -> Vec<Candidate> {
    if cands.len() <= max {
        return cands;
    }
    let mut order: Vec<usize> = (0..cands.len()).collect();
    let first = |c: &Candidate| c.spans.first().map_or(usize::MAX, |s| s.0);
    order.sort_by(|&a, &b| {
        cands[b]
            .spans
            .len()
            .cmp(&cands[a].spans.len())
            .then(first(&cands[a]).cmp(&first(&cands[b])))
    });
    let mut keep = vec![false; cands.len()];
    for &i in &order[..max] {
        keep[i] = true;
    }
    let mut k = keep.into_iter();
    cands.retain(|_| k.next().unwrap_or(false));
    cands
}

#[cfg(test)]
mod tests;
