//! Saving and loading trained models: one safetensors file whose header also holds the
//! description (format version, architecture, item ids, popularity) and a checksum of the
//! description and every tensor's bytes. [`SasRecModel::to_bytes`] / [`SasRecModel::from_bytes`] work in memory (a
//! caller that bundles the model into its own artifact uses these); [`SasRecModel::save`]
//! writes the file atomically.
//!
//! Tensors are stored as serving reads them: item rows `0..n` (no padding row), dense layers
//! `[in, out]`. Why safetensors: a plain, documented layout that other tools (Python's
//! `safetensors` among them) open without running code.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{Array1, Array2};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SasRecError};
use crate::infer::{Block, Dense, Norm, Parts, Weights};
use crate::model::ModelConfig;
use crate::serve::SasRecModel;

const FORMAT: &str = "groundrec-sasrec";
/// Version of the artifact layout this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Meta {
    config: ModelConfig,
    item_ids: Vec<String>,
    popularity: Vec<u32>,
}

/// The checksum artifact descriptions record for their binary parts: 64-bit FNV-1a as 16 hex
/// digits (it detects truncated and altered files; it is not a cryptographic hash).
pub fn fnv1a64(bytes: &[u8]) -> String {
    format!("{:016x}", fnv_update(0xcbf2_9ce4_8422_2325, bytes))
}

fn fnv_update(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Writes `bytes` to `path` through a uniquely named temporary file in the same folder, made
/// durable (`fsync` of the file, then of the folder after the rename): a reader sees the old
/// file or the new one, and a crash leaves one of them.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SasRecError::Io { path: p, source }
    };
    let name = path
        .file_name()
        .ok_or_else(|| SasRecError::Artifact {
            path: path.to_path_buf(),
            reason: "not a file name".into(),
        })?
        .to_string_lossy();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, path).map_err(io(path))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Named tensors in a fixed order, as little-endian f32 bytes with their shapes.
fn tensors(w: &Weights) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    let w = &w.parts;
    let mut out = Vec::new();
    let mut put = |name: String, shape: Vec<usize>, values: &mut dyn Iterator<Item = f32>| {
        let bytes = values.flat_map(f32::to_le_bytes).collect();
        out.push((name, shape, bytes));
    };
    let mut m = |name: String, a: &Array2<f32>| {
        put(name, a.shape().to_vec(), &mut a.iter().copied());
    };
    m("item".into(), &w.item);
    if let Some(o) = &w.output {
        m("output".into(), o);
    }
    if let Some((f, p)) = &w.content {
        m("features".into(), f);
        m("feature_proj".into(), p);
    }
    m("position".into(), &w.position);
    let mut dense = Vec::new();
    for (b, block) in w.blocks.iter().enumerate() {
        for (part, d) in [
            ("q", &block.q),
            ("k", &block.k),
            ("v", &block.v),
            ("out", &block.out),
            ("ff1", &block.ff1),
            ("ff2", &block.ff2),
        ] {
            dense.push((format!("block{b}.{part}"), d));
        }
    }
    for (name, d) in &dense {
        m(format!("{name}.w"), &d.w);
    }
    let mut vectors: Vec<(String, &Array1<f32>)> = Vec::new();
    if let Some(b) = &w.bias {
        vectors.push(("item_bias".into(), b));
    }
    for (name, d) in &dense {
        vectors.push((format!("{name}.b"), &d.b));
    }
    for (b, block) in w.blocks.iter().enumerate() {
        for (part, n) in [("ln_attn", &block.ln_attn), ("ln_ff", &block.ln_ff)] {
            vectors.push((format!("block{b}.{part}.g"), &n.g));
            vectors.push((format!("block{b}.{part}.b"), &n.b));
        }
    }
    vectors.push(("final_ln.g".into(), &w.final_ln.g));
    vectors.push(("final_ln.b".into(), &w.final_ln.b));
    for (name, v) in vectors {
        put(name, vec![v.len()], &mut v.iter().copied());
    }
    out
}

/// The checksum of the description and of every tensor in name order.
fn checksum<'a>(description: &str, mut parts: Vec<(&'a str, &'a [u8])>) -> String {
    parts.sort_by(|a, b| a.0.cmp(b.0));
    let start = fnv_update(0xcbf2_9ce4_8422_2325, description.as_bytes());
    let h = parts.iter().fold(start, |h, (name, bytes)| {
        fnv_update(fnv_update(h, name.as_bytes()), bytes)
    });
    format!("{h:016x}")
}

