//! Saving and loading a fitted pipeline: one folder, a manifest that checksums every file,
//! written whole under a temporary name and swapped into place.
//!
//! Guarantees (docs/architecture.md states them for users):
//! - A reader gets one whole save or an error, never a mix: `pipeline.json` lists every other
//!   file with its length and checksum (and checksums itself), and a load checks every byte it
//!   reads against it. A load that meets a save in progress (the lock beside the folder is
//!   held) reads the new manifest and tries again.
//! - A save replaces only what is a groundrec pipeline: a missing path, an empty folder, or a
//!   folder holding a pipeline's files and nothing else. A regular file, a symbolic link, or a
//!   folder with anything else in it is [`GroundrecError::WouldOverwrite`].
//! - Saves to one path take turns (an advisory lock on `.NAME.lock` beside the folder), write
//!   under unique temporary names, `fsync` every file and folder, and leave nothing behind on
//!   an error.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use groundrec_embed::Embedder;
use groundrec_kmeans::KMeansModel;
use groundrec_sasrec::{fnv1a64, SasRecModel};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::center::Centering;
use crate::error::{io_err, GroundrecError, Result};
use crate::fitted::{Fingerprint, FittedPipeline};
use crate::params::PipelineConfig;

/// Version of the artifact folder layout this build writes and reads.
pub const PIPELINE_FORMAT_VERSION: u32 = 2;
const FORMAT: &str = "groundrec-pipeline";
const MANIFEST: &str = "pipeline.json";
/// Every file a pipeline folder may hold (`sasrec` is version 1's recommender folder).
const KNOWN: [&str; 8] = [
    MANIFEST,
    "config.json",
    "catalog.jsonl",
    "keywords.json",
    "embeddings.safetensors",
    "kmeans.json",
    "sasrec.safetensors",
    "sasrec",
];

#[derive(Serialize, Deserialize)]
struct FileEntry {
    bytes: u64,
    fnv1a64: String,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    /// Unique per save.
    generation: String,
    files: BTreeMap<String, FileEntry>,
    /// Checksum of this manifest written with an empty `checksum`.
    #[serde(default)]
    checksum: String,
}

impl Manifest {
    fn seal(&self) -> String {
        let body = serde_json::json!({
            "format": self.format,
            "version": self.version,
            "generation": self.generation,
            "files": self.files,
        });
        fnv1a64(body.to_string().as_bytes())
    }
}

#[derive(Serialize, Deserialize)]
struct Config {
    config: PipelineConfig,
    fingerprint: Fingerprint,
    centering: Centering,
    frequent_keys: Vec<String>,
    model_id: String,
    clusters: Vec<usize>,
    retired: Vec<bool>,
}

