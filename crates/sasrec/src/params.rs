//! Training settings: a builder that validates into checked parameters (the linfa pattern).

use serde::{Deserialize, Serialize};

use crate::error::{Result, SasRecError};
use crate::loss::{Loss, NegativeDraw};
use crate::model::ModelConfig;

/// How ranked lists are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// The paper's protocol: the target among `negatives` items drawn uniformly from the items
    /// the user never interacted with.
    Sampled {
        /// Number of sampled negatives (100 in the paper).
        negatives: usize,
    },
    /// The target among all items except the user's input history.
    Full,
}

/// How the learning rate moves during training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LrSchedule {
    /// The same rate for every step (the paper's).
    #[default]
    Constant,
    /// Cosine decay per step from the set rate to zero at the end of the last epoch
    /// (`epochs`, also when early stopping ends training sooner).
    Cosine,
}

impl LrSchedule {
    /// The rate at `step` of `total` steps for the base rate `lr`.
    pub(crate) fn rate(self, lr: f64, step: usize, total: usize) -> f64 {
        match self {
            LrSchedule::Constant => lr,
            LrSchedule::Cosine => {
                let t = step as f64 / total.max(1) as f64;
                lr * 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos())
            }
        }
    }
}

/// Where the model computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Compute {
    /// The CPU.
    #[default]
    Cpu,
    /// CUDA when libtorch sees a GPU, else the CPU.
    CudaIfAvailable,
    /// A given CUDA device.
    Cuda(usize),
}

impl Compute {
    pub(crate) fn device(self) -> tch::Device {
        match self {
            Compute::Cpu => tch::Device::Cpu,
            Compute::CudaIfAvailable => tch::Device::cuda_if_available(),
            Compute::Cuda(i) => tch::Device::Cuda(i),
        }
    }
}

/// Early stopping on validation NDCG@10.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Evaluate every this many epochs.
    pub every: usize,
    /// Stop after this many evaluations without improvement; the best weights are kept.
    pub patience: usize,
    /// The protocol of the validation NDCG@10.
    pub protocol: Protocol,
    /// Evaluate at most this many validation users (a seeded sample); 0 means all.
    pub max_users: usize,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self {
            every: 5,
            patience: 3,
            protocol: Protocol::Full,
            max_users: 10_000,
        }
    }
}

/// Unchecked settings of a SASRec model and its training; [`SasRecParams::check`] validates
/// them into [`SasRecValidParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SasRecParams(pub(crate) SasRecValidParams);

/// Checked settings; [`SasRecValidParams::fit`] trains a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SasRecValidParams {
    pub(crate) hidden: usize,
    pub(crate) blocks: usize,
    pub(crate) heads: usize,
    pub(crate) max_len: usize,
    pub(crate) dropout: f64,
    pub(crate) pre_ln: bool,
    #[serde(default)]
    pub(crate) separate_output: bool,
    #[serde(default)]
    pub(crate) item_bias: bool,
    #[serde(default = "crate::model::yes")]
    pub(crate) attention_output_dropout: bool,
    #[serde(default)]
    pub(crate) id_dropout: f64,
    pub(crate) loss: Loss,
    pub(crate) learning_rate: f64,
    #[serde(default)]
    pub(crate) lr_schedule: LrSchedule,
    pub(crate) batch_size: usize,
    #[serde(default)]
    pub(crate) length_buckets: usize,
    #[serde(default = "one")]
    pub(crate) length_groups: usize,
    #[serde(default)]
    pub(crate) negative_draw: NegativeDraw,
    #[serde(default)]
    pub(crate) history_windows: bool,
    #[serde(default)]
    pub(crate) row_updates: bool,
    pub(crate) epochs: usize,
    pub(crate) l2_emb: f64,
    #[serde(default)]
    pub(crate) bce_weight: f64,
    #[serde(default)]
    pub(crate) weight_ema: f64,
    #[serde(default)]
    pub(crate) label_smoothing: f64,
    pub(crate) seed: u64,
    pub(crate) compute: Compute,
    pub(crate) early_stopping: Option<EarlyStopping>,
}

/// Serde default of `length_groups` in settings saved before it existed: each batch ran whole.
fn one() -> usize {
    1
}

/// Entry point: `SasRec::params()` (sensible defaults) or `SasRec::paper()` (the paper's
/// Amazon settings).
#[derive(Debug, Clone, Copy)]
pub struct SasRec;

