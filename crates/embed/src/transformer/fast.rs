//! A lean forward pass for BERT-family encoders over the weights rust-bert loaded.
//!
//! rust-bert's BERT layer runs attention as separate matmul / softmax / matmul steps, GELU as
//! erf plus arithmetic, and adds biases after each matmul. This path uses libtorch's fused
//! kernels instead: one `linear` (addmm) for the fused Q, K and V projections,
//! `scaled_dot_product_attention`, the native GELU and `layer_norm`. Same weights, same maths;
//! the tests compare the output with sentence-transformers.

use std::collections::HashMap;

use tch::{Kind, Scalar, Tensor};

use super::precision::int8_weight_levels;
use crate::error::{EmbedError, Result};

fn backend(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Backend(e.to_string())
}

struct Layer {
    qkv: Linear,
    out: Linear,
    ln1: (Tensor, Tensor),
    ff_in: Linear,
    ff_out: Linear,
    ln2: (Tensor, Tensor),
}

/// A dense layer `x·Wᵀ + b`: float weights (float32, or bfloat16 in a bfloat16 encoder, whose
/// activations are bfloat16 too), or int8 weights for FBGEMM's dynamically quantised kernel
/// (activations are quantised to 8 bits per call, one range per token, accumulation is in
/// int32).
enum Linear {
    Float {
        w: Tensor,
        b: Tensor,
    },
    Int8 {
        q: Tensor,
        packed: Tensor,
        col_offsets: Tensor,
        /// Per output channel: the kernel runs with scale 1, its output is multiplied by this.
        scale: Tensor,
        zero_bias: Tensor,
        b: Tensor,
    },
}

impl Linear {
    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Linear::Float { w, b } => x.f_linear(w, Some(b)),
            Linear::Int8 {
                q,
                packed,
                col_offsets,
                scale,
                zero_bias,
                b,
            } => {
                // The kernel quantises its whole input with one range, so a token with large
                // activations would coarsen every other token's. Rows scaled to one range
                // first, and the outputs scaled back (a product is linear in each row), make
                // that one range per token: MiniLM's worst probe went from 0.975 to 0.990
                // cosine to float32, e5's from 0.995 to 0.999.
                let rows = x
                    .f_abs()
                    .and_then(|a| a.f_amax([-1i64].as_slice(), true))
                    .and_then(|m| m.f_clamp_min(1e-12))
                    .map_err(backend)?;
                (x / &rows)
                    .f_fbgemm_linear_int8_weight_fp32_activation(
                        q,
                        packed,
                        col_offsets,
                        Scalar::float(1.0),
                        Scalar::int(0),
                        zero_bias,
                    )
                    // b + (y · rows) · scale
                    .and_then(|y| b.f_addcmul(&(y * rows), scale))
            }
        }
        .map_err(backend)
    }

    fn shallow(&self) -> Linear {
        match self {
            Linear::Float { w, b } => Linear::Float {
                w: w.shallow_clone(),
                b: b.shallow_clone(),
            },
            Linear::Int8 {
                q,
                packed,
                col_offsets,
                scale,
                zero_bias,
                b,
            } => Linear::Int8 {
                q: q.shallow_clone(),
                packed: packed.shallow_clone(),
                col_offsets: col_offsets.shallow_clone(),
                scale: scale.shallow_clone(),
                zero_bias: zero_bias.shallow_clone(),
                b: b.shallow_clone(),
            },
        }
    }

    /// The same layer with bfloat16 weights and bias.
    fn to_bf16(&self) -> Result<Linear> {
        let Linear::Float { w, b } = self else {
            return Ok(self.shallow());
        };
        let (w, b) = bf16_pair(w, b)?;
        Ok(Linear::Float { w, b })
    }

    /// Symmetric int8 weights per output channel: row `j` is divided by `max |w_j| / L` (`L`
    /// from [`int8_weight_levels`]: 127, or 64 where the kernel's sums would saturate), so
    /// every row uses the same range and the kernel's single scale is 1; the row scales
    /// are applied to the kernel's output. (FBGEMM's legacy kernel has one scale per tensor,
    /// which cost English MiniLM vectors up to 0.05 of cosine to the float model.) With zero
    /// points of 0, the column offsets FBGEMM needs are plain row sums.
    fn to_int8(&self) -> Result<Linear> {
        let Linear::Float { w, b } = self else {
            return Ok(self.shallow());
        };
        let levels = int8_weight_levels();
        let scale = w
            .f_abs()
            .and_then(|a| a.f_amax([1i64].as_slice(), true))
            .and_then(|m| m.f_clamp_min(1e-12))
            .map_err(backend)?
            / levels;
        let q = (w / &scale)
            .f_round()
            .and_then(|t| t.f_clamp(-levels, levels))
            .and_then(|t| t.f_to_kind(Kind::Int8))
            .map_err(backend)?;
        let col_offsets = q
            .f_to_kind(Kind::Int)
            .and_then(|t| t.f_sum_dim_intlist([1i64].as_slice(), false, Kind::Int))
            .map_err(backend)?;
        let packed = q.f_fbgemm_pack_quantized_matrix().map_err(backend)?;
        Ok(Linear::Int8 {
            q,
            packed,
            col_offsets,
            scale: scale.f_squeeze_dim(1).map_err(backend)?,
            zero_bias: b.f_zeros_like().map_err(backend)?,
            b: b.shallow_clone(),
        })
    }
}

