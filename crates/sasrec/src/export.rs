//! The libtorch network seen from outside training: its scores (for validation while it
//! trains) and its weights exported for serving ([`Weights`]).

use std::collections::HashMap;

use ndarray::{Array1, Array2};
use tch::{Kind, Tensor};

use crate::error::{torch, Result, SasRecError};
use crate::eval::ScoreRows;
use crate::infer::{Block, Dense, Norm, Parts, Weights};
use crate::item::ItemIdx;
use crate::model::Network;

impl ScoreRows for Network {
    fn n_items(&self) -> usize {
        self.config.n_items
    }

    fn score_rows(&self, inputs: &[&[ItemIdx]]) -> Result<Vec<f32>> {
        let max_len = self.config.max_len;
        let len = inputs
            .iter()
            .map(|s| s.len().min(max_len))
            .max()
            .unwrap_or(0);
        if len == 0 || inputs.iter().any(|s| s.is_empty()) {
            return Err(SasRecError::EmptyInput(
                "every history needs at least one item".into(),
            ));
        }
        let mut flat = Vec::with_capacity(inputs.len() * len);
        for s in inputs {
            let tail = &s[s.len().saturating_sub(len)..];
            flat.extend(std::iter::repeat_n(0i64, len - tail.len()));
            flat.extend(tail.iter().map(|i| i.dense()));
        }
        let device = self.vs.device();
        let scores = tch::no_grad(|| {
            let seq = Tensor::from_slice(&flat)
                .view([inputs.len() as i64, len as i64])
                .to_device(device);
            let h = self.queries(self.forward_t(&seq, false).select(1, len as i64 - 1));
            // Column 0 is padding: drop it, so column `i` is item `i`.
            h.mm(&self
                .all_targets()
                .narrow(0, 1, self.config.n_items as i64)
                .tr())
                .to_kind(Kind::Float)
                .to_device(tch::Device::Cpu)
                .contiguous()
        });
        let numel = scores.numel();
        let mut out = vec![0f32; numel];
        scores.f_copy_data(&mut out, numel).map_err(torch)?;
        if out.iter().any(|v| !v.is_finite()) {
            return Err(SasRecError::Diverged("non-finite scores".into()));
        }
        Ok(out)
    }
}

/// A variable as a flat `Vec` and its shape.
fn values(vars: &HashMap<String, Tensor>, name: &str) -> Result<(Vec<f32>, Vec<usize>)> {
    let t = vars
        .get(name)
        .ok_or_else(|| SasRecError::Torch(format!("the network lacks variable {name}")))?;
    let t = t
        .detach()
        .to_device(tch::Device::Cpu)
        .to_kind(Kind::Float)
        .contiguous();
    let shape = t.size().iter().map(|&s| s as usize).collect();
    let v = Vec::<f32>::try_from(t.flatten(0, -1)).map_err(torch)?;
    Ok((v, shape))
}

fn matrix(vars: &HashMap<String, Tensor>, name: &str) -> Result<Array2<f32>> {
    let (v, shape) = values(vars, name)?;
    let (r, c) = match shape.as_slice() {
        [r, c] => (*r, *c),
        _ => return Err(SasRecError::Torch(format!("{name}: shape {shape:?}"))),
    };
    Array2::from_shape_vec((r, c), v).map_err(|e| SasRecError::Torch(e.to_string()))
}

fn vector(vars: &HashMap<String, Tensor>, name: &str) -> Result<Array1<f32>> {
    Ok(Array1::from(values(vars, name)?.0))
}

/// A table of the network without its padding row 0.
fn items_only(m: Array2<f32>) -> Array2<f32> {
    m.slice(ndarray::s![1.., ..]).to_owned()
}

