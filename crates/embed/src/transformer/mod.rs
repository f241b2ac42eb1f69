//! [`TransformerEmbedder`]: sentence-transformers model folders on rust-bert / libtorch.

mod cache;
mod fast;
mod folder;
mod model;
mod params;
mod precision;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ndarray::Array2;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{Model, Tokenizer};

use crate::embedder::{normalize_rows, Embedder};
use crate::error::{EmbedError, Result};
use cache::TextCache;
pub use folder::Pooling;
use model::Network;
pub use params::{Device, LongText, TransformerEmbedderBuilder, TransformerEmbedderValidParams};
pub use precision::{Precision, PrecisionTrial, AUTO_MARGIN, PRECISION_GATE, PRECISION_PROBES};

/// Reads `tokenizer.json`, or builds BERT's WordPiece pipeline around a `vocab.txt`.
fn load_tokenizer(path: &Path, lowercase: bool) -> Result<Tokenizer> {
    let bad = |e: &dyn std::fmt::Display| EmbedError::BadFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if path.extension().is_some_and(|e| e == "json") {
        return Tokenizer::from_file(path).map_err(|e| bad(&e));
    }
    let vocab = path.to_str().ok_or_else(|| bad(&"path is not UTF-8"))?;
    let wordpiece = WordPiece::from_file(vocab)
        .unk_token("[UNK]".into())
        .build()
        .map_err(|e| bad(&e))?;
    let id = |t: &str| {
        wordpiece
            .token_to_id(t)
            .ok_or_else(|| bad(&format!("vocab.txt has no {t}")))
    };
    let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
    let mut tokenizer = Tokenizer::new(wordpiece);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)))
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_post_processor(Some(BertProcessing::new(
            ("[SEP]".into(), sep),
            ("[CLS]".into(), cls),
        )));
    Ok(tokenizer)
}

fn lock_network(n: &Mutex<Network>) -> Result<std::sync::MutexGuard<'_, Network>> {
    n.lock()
        .map_err(|_| EmbedError::Backend("model lock poisoned".into()))
}

fn lock_cache(c: &Mutex<TextCache>) -> Result<std::sync::MutexGuard<'_, TextCache>> {
    c.lock()
        .map_err(|_| EmbedError::Backend("cache lock poisoned".into()))
}

/// Batch outputs tagged with their batch index.
type Indexed = Vec<(usize, Vec<f32>)>;

/// Batches per tokenisation window (see `embed_distinct`).
const WINDOW_BATCHES: usize = 64;

/// Sentence embeddings from a sentence-transformers model folder (as it comes from the hub):
/// BERT, XLM-RoBERTa / RoBERTa and DistilBERT encoders, mean / CLS / max pooling, Dense and
/// Normalize modules, `tokenizer.json` via the `tokenizers` crate.
///
/// Texts are de-duplicated, sorted by token length and run in batches padded per batch, with
/// gradients off; the output keeps the input order.
pub struct TransformerEmbedder {
    dir: PathBuf,
    workers: usize,
    tokenizer: Tokenizer,
    network: Mutex<Network>,
    dim: usize,
    pad_id: i64,
    max_seq_length: usize,
    normalize: bool,
    pooling: Vec<Pooling>,
    batch_size: usize,
    prefix: String,
    chunk: bool,
    cache: Option<Mutex<TextCache>>,
    precision: Precision,
    /// With `Precision::Auto`: what it measured of each format it tried.
    trials: Vec<PrecisionTrial>,
}

impl std::fmt::Debug for TransformerEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransformerEmbedder")
            .field("dir", &self.dir)
            .field("dim", &self.dim)
            .field("max_seq_length", &self.max_seq_length)
            .field("pooling", &self.pooling)
            .field("normalize", &self.normalize)
            .field("batch_size", &self.batch_size)
            .field("prefix", &self.prefix)
            .field("precision", &self.precision)
            .field(
                "forward",
                &match self.network.lock().map(|n| n.fused()) {
                    Ok(true) => "fused",
                    Ok(false) => "rust-bert",
                    Err(_) => "unavailable",
                },
            )
            .finish_non_exhaustive()
    }
}

/// One tokenized window of one unique text.
struct Piece {
    text: usize,
    ids: Vec<u32>,
}