impl SasRec {
    /// Defaults: hidden 64, 2 blocks, 2 heads, max length 50, dropout 0.2, sampled softmax
    /// with 256 negatives shared per batch ([`NegativeDraw::PerBatch`]), learning rate 1e-3,
    /// batch 128 (plain shuffled batches, each run as 4 length groups), 100 epochs with early
    /// stopping on full-ranking validation NDCG@10, seed 42, CPU. Training uses libtorch's
    /// intra-op thread setting as the process has it: threads are the caller's to set.
    pub fn params() -> SasRecParams {
        SasRecParams(SasRecValidParams {
            hidden: 64,
            blocks: 2,
            heads: 2,
            max_len: 50,
            dropout: 0.2,
            pre_ln: false,
            separate_output: false,
            item_bias: false,
            attention_output_dropout: false,
            id_dropout: 0.0,
            loss: Loss::SampledSoftmax { negatives: 256 },
            learning_rate: 1e-3,
            lr_schedule: LrSchedule::Constant,
            batch_size: 128,
            length_buckets: 0,
            length_groups: 4,
            negative_draw: NegativeDraw::PerBatch,
            history_windows: false,
            row_updates: false,
            epochs: 100,
            l2_emb: 0.0,
            bce_weight: 0.0,
            weight_ema: 0.0,
            label_smoothing: 0.0,
            seed: 42,
            compute: Compute::Cpu,
            early_stopping: Some(EarlyStopping::default()),
        })
    }

    /// The paper's settings (Amazon datasets): hidden 50, 2 blocks, 1 head, max length 50,
    /// dropout 0.5, BCE with one negative, learning rate 1e-3, batch 128, 200 epochs, no early
    /// stopping.
    pub fn paper() -> SasRecParams {
        SasRec::params()
            .hidden(50)
            .heads(1)
            .dropout(0.5)
            .loss(Loss::Bce)
            .epochs(200)
            .early_stopping(None)
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.0.$name = value;
            self
        }
    };
}

