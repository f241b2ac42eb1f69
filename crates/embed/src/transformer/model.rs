//! The libtorch side: encoder construction, weight loading, forward pass, pooling and dense layers.

use std::collections::HashMap;
use std::path::Path;

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_bert::distilbert::{DistilBertConfig, DistilBertModel};
use rust_bert::roberta::RobertaEmbeddings;
use tch::{nn, Device, Kind, Tensor};

use super::fast::FastEncoder;
use super::folder::{first_existing, parse_json, DenseModule, Family, ModelFolder, Pooling};
use super::precision::Precision;
use crate::error::{EmbedError, Result};

fn backend(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Backend(e.to_string())
}

enum Encoder {
    Bert(BertModel<BertEmbeddings>),
    Roberta(BertModel<RobertaEmbeddings>),
    DistilBert(DistilBertModel),
}

struct Dense {
    weight: Tensor,
    bias: Option<Tensor>,
    activation: Activation,
}

#[derive(Clone, Copy)]
enum Activation {
    Identity,
    Tanh,
    Relu,
    Gelu,
    Sigmoid,
}

/// A loaded encoder with its pooling, dense and normalisation head.
pub(crate) struct Network {
    /// rust-bert's model (absent in worker copies, which only run the fused path).
    encoder: Option<Encoder>,
    /// The fused forward pass, when the architecture allows it.
    fast: Option<FastEncoder>,
    // Keeps the encoder's variables alive (worker copies share the tensors' storage instead).
    _vs: Option<nn::VarStore>,
    pooling: Vec<Pooling>,
    dense: Vec<Dense>,
    pub(crate) dim: usize,
    device: Device,
}

fn read_tensors(path: &Path, device: Device) -> Result<HashMap<String, Tensor>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    let named = match ext {
        "safetensors" => Tensor::read_safetensors(path),
        "bin" | "pt" => Tensor::loadz_multi_with_device(path, device),
        _ => Tensor::load_multi_with_device(path, device),
    }
    .map_err(|e| EmbedError::BadFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(named.into_iter().collect())
}

/// Copies file tensors into the var store. Checkpoints differ in their key prefix
/// (`bert.`, `roberta.`, none): the prefix is found from the first variable.
fn load_into(vs: &mut nn::VarStore, path: &Path) -> Result<()> {
    let tensors = read_tensors(path, vs.device())?;
    let mut vars = vs.variables();
    let probe = vars
        .keys()
        .find(|k| k.contains("word_embeddings"))
        .cloned()
        .ok_or_else(|| backend("encoder has no word embeddings"))?;
    let prefix = tensors
        .keys()
        .find(|k| k.ends_with(&probe))
        .map(|k| k[..k.len() - probe.len()].to_string())
        .ok_or_else(|| EmbedError::WeightMismatch {
            path: path.to_path_buf(),
            reason: format!("no tensor named like {probe:?}"),
        })?;
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    for name in names {
        let full = format!("{prefix}{name}");
        let src = tensors
            .get(&full)
            .ok_or_else(|| EmbedError::WeightMismatch {
                path: path.to_path_buf(),
                reason: format!("tensor {full:?} is missing"),
            })?;
        let dst = &vars[name];
        if src.size() != dst.size() {
            return Err(EmbedError::WeightMismatch {
                path: path.to_path_buf(),
                reason: format!(
                    "tensor {full:?} has shape {:?}, the config asks for {:?}",
                    src.size(),
                    dst.size()
                ),
            });
        }
    }
    tch::no_grad(|| -> Result<()> {
        for (name, dst) in vars.iter_mut() {
            let src = &tensors[&format!("{prefix}{name}")];
            dst.f_copy_(&src.to_kind(dst.kind())).map_err(backend)?;
        }
        Ok(())
    })
}