impl TransformerEmbedder {
    /// Loads a model folder with default options (CPU, batch 32, truncation, no prefix).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        Self::builder(dir).build()
    }

    /// Starts a builder for a model folder.
    pub fn builder(dir: impl AsRef<Path>) -> TransformerEmbedderBuilder {
        TransformerEmbedderBuilder::new(dir.as_ref())
    }

    fn with_dim(mut self) -> Self {
        self.dim = self.network.lock().map(|n| n.dim).unwrap_or(0);
        self
    }

    /// The format the dense layers run in (never `Auto`: what it chose).
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// With `Precision::Auto` where a faster format was tried: the lowest cosine between the
    /// vectors of the format it chose (of the first it tried, when it kept float32) and
    /// float32's over [`PRECISION_PROBES`].
    pub fn gate_cosine(&self) -> Option<f32> {
        self.trials
            .iter()
            .find(|t| t.precision == self.precision)
            .or(self.trials.first())
            .map(|t| t.worst_cosine)
    }

    /// With `Precision::Auto`: each format it tried when the model loaded, in order, with its
    /// worst probe cosine and its speed against float32 (empty when nothing faster runs
    /// here, and for a precision asked by name).
    pub fn auto_trials(&self) -> &[PrecisionTrial] {
        &self.trials
    }

    /// Resolves `Precision::Auto` (see there): embeds the probes in float32, then in each
    /// format this machine may run faster; times those that pass the gate against float32
    /// and keeps the one [`precision::pick`] takes.
    fn choose_precision(mut self) -> Result<Self> {
        let candidates = {
            let n = lock_network(&self.network)?;
            precision::auto_candidates(n.on_cpu(), n.fused())
        };
        self.precision = Precision::F32;
        if candidates.is_empty() {
            // Nothing faster to try here: no probes to embed at load.
            return Ok(self);
        }
        // The first pass is the reference and warms float32's kernels up; each candidate's
        // first pass is its gate and warms its own. Only when one passes is anything timed.
        let float = self.embed_distinct(&PRECISION_PROBES, &|_, _| {})?;
        let mut gated = Vec::new();
        for candidate in candidates {
            // Converted from the float network, which the lock holds between trials.
            let net = lock_network(&self.network)?.converted(candidate)?;
            let (net, fast) =
                self.with_network(net, |me| me.embed_distinct(&PRECISION_PROBES, &|_, _| {}))?;
            gated.push((candidate, net, precision::worst_cosine(&float, &fast)));
        }
        let passed = gated.iter().any(|(_, _, w)| *w >= PRECISION_GATE);
        let float_secs = if passed {
            Some(self.probe_seconds()?)
        } else {
            None
        };
        let mut converted = Vec::new();
        for (candidate, net, worst_cosine) in gated {
            let (net, speedup) = match float_secs {
                Some(float_secs) if worst_cosine >= PRECISION_GATE => {
                    let (net, secs) = self.with_network(net, |me| me.probe_seconds())?;
                    (net, Some((float_secs / secs.max(1e-9)) as f32))
                }
                _ => (net, None),
            };
            self.trials.push(PrecisionTrial {
                precision: candidate,
                worst_cosine,
                speedup,
            });
            converted.push(net);
        }
        self.precision = precision::pick(&self.trials);
        if let Some(i) = self
            .trials
            .iter()
            .position(|t| t.precision == self.precision)
        {
            *lock_network(&self.network)? = converted.swap_remove(i);
        }
        Ok(self)
    }

    /// Runs `f` with `net` in place of the network (the float one, while `Auto` chooses) and
    /// puts that back before returning `net` and what `f` returned, also when `f` failed.
    fn with_network<T>(
        &self,
        net: Network,
        f: impl FnOnce(&Self) -> Result<T>,
    ) -> Result<(Network, T)> {
        let float_net = std::mem::replace(&mut *lock_network(&self.network)?, net);
        let out = f(self);
        let net = std::mem::replace(&mut *lock_network(&self.network)?, float_net);
        Ok((net, out?))
    }

    /// Seconds to embed [`PRECISION_PROBES`] with the network that is in place: the faster of
    /// two passes, since a shared machine's pauses only ever add time.
    fn probe_seconds(&self) -> Result<f64> {
        let mut best = f64::INFINITY;
        for _ in 0..2 {
            let t = std::time::Instant::now();
            self.embed_distinct(&PRECISION_PROBES, &|_, _| {})?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        Ok(best)
    }

    /// Maximum tokens per text (or per chunk), special tokens included.
    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }

    /// The model folder this embedder was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Number of tokens each text turns into (after the prefix, special tokens included,
    /// before truncation). Useful for statistics and for choosing `max_seq_length`.
    pub fn token_counts(&self, texts: &[&str]) -> Result<Vec<usize>> {
        let mut tok = self.tokenizer.clone();
        tok.with_truncation(None)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let inputs: Vec<String> = texts.iter().map(|t| self.model_input(t)).collect();
        let enc = tok
            .encode_batch(inputs, true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        Ok(enc.iter().map(|e| e.get_ids().len()).collect())
    }

    /// The string the tokenizer sees: prefix + text, stripped of surrounding whitespace as
    /// sentence-transformers does.
    fn model_input(&self, text: &str) -> String {
        format!("{}{text}", self.prefix).trim().to_string()
    }

    fn tokenize(&self, texts: &[&str]) -> Result<Vec<Piece>> {
        let inputs: Vec<String> = texts.iter().map(|t| self.model_input(t)).collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let mut pieces = Vec::with_capacity(encodings.len());
        for (i, enc) in encodings.into_iter().enumerate() {
            let overflow = if self.chunk {
                enc.get_overflowing().clone()
            } else {
                Vec::new()
            };
            pieces.push(Piece {
                text: i,
                ids: enc.get_ids().to_vec(),
            });
            pieces.extend(overflow.into_iter().map(|o| Piece {
                text: i,
                ids: o.get_ids().to_vec(),
            }));
        }
        Ok(pieces)
    }

    /// Embeds distinct texts that are not cached. Returns `texts.len() × dim`.
    fn embed_distinct(
        &self,
        texts: &[&str],
        progress: &dyn Fn(usize, usize),
    ) -> Result<Array2<f32>> {
        let dim = self.dim;
        let mut sums = Array2::<f32>::zeros((texts.len(), dim));
        let mut counts = vec![0u32; texts.len()];
        let network = lock_network(&self.network)?;
        // Windows of texts keep the token buffers bounded by the window, not the corpus;
        // within a window, longest first, so that padding stays small.
        let window = self.batch_size * WINDOW_BATCHES;
        for (w, chunk) in texts.chunks(window).enumerate() {
            let mut pieces = self.tokenize(chunk)?;
            pieces.sort_by(|a, b| b.ids.len().cmp(&a.ids.len()).then(a.text.cmp(&b.text)));
            let batches: Vec<&[Piece]> = pieces.chunks(self.batch_size).collect();
            let outputs = self.run_batches(&network, &batches)?;
            for (batch, out) in batches.iter().zip(outputs) {
                for (r, p) in batch.iter().enumerate() {
                    let text = w * window + p.text;
                    let row = &out[r * dim..(r + 1) * dim];
                    sums.row_mut(text)
                        .iter_mut()
                        .zip(row)
                        .for_each(|(s, v)| *s += v);
                    counts[text] += 1;
                }
            }
            progress((w * window + chunk.len()).min(texts.len()), texts.len());
        }
        for (mut row, &c) in sums.rows_mut().into_iter().zip(&counts) {
            if c > 1 {
                row.mapv_inplace(|v| v / c as f32);
            }
        }
        if self.normalize {
            normalize_rows(&mut sums);
        }
        if let Some(pos) = sums.iter().position(|v| !v.is_finite()) {
            return Err(EmbedError::Backend(format!(
                "model produced a non-finite value for text {:?}",
                texts[pos / dim.max(1)]
            )));
        }
        Ok(sums)
    }

    /// One padded batch as flat ids and mask.
    fn pad(&self, batch: &[Piece]) -> (Vec<i64>, Vec<i64>, usize) {
        let len = batch.iter().map(|p| p.ids.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![self.pad_id; batch.len() * len];
        let mut mask = vec![0i64; batch.len() * len];
        for (r, p) in batch.iter().enumerate() {
            for (c, &id) in p.ids.iter().enumerate() {
                ids[r * len + c] = i64::from(id);
                mask[r * len + c] = 1;
            }
        }
        (ids, mask, len)
    }

    /// Runs the batches (on `workers` threads when possible); outputs in batch order.
    fn run_batches(&self, network: &Network, batches: &[&[Piece]]) -> Result<Vec<Vec<f32>>> {
        let run = |net: &Network, b: &[Piece]| {
            let (ids, mask, len) = self.pad(b);
            net.forward(&ids, &mask, b.len(), len)
        };
        let workers = self.workers.min(batches.len());
        let copies: Option<Vec<Network>> = (workers > 1)
            .then(|| (0..workers).map(|_| network.worker()).collect())
            .flatten();
        let Some(copies) = copies else {
            return batches.iter().map(|b| run(network, b)).collect();
        };
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<Result<Indexed>> = std::thread::scope(|scope| {
            let handles: Vec<_> = copies
                .into_iter()
                .map(|net| {
                    let next = &next;
                    scope.spawn(move || {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(b) = batches.get(i) else { break };
                            done.push((i, run(&net, b)?));
                        }
                        Ok(done)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(EmbedError::Backend("embedding worker panicked".into()))
                    })
                })
                .collect()
        });
        let mut outputs: Vec<Vec<f32>> = vec![Vec::new(); batches.len()];
        for r in results {
            for (i, out) in r? {
                outputs[i] = out;
            }
        }
        Ok(outputs)
    }
}