impl SasRecParams {
    setter!(/// Embedding and hidden size.
        hidden: usize);
    setter!(/// Self-attention blocks.
        blocks: usize);
    setter!(/// Attention heads (must divide the hidden size).
        heads: usize);
    setter!(/// Longest history read; older items are cut (also when recommending).
        max_len: usize);
    setter!(/// Dropout rate in `[0, 1)`.
        dropout: f64);
    setter!(/// Pre-LN blocks instead of the paper's layout.
        pre_ln: bool);
    setter!(/// Scores items by a separate output embedding table instead of the input item
        /// embedding (off by default: the paper shares one table; gSASRec trains this way).
        /// Doubles the item parameters. Measured effect: docs/experiments.md.
        separate_output: bool);
    setter!(/// Adds a learned score bias per item (off by default; the paper has none), so an
        /// item's overall pull need not be written into its vector. Saved with the model;
        /// applies to every loss and to serving. Measured effect: docs/experiments.md.
        item_bias: bool);
    setter!(/// Dropout on each attention output before its residual add (off by default), as the
        /// paper's text writes its blocks. The authors' code, whose figures the paper
        /// reports, drops out only the attention weights, and so does the default (it scored
        /// higher on Amazon Games, docs/experiments.md). Settings and models saved before this
        /// setting existed read back with it on, as they were trained.
        attention_output_dropout: bool);
    setter!(/// With content features, the probability that a training step reads an item
        /// occurrence from its projected content alone, without its ID embedding
        /// (DropoutNet's idea; 0, the default: off). Items added after the fit are scored that
        /// way. Measured at 0.5 (docs/benchmarks.md): MovieLens-100K NDCG@10 0.0969 against
        /// 0.0865, but the demo 0.5063 against 0.5159 and new movies ranked among themselves
        /// worse (HR@10 0.141 against 0.169), so it stays off. Ignored without features; must
        /// be in `[0, 1)`.
        id_dropout: f64);
    setter!(/// The training objective.
        loss: Loss);
    setter!(/// Adam's learning rate (betas are 0.9 and 0.98 as in the paper).
        learning_rate: f64);
    setter!(/// How the learning rate moves over the epochs (constant by default).
        lr_schedule: LrSchedule);
    setter!(/// Users per training step.
        batch_size: usize);
    setter!(/// Length bucketing: sort each run of this many batches' worth of shuffled users
        /// by sequence length before cutting batches (0 or 1, the default: plain shuffled
        /// batches). Faster epochs, but it changes the batches and trained worse models on
        /// Amazon Games; [`SasRecParams::length_groups`] saves work without changing them.
        length_buckets: usize);
    setter!(/// Run each step's batch through the network as this many groups of rows of similar
        /// length, each cut to its own longest sequence (1: the whole batch at once; default
        /// 4). The batches, the loss and its gradients stay those of the whole batch; only the
        /// work shrinks (figures in docs/experiments.md).
        length_groups: usize);
    setter!(/// How the sampled losses draw their negatives (one shared set per batch by default).
        negative_draw: NegativeDraw);
    setter!(/// Train on whole long histories: a history longer than `max_len + 1` items is also cut
        /// into earlier windows of `max_len` targets, each one more training sequence per
        /// epoch. Off by default (as in the paper, each user contributes only the last
        /// `max_len` steps; older steps are never trained on).
        history_windows: bool);
    setter!(/// Adam updates of the item tables row by row: with a sampled loss
        /// ([`Loss::SampledSoftmax`], [`Loss::Bce`], [`Loss::GBce`]) a step updates only the rows of
        /// the items its batch reads (histories, targets, negatives), as PyTorch's
        /// `SparseAdam`, so it costs the batch rather than the catalogue; a row no batch reads
        /// keeps its value and moments, where plain Adam would go on moving it with its old
        /// momentum. Off by default. Under [`Loss::FullSoftmax`] or with an
        /// [`SasRecParams::l2_emb`] penalty every row has a gradient in every step, so this
        /// changes nothing there. At 100,000 items an epoch took 24 s instead of 55 s, at the
        /// same held-out quality on 10,000 items (docs/benchmarks.md).
        row_updates: bool);
    setter!(/// Maximum number of epochs.
        epochs: usize);
    setter!(/// L2 penalty on the item embedding table (both tables with
        /// [`SasRecParams::separate_output`]); 0 by default, as in the paper's runs. It
        /// shrinks rare items out of the top 10s (docs/experiments.md).
        l2_emb: f64);
    setter!(/// Adds this weight times the paper's BCE (one negative per position, drawn uniformly
        /// outside the user's items) to a multi-negative or full-softmax loss (0, the default:
        /// no added term).
        bce_weight: f64);
    setter!(/// Keeps an exponential moving average of the weights with this decay per step
        /// (Polyak averaging; 0, the default, is off). The decay warms up: at step `t` it is
        /// `min(decay, (1 + t) / (10 + t))`. Validation, early stopping and the returned model
        /// use the averaged weights; training goes on from the live ones.
        weight_ema: f64);
    setter!(/// Label smoothing of the softmax losses ([`Loss::SampledSoftmax`],
        /// [`Loss::FullSoftmax`]) in `[0, 1)`: the next item's target probability is
        /// `1 - eps` and `eps` is spread evenly over the other candidates (0, the default).
        label_smoothing: f64);
    setter!(/// Seed of initialisation, dropout, batch order and negative sampling.
        seed: u64);
    setter!(/// Where to compute.
        compute: Compute);
    setter!(/// Early stopping, or `None` to train all epochs.
        early_stopping: Option<EarlyStopping>);