fn load_dense(m: &DenseModule, device: Device) -> Result<Dense> {
    let path =
        first_existing(&m.dir, &["model.safetensors", "pytorch_model.bin"]).ok_or_else(|| {
            EmbedError::MissingFile {
                path: m.dir.join("model.safetensors"),
                what: "dense layer weights",
            }
        })?;
    let t = read_tensors(&path, device)?;
    let get = |name: &str| {
        t.get(name)
            .map(|x| x.to_kind(Kind::Float).to_device(device))
            .ok_or_else(|| EmbedError::WeightMismatch {
                path: path.clone(),
                reason: format!("tensor {name:?} is missing"),
            })
    };
    let weight = get("linear.weight")?;
    let want = [m.config.out_features, m.config.in_features];
    if weight.size() != want {
        return Err(EmbedError::WeightMismatch {
            path: path.clone(),
            reason: format!(
                "linear.weight has shape {:?}, config says {want:?}",
                weight.size()
            ),
        });
    }
    let bias = if m.config.bias {
        Some(get("linear.bias")?)
    } else {
        None
    };
    let name = m
        .config
        .activation_function
        .rsplit('.')
        .next()
        .unwrap_or_default();
    let activation = match name {
        "" | "Identity" => Activation::Identity,
        "Tanh" => Activation::Tanh,
        "ReLU" => Activation::Relu,
        "GELU" => Activation::Gelu,
        "Sigmoid" => Activation::Sigmoid,
        other => {
            return Err(EmbedError::BadFile {
                path: m.dir.join("config.json"),
                reason: format!("unsupported activation {other:?}"),
            })
        }
    };
    Ok(Dense {
        weight,
        bias,
        activation,
    })
}

impl Network {
    pub(crate) fn load(folder: &ModelFolder, device: Device) -> Result<Self> {
        let mut vs = nn::VarStore::new(device);
        let root = vs.root();
        let (encoder, hidden) = match folder.family {
            Family::Bert | Family::Roberta => {
                let cfg: BertConfig = parse_json(&folder.config_path, &folder.config_text)?;
                let hidden = cfg.hidden_size;
                let enc = if folder.family == Family::Bert {
                    Encoder::Bert(BertModel::new_with_optional_pooler(&root, &cfg, false))
                } else {
                    Encoder::Roberta(BertModel::new_with_optional_pooler(&root, &cfg, false))
                };
                (enc, hidden)
            }
            Family::DistilBert => {
                let cfg: DistilBertConfig = parse_json(&folder.config_path, &folder.config_text)?;
                (
                    Encoder::DistilBert(DistilBertModel::new(&root, &cfg)),
                    cfg.dim,
                )
            }
        };
        load_into(&mut vs, &folder.weights)?;
        vs.freeze();
        let fast = match folder.family {
            Family::Bert | Family::Roberta => {
                let raw: serde_json::Value = parse_json(&folder.config_path, &folder.config_text)?;
                let pad = (folder.family == Family::Roberta).then_some(folder.pad_token_id);
                FastEncoder::from_vars(&vs.variables(), &raw, pad)
            }
            Family::DistilBert => None,
        };
        let mut dim = hidden as usize * folder.pooling.len();
        let mut dense = Vec::new();
        for m in &folder.dense {
            if m.config.in_features as usize != dim {
                return Err(EmbedError::DimensionMismatch {
                    expected: dim,
                    got: m.config.in_features as usize,
                });
            }
            dense.push(load_dense(m, device)?);
            dim = m.config.out_features as usize;
        }
        Ok(Self {
            encoder: Some(encoder),
            fast,
            _vs: Some(vs),
            pooling: folder.pooling.clone(),
            dense,
            dim,
            device,
        })
    }

    /// Switches the float encoder's dense layers to `precision`: int8 on the CPU only, int8
    /// and bf16 with the fused path only (`F32` changes nothing).
    pub(crate) fn set_precision(&mut self, precision: Precision) -> Result<()> {
        let int8 = match precision {
            Precision::F32 => return Ok(()),
            Precision::Int8 => true,
            Precision::Bf16 => false,
            Precision::Auto => {
                return Err(EmbedError::param(
                    "precision",
                    "Auto is resolved before the weights are converted",
                ))
            }
        };
        if int8 && self.device != Device::Cpu {
            return Err(EmbedError::param("precision", "int8 runs on the CPU only"));
        }
        match self.fast.as_mut() {
            Some(fast) => fast.convert(int8),
            None => Err(EmbedError::param(
                "precision",
                format!(
                    "{precision} needs a BERT / RoBERTa encoder that the fused forward pass supports"
                ),
            )),
        }
    }

    /// A copy sharing this network's float weights, with its dense layers in `precision`.
    pub(crate) fn converted(&self, precision: Precision) -> Result<Network> {
        let mut copy = self
            .worker()
            .ok_or_else(|| backend("only the fused forward pass converts its weights"))?;
        copy.set_precision(precision)?;
        Ok(copy)
    }