impl Embedder for TransformerEmbedder {
    fn embed(&self, texts: &[&str]) -> Result<Array2<f32>> {
        self.embed_with_progress(texts, &|_, _| {})
    }

    fn embed_with_progress(
        &self,
        texts: &[&str],
        progress: &dyn Fn(usize, usize),
    ) -> Result<Array2<f32>> {
        // Unique texts, first occurrence order; each input points at its unique text.
        let mut seen = std::collections::HashMap::<&str, usize>::new();
        let mut unique: Vec<&str> = Vec::new();
        let slot: Vec<usize> = texts
            .iter()
            .map(|t| {
                *seen.entry(*t).or_insert_with(|| {
                    unique.push(t);
                    unique.len() - 1
                })
            })
            .collect();
        let mut cached: Vec<Option<Vec<f32>>> = vec![None; unique.len()];
        if let Some(cache) = &self.cache {
            let cache = lock_cache(cache)?;
            for (v, t) in cached.iter_mut().zip(&unique) {
                *v = cache.get(t).map(<[f32]>::to_vec);
            }
        }
        let todo: Vec<usize> = (0..unique.len()).filter(|&i| cached[i].is_none()).collect();
        let todo_texts: Vec<&str> = todo.iter().map(|&i| unique[i]).collect();
        let fresh = self.embed_distinct(&todo_texts, progress)?;
        if let Some(cache) = &self.cache {
            let mut cache = lock_cache(cache)?;
            for (&i, row) in todo.iter().zip(fresh.rows()) {
                cache.put(unique[i], &row.to_vec());
            }
        }
        if todo.len() == texts.len() {
            // No duplicates and nothing cached: the fresh rows are the answer, in input order.
            return Ok(fresh);
        }
        let mut fresh_row = vec![usize::MAX; unique.len()];
        for (r, &i) in todo.iter().enumerate() {
            fresh_row[i] = r;
        }
        let mut out = Array2::<f32>::zeros((texts.len(), self.dim));
        for (mut row, &s) in out.rows_mut().into_iter().zip(&slot) {
            match &cached[s] {
                Some(v) => row.iter_mut().zip(v).for_each(|(o, x)| *o = *x),
                None => row.assign(&fresh.row(fresh_row[s])),
            }
        }
        Ok(out)
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn normalized(&self) -> bool {
        self.normalize
    }

    fn describe(&self) -> String {
        format!(
            "transformer {} (prefix {:?}, dim {}, {}{})",
            self.dir.display(),
            self.prefix,
            self.dim,
            self.precision,
            if self.trials.is_empty() {
                String::new()
            } else {
                format!("; auto tried {}", PrecisionTrial::list(&self.trials))
            }
        )
    }
}
