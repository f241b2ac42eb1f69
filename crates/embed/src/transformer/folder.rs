//! Reading a sentence-transformers model folder: which files exist and what they say.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{EmbedError, Result};

/// How token vectors become one sentence vector (`1_Pooling/config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Mean over the non-padding tokens.
    Mean,
    /// The first token (`[CLS]` / `<s>`).
    Cls,
    /// Element-wise maximum over the non-padding tokens.
    Max,
    /// Sum over the non-padding tokens divided by the square root of their count.
    MeanSqrtLen,
}

#[derive(Debug, Deserialize)]
struct PoolingFile {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
    #[serde(default)]
    pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
}

#[derive(Debug, Deserialize)]
struct ModuleEntry {
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Default, Deserialize)]
struct SbertConfig {
    max_seq_length: Option<usize>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DenseFile {
    pub in_features: i64,
    pub out_features: i64,
    #[serde(default = "yes")]
    pub bias: bool,
    #[serde(default)]
    pub activation_function: String,
}

fn yes() -> bool {
    true
}

/// One `sentence_transformers.models.Dense` module: its folder and configuration.
#[derive(Debug)]
pub(crate) struct DenseModule {
    pub dir: PathBuf,
    pub config: DenseFile,
}

/// The architecture family named by `config.json`'s `model_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Bert,
    Roberta,
    DistilBert,
}

/// Everything read from a model folder before any weight is touched.
#[derive(Debug)]
pub(crate) struct ModelFolder {
    pub config_path: PathBuf,
    pub config_text: String,
    pub family: Family,
    pub pad_token_id: i64,
    pub max_positions: usize,
    pub weights: PathBuf,
    pub tokenizer: PathBuf,
    /// For a `vocab.txt` tokenizer: lower-case the input (`tokenizer_config.json`).
    pub lowercase: bool,
    pub pooling: Vec<Pooling>,
    pub dense: Vec<DenseModule>,
    pub normalize: bool,
    pub max_seq_length: Option<usize>,
}

