//! Options of [`TransformerEmbedder`]: the builder, its checked form, and loading.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokenizers::{TruncationDirection, TruncationParams, TruncationStrategy};

use super::cache::TextCache;
use super::folder::ModelFolder;
use super::model::Network;
use super::precision::Precision;
use super::{load_tokenizer, TransformerEmbedder};
use crate::error::{EmbedError, Result};

/// Where the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Device {
    /// The CPU (default).
    #[default]
    Cpu,
    /// The CUDA device with this index; an error if it is not there.
    Cuda(usize),
    /// The first CUDA device when one is available, otherwise the CPU.
    CudaIfAvailable,
}

/// What to do with texts longer than the model's maximum sequence length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LongText {
    /// Keep the first `max_seq_length` tokens (what sentence-transformers does).
    Truncate,
    /// Split into windows of `max_seq_length` tokens that overlap by `overlap` tokens, embed each
    /// window and average the window vectors (before normalisation).
    Chunk {
        /// Tokens shared by consecutive windows.
        overlap: usize,
    },
}

/// Options for [`TransformerEmbedder`]; made by [`TransformerEmbedder::builder`],
/// checked by [`TransformerEmbedderBuilder::check`].
#[derive(Debug, Clone)]
pub struct TransformerEmbedderBuilder(TransformerEmbedderValidParams);

/// Checked options; [`TransformerEmbedderValidParams::build`] reads the folder and loads the
/// weights.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformerEmbedderValidParams {
    dir: PathBuf,
    batch_size: usize,
    max_seq_length: Option<usize>,
    prefix: String,
    long_text: LongText,
    device: Device,
    workers: usize,
    cache_capacity: usize,
    precision: Precision,
}

impl TransformerEmbedderBuilder {
    /// The defaults: CPU, batch 32, truncation, no prefix, one worker, no cache,
    /// [`Precision::Auto`].
    pub(super) fn new(dir: &Path) -> Self {
        TransformerEmbedderBuilder(TransformerEmbedderValidParams {
            dir: dir.to_path_buf(),
            batch_size: 32,
            max_seq_length: None,
            prefix: String::new(),
            long_text: LongText::Truncate,
            device: Device::Cpu,
            workers: 1,
            cache_capacity: 0,
            precision: Precision::Auto,
        })
    }

    /// Texts per forward pass (default 32). Texts are sorted by length first, so each batch is
    /// padded only to its own longest text.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.0.batch_size = n;
        self
    }
    /// Overrides `sentence_bert_config.json`'s `max_seq_length` (tokens, special tokens included).
    pub fn max_seq_length(mut self, n: usize) -> Self {
        self.0.max_seq_length = Some(n);
        self
    }
    /// Text put in front of every input, e.g. `"query: "` or `"passage: "` for e5 models.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.0.prefix = prefix.into();
        self
    }
    /// Truncate long texts (default) or embed them in overlapping chunks.
    pub fn long_text(mut self, mode: LongText) -> Self {
        self.0.long_text = mode;
        self
    }
    /// Where to run (default CPU).
    pub fn device(mut self, device: Device) -> Self {
        self.0.device = device;
        self
    }
    /// Batches run at once (default 1). With the fused forward pass (BERT / RoBERTa encoders
    /// on the CPU), `n > 1` runs `n` workers on separate batches, each with one libtorch
    /// thread, which beats one worker with `n` intra-op threads on short batches; building
    /// such an embedder sets libtorch's thread count to 1 for the process. With 1 worker the
    /// encoder uses libtorch's threads as the process has set them.
    pub fn workers(mut self, n: usize) -> Self {
        self.0.workers = n;
        self
    }
    /// Keep up to `n` embeddings of recently seen texts (default 0: no cache).
    pub fn cache_capacity(mut self, n: usize) -> Self {
        self.0.cache_capacity = n;
        self
    }
    /// The dense layers' numeric format (default [`Precision::Auto`]: the fastest one that
    /// passes the quality gate on this machine, checked at load; `F32` gives
    /// sentence-transformers' own numbers). Int8 and bf16 need the fused forward pass (BERT /
    /// RoBERTa encoders), int8 the CPU. libtorch 2.4 marks FBGEMM's int8 kernels deprecated
    /// and prints that warning once per process when they run.
    pub fn precision(mut self, precision: Precision) -> Self {
        self.0.precision = precision;
        self
    }

    /// Checks the options that do not need the folder.
    pub fn check(self) -> Result<TransformerEmbedderValidParams> {
        let p = self.0;
        if p.batch_size == 0 {
            return Err(EmbedError::param("batch_size", "must be at least 1"));
        }
        if p.workers == 0 {
            return Err(EmbedError::param("workers", "must be at least 1"));
        }
        Ok(p)
    }

    /// Checks the options, reads the folder and loads the weights.
    pub fn build(self) -> Result<TransformerEmbedder> {
        self.check()?.build()
    }
}