impl Network {
    /// The weights for serving.
    pub(crate) fn export(&self) -> Result<Weights> {
        let vars = self.vs.variables();
        let standard = |m: Array2<f32>| m.as_standard_layout().to_owned();
        let dense = |p: &str| -> Result<Dense> {
            Ok(Dense {
                // libtorch stores `[out, in]`; serving multiplies `x · w`.
                w: standard(matrix(&vars, &format!("{p}.weight"))?.reversed_axes()),
                b: vector(&vars, &format!("{p}.bias"))?,
            })
        };
        let norm = |p: &str| -> Result<Norm> {
            Ok(Norm {
                g: vector(&vars, &format!("{p}.weight"))?,
                b: vector(&vars, &format!("{p}.bias"))?,
            })
        };
        let blocks = (0..self.config.blocks)
            .map(|b| Block::from_named(&format!("block{b}"), dense, norm))
            .collect::<Result<Vec<_>>>()?;
        let content = if self.config.feature_dim > 0 {
            let features = items_only(matrix(&vars, "features")?);
            let proj = standard(matrix(&vars, "feature_proj.weight")?.reversed_axes());
            Some((features, proj))
        } else {
            None
        };
        Ok(Weights::new(Parts {
            item: items_only(matrix(&vars, "item.weight")?),
            output: self
                .config
                .separate_output
                .then(|| matrix(&vars, "output.weight").map(items_only))
                .transpose()?,
            bias: self
                .config
                .item_bias
                .then(|| vector(&vars, "item_bias").map(|b| b.slice(ndarray::s![1..]).to_owned()))
                .transpose()?,
            content,
            position: matrix(&vars, "position.weight")?,
            blocks,
            final_ln: norm("final_ln")?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelConfig;
    use crate::rng::torch_rng_lock;
    use proptest::prelude::*;
    use tch::Device;

    fn network(config: &ModelConfig, seed: u64) -> Network {
        let _rng = torch_rng_lock();
        let mut net = Network::new(config, seed, Device::Cpu).expect("valid config");
        if config.feature_dim > 0 {
            let f = Tensor::randn(
                [config.n_items as i64 + 1, config.feature_dim as i64],
                (Kind::Float, Device::Cpu),
            );
            let _ = tch::no_grad(|| f.get(0).zero_());
            net.set_features(&f).expect("shape");
        }
        // Untrained biases and layer norms are 0 and 1: move them so that they matter.
        tch::no_grad(|| {
            for (name, mut t) in net.vs.variables() {
                if t.dim() == 1 || name == "item_bias" {
                    let _ = t.g_add_(&(Tensor::randn_like(&t) * 0.3));
                }
            }
        });
        net
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The serving forward pass gives the libtorch network's scores, for every layout.
        #[test]
        fn serving_scores_match_the_network(
            pre_ln in any::<bool>(),
            separate_output in any::<bool>(),
            item_bias in any::<bool>(),
            features in prop_oneof![Just(0usize), Just(5usize)],
            heads in prop_oneof![Just(1usize), Just(2usize), Just(4usize)],
            blocks in 1usize..4,
            histories in proptest::collection::vec(
                proptest::collection::vec(0u32..30, 1..14), 1..20),
            seed in 0u64..1000,
        ) {
            let config = ModelConfig {
                n_items: 30,
                hidden: 16,
                blocks,
                heads,
                max_len: 10,
                dropout: 0.2,
                pre_ln,
                feature_dim: features,
                separate_output,
                item_bias,
                attention_output_dropout: false,
                id_dropout: 0.0,
            };
            let net = network(&config, seed);
            let weights = net.export().expect("exports");
            let hist: Vec<Vec<ItemIdx>> = histories
                .iter()
                .map(|h| h.iter().map(|&i| ItemIdx::new(i)).collect())
                .collect();
            let refs: Vec<&[ItemIdx]> = hist.iter().map(Vec::as_slice).collect();
            let want = net.score_rows(&refs).expect("scores");
            let got = weights.scores(&config, &refs);
            prop_assert_eq!(got.dim(), (hist.len(), 30));
            let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
            let worst = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            prop_assert!(worst < 2e-4 * scale, "max difference {} (scale {})", worst, scale);
        }
    }
}