/// A weight and its bias in bfloat16.
fn bf16_pair(w: &Tensor, b: &Tensor) -> Result<(Tensor, Tensor)> {
    let cast = |t: &Tensor| t.f_to_kind(Kind::BFloat16).map_err(backend);
    Ok((cast(w)?, cast(b)?))
}

#[derive(Clone, Copy)]
enum Act {
    Gelu,
    GeluTanh,
    Relu,
}

/// The encoder's weights, arranged for the fused forward pass.
pub(crate) struct FastEncoder {
    word: Tensor,
    position: Tensor,
    token_type0: Tensor,
    emb_ln: (Tensor, Tensor),
    layers: Vec<Layer>,
    heads: i64,
    eps: f64,
    act: Act,
    /// RoBERTa numbers positions from `padding_idx + 1`, skipping padding.
    roberta_padding_idx: Option<i64>,
}

impl Layer {
    fn shallow(&self) -> Layer {
        let pair = |(w, b): &(Tensor, Tensor)| (w.shallow_clone(), b.shallow_clone());
        Layer {
            qkv: self.qkv.shallow(),
            out: self.out.shallow(),
            ln1: pair(&self.ln1),
            ff_in: self.ff_in.shallow(),
            ff_out: self.ff_out.shallow(),
            ln2: pair(&self.ln2),
        }
    }

    /// This layer with its dense layers converted by `f` (layer norms shared).
    fn map_linear(&self, f: impl Fn(&Linear) -> Result<Linear>) -> Result<Layer> {
        Ok(Layer {
            qkv: f(&self.qkv)?,
            out: f(&self.out)?,
            ff_in: f(&self.ff_in)?,
            ff_out: f(&self.ff_out)?,
            ..self.shallow()
        })
    }
}

impl FastEncoder {
    /// A handle for another thread sharing the same weight storage.
    pub(crate) fn shallow(&self) -> FastEncoder {
        FastEncoder {
            word: self.word.shallow_clone(),
            position: self.position.shallow_clone(),
            token_type0: self.token_type0.shallow_clone(),
            emb_ln: (self.emb_ln.0.shallow_clone(), self.emb_ln.1.shallow_clone()),
            layers: self.layers.iter().map(Layer::shallow).collect(),
            heads: self.heads,
            eps: self.eps,
            act: self.act,
            roberta_padding_idx: self.roberta_padding_idx,
        }
    }