    /// Whether it runs on the CPU.
    pub(crate) fn on_cpu(&self) -> bool {
        self.device == Device::Cpu
    }

    /// Whether the fused forward pass runs (otherwise rust-bert's own).
    pub(crate) fn fused(&self) -> bool {
        self.fast.is_some()
    }

    /// A copy for another thread that shares every weight tensor (no data is copied); only
    /// possible with the fused path.
    pub(crate) fn worker(&self) -> Option<Network> {
        Some(Network {
            encoder: None,
            fast: Some(self.fast.as_ref()?.shallow()),
            _vs: None,
            pooling: self.pooling.clone(),
            dense: self
                .dense
                .iter()
                .map(|d| Dense {
                    weight: d.weight.shallow_clone(),
                    bias: d.bias.as_ref().map(Tensor::shallow_clone),
                    activation: d.activation,
                })
                .collect(),
            dim: self.dim,
            device: self.device,
        })
    }

    /// Runs one padded batch: `ids` and `mask` are row-major `rows × len`. Returns `rows × dim`.
    pub(crate) fn forward(
        &self,
        ids: &[i64],
        mask: &[i64],
        rows: usize,
        len: usize,
    ) -> Result<Vec<f32>> {
        tch::no_grad(|| {
            let shape = [rows as i64, len as i64];
            let ids = Tensor::from_slice(ids).view(shape).to_device(self.device);
            let mask = Tensor::from_slice(mask).view(shape).to_device(self.device);
            let hidden = match (&self.fast, &self.encoder) {
                (Some(fast), _) => fast.forward(&ids, &mask)?,
                (None, Some(encoder)) => self.slow_forward(encoder, &ids, &mask)?,
                (None, None) => return Err(backend("network copy without an encoder")),
            };
            let hidden = hidden.to_kind(Kind::Float);
            let maskf = mask.to_kind(Kind::Float).unsqueeze(-1);
            self.head(&hidden, &maskf)
        })
    }

    /// rust-bert's own forward pass (DistilBERT, or configurations the fast path skips).
    fn slow_forward(&self, encoder: &Encoder, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let out = match encoder {
            Encoder::Bert(m) => {
                m.forward_t(Some(ids), Some(mask), None, None, None, None, None, false)
            }
            Encoder::Roberta(m) => {
                m.forward_t(Some(ids), Some(mask), None, None, None, None, None, false)
            }
            Encoder::DistilBert(m) => {
                return Ok(m
                    .forward_t(Some(ids), Some(mask), None, false)
                    .map_err(backend)?
                    .hidden_state)
            }
        };
        Ok(out.map_err(backend)?.hidden_state)
    }

    /// Pooling, Dense modules and the copy out to a flat `rows × dim` vector.
    fn head(&self, hidden: &Tensor, maskf: &Tensor) -> Result<Vec<f32>> {
        {
            let (hidden, maskf) = (hidden.shallow_clone(), maskf.shallow_clone());
            let mut parts = Vec::with_capacity(self.pooling.len());
            for p in &self.pooling {
                parts.push(match p {
                    Pooling::Cls => hidden.select(1, 0),
                    Pooling::Max => hidden
                        .masked_fill(&maskf.eq(0.0), -1e9)
                        .amax([1].as_slice(), false),
                    Pooling::Mean | Pooling::MeanSqrtLen => {
                        let sum =
                            (&hidden * &maskf).sum_dim_intlist([1].as_slice(), false, Kind::Float);
                        let count = maskf
                            .sum_dim_intlist([1].as_slice(), false, Kind::Float)
                            .clamp_min(1e-9);
                        if *p == Pooling::Mean {
                            sum / count
                        } else {
                            sum / count.sqrt()
                        }
                    }
                });
            }
            let mut out = Tensor::cat(&parts, 1);
            for d in &self.dense {
                out = out.matmul(&d.weight.tr());
                if let Some(b) = &d.bias {
                    out += b;
                }
                out = match d.activation {
                    Activation::Identity => out,
                    Activation::Tanh => out.tanh(),
                    Activation::Relu => out.relu(),
                    Activation::Gelu => out.gelu("none"),
                    Activation::Sigmoid => out.sigmoid(),
                };
            }
            let out = out.to_device(Device::Cpu).contiguous().view(-1);
            Vec::<f32>::try_from(&out).map_err(backend)
        }
    }
}
