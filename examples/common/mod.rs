//! Shared by the examples: the demo catalogue from `data/`, and progress bars for a fit (the
//! library prints nothing; a program shows progress through an `Observer`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use groundrec::sasrec::EpochLog;
use groundrec::{Catalog, Observer, Stage};
use indicatif::{ProgressBar, ProgressStyle};

/// The repository root (where `data/` and `models/` are).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a JSONL catalogue and says how many rows it dropped.
pub fn read_catalog(path: &Path) -> Result<Catalog, Box<dyn std::error::Error>> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (catalog, report) = Catalog::read_jsonl(std::io::BufReader::new(f))?;
    if !report.dropped.is_empty() {
        eprintln!("{}: {report}", path.display());
    }
    Ok(catalog)
}

/// `data/demo/catalog.jsonl`: 288 bilingual lectures.
pub fn demo_catalog() -> Result<Catalog, Box<dyn std::error::Error>> {
    read_catalog(&root().join("data/demo/catalog.jsonl"))
}

/// The demo's embedder: multilingual-e5-small and the Korean dictionary from `models/`
/// (`--models DIR` elsewhere), or feature hashing with `--hashing`.
pub fn demo_embedder(params: groundrec::PipelineParams) -> groundrec::PipelineParams {
    let models = arg("--models").map_or_else(|| root().join("models"), PathBuf::from);
    if flag("--hashing") {
        params.hashing(256)
    } else {
        params
            .model(models.join("multilingual-e5-small"), "query: ")
            .korean_dictionary(models.join("ko-dic"))
    }
}

/// The value after `name` on the command line.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Whether `name` is on the command line.
pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// One progress bar per stage of a fit, and a line per training epoch, on stderr (indicatif
/// hides the bars when stderr is not a terminal).
#[derive(Default)]
pub struct Bars {
    bar: Mutex<Option<ProgressBar>>,
}

impl Observer for Bars {
    fn stage(&self, stage: Stage) {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(&format!(
            "{stage:>13} {{bar:40}} {{pos}}/{{len}}  eta {{eta}}"
        )) {
            bar.set_style(style);
        }
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }

    fn progress(&self, _: Stage, done: usize, total: usize) {
        if let Ok(b) = self.bar.lock() {
            if let Some(bar) = b.as_ref() {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
        }
    }

    fn epoch(&self, log: &EpochLog) {
        match self.bar.lock().ok().and_then(|b| b.clone()) {
            Some(bar) => bar.println(log.to_string()),
            None => eprintln!("{log}"),
        }
    }

    fn stage_done(&self, stage: Stage, seconds: f64) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        }
        eprintln!("groundrec: {stage} done in {seconds:.1}s");
    }
}
