//! The SASRec network: item and position embeddings, causal multi-head self-attention blocks,
//! point-wise feed-forward layers, scores by the shared item embedding (or a separate output
//! table).

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use crate::error::{Result, SasRecError};
use crate::tables::Table;

/// Architecture of a SASRec model (the paper's defaults for Amazon Games: hidden 50, 2 blocks,
/// 1 head, max length 50, dropout 0.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Number of items; ids run from 1 to `n_items` (0 is padding).
    pub n_items: usize,
    /// Embedding and hidden size.
    pub hidden: usize,
    /// Self-attention blocks.
    pub blocks: usize,
    /// Attention heads (must divide `hidden`).
    pub heads: usize,
    /// Longest history the model reads (older items are cut).
    pub max_len: usize,
    /// Dropout rate in `[0, 1)`.
    pub dropout: f64,
    /// Pre-LN blocks (`x + f(LN(x))`) instead of the paper's layout.
    pub pre_ln: bool,
    /// Width of the frozen item-feature matrix (0: no content features). With features, an
    /// item's vector is its ID embedding plus a learned projection of its features.
    #[serde(default)]
    pub feature_dim: usize,
    /// Score items by their own output embedding table instead of the input item embedding
    /// (gSASRec's `reuse_item_embeddings = False`); the paper shares one table.
    #[serde(default)]
    pub separate_output: bool,
    /// A learned score bias per item, added to every score (the paper has none). It lets the
    /// model hold an item's overall pull apart from the match of its vector with the history.
    #[serde(default)]
    pub item_bias: bool,
    /// Dropout on each attention output before its residual add, as the paper's text writes
    /// its blocks (`x + Dropout(Attention(LN(x)))`). The authors' code, whose figures the
    /// paper reports, drops out only the attention weights; `false` follows the code. Either
    /// way the attention weights get dropout. Training only: it does not change scores.
    /// Configurations saved before this field existed read back with it on, as they were
    /// trained.
    #[serde(default = "yes")]
    pub attention_output_dropout: bool,
    /// With content features, the probability that training reads an item occurrence (in a
    /// history, as a target or as a negative) from its projected content alone, its ID
    /// embedding and bias left out (DropoutNet's idea). It teaches the content projection to
    /// stand on its own, as it must for items added after the fit. Training only; 0: off.
    #[serde(default)]
    pub id_dropout: f64,
}

/// Serde default of flags that were always on before they became settings.
pub(crate) fn yes() -> bool {
    true
}

impl ModelConfig {
    /// The paper's settings for `n_items` items.
    pub fn paper(n_items: usize) -> Self {
        Self {
            n_items,
            hidden: 50,
            blocks: 2,
            heads: 1,
            max_len: 50,
            dropout: 0.5,
            pre_ln: false,
            feature_dim: 0,
            separate_output: false,
            item_bias: false,
            attention_output_dropout: false,
            id_dropout: 0.0,
        }
    }

    /// Checks sizes and rates.
    pub fn check(&self) -> Result<()> {
        for (param, v) in [
            ("n_items", self.n_items),
            ("hidden", self.hidden),
            ("blocks", self.blocks),
            ("max_len", self.max_len),
        ] {
            if v == 0 {
                return Err(SasRecError::param(param, "must be at least 1"));
            }
        }
        if self.heads == 0 || !self.hidden.is_multiple_of(self.heads) {
            return Err(SasRecError::param(
                "heads",
                format!("{} must divide hidden ({})", self.heads, self.hidden),
            ));
        }
        for (param, v) in [("dropout", self.dropout), ("id_dropout", self.id_dropout)] {
            if !(0.0..1.0).contains(&v) {
                return Err(SasRecError::param(
                    param,
                    format!("must be in [0, 1), got {v}"),
                ));
            }
        }
        Ok(())
    }
}