impl TransformerEmbedderValidParams {
    /// The model folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// Texts per forward pass.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
    /// The text put in front of every input.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    /// How long texts are handled.
    pub fn long_text(&self) -> LongText {
        self.long_text
    }
    /// Where the model runs.
    pub fn device(&self) -> Device {
        self.device
    }
    /// Batches run at once.
    pub fn workers(&self) -> usize {
        self.workers
    }
    /// Embeddings of recent texts kept.
    pub fn cache_capacity(&self) -> usize {
        self.cache_capacity
    }
    /// The precision asked for (the embedder's `precision()` says what `Auto` chose).
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Reads the folder and loads the weights; settings that depend on the model (the
    /// maximum length, the chunk overlap, a CUDA device) are checked here.
    pub fn build(self) -> Result<TransformerEmbedder> {
        let folder = ModelFolder::read(&self.dir)?;
        let max_len = self
            .max_seq_length
            .or(folder.max_seq_length)
            .unwrap_or(folder.max_positions)
            .min(folder.max_positions);
        if max_len < 8 {
            return Err(EmbedError::param(
                "max_seq_length",
                format!("{max_len} is too short (at least 8 tokens)"),
            ));
        }
        let stride = match self.long_text {
            LongText::Truncate => 0,
            LongText::Chunk { overlap } => {
                if overlap + 4 > max_len / 2 {
                    return Err(EmbedError::param(
                        "long_text",
                        format!(
                            "chunk overlap {overlap} must be below half of max_seq_length {max_len} minus 4"
                        ),
                    ));
                }
                overlap
            }
        };
        let mut tokenizer = load_tokenizer(&folder.tokenizer, folder.lowercase)?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride,
            }))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;

        let device = match self.device {
            Device::Cpu => tch::Device::Cpu,
            Device::Cuda(i) => {
                if !tch::Cuda::is_available() || i >= tch::Cuda::device_count() as usize {
                    return Err(EmbedError::param(
                        "device",
                        format!("CUDA device {i} is not available"),
                    ));
                }
                tch::Device::Cuda(i)
            }
            Device::CudaIfAvailable => tch::Device::cuda_if_available(),
        };
        let mut network = Network::load(&folder, device)?;
        if self.precision != Precision::Auto {
            network.set_precision(self.precision)?;
        }
        // On the CPU with the fused path, independent workers (one libtorch thread each) beat
        // one worker with as many intra-op threads: no OpenMP hand-offs between the many small
        // operations of a short batch.
        let workers = if self.workers > 1 && network.fused() && device == tch::Device::Cpu {
            tch::set_num_threads(1);
            self.workers
        } else {
            1
        };
        let embedder = TransformerEmbedder {
            workers,
            dir: self.dir,
            tokenizer,
            network: Mutex::new(network),
            dim: 0,
            pad_id: folder.pad_token_id,
            max_seq_length: max_len,
            normalize: folder.normalize,
            pooling: folder.pooling,
            batch_size: self.batch_size,
            prefix: self.prefix,
            chunk: matches!(self.long_text, LongText::Chunk { .. }),
            cache: None,
            precision: self.precision,
            trials: Vec::new(),
        }
        .with_dim();
        let mut embedder = match self.precision {
            Precision::Auto => embedder.choose_precision()?,
            _ => embedder,
        };
        // The cache starts after the precision check, so it holds only vectors of the format
        // that runs.
        embedder.cache =
            (self.cache_capacity > 0).then(|| Mutex::new(TextCache::new(self.cache_capacity)));
        Ok(embedder)
    }
}
