//! Saving and loading trained models: `sasrec.safetensors` (weights) and `sasrec.json`
//! (format version, architecture, item ids, popularity, and the length and checksum of the
//! weights file). Each file is written to a temporary name and renamed into place, the JSON
//! last, so a crash leaves either the old model or a mismatch that loading reports.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, SasRecError};
use crate::model::{ModelConfig, Network};
use crate::serve::SasRecModel;

const FORMAT: &str = "groundrec-sasrec";
/// Version of the artifact layout this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const WEIGHTS: &str = "sasrec.safetensors";
const META: &str = "sasrec.json";

#[derive(Serialize, Deserialize)]
struct Meta {
    format: String,
    version: u32,
    config: ModelConfig,
    item_ids: Vec<String>,
    popularity: Vec<u32>,
    weights_bytes: u64,
    weights_fnv1a64: String,
}

/// The checksum artifact descriptions record for their binary files: 64-bit FNV-1a as 16
/// hex digits (it detects truncated and altered files; it is not a cryptographic hash).
pub fn fnv1a64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> SasRecError {
    SasRecError::Io(format!("{}: {e}", path.display()))
}

fn artifact_err(path: &Path, reason: impl Into<String>) -> SasRecError {
    SasRecError::Artifact {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    fs::write(&tmp, bytes).map_err(|e| io_err(&tmp, e))?;
    if let Ok(f) = fs::File::open(&tmp) {
        let _ = f.sync_all();
    }
    let dest = dir.join(name);
    fs::rename(&tmp, &dest).map_err(|e| io_err(&dest, e))
}

impl SasRecModel {
    /// Saves the model into `dir` (created if needed).
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        // tch picks the format from the extension, so the temporary name ends in .safetensors.
        let tmp: PathBuf = dir.join(".tmp-weights.safetensors");
        self.net().vs.save(&tmp)?;
        let bytes = fs::read(&tmp).map_err(|e| io_err(&tmp, e))?;
        let weights = dir.join(WEIGHTS);
        fs::rename(&tmp, &weights).map_err(|e| io_err(&weights, e))?;
        let meta = Meta {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            config: self.config().clone(),
            item_ids: self.item_ids.clone(),
            popularity: self.popularity.clone(),
            weights_bytes: bytes.len() as u64,
            weights_fnv1a64: fnv1a64(&bytes),
        };
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|e| SasRecError::Io(format!("serialising {META}: {e}")))?;
        write_atomic(dir, META, &json)
    }

    /// Loads a model saved by [`SasRecModel::save`] onto the CPU. Missing files, another format
    /// version, a config that does not match the weights and truncated or altered files are
    /// [`SasRecError::Artifact`] errors.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let meta_path = dir.join(META);
        let text = fs::read(&meta_path).map_err(|e| artifact_err(&meta_path, e.to_string()))?;
        let meta: Meta = serde_json::from_slice(&text)
            .map_err(|e| artifact_err(&meta_path, format!("not a model description: {e}")))?;
        if meta.format != FORMAT || meta.version != FORMAT_VERSION {
            return Err(artifact_err(
                &meta_path,
                format!(
                    "format {} version {}, this build reads {FORMAT} version {FORMAT_VERSION}",
                    meta.format, meta.version
                ),
            ));
        }
        meta.config
            .check()
            .map_err(|e| artifact_err(&meta_path, e.to_string()))?;
        let n = meta.config.n_items + 1;
        if meta.item_ids.len() != n || meta.popularity.len() != n {
            return Err(artifact_err(
                &meta_path,
                format!(
                    "{} item ids and {} popularity counts for {} items",
                    meta.item_ids.len(),
                    meta.popularity.len(),
                    meta.config.n_items
                ),
            ));
        }
        let weights = dir.join(WEIGHTS);
        let bytes = fs::read(&weights).map_err(|e| artifact_err(&weights, e.to_string()))?;
        if bytes.len() as u64 != meta.weights_bytes || fnv1a64(&bytes) != meta.weights_fnv1a64 {
            return Err(artifact_err(
                &weights,
                format!(
                    "{} bytes that do not match the description ({} bytes, checksum {}): \
                     truncated, altered or from another save",
                    bytes.len(),
                    meta.weights_bytes,
                    meta.weights_fnv1a64
                ),
            ));
        }
        let mut net = Network::new(&meta.config, 0, tch::Device::Cpu)?;
        net.vs
            .load(&weights)
            .map_err(|e| artifact_err(&weights, format!("weights do not fit the config: {e}")))?;
        Ok(SasRecModel::new(net, meta.item_ids, meta.popularity))
    }
}