    /// Validates the settings.
    pub fn check(self) -> Result<SasRecValidParams> {
        let p = self.0;
        let bad = |param: &'static str, m: String| Err(SasRecError::param(param, m));
        p.model_config(1, 0).check()?;
        if !(p.learning_rate.is_finite() && p.learning_rate > 0.0) {
            return bad(
                "learning_rate",
                format!("must be positive, got {}", p.learning_rate),
            );
        }
        if !(p.l2_emb.is_finite() && p.l2_emb >= 0.0) {
            return bad("l2_emb", format!("must be >= 0, got {}", p.l2_emb));
        }
        if !(p.bce_weight.is_finite() && p.bce_weight >= 0.0) {
            return bad("bce_weight", format!("must be >= 0, got {}", p.bce_weight));
        }
        if !(0.0..1.0).contains(&p.weight_ema) {
            return bad(
                "weight_ema",
                format!("must be in [0, 1), got {}", p.weight_ema),
            );
        }
        if !(0.0..1.0).contains(&p.label_smoothing) {
            return bad(
                "label_smoothing",
                format!("must be in [0, 1), got {}", p.label_smoothing),
            );
        }
        if p.label_smoothing > 0.0
            && !matches!(
                p.loss,
                Loss::SampledSoftmax { .. } | Loss::FullSoftmax | Loss::Auto { .. }
            )
        {
            return bad(
                "label_smoothing",
                "applies to the softmax losses only".into(),
            );
        }
        if p.bce_weight > 0.0 && p.loss == Loss::Bce {
            return bad(
                "bce_weight",
                "adds BCE to the other losses; the loss is BCE already".into(),
            );
        }
        for (param, v) in [
            ("batch_size", p.batch_size),
            ("epochs", p.epochs),
            ("length_groups", p.length_groups),
        ] {
            if v == 0 {
                return bad(param, "must be at least 1".into());
            }
        }
        match p.loss {
            Loss::GBce { negatives, t } if negatives == 0 || !(0.0..=1.0).contains(&t) => {
                return bad(
                    "loss",
                    format!("gBCE needs negatives >= 1 and t in [0, 1], got {negatives} and {t}"),
                )
            }
            Loss::SampledSoftmax { negatives: 0 } | Loss::Auto { negatives: 0, .. } => {
                return bad("loss", "sampled softmax needs at least one negative".into())
            }
            _ => {}
        }
        if let Some(es) = p.early_stopping {
            if es.every == 0 || es.patience == 0 {
                return bad(
                    "early_stopping",
                    "needs every >= 1 and patience >= 1".into(),
                );
            }
            if es.protocol == (Protocol::Sampled { negatives: 0 }) {
                return bad(
                    "early_stopping",
                    "the sampled protocol needs at least one negative".into(),
                );
            }
        }
        Ok(p)
    }
}

macro_rules! getter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(&self) -> $ty {
            self.$name
        }
    };
}

impl SasRecValidParams {
    getter!(/// Embedding and hidden size.
        hidden: usize);
    getter!(/// Self-attention blocks.
        blocks: usize);
    getter!(/// Attention heads.
        heads: usize);
    getter!(/// Longest history read.
        max_len: usize);
    getter!(/// Dropout rate.
        dropout: f64);
    getter!(/// Pre-LN blocks instead of the paper's layout.
        pre_ln: bool);
    getter!(/// A separate output embedding table.
        separate_output: bool);
    getter!(/// A learned score bias per item.
        item_bias: bool);
    getter!(/// Dropout on attention outputs too.
        attention_output_dropout: bool);
    getter!(/// Share of training item occurrences read from content alone.
        id_dropout: f64);
    getter!(/// The training objective.
        loss: Loss);
    getter!(/// Adam's learning rate.
        learning_rate: f64);
    getter!(/// The learning-rate schedule.
        lr_schedule: LrSchedule);
    getter!(/// Users per training step.
        batch_size: usize);
    getter!(/// Length bucketing of batches (0 or 1: off).
        length_buckets: usize);
    getter!(/// Length groups per step.
        length_groups: usize);
    getter!(/// How sampled negatives are drawn.
        negative_draw: NegativeDraw);
    getter!(/// Training on every window of long histories.
        history_windows: bool);
    getter!(/// Item tables updated row by row under sampled losses.
        row_updates: bool);
    getter!(/// Maximum number of epochs.
        epochs: usize);
    getter!(/// L2 penalty on the item table.
        l2_emb: f64);
    getter!(/// Weight of an added BCE term.
        bce_weight: f64);
    getter!(/// Decay of the weights' moving average (0: off).
        weight_ema: f64);
    getter!(/// Label smoothing of the softmax losses.
        label_smoothing: f64);
    getter!(/// Seed of every random step.
        seed: u64);
    getter!(/// Where the model computes.
        compute: Compute);
    getter!(/// Early stopping, if any.
        early_stopping: Option<EarlyStopping>);