fn artifact(path: &Path, reason: impl Into<String>) -> GroundrecError {
    GroundrecError::Artifact {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn refuse(path: &Path, reason: impl Into<String>) -> GroundrecError {
    GroundrecError::WouldOverwrite {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// `dir`'s parent and name, and the path of its lock file.
fn place(dir: &Path) -> Result<(PathBuf, String, PathBuf)> {
    let name = match dir.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => return Err(refuse(dir, "not a folder name (\".\", \"..\" or a root)")),
    };
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let lock = parent.join(format!(".{name}.lock"));
    Ok((parent, name, lock))
}

/// Whether `dir` may be replaced by a save.
fn replaceable(dir: &Path) -> Result<()> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    if meta.file_type().is_symlink() {
        return Err(refuse(dir, "it is a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(refuse(dir, "it is a file, not a pipeline folder"));
    }
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        names.push(
            entry
                .map_err(io_err(dir))?
                .file_name()
                .to_string_lossy()
                .into_owned(),
        );
    }
    if names.is_empty() {
        return Ok(());
    }
    let manifest = fs::read(dir.join(MANIFEST))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let is_pipeline = manifest
        .as_ref()
        .is_some_and(|v| v.get("format").and_then(|f| f.as_str()) == Some(FORMAT));
    // Files an earlier save wrote beside the pipeline's own (its manifest lists them).
    let listed: Vec<String> = manifest
        .as_ref()
        .and_then(|v| {
            v.get("files")?
                .as_object()
                .map(|f| f.keys().cloned().collect())
        })
        .unwrap_or_default();
    if !is_pipeline {
        return Err(refuse(
            dir,
            "the folder holds files and is not a groundrec pipeline",
        ));
    }
    let mut other: Vec<&String> = names
        .iter()
        .filter(|n| !KNOWN.contains(&n.as_str()) && !listed.contains(n))
        .collect();
    if !other.is_empty() {
        other.sort();
        return Err(refuse(
            dir,
            format!("the pipeline folder also holds {other:?}, which a save would delete"),
        ));
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fs::File::create(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn json<T: Serialize>(value: &T, what: &str) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| GroundrecError::Data(format!("{what}: {e}")))
}

impl FittedPipeline {
    /// The files of a save, by name.
    fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        let (rows, cols) = self.embeddings.dim();
        let flat: Vec<u8> = self
            .embeddings
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let bad = |e: safetensors::SafeTensorError| GroundrecError::Data(e.to_string());
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![rows, cols], &flat)
                .map_err(bad)?;
        let config = Config {
            config: self.config.clone(),
            fingerprint: self.fingerprint.clone(),
            centering: self.centering.clone(),
            frequent_keys: self.frequent_keys.clone(),
            model_id: self.model_id.clone(),
            clusters: self.clusters.clone(),
            retired: self.retired.clone(),
        };
        Ok(vec![
            ("config.json", json(&config, "config")?),
            ("catalog.jsonl", self.catalog.to_jsonl()?.into_bytes()),
            ("keywords.json", json(&self.keywords, "keywords")?),
            (
                "embeddings.safetensors",
                safetensors::serialize([("embeddings", view)], &None).map_err(bad)?,
            ),
            ("kmeans.json", json(&self.kmeans, "kmeans")?),
            ("sasrec.safetensors", self.model.to_bytes()?),
        ])
    }

    /// Saves every fitted part into the folder `dir` (see the module's guarantees): a reader
    /// sees the old pipeline or the new one, never a mix; only a groundrec pipeline folder (or
    /// nothing) is replaced; concurrent saves to one path take turns.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        self.save_with_files(dir, &[])
    }

    /// [`FittedPipeline::save`] with files of the caller's in the same folder (a report, a
    /// page about it): written, checked on load and replaced like the pipeline's own, so the
    /// folder stays whole. Their names must be plain file names the pipeline does not use.
    pub fn save_with_files(&self, dir: impl AsRef<Path>, extra: &[(&str, Vec<u8>)]) -> Result<()> {
        let dir = dir.as_ref();
        for (name, _) in extra {
            let plain = !name.is_empty()
                && !name.starts_with('.')
                && !name.contains(['/', '\\'])
                && !KNOWN.contains(name);
            if !plain {
                return Err(refuse(
                    dir,
                    format!("{name:?} is not a free file name for a pipeline folder"),
                ));
            }
        }
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let (parent, name, lock_path) = place(dir)?;
        fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        lock.lock().map_err(io_err(&lock_path))?;
        replaceable(dir)?;
        let mut files: Vec<(&str, Vec<u8>)> = self.files()?;
        files.extend(extra.iter().cloned());
        let unique = format!(
            "{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let tmp = parent.join(format!(".{name}.tmp-{unique}"));
        let written = (|| -> Result<()> {
            fs::create_dir(&tmp).map_err(io_err(&tmp))?;
            let mut manifest = Manifest {
                format: FORMAT.into(),
                version: PIPELINE_FORMAT_VERSION,
                generation: fnv1a64(unique.as_bytes()),
                files: BTreeMap::new(),
                checksum: String::new(),
            };
            for (file, bytes) in &files {
                write_synced(&tmp.join(file), bytes)?;
                manifest.files.insert(
                    (*file).to_string(),
                    FileEntry {
                        bytes: bytes.len() as u64,
                        fnv1a64: fnv1a64(bytes),
                    },
                );
            }
            manifest.checksum = manifest.seal();
            write_synced(&tmp.join(MANIFEST), &json(&manifest, "manifest")?)?;
            sync_dir(&tmp);
            Ok(())
        })();
        if let Err(e) = written {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        let old = parent.join(format!(".{name}.old-{unique}"));
        let had_old = dir.exists();
        if had_old {
            if let Err(e) = fs::rename(dir, &old) {
                let _ = fs::remove_dir_all(&tmp);
                return Err(io_err(dir)(e));
            }
        }
        if let Err(e) = fs::rename(&tmp, dir) {
            if had_old {
                let _ = fs::rename(&old, dir);
            }
            let _ = fs::remove_dir_all(&tmp);
            return Err(io_err(dir)(e));
        }
        sync_dir(&parent);
        if had_old {
            let _ = fs::remove_dir_all(&old);
        }
        drop(lock);
        Ok(())
    }

    /// Loads a pipeline saved by [`FittedPipeline::save`]. Missing or damaged files, another
    /// format version and parts that do not fit together are [`GroundrecError::Artifact`].
    /// The embedder is loaded when first needed (to add or change items); a pipeline fitted
    /// with a custom embedder serves without it and takes it again through
    /// [`FittedPipeline::load_with_embedder`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let (_, _, lock) = place(dir).map_err(|e| artifact(dir, e.to_string()))?;
        let mut attempt = 0;
        loop {
            match read(dir) {
                Ok(p) => return Ok(p),
                // The folder changed under the read: try again while a save is running.
                Err(Read::Changed(_)) if attempt < 50 && saving(&lock) => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(5 * attempt.min(10)));
                }
                Err(Read::Changed(e) | Read::Bad(e)) => return Err(e),
            }
        }
    }

    /// [`FittedPipeline::load`] with the embedder to use for new and changed items; it must be
    /// the one the pipeline was fitted with (same width, same vectors for probe texts), else
    /// [`GroundrecError::EmbedderMismatch`].
    pub fn load_with_embedder(dir: impl AsRef<Path>, embedder: Arc<dyn Embedder>) -> Result<Self> {
        let p = Self::load(dir)?;
        p.set_embedder(embedder)?;
        Ok(p)
    }
}