impl SasRecModel {
    /// The model as the bytes of one safetensors file.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let named = tensors(&self.weights);
        let meta = Meta {
            config: self.config.clone(),
            item_ids: self.item_ids.clone(),
            popularity: self.popularity.clone(),
        };
        let json = serde_json::to_string(&meta).map_err(|e| SasRecError::Artifact {
            path: "<memory>".into(),
            reason: e.to_string(),
        })?;
        let checksum = checksum(
            &json,
            named
                .iter()
                .map(|(n, _, b)| (n.as_str(), b.as_slice()))
                .collect(),
        );
        let header: HashMap<String, String> = [
            ("format".to_string(), FORMAT.to_string()),
            ("version".to_string(), FORMAT_VERSION.to_string()),
            ("model".to_string(), json),
            ("fnv1a64".to_string(), checksum),
        ]
        .into_iter()
        .collect();
        let views = named
            .iter()
            .map(|(n, shape, b)| Ok((n.as_str(), TensorView::new(Dtype::F32, shape.clone(), b)?)))
            .collect::<std::result::Result<Vec<_>, safetensors::SafeTensorError>>()
            .map_err(|e| SasRecError::Artifact {
                path: "<memory>".into(),
                reason: e.to_string(),
            })?;
        safetensors::serialize(views, &Some(header)).map_err(|e| SasRecError::Artifact {
            path: "<memory>".into(),
            reason: e.to_string(),
        })
    }

    /// Reads a model from the bytes [`SasRecModel::to_bytes`] made. Another format or version,
    /// a damaged header, tensors of the wrong shape and altered bytes are
    /// [`SasRecError::Artifact`] errors naming `origin`.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Self> {
        let bad = |reason: String| SasRecError::Artifact {
            path: origin.to_path_buf(),
            reason,
        };
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let header = header.metadata().clone().unwrap_or_default();
        let get = |k: &str| header.get(k).map(String::as_str).unwrap_or("");
        if get("format") != FORMAT || get("version") != FORMAT_VERSION.to_string() {
            return Err(bad(format!(
                "format {:?} version {:?}; this build reads {FORMAT} version {FORMAT_VERSION}",
                get("format"),
                get("version")
            )));
        }
        let parts: Vec<(&str, &[u8])> = st.iter().map(|(n, t)| (n, t.data())).collect();
        if checksum(get("model"), parts) != get("fnv1a64") {
            return Err(bad(
                "checksum mismatch: truncated, altered or from another save".into(),
            ));
        }
        let meta: Meta = serde_json::from_str(get("model"))
            .map_err(|e| bad(format!("not a model description: {e}")))?;
        let c = &meta.config;
        c.check().map_err(|e| bad(e.to_string()))?;
        let (n, d) = (c.n_items, c.hidden);
        let tensor = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let t = st
                .tensor(name)
                .map_err(|_| bad(format!("tensor {name} is missing")))?;
            if t.dtype() != Dtype::F32 || t.shape() != shape {
                return Err(bad(format!(
                    "tensor {name} is {:?} {:?}, expected F32 {shape:?}",
                    t.dtype(),
                    t.shape()
                )));
            }
            let v: Vec<f32> = t
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if v.iter().any(|x| !x.is_finite()) {
                return Err(bad(format!("tensor {name} holds NaN or infinite values")));
            }
            Ok(v)
        };
        let matrix = |name: &str, r: usize, k: usize| -> Result<Array2<f32>> {
            Array2::from_shape_vec((r, k), tensor(name, &[r, k])?).map_err(|e| bad(e.to_string()))
        };
        let vector =
            |name: &str, k: usize| -> Result<Array1<f32>> { Ok(Array1::from(tensor(name, &[k])?)) };
        let dense = |p: &str| -> Result<Dense> {
            Ok(Dense {
                w: matrix(&format!("{p}.w"), d, d)?,
                b: vector(&format!("{p}.b"), d)?,
            })
        };
        let norm = |p: &str| -> Result<Norm> {
            Ok(Norm {
                g: vector(&format!("{p}.g"), d)?,
                b: vector(&format!("{p}.b"), d)?,
            })
        };
        let blocks = (0..c.blocks)
            .map(|b| Block::from_named(&format!("block{b}"), dense, norm))
            .collect::<Result<Vec<_>>>()?;
        let f = c.feature_dim;
        let weights = Weights::new(Parts {
            item: matrix("item", n, d)?,
            output: c
                .separate_output
                .then(|| matrix("output", n, d))
                .transpose()?,
            bias: c.item_bias.then(|| vector("item_bias", n)).transpose()?,
            content: (f > 0)
                .then(|| {
                    Ok::<_, SasRecError>((matrix("features", n, f)?, matrix("feature_proj", f, d)?))
                })
                .transpose()?,
            position: matrix("position", c.max_len, d)?,
            blocks,
            final_ln: norm("final_ln")?,
        });
        SasRecModel::new(meta.config, weights, meta.item_ids, meta.popularity)
            .map_err(|e| bad(e.to_string()))
    }

    /// Saves the model into one file (conventionally `*.sasrec.safetensors`), written
    /// atomically: a concurrent reader gets the old file or the new one.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), &self.to_bytes()?)
    }

    /// Loads a model saved by [`SasRecModel::save`]. A missing file, another format version
    /// and truncated or altered files are [`SasRecError::Artifact`] errors.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|e| SasRecError::Artifact {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::from_bytes(&bytes, path)
    }
}