    /// These settings with another seed (a checked seed cannot be out of range).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub(crate) fn model_config(&self, n_items: usize, feature_dim: usize) -> ModelConfig {
        ModelConfig {
            n_items,
            hidden: self.hidden,
            blocks: self.blocks,
            heads: self.heads,
            max_len: self.max_len,
            dropout: self.dropout,
            pre_ln: self.pre_ln,
            feature_dim,
            separate_output: self.separate_output,
            item_bias: self.item_bias,
            attention_output_dropout: self.attention_output_dropout,
            id_dropout: self.id_dropout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_decays_from_the_rate_to_zero() {
        let c = LrSchedule::Cosine;
        assert_eq!(c.rate(0.01, 0, 100), 0.01);
        assert!((c.rate(0.01, 50, 100) - 0.005).abs() < 1e-12);
        assert!(c.rate(0.01, 100, 100).abs() < 1e-12);
        assert!(c.rate(0.01, 150, 100).abs() < 1e-12);
        let rates: Vec<f64> = (0..=100).map(|s| c.rate(0.01, s, 100)).collect();
        assert!(rates.windows(2).all(|w| w[1] <= w[0]));
        assert_eq!(LrSchedule::Constant.rate(0.01, 70, 100), 0.01);
    }

    #[test]
    fn bce_weight_is_checked() {
        let full = || SasRec::params().loss(Loss::FullSoftmax);
        assert!(full().bce_weight(0.5).check().is_ok());
        assert!(full().bce_weight(-1.0).check().is_err());
        assert!(full().bce_weight(f64::NAN).check().is_err());
        assert!(SasRec::paper().bce_weight(0.5).check().is_err());
        assert!(full().weight_ema(0.999).check().is_ok());
        for bad in [1.0, -0.1, f64::NAN] {
            assert!(full().weight_ema(bad).check().is_err(), "weight_ema {bad}");
        }
        assert!(SasRec::paper().check().is_ok());
    }

    #[test]
    fn label_smoothing_is_checked() {
        let ssm = || SasRec::params().loss(Loss::SampledSoftmax { negatives: 20 });
        assert!(ssm().label_smoothing(0.1).check().is_ok());
        assert!(SasRec::params()
            .loss(Loss::FullSoftmax)
            .label_smoothing(0.1)
            .check()
            .is_ok());
        for bad in [1.0, -0.1, f64::NAN] {
            assert!(ssm().label_smoothing(bad).check().is_err(), "{bad}");
        }
        assert!(SasRec::paper().label_smoothing(0.1).check().is_err());
    }

    #[test]
    fn defaults_and_paper_settings_are_valid() {
        SasRec::params().check().expect("defaults");
        let p = SasRec::paper().check().expect("paper");
        assert_eq!((p.hidden, p.heads, p.dropout), (50, 1, 0.5));
        assert_eq!(p.loss, Loss::Bce);
    }

    #[test]
    fn settings_saved_before_attention_output_dropout_read_back_with_it_on() {
        let p = SasRec::params().check().expect("defaults");
        assert!(!p.attention_output_dropout);
        let mut json = serde_json::to_value(&p).expect("serialise");
        let back: SasRecValidParams = serde_json::from_value(json.clone()).expect("parse");
        assert_eq!(back, p);
        json.as_object_mut()
            .expect("object")
            .remove("attention_output_dropout");
        let old: SasRecValidParams = serde_json::from_value(json.clone()).expect("parse old");
        assert!(old.attention_output_dropout);
        // Settings saved before length groups existed ran each batch whole.
        json.as_object_mut()
            .expect("object")
            .remove("length_groups");
        let old: SasRecValidParams = serde_json::from_value(json).expect("parse older");
        assert_eq!((p.length_groups, old.length_groups), (4, 1));
        let mut cfg = serde_json::to_value(p.model_config(10, 0)).expect("serialise");
        cfg.as_object_mut()
            .expect("object")
            .remove("attention_output_dropout");
        let old: ModelConfig = serde_json::from_value(cfg).expect("parse old");
        assert!(old.attention_output_dropout);
    }

    #[test]
    fn out_of_range_settings_are_errors() {
        let cases = [
            SasRec::params().heads(3),
            SasRec::params().dropout(1.0),
            SasRec::params().learning_rate(f64::NAN),
            SasRec::params().batch_size(0),
            SasRec::params().length_groups(0),
            SasRec::params().loss(Loss::GBce {
                negatives: 10,
                t: 1.5,
            }),
            SasRec::params().loss(Loss::SampledSoftmax { negatives: 0 }),
            SasRec::params().early_stopping(Some(EarlyStopping {
                patience: 0,
                ..Default::default()
            })),
        ];
        for p in cases {
            assert!(
                matches!(p.clone().check(), Err(SasRecError::InvalidParam { .. })),
                "{p:?}"
            );
        }
        let err = SasRec::params()
            .batch_size(0)
            .check()
            .expect_err("zero batch");
        assert!(
            matches!(
                err,
                SasRecError::InvalidParam {
                    param: "batch_size",
                    ..
                }
            ),
            "{err}"
        );
        let p = SasRec::params().hidden(32).check().expect("valid");
        assert_eq!((p.hidden(), p.with_seed(7).seed()), (32, 7));
    }
}