pub(crate) fn read_text(path: &Path, what: &'static str) -> Result<String> {
    if !path.is_file() {
        return Err(EmbedError::MissingFile {
            path: path.to_path_buf(),
            what,
        });
    }
    std::fs::read_to_string(path).map_err(|e| EmbedError::BadFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| EmbedError::BadFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The first of `names` that exists in `dir`.
pub(crate) fn first_existing(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

pub(crate) const WEIGHT_FILES: &[&str] =
    &["model.safetensors", "rust_model.ot", "pytorch_model.bin"];

fn read_pooling(path: &Path) -> Result<Vec<Pooling>> {
    let text = read_text(path, "pooling configuration")?;
    let p: PoolingFile = parse_json(path, &text)?;
    if p.pooling_mode_weightedmean_tokens || p.pooling_mode_lasttoken {
        return Err(EmbedError::BadFile {
            path: path.to_path_buf(),
            reason: "weighted-mean and last-token pooling are not supported".into(),
        });
    }
    // sentence-transformers concatenates in this order: cls, max, mean, mean_sqrt_len.
    let mut modes = Vec::new();
    if p.pooling_mode_cls_token {
        modes.push(Pooling::Cls);
    }
    if p.pooling_mode_max_tokens {
        modes.push(Pooling::Max);
    }
    if p.pooling_mode_mean_tokens {
        modes.push(Pooling::Mean);
    }
    if p.pooling_mode_mean_sqrt_len_tokens {
        modes.push(Pooling::MeanSqrtLen);
    }
    if modes.is_empty() {
        return Err(EmbedError::BadFile {
            path: path.to_path_buf(),
            reason: "no pooling mode is switched on".into(),
        });
    }
    Ok(modes)
}

impl ModelFolder {
    pub(crate) fn read(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(EmbedError::MissingFile {
                path: dir.to_path_buf(),
                what: "model folder",
            });
        }
        let config_path = dir.join("config.json");
        let config_text = read_text(&config_path, "transformer configuration")?;
        let raw: serde_json::Value = parse_json(&config_path, &config_text)?;
        let model_type = raw
            .get("model_type")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let family = match model_type.as_str() {
            "bert" => Family::Bert,
            "xlm-roberta" | "roberta" | "camembert" => Family::Roberta,
            "distilbert" => Family::DistilBert,
            _ => return Err(EmbedError::UnsupportedModel(model_type)),
        };
        let default_pad = if family == Family::Roberta { 1 } else { 0 };
        let pad_token_id = raw
            .get("pad_token_id")
            .and_then(|v| v.as_i64())
            .unwrap_or(default_pad);
        let max_positions = raw
            .get("max_position_embeddings")
            .and_then(|v| v.as_u64())
            .unwrap_or(512) as usize;
        // RoBERTa positions start after the padding index.
        let max_positions = if family == Family::Roberta {
            max_positions.saturating_sub(pad_token_id as usize + 1)
        } else {
            max_positions
        };

        let weights = first_existing(dir, WEIGHT_FILES).ok_or_else(|| EmbedError::MissingFile {
            path: dir.join(WEIGHT_FILES[0]),
            what: "transformer weights (model.safetensors, rust_model.ot or pytorch_model.bin)",
        })?;
        // tokenizer.json, or for BERT-style WordPiece models a plain vocab.txt.
        let tokenizer = match first_existing(dir, &["tokenizer.json", "vocab.txt"]) {
            Some(p) if p.ends_with("tokenizer.json") || family != Family::Roberta => p,
            _ => {
                return Err(EmbedError::MissingFile {
                    path: dir.join("tokenizer.json"),
                    what: "tokenizer (tokenizer.json, or vocab.txt for WordPiece models)",
                })
            }
        };
        let lowercase = {
            let p = dir.join("tokenizer_config.json");
            let cfg: serde_json::Value = if p.is_file() {
                parse_json(&p, &read_text(&p, "tokenizer configuration")?)?
            } else {
                serde_json::Value::Null
            };
            cfg.get("do_lower_case")
                .and_then(|v| v.as_bool())
                .unwrap_or(true)
        };

        let sbert_path = dir.join("sentence_bert_config.json");
        let sbert: SbertConfig = if sbert_path.is_file() {
            parse_json(
                &sbert_path,
                &read_text(&sbert_path, "sentence-bert configuration")?,
            )?
        } else {
            SbertConfig::default()
        };

        let modules_path = dir.join("modules.json");
        let (pooling, dense, normalize) = if modules_path.is_file() {
            let modules: Vec<ModuleEntry> =
                parse_json(&modules_path, &read_text(&modules_path, "module list")?)?;
            let mut pooling = None;
            let mut dense = Vec::new();
            let mut normalize = false;
            for m in &modules {
                let kind = m.kind.rsplit('.').next().unwrap_or_default();
                let mdir = dir.join(&m.path);
                match kind {
                    "Transformer" => {}
                    "Pooling" => pooling = Some(read_pooling(&mdir.join("config.json"))?),
                    "Dense" => {
                        let cpath = mdir.join("config.json");
                        let config =
                            parse_json(&cpath, &read_text(&cpath, "dense configuration")?)?;
                        dense.push(DenseModule { dir: mdir, config });
                    }
                    "Normalize" => normalize = true,
                    other => {
                        return Err(EmbedError::BadFile {
                            path: modules_path.clone(),
                            reason: format!("unsupported module type {other:?}"),
                        })
                    }
                }
            }
            (
                pooling.unwrap_or_else(|| vec![Pooling::Mean]),
                dense,
                normalize,
            )
        } else {
            // A bare Hugging Face encoder: sentence-transformers falls back to mean pooling.
            let p = dir.join("1_Pooling/config.json");
            let pooling = if p.is_file() {
                read_pooling(&p)?
            } else {
                vec![Pooling::Mean]
            };
            (pooling, Vec::new(), false)
        };

        Ok(Self {
            config_path,
            config_text,
            family,
            pad_token_id,
            max_positions,
            weights,
            tokenizer,
            lowercase,
            pooling,
            dense,
            normalize,
            max_seq_length: sbert.max_seq_length,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("groundrec-embed-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }

    #[test]
    fn errors_name_the_missing_file() {
        let d = tmp("missing");
        let err = ModelFolder::read(&d).expect_err("empty folder");
        assert!(err.to_string().contains("config.json"), "{err}");

        write(&d, "config.json", r#"{"model_type": "bert"}"#);
        let err = ModelFolder::read(&d).expect_err("no weights");
        assert!(err.to_string().contains("model.safetensors"), "{err}");

        write(&d, "model.safetensors", "");
        let err = ModelFolder::read(&d).expect_err("no tokenizer");
        assert!(err.to_string().contains("tokenizer.json"), "{err}");
        write(&d, "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
        let f = ModelFolder::read(&d).expect("a BERT folder may bring vocab.txt instead");
        assert!(f.tokenizer.ends_with("vocab.txt"));
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn unknown_model_type_is_rejected() {
        let d = tmp("gpt");
        write(&d, "config.json", r#"{"model_type": "gpt2"}"#);
        assert!(matches!(
            ModelFolder::read(&d),
            Err(EmbedError::UnsupportedModel(t)) if t == "gpt2"
        ));
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn modules_pooling_dense_and_normalize_are_read() {
        let d = tmp("modules");
        write(
            &d,
            "config.json",
            r#"{"model_type": "xlm-roberta", "max_position_embeddings": 514, "pad_token_id": 1}"#,
        );
        write(&d, "model.safetensors", "");
        write(&d, "tokenizer.json", "{}");
        write(
            &d,
            "sentence_bert_config.json",
            r#"{"max_seq_length": 128}"#,
        );
        write(
            &d,
            "modules.json",
            r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
                {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
                {"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"},
                {"idx":3,"name":"3","path":"3_Normalize","type":"sentence_transformers.models.Normalize"}]"#,
        );
        write(
            &d,
            "1_Pooling/config.json",
            r#"{"word_embedding_dimension": 8, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true}"#,
        );
        write(
            &d,
            "2_Dense/config.json",
            r#"{"in_features": 16, "out_features": 4, "bias": true, "activation_function": "torch.nn.modules.activation.Tanh"}"#,
        );
        let f = ModelFolder::read(&d).expect("valid folder");
        assert_eq!(f.family, Family::Roberta);
        assert_eq!(f.max_positions, 512);
        assert_eq!(f.pooling, vec![Pooling::Cls, Pooling::Mean]);
        assert_eq!(f.dense.len(), 1);
        assert_eq!(f.dense[0].config.out_features, 4);
        assert!(f.normalize);
        assert_eq!(f.max_seq_length, Some(128));
        std::fs::remove_dir_all(&d).ok();
    }
}