    /// Builds the fast path from the var store of a rust-bert `BertModel`, or `None` when the
    /// configuration asks for something this path does not do (then rust-bert's forward runs).
    pub(crate) fn from_vars(
        vars: &HashMap<String, Tensor>,
        config: &serde_json::Value,
        roberta_padding_idx: Option<i64>,
    ) -> Option<Self> {
        let act = match config
            .get("hidden_act")
            .and_then(|v| v.as_str())
            .unwrap_or("gelu")
        {
            "gelu" => Act::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" => Act::GeluTanh,
            "relu" => Act::Relu,
            _ => return None,
        };
        let absolute = config
            .get("position_embedding_type")
            .and_then(|v| v.as_str())
            .is_none_or(|p| p == "absolute");
        if !absolute {
            return None;
        }
        let heads = config.get("num_attention_heads")?.as_i64()?;
        let n_layers = config.get("num_hidden_layers")?.as_i64()?;
        let eps = config
            .get("layer_norm_eps")
            .and_then(|v| v.as_f64())
            .unwrap_or(1e-12);
        let get = |name: &str| vars.get(name).map(Tensor::shallow_clone);
        let pair = |prefix: &str| {
            Some((
                get(&format!("{prefix}.weight"))?,
                get(&format!("{prefix}.bias"))?,
            ))
        };
        let mut layers = Vec::new();
        for i in 0..n_layers {
            let p = format!("encoder.layer.{i}");
            let (qw, qb) = pair(&format!("{p}.attention.self.query"))?;
            let (kw, kb) = pair(&format!("{p}.attention.self.key"))?;
            let (vw, vb) = pair(&format!("{p}.attention.self.value"))?;
            let (out_w, out_b) = pair(&format!("{p}.attention.output.dense"))?;
            let (ff_in_w, ff_in_b) = pair(&format!("{p}.intermediate.dense"))?;
            let (ff_out_w, ff_out_b) = pair(&format!("{p}.output.dense"))?;
            layers.push(Layer {
                qkv: Linear::Float {
                    w: Tensor::f_cat(&[qw, kw, vw], 0).ok()?,
                    b: Tensor::f_cat(&[qb, kb, vb], 0).ok()?,
                },
                out: Linear::Float { w: out_w, b: out_b },
                ln1: pair(&format!("{p}.attention.output.LayerNorm"))?,
                ff_in: Linear::Float {
                    w: ff_in_w,
                    b: ff_in_b,
                },
                ff_out: Linear::Float {
                    w: ff_out_w,
                    b: ff_out_b,
                },
                ln2: pair(&format!("{p}.output.LayerNorm"))?,
            });
        }
        let token_types = get("embeddings.token_type_embeddings.weight")?;
        Some(Self {
            word: get("embeddings.word_embeddings.weight")?,
            position: get("embeddings.position_embeddings.weight")?,
            token_type0: token_types.f_get(0).ok()?,
            emb_ln: pair("embeddings.LayerNorm")?,
            layers,
            heads,
            eps,
            act,
            roberta_padding_idx,
        })
    }

    /// Switches every dense layer of the float encoder to int8 weights (`true`), or the layers
    /// to bfloat16: dense weights, layer norms and activations (see [`Linear`]).
    pub(crate) fn convert(&mut self, int8: bool) -> Result<()> {
        self.layers = self
            .layers
            .iter()
            .map(|l| l.map_linear(|x| if int8 { x.to_int8() } else { x.to_bf16() }))
            .collect::<Result<_>>()?;
        if !int8 {
            // bfloat16 throughout, not only inside the products: casting every product's input
            // and output cost as much as the products on a CPU with AMX (MiniLM's encode 2.9 ->
            // 2.1 s there; worst probe cosine 0.9999 -> 0.9998).
            for l in &mut self.layers {
                l.ln1 = bf16_pair(&l.ln1.0, &l.ln1.1)?;
                l.ln2 = bf16_pair(&l.ln2.0, &l.ln2.1)?;
            }
        }
        Ok(())
    }

    fn norm(&self, x: &Tensor, (w, b): &(Tensor, Tensor)) -> Result<Tensor> {
        let h = x.size().last().copied().unwrap_or(0);
        x.f_layer_norm([h], Some(w), Some(b), self.eps, false)
            .map_err(backend)
    }