struct Block {
    ln_attn: nn::LayerNorm,
    q: nn::Linear,
    k: nn::Linear,
    v: nn::Linear,
    out: nn::Linear,
    ln_ff: nn::LayerNorm,
    ff1: nn::Linear,
    ff2: nn::Linear,
}

/// The network; tch types stay inside this crate.
pub(crate) struct Network {
    pub(crate) vs: nn::VarStore,
    item: Table,
    /// The output item table when it is not shared with the input.
    output: Option<Table>,
    /// Whether the item tables get sparse gradients (only the rows a batch reads), for
    /// [`RowAdam`](crate::tables::RowAdam); set by training.
    pub(crate) sparse_grads: bool,
    /// Score bias per item `[n_items + 1]` (starts at zero; padding's stays zero).
    bias: Option<Tensor>,
    position: nn::Embedding,
    blocks: Vec<Block>,
    final_ln: nn::LayerNorm,
    /// Frozen item features `[n_items + 1, feature_dim]` and their projection.
    content: Option<(Tensor, nn::Linear)>,
    pub(crate) config: ModelConfig,
}

impl Network {
    /// A freshly initialised network (xavier-normal matrices, seeded).
    pub(crate) fn new(config: &ModelConfig, seed: u64, device: Device) -> Result<Self> {
        config.check()?;
        tch::manual_seed(seed as i64);
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let d = config.hidden as i64;
        let ln = |p: nn::Path<'_>| {
            nn::layer_norm(
                p,
                vec![d],
                nn::LayerNormConfig {
                    eps: 1e-8,
                    ..Default::default()
                },
            )
        };
        let lin = |p: nn::Path<'_>, i: i64, o: i64| nn::linear(p, i, o, Default::default());
        let rows = config.n_items as i64 + 1;
        let item = Table::new(&root / "item", rows, d);
        let output = config
            .separate_output
            .then(|| Table::new(&root / "output", rows, d));
        let bias = config
            .item_bias
            .then(|| root.zeros("item_bias", &[config.n_items as i64 + 1]));
        let position = nn::embedding(
            &root / "position",
            config.max_len as i64,
            d,
            Default::default(),
        );
        let blocks = (0..config.blocks)
            .map(|b| {
                let p = &root / format!("block{b}");
                Block {
                    ln_attn: ln(&p / "ln_attn"),
                    q: lin(&p / "q", d, d),
                    k: lin(&p / "k", d, d),
                    v: lin(&p / "v", d, d),
                    out: lin(&p / "out", d, d),
                    ln_ff: ln(&p / "ln_ff"),
                    ff1: lin(&p / "ff1", d, d),
                    ff2: lin(&p / "ff2", d, d),
                }
            })
            .collect();
        let final_ln = ln(&root / "final_ln");
        let content = (config.feature_dim > 0).then(|| {
            let f = config.feature_dim as i64;
            let features = root.zeros_no_train("features", &[config.n_items as i64 + 1, f]);
            let proj = nn::linear(
                &root / "feature_proj",
                f,
                d,
                nn::LinearConfig {
                    bias: false,
                    ..Default::default()
                },
            );
            (features, proj)
        });
        // Sorted names: the variables come in a HashMap, whose order differs between runs.
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        tch::no_grad(|| {
            for (name, mut t) in vars {
                if t.dim() >= 2 && name != "features" {
                    let (fan_out, fan_in) = (t.size()[0] as f64, t.size()[1] as f64);
                    let std = (2.0 / (fan_in + fan_out)).sqrt();
                    let _ = t.normal_(0.0, std);
                }
                if name == "item.weight" || name == "output.weight" {
                    let _ = t.get(0).zero_();
                }
            }
        });
        Ok(Self {
            vs,
            item,
            output,
            sparse_grads: false,
            bias,
            position,
            blocks,
            final_ln,
            content,
            config: config.clone(),
        })
    }

    /// Copies item features (row 0 is padding and must be zero) into the frozen feature matrix.
    pub(crate) fn set_features(&mut self, features: &Tensor) -> Result<()> {
        let Some((f, _)) = &mut self.content else {
            return Err(SasRecError::Features(
                "the model was configured without content features".into(),
            ));
        };
        if features.size() != f.size() {
            return Err(SasRecError::Features(format!(
                "expected shape {:?}, got {:?}",
                f.size(),
                features.size()
            )));
        }
        tch::no_grad(|| f.f_copy_(features)).map_err(crate::error::torch)?;
        Ok(())
    }

    /// Zeroes the ID embeddings of `items` (items never seen in training that are scored from
    /// their content alone).
    pub(crate) fn zero_id_embeddings(&mut self, items: &[i64]) {
        if items.is_empty() {
            return;
        }
        let idx = Tensor::from_slice(items).to_device(self.vs.device());
        tch::no_grad(|| {
            let _ = self.item.ws.index_fill_(0, &idx, 0.0);
            if let Some(o) = &mut self.output {
                let _ = o.ws.index_fill_(0, &idx, 0.0);
            }
            if let Some(b) = &mut self.bias {
                let _ = b.index_fill_(0, &idx, 0.0);
            }
        });
    }

    /// Vectors of the items `ids` (any shape) as the model reads them: ID embedding plus
    /// projected content.
    #[cfg(test)]
    pub(crate) fn items(&self, ids: &Tensor) -> Tensor {
        self.items_t(ids, false)
    }

    /// [`Network::items`], with [`ModelConfig::id_dropout`] applied when training.
    fn items_t(&self, ids: &Tensor, train: bool) -> Tensor {
        let e = self.item.forward(ids, self.sparse_grads);
        let e = match self.id_keep(ids, train) {
            Some(keep) => e * keep.unsqueeze(-1),
            None => e,
        };
        self.with_content(e, ids)
    }

    /// Vectors of the items `ids` (any shape `[..]`) as the model scores them, `[.., width]`
    /// (see [`Network::score_width`]): the input vectors, or the output table plus projected
    /// content when the tables are separate; with item biases, the bias is appended as one
    /// more column. A score is the dot product of a [`Network::queries`] row with a target.
    #[cfg(test)]
    pub(crate) fn targets(&self, ids: &Tensor) -> Tensor {
        self.targets_t(ids, false)
    }

    /// [`Network::targets`], with [`ModelConfig::id_dropout`] applied when training: a
    /// dropped occurrence keeps its projected content only, as an item added after the fit.
    pub(crate) fn targets_t(&self, ids: &Tensor, train: bool) -> Tensor {
        let keep = self.id_keep(ids, train);
        let table = self.output.as_ref().unwrap_or(&self.item);
        let e = table.forward(ids, self.sparse_grads);
        let e = match &keep {
            Some(k) => e * k.unsqueeze(-1),
            None => e,
        };
        let v = self.with_content(e, ids);
        match &self.bias {
            Some(b) => {
                let col = b.index_select(0, &ids.flatten(0, -1)).view_as(ids);
                let col = match &keep {
                    Some(k) => col * k,
                    None => col,
                };
                Tensor::cat(&[v, col.unsqueeze(-1)], -1)
            }
            None => v,
        }
    }

    /// A 0/1 mask shaped as `ids` keeping each ID embedding with probability
    /// `1 - id_dropout`, when training a model with content features; `None` otherwise.
    fn id_keep(&self, ids: &Tensor, train: bool) -> Option<Tensor> {
        let p = self.config.id_dropout;
        (train && p > 0.0 && self.content.is_some()).then(|| {
            Tensor::rand(ids.size(), (Kind::Float, ids.device()))
                .ge(p)
                .to_kind(Kind::Float)
        })
    }

    /// Hidden states `[.., hidden]` made scoring queries `[.., width]`: unchanged, or with a
    /// constant 1 appended when the model has item biases (it meets the targets' bias column).
    pub(crate) fn queries(&self, h: Tensor) -> Tensor {
        match &self.bias {
            Some(_) => {
                let one = h.narrow(-1, 0, 1).ones_like();
                Tensor::cat(&[h, one], -1)
            }
            None => h,
        }
    }

    /// Width of queries and targets: the hidden size, plus one with item biases.
    pub(crate) fn score_width(&self) -> i64 {
        self.config.hidden as i64 + i64::from(self.bias.is_some())
    }

    fn with_content(&self, e: Tensor, ids: &Tensor) -> Tensor {
        match &self.content {
            Some((f, proj)) => {
                let mut shape = ids.size();
                shape.push(self.config.feature_dim as i64);
                let rows = f
                    .index_select(0, &ids.flatten(0, -1))
                    .view(shape.as_slice());
                e + proj.forward(&rows)
            }
            None => e,
        }
    }

    /// The ID embedding tables (input, and output when separate) `[n_items + 1, hidden]`.
    pub(crate) fn item_tables(&self) -> Vec<Tensor> {
        let mut tables = vec![self.item.ws.shallow_clone()];
        tables.extend(self.output.as_ref().map(|o| o.ws.shallow_clone()));
        tables
    }

    /// Scoring vectors of all items `[n_items + 1, width]` (row 0 is padding), as
    /// [`Network::targets`] gives them.
    pub(crate) fn all_targets(&self) -> Tensor {
        self.all_targets_t(false)
    }

    /// [`Network::all_targets`], with [`ModelConfig::id_dropout`] applied per item when
    /// training.
    pub(crate) fn all_targets_t(&self, train: bool) -> Tensor {
        let table = self.output.as_ref().unwrap_or(&self.item);
        let all = Tensor::arange(table.ws.size()[0], (Kind::Int64, table.ws.device()));
        let keep = self.id_keep(&all, train);
        let ws = match &keep {
            Some(k) => &table.ws * k.unsqueeze(-1),
            None => table.ws.shallow_clone(),
        };
        let v = match &self.content {
            Some((f, proj)) => ws + proj.forward(f),
            None => ws,
        };
        match &self.bias {
            Some(b) => {
                let b = match &keep {
                    Some(k) => b * k,
                    None => b.shallow_clone(),
                };
                Tensor::cat(&[v, b.unsqueeze(1)], 1)
            }
            None => v,
        }
    }

    fn attention(
        &self,
        b: &Block,
        q_in: &Tensor,
        kv_in: &Tensor,
        keep: &Tensor,
        train: bool,
    ) -> Tensor {
        let (n, len, d) = q_in.size3().unwrap_or((0, 0, 0));
        let heads = self.config.heads as i64;
        let split = |t: Tensor| t.view([n, len, heads, d / heads]).transpose(1, 2);
        let q = split(b.q.forward(q_in));
        let k = split(b.k.forward(kv_in));
        let v = split(b.v.forward(kv_in));
        let p = if train { self.config.dropout } else { 0.0 };
        let a = Tensor::scaled_dot_product_attention(&q, &k, &v, Some(keep), p, false, None::<f64>);
        let a = b.out.forward(&a.transpose(1, 2).reshape([n, len, d]));
        if self.config.attention_output_dropout {
            a.dropout(p, train)
        } else {
            a
        }
    }

    /// Hidden states `[batch, len, hidden]` of left-padded item sequences `[batch, len]`,
    /// `len <= max_len`. The sequences are taken as the last `len` columns of full-length
    /// left-padded rows, so a batch may drop its all-padding leading columns without changing
    /// any output.
    pub(crate) fn forward_t(&self, seqs: &Tensor, train: bool) -> Tensor {
        let (n, len) = seqs.size2().unwrap_or((0, 0));
        let device = seqs.device();
        let d = self.config.hidden as f64;
        let real = seqs.ne(0).unsqueeze(-1).to_kind(Kind::Float); // [n, len, 1]
        let first = self.config.max_len as i64 - len;
        let positions = Tensor::arange_start(first, first + len, (Kind::Int64, device));
        let mut x =
            self.items_t(seqs, train) * d.sqrt() + self.position.forward(&positions).unsqueeze(0);
        x = x.dropout(self.config.dropout, train) * &real;
        // Query i sees keys j <= i that are real items; every query also sees itself, so that
        // padding rows stay finite (they are zeroed afterwards).
        let causal = Tensor::ones([len, len], (Kind::Bool, device)).tril(0);
        let key_real = seqs.ne(0).view([n, 1, 1, len]);
        let eye = Tensor::eye(len, (Kind::Bool, device));
        let keep = causal.logical_and(&key_real).logical_or(&eye);
        for b in &self.blocks {
            if self.config.pre_ln {
                let h = b.ln_attn.forward(&x);
                x = &x + self.attention(b, &h, &h, &keep, train);
                let h = b.ln_ff.forward(&x);
                x = &x + self.feed_forward(b, &h, train);
            } else {
                // The paper's layout: queries from LN(x), keys and values from x, residual on LN(x).
                let q = b.ln_attn.forward(&x);
                x = &q + self.attention(b, &q, &x, &keep, train);
                let h = b.ln_ff.forward(&x);
                x = &h + self.feed_forward(b, &h, train);
            }
            x *= &real;
        }
        self.final_ln.forward(&x)
    }

    fn feed_forward(&self, b: &Block, x: &Tensor, train: bool) -> Tensor {
        let h = b.ff1.forward(x).relu().dropout(self.config.dropout, train);
        b.ff2.forward(&h).dropout(self.config.dropout, train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pre_ln: bool) -> ModelConfig {
        ModelConfig {
            n_items: 20,
            hidden: 8,
            blocks: 2,
            heads: 2,
            max_len: 6,
            dropout: 0.2,
            pre_ln,
            feature_dim: 0,
            separate_output: false,
            item_bias: false,
            attention_output_dropout: true,
            id_dropout: 0.0,
        }
    }

    fn tiny(pre_ln: bool) -> Network {
        Network::new(&config(pre_ln), 3, Device::Cpu).expect("valid config")
    }

    /// Left-pads (or cuts to the last `max_len` items) one history.
    fn pad(net: &Network, history: &[u32]) -> Vec<i64> {
        let l = net.config.max_len;
        let tail = &history[history.len().saturating_sub(l)..];
        let mut out = vec![0i64; l - tail.len()];
        out.extend(tail.iter().map(|&i| i64::from(i)));
        out
    }

    fn run(net: &Network, rows: &[&[u32]]) -> Tensor {
        let flat: Vec<i64> = rows.iter().flat_map(|r| pad(net, r)).collect();
        let seqs = Tensor::from_slice(&flat).view([rows.len() as i64, net.config.max_len as i64]);
        tch::no_grad(|| net.forward_t(&seqs, false))
    }

    #[test]
    fn later_items_do_not_change_earlier_outputs() {
        for pre_ln in [false, true] {
            let net = tiny(pre_ln);
            // Same first four items, different last two; no padding.
            let out = run(&net, &[&[1, 2, 3, 4, 5, 6], &[1, 2, 3, 4, 9, 17]]);
            let early = out.narrow(1, 0, 4);
            let diff = (early.get(0) - early.get(1)).abs().max().double_value(&[]);
            assert!(
                diff < 1e-5,
                "pre_ln {pre_ln}: earlier positions moved by {diff}"
            );
            let late = (out.get(0).get(5) - out.get(1).get(5))
                .abs()
                .max()
                .double_value(&[]);
            assert!(late > 1e-4, "the last position must see its own history");
        }
    }

    #[test]
    fn padding_does_not_leak_into_real_positions() {
        let net = tiny(false);
        let before = run(&net, &[&[4, 5, 6]]);
        tch::no_grad(|| {
            let mut vars = net.vs.variables();
            if let Some(w) = vars.get_mut("item.weight") {
                let _ = w.get(0).fill_(3.0);
            }
        });
        let after = run(&net, &[&[4, 5, 6]]);
        let real = |t: &Tensor| t.narrow(1, 3, 3);
        let diff = (real(&before) - real(&after)).abs().max().double_value(&[]);
        assert!(
            diff < 1e-6,
            "padding embedding changed real outputs by {diff}"
        );
    }

    #[test]
    fn a_separate_output_table_scores_items() {
        let shared = tiny(false);
        let diff = |a: &Tensor, b: &Tensor| (a - b).abs().max().double_value(&[]);
        assert_eq!(diff(&shared.all_targets(), &shared.item_tables()[0]), 0.0);
        let net = Network::new(
            &ModelConfig {
                separate_output: true,
                ..config(false)
            },
            3,
            Device::Cpu,
        )
        .expect("valid config");
        let tables = net.item_tables();
        assert_eq!(tables.len(), 2);
        let all = net.all_targets();
        assert_eq!(diff(&all, &tables[1]), 0.0);
        assert!(
            diff(&all, &tables[0]) > 1e-3,
            "scores must not use the input table"
        );
        assert_eq!(all.get(0).abs().max().double_value(&[]), 0.0, "padding row");
        let ids = Tensor::from_slice(&[3i64, 7]);
        assert_eq!(diff(&net.targets(&ids), &all.index_select(0, &ids)), 0.0);
    }

    #[test]
    fn attention_output_dropout_changes_training_passes_only() {
        let seqs = Tensor::from_slice(&[0i64, 3, 5, 7, 2, 9]).view([1, 6]);
        let diff = |a: &Tensor, b: &Tensor| (a - b).abs().max().double_value(&[]);
        for pre_ln in [false, true] {
            let with = tiny(pre_ln);
            let cfg = ModelConfig {
                attention_output_dropout: false,
                ..config(pre_ln)
            };
            let mut without = Network::new(&cfg, 3, Device::Cpu).expect("valid config");
            // Copied, not re-seeded: tests run in parallel and share libtorch's generator.
            without.vs.copy(&with.vs).expect("same variables");
            let eval = |n: &Network| tch::no_grad(|| n.forward_t(&seqs, false));
            assert_eq!(
                diff(&eval(&with), &eval(&without)),
                0.0,
                "same weights, no dropout"
            );
            // The same seed gives the same masks up to the extra dropout's (unless another
            // test draws in between, which only adds a difference).
            let train = |n: &Network| {
                let _rng = crate::rng::torch_rng_lock();
                tch::manual_seed(11);
                tch::no_grad(|| n.forward_t(&seqs, true))
            };
            assert!(
                diff(&train(&with), &train(&without)) > 1e-4,
                "pre_ln {pre_ln}: the extra dropout must change a training pass"
            );
        }
    }

    #[test]
    fn item_biases_add_to_the_dot_product() {
        let cfg = ModelConfig {
            item_bias: true,
            ..config(false)
        };
        let mut net = Network::new(&cfg, 3, Device::Cpu).expect("valid config");
        assert_eq!(net.score_width(), 9);
        tch::no_grad(|| {
            let mut vars = net.vs.variables();
            let b = vars.get_mut("item_bias").expect("bias variable");
            b.copy_(&(Tensor::arange(21, (Kind::Float, Device::Cpu)) * 0.5));
            let _ = b.get(0).zero_();
        });
        let h = Tensor::randn([4, 8], (Kind::Float, Device::Cpu));
        let ids = Tensor::from_slice(&[3i64, 7, 0, 20]);
        let scores = net.queries(h.shallow_clone()).mm(&net.targets(&ids).tr());
        let expected = h.mm(&net.items(&ids).tr()) + Tensor::from_slice(&[1.5f32, 3.5, 0.0, 10.0]);
        let gap = |a: &Tensor, b: &Tensor| (a - b).abs().max().double_value(&[]);
        assert!(gap(&scores, &expected) < 1e-5);
        let all = net.all_targets();
        assert_eq!(all.size(), [21, 9]);
        assert_eq!(gap(&net.targets(&ids), &all.index_select(0, &ids)), 0.0);
        // A cold item scored from content alone loses its bias too.
        net.zero_id_embeddings(&[7]);
        assert_eq!(net.all_targets().get(7).abs().max().double_value(&[]), 0.0);
        assert_eq!(tiny(false).score_width(), 8);
    }

    #[test]
    fn id_dropout_reads_dropped_occurrences_from_content_alone() {
        let cfg = ModelConfig {
            feature_dim: 4,
            item_bias: true,
            id_dropout: 0.4,
            ..config(false)
        };
        let features = Tensor::randn([21, 4], (Kind::Float, Device::Cpu));
        let _ = tch::no_grad(|| features.get(0).zero_());
        // One network throughout: tests share libtorch's generator, so two networks built
        // from one seed in parallel tests need not be equal.
        let mut net = Network::new(&cfg, 5, Device::Cpu).expect("valid config");
        net.set_features(&features).expect("features fit");
        let all: Vec<i64> = (1..=20).collect();
        let ids = Tensor::from_slice(&all).repeat([100]);
        let row_gap = |a: &Tensor, b: &Tensor| (a - b).abs().amax(-1, false);
        let whole = net.targets(&ids);
        // Scoring (not training) never drops.
        assert_eq!(
            row_gap(&net.targets_t(&ids, false), &whole)
                .max()
                .double_value(&[]),
            0.0
        );
        let t = net.targets_t(&ids, true);
        let (full_whole, full) = (net.all_targets(), net.all_targets_t(true));
        // What a dropped occurrence must look like: the item without its ID embedding.
        net.zero_id_embeddings(&all);
        let alone = net.targets(&ids);
        assert!(row_gap(&whole, &alone).min().double_value(&[]) > 1e-3);
        let kept = row_gap(&t, &whole).lt(1e-6);
        let dropped = row_gap(&t, &alone).lt(1e-6);
        // Every row is one or the other, and about 40 % are dropped.
        assert!(kept.logical_xor(&dropped).all().int64_value(&[]) == 1);
        let share = dropped
            .to_kind(Kind::Float)
            .mean(Kind::Float)
            .double_value(&[]);
        assert!((0.3..0.5).contains(&share), "dropped share {share}");
        let all_alone = net.all_targets();
        let rows = |m: Tensor| m.to_kind(Kind::Float).sum(Kind::Float).double_value(&[]);
        let dropped_rows = rows(row_gap(&full, &all_alone).narrow(0, 1, 20).lt(1e-6));
        let kept_rows = rows(row_gap(&full, &full_whole).narrow(0, 1, 20).lt(1e-6));
        assert_eq!(
            dropped_rows + kept_rows,
            20.0,
            "each item is one or the other"
        );
        assert!(dropped_rows >= 1.0);
        // Without content features there is nothing to fall back on: no dropout.
        let plain = Network::new(
            &ModelConfig {
                id_dropout: 0.4,
                ..config(false)
            },
            5,
            Device::Cpu,
        )
        .expect("valid config");
        let ids = Tensor::from_slice(&all);
        assert_eq!(
            row_gap(&plain.targets_t(&ids, true), &plain.targets(&ids))
                .max()
                .double_value(&[]),
            0.0
        );
        let mut bad = cfg.clone();
        bad.id_dropout = 1.0;
        assert!(bad.check().is_err());
    }

    #[test]
    fn bad_configs_are_rejected() {
        let mut cfg = ModelConfig::paper(10);
        cfg.heads = 3;
        assert!(cfg.check().is_err());
        cfg = ModelConfig::paper(10);
        cfg.dropout = 1.0;
        assert!(cfg.check().is_err());
        assert!(ModelConfig::paper(0).check().is_err());
        assert!(ModelConfig::paper(10).check().is_ok());
    }
}
