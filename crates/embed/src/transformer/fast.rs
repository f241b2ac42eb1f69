//! A lean forward pass for BERT-family encoders over the weights rust-bert loaded.
//!
//! rust-bert's BERT layer runs attention as separate matmul / softmax / matmul steps, GELU as
//! erf plus arithmetic, and adds biases after each matmul. This path uses libtorch's fused
//! kernels instead: one `linear` (addmm) for the fused Q, K and V projections,
//! `scaled_dot_product_attention`, the native GELU and `layer_norm`. Same weights, same maths;
//! the tests compare the output with sentence-transformers.

use std::collections::HashMap;

use tch::{Kind, Tensor};

use crate::error::{EmbedError, Result};

fn backend(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Backend(e.to_string())
}

struct Layer {
    qkv_w: Tensor,
    qkv_b: Tensor,
    out_w: Tensor,
    out_b: Tensor,
    ln1: (Tensor, Tensor),
    ff_in_w: Tensor,
    ff_in_b: Tensor,
    ff_out_w: Tensor,
    ff_out_b: Tensor,
    ln2: (Tensor, Tensor),
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
            qkv_w: self.qkv_w.shallow_clone(),
            qkv_b: self.qkv_b.shallow_clone(),
            out_w: self.out_w.shallow_clone(),
            out_b: self.out_b.shallow_clone(),
            ln1: pair(&self.ln1),
            ff_in_w: self.ff_in_w.shallow_clone(),
            ff_in_b: self.ff_in_b.shallow_clone(),
            ff_out_w: self.ff_out_w.shallow_clone(),
            ff_out_b: self.ff_out_b.shallow_clone(),
            ln2: pair(&self.ln2),
        }
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
                qkv_w: Tensor::f_cat(&[qw, kw, vw], 0).ok()?,
                qkv_b: Tensor::f_cat(&[qb, kb, vb], 0).ok()?,
                out_w,
                out_b,
                ln1: pair(&format!("{p}.attention.output.LayerNorm"))?,
                ff_in_w,
                ff_in_b,
                ff_out_w,
                ff_out_b,
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
        x = self.norm(&x, &self.emb_ln)?;
        let hidden = x.size()[2];
        let head_dim = hidden / self.heads;
        let keep = mask.f_eq(1).map_err(backend)?.view([b, 1, 1, len]);
        for l in &self.layers {
            let qkv = x
                .f_linear(&l.qkv_w, Some(&l.qkv_b))
                .map_err(backend)?
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
            let attn = attn.f_linear(&l.out_w, Some(&l.out_b)).map_err(backend)?;
            x = self.norm(&(attn + &x), &l.ln1)?;
            let ff = x.f_linear(&l.ff_in_w, Some(&l.ff_in_b)).map_err(backend)?;
            let ff = match self.act {
                Act::Gelu => ff.f_gelu("none"),
                Act::GeluTanh => ff.f_gelu("tanh"),
                Act::Relu => ff.f_relu(),
            }
            .map_err(backend)?;
            let ff = ff
                .f_linear(&l.ff_out_w, Some(&l.ff_out_b))
                .map_err(backend)?;
            x = self.norm(&(ff + &x), &l.ln2)?;
        }
        Ok(x)
    }
}