    /// Token vectors `[batch, len, hidden]` for `ids` and `mask` (`[batch, len]`, int64).
    pub(crate) fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let size = ids.size();
        let (b, len) = (size[0], size[1]);
        let positions = match self.roberta_padding_idx {
            Some(pad) => (mask.f_cumsum(1, Kind::Int64).map_err(backend)? * mask) + pad,
            None => Tensor::f_arange(len, (Kind::Int64, ids.device()))
                .map_err(backend)?
                .unsqueeze(0),
        };
        let mut x = Tensor::f_embedding(&self.word, ids, -1, false, false).map_err(backend)?
            + Tensor::f_embedding(&self.position, &positions, -1, false, false).map_err(backend)?
            + &self.token_type0;
        // The layers' activations have their layer norms' kind (bfloat16 after `convert`).
        let activations = self.layers.first().map_or(Kind::Float, |l| l.ln1.0.kind());
        x = self
            .norm(&x, &self.emb_ln)?
            .f_to_kind(activations)
            .map_err(backend)?;
        let hidden = x.size()[2];
        let head_dim = hidden / self.heads;
        let keep = mask.f_eq(1).map_err(backend)?.view([b, 1, 1, len]);
        for l in &self.layers {
            let qkv = l
                .qkv
                .apply(&x)?
                .view([b, len, 3, self.heads, head_dim])
                .permute([2, 0, 3, 1, 4]);
            let (q, k, v) = (qkv.get(0), qkv.get(1), qkv.get(2));
            let attn = Tensor::f_scaled_dot_product_attention(
                &q,
                &k,
                &v,
                Some(&keep),
                0.0,
                false,
                None::<f64>,
            )
            .map_err(backend)?
            .transpose(1, 2)
            .reshape([b, len, hidden]);
            let attn = l.out.apply(&attn)?;
            x = self.norm(&(attn + &x), &l.ln1)?;
            let ff = l.ff_in.apply(&x)?;
            let ff = match self.act {
                Act::Gelu => ff.f_gelu("none"),
                Act::GeluTanh => ff.f_gelu("tanh"),
                Act::Relu => ff.f_relu(),
            }
            .map_err(backend)?;
            let ff = l.ff_out.apply(&ff)?;
            x = self.norm(&(ff + &x), &l.ln2)?;
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The int8 layer against its float original on `x`: the largest error over the largest
    /// float output.
    fn int8_error(w: Tensor, b: Tensor, x: &Tensor) -> f64 {
        let float = Linear::Float { w, b };
        let exact = float.apply(x).expect("float");
        let int8 = float.to_int8().expect("int8").apply(x).expect("int8 runs");
        let err = (int8 - &exact).abs().max().double_value(&[]);
        err / exact.abs().max().double_value(&[])
    }

    /// Every activation at the top of its range and every weight at the top of its own: on a
    /// CPU without VNNI the kernel adds two such products into 16 bits, which full-range int8
    /// weights overflow (the sum came out at half its value); the weight range chosen for the
    /// CPU keeps it exact.
    #[test]
    fn int8_products_do_not_saturate() {
        if !super::super::precision::int8_kernels() {
            return;
        }
        let (k, n) = (384, 8);
        let opts = (Kind::Float, tch::Device::Cpu);
        let err = int8_error(
            Tensor::ones([n, k], opts),
            Tensor::zeros([n], opts),
            &Tensor::ones([3, k], opts),
        );
        assert!(err < 1e-3, "relative error {err}");
    }

    /// Ordinary weights and activations (seeded normal values) stay within a few per cent.
    #[test]
    fn int8_layer_follows_the_float_layer() {
        if !super::super::precision::int8_kernels() {
            return;
        }
        tch::manual_seed(7);
        let (k, n) = (384, 64);
        let opts = (Kind::Float, tch::Device::Cpu);
        let err = int8_error(
            Tensor::randn([n, k], opts) * 0.05,
            Tensor::randn([n], opts) * 0.1,
            &Tensor::randn([2, 5, k], opts),
        );
        assert!(err < 0.03, "relative error {err}");
    }
}