/// Whether a save holds the lock of the folder (so a failed read may be a swap in progress).
fn saving(lock: &Path) -> bool {
    match fs::File::open(lock) {
        Ok(f) => match f.try_lock_shared() {
            Ok(()) => {
                let _ = f.unlock();
                false
            }
            Err(_) => true,
        },
        Err(_) => false,
    }
}

enum Read {
    /// What was read does not fit together, and may have been replaced meanwhile.
    Changed(GroundrecError),
    /// Damaged or not a pipeline.
    Bad(GroundrecError),
}

fn read(dir: &Path) -> std::result::Result<FittedPipeline, Read> {
    let path = dir.join(MANIFEST);
    let text = fs::read(&path).map_err(|e| Read::Changed(artifact(&path, e.to_string())))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| Read::Changed(artifact(&path, format!("not a pipeline manifest: {e}"))))?;
    if manifest.format != FORMAT || manifest.version != PIPELINE_FORMAT_VERSION {
        return Err(Read::Bad(artifact(
            &path,
            format!(
                "format {} version {}; this build reads {FORMAT} version {PIPELINE_FORMAT_VERSION} \
                 (refit, or load it with the groundrec that saved it)",
                manifest.format, manifest.version
            ),
        )));
    }
    if manifest.seal() != manifest.checksum {
        return Err(Read::Changed(artifact(&path, "checksum mismatch: altered")));
    }
    let mut bytes = BTreeMap::new();
    for (name, entry) in &manifest.files {
        let p = dir.join(name);
        let b = fs::read(&p).map_err(|e| Read::Changed(artifact(&p, e.to_string())))?;
        if b.len() as u64 != entry.bytes || fnv1a64(&b) != entry.fnv1a64 {
            return Err(Read::Changed(artifact(
                &p,
                "does not match the manifest: truncated, altered or from another save",
            )));
        }
        bytes.insert(name.as_str(), b);
    }
    // Every byte now belongs to this manifest's save: what follows only parses.
    parse(dir, &bytes).map_err(Read::Bad)
}

fn parse(dir: &Path, files: &BTreeMap<&str, Vec<u8>>) -> Result<FittedPipeline> {
    let get = |name: &str| {
        files
            .get(name)
            .map(Vec::as_slice)
            .ok_or_else(|| artifact(&dir.join(name), "missing from the manifest"))
    };
    let cfg: Config = serde_json::from_slice(get("config.json")?)
        .map_err(|e| artifact(&dir.join("config.json"), e.to_string()))?;
    let path = dir.join("catalog.jsonl");
    let (catalog, report) =
        Catalog::read_jsonl(get("catalog.jsonl")?).map_err(|e| artifact(&path, e.to_string()))?;
    if !report.dropped.is_empty() {
        return Err(artifact(&path, format!("invalid rows: {report}")));
    }
    let keywords: Vec<Vec<String>> = serde_json::from_slice(get("keywords.json")?)
        .map_err(|e| artifact(&dir.join("keywords.json"), e.to_string()))?;
    let kmeans: KMeansModel<f32> = serde_json::from_slice(get("kmeans.json")?)
        .map_err(|e| artifact(&dir.join("kmeans.json"), e.to_string()))?;
    let path = dir.join("embeddings.safetensors");
    let st = safetensors::SafeTensors::deserialize(get("embeddings.safetensors")?)
        .map_err(|e| artifact(&path, e.to_string()))?;
    let t = st
        .tensor("embeddings")
        .map_err(|e| artifact(&path, e.to_string()))?;
    let n = catalog.len();
    let (rows, cols) = match t.shape() {
        [r, c] if t.dtype() == safetensors::Dtype::F32 => (*r, *c),
        other => return Err(artifact(&path, format!("shape {other:?}"))),
    };
    let values: Vec<f32> = t
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let embeddings =
        Array2::from_shape_vec((rows, cols), values).map_err(|e| artifact(&path, e.to_string()))?;
    let sasrec_path = dir.join("sasrec.safetensors");
    let model = SasRecModel::from_bytes(get("sasrec.safetensors")?, &sasrec_path)?;
    let ids_match = model.n_items() == n
        && model
            .item_ids()
            .iter()
            .zip(catalog.items())
            .all(|(a, b)| *a == b.id);
    if rows != n
        || cols != cfg.fingerprint.dim
        || keywords.len() != n
        || cfg.clusters.len() != n
        || cfg.retired.len() != n
        || !ids_match
        || cfg.clusters.iter().any(|&c| c >= kmeans.k())
        || cfg.centering.dim().is_some_and(|d| d != cols)
    {
        return Err(artifact(
            dir,
            "the saved parts do not describe the same catalogue",
        ));
    }
    let fair = cfg
        .config
        .fair
        .check()
        .map_err(|e| artifact(&dir.join("config.json"), e.to_string()))?;
    Ok(FittedPipeline {
        fair,
        config: cfg.config,
        catalog,
        keywords,
        embeddings,
        kmeans,
        clusters: cfg.clusters,
        model,
        retired: cfg.retired,
        fingerprint: cfg.fingerprint,
        centering: cfg.centering,
        frequent_keys: cfg.frequent_keys,
        model_id: cfg.model_id,
        embedder: Mutex::new(None),
        extractor: Mutex::new(None),
    })
}
