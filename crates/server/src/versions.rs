//! Model versions and the promotion rule. A folder of versions holds
//! `versions/<model id>/` (each an artifact folder with its `report.json` and
//! `promotion.json`) and `current`, the name of the version to serve. A new version replaces
//! the current one only if its held-out NDCG@10 is at least the current model's on the same
//! held-out cases and above popularity's; every version stays for rollback (write its name
//! into `current`).

use std::path::{Path, PathBuf};

use groundrec::{Evaluation, FittedPipeline, HoldoutCase, Report};
use serde::{Deserialize, Serialize};

use crate::error::{Result, ServerError};

/// What publishing a version decided, as saved in its `promotion.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    /// The new version's name (its model id).
    pub version: String,
    /// Whether it is now `current`.
    pub promoted: bool,
    /// Why, in words.
    pub reason: String,
    /// The new version on the held-out cases.
    pub candidate: Evaluation,
    /// The version that was current, and its figures on the same cases.
    pub previous: Option<(String, Evaluation)>,
}

/// The version `root/current` names, if any.
pub fn current_version(root: &Path) -> Result<Option<String>> {
    let path = root.join("current");
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ServerError::io(&path, e)),
    }
}

/// Writes `bytes` to `path` through a file beside it and a rename, so a reader sees the old
/// contents or the new, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| ServerError::io(dir, e))?;
    }
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(|e| ServerError::io(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| ServerError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| ServerError::io(path, e))
}

/// Saves `fitted` into the artifact folder `dir` with its report as `report.json` and
/// `report.html`, all in one save (see [`FittedPipeline::save_with_files`]).
pub fn save_fit(dir: &Path, fitted: &FittedPipeline, report: &Report) -> Result<()> {
    save_fit_with(dir, fitted, report, Vec::new())
}

fn save_fit_with(
    dir: &Path,
    fitted: &FittedPipeline,
    report: &Report,
    mut extra: Vec<(&str, Vec<u8>)>,
) -> Result<()> {
    let html = crate::report_html(report, fitted.model_id()).into_bytes();
    extra.splice(
        0..0,
        [("report.json", pretty(report)?), ("report.html", html)],
    );
    Ok(fitted.save_with_files(dir, &extra)?)
}

/// Saves `fitted` as a new version under `root`, scores it and the current version on the
/// same held-out `cases`, and makes it current when the rule allows.
pub fn publish(
    root: &Path,
    fitted: &FittedPipeline,
    report: &Report,
    cases: &[HoldoutCase],
) -> Result<Promotion> {
    let version = fitted.model_id().to_string();
    let dir: PathBuf = root.join("versions").join(&version);
    let candidate = fitted.evaluate(cases)?;
    let previous = match current_version(root)? {
        Some(name) if name != version => {
            let old = FittedPipeline::load(root.join("versions").join(&name))?;
            Some((name, old.evaluate(cases)?))
        }
        _ => None,
    };
    let (promoted, reason) = decide(&candidate, previous.as_ref().map(|p| &p.1));
    let promotion = Promotion {
        version: version.clone(),
        promoted,
        reason,
        candidate,
        previous,
    };
    save_fit_with(
        &dir,
        fitted,
        report,
        vec![("promotion.json", pretty(&promotion)?)],
    )?;
    if promoted {
        write_atomically(&root.join("current"), format!("{version}\n").as_bytes())?;
    }
    Ok(promotion)
}

/// Pretty JSON, for the files saved beside a version.
fn pretty<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(v).map_err(|e| ServerError::Internal(e.to_string()))
}

/// The rule: at least the current model's NDCG@10 on the same cases, and above popularity's.
fn decide(candidate: &Evaluation, current: Option<&Evaluation>) -> (bool, String) {
    let new = candidate.lists.ndcg_at_10;
    let pop = candidate.popularity.ndcg_at_10;
    if candidate.cases == 0 {
        return (false, "no held-out cases: nothing to compare on".into());
    }
    if new <= pop {
        return (
            false,
            format!("NDCG@10 {new:.4} is not above popularity's {pop:.4}"),
        );
    }
    match current {
        Some(cur) if new < cur.lists.ndcg_at_10 => (
            false,
            format!(
                "NDCG@10 {new:.4} is below the current model's {:.4}",
                cur.lists.ndcg_at_10
            ),
        ),
        Some(cur) => (
            true,
            format!(
                "NDCG@10 {new:.4} ≥ the current model's {:.4} and > popularity's {pop:.4}",
                cur.lists.ndcg_at_10
            ),
        ),
        None => (
            true,
            format!("the first version: NDCG@10 {new:.4} > popularity's {pop:.4}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groundrec::HitMetrics;

    fn eval(cases: usize, lists: f64, popularity: f64) -> Evaluation {
        let m = |ndcg| HitMetrics {
            hr_at_10: ndcg,
            ndcg_at_10: ndcg,
        };
        Evaluation {
            cases,
            lists: m(lists),
            popularity: m(popularity),
        }
    }

    #[test]
    fn the_rule() {
        assert!(decide(&eval(10, 0.3, 0.1), None).0);
        assert!(!decide(&eval(10, 0.1, 0.1), None).0, "not above popularity");
        assert!(!decide(&eval(0, 0.3, 0.1), None).0);
        assert!(
            decide(&eval(10, 0.3, 0.1), Some(&eval(10, 0.3, 0.1))).0,
            "a tie promotes"
        );
        assert!(!decide(&eval(10, 0.29, 0.1), Some(&eval(10, 0.3, 0.1))).0);
    }

    #[test]
    fn atomic_writes_replace_whole_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let p = tmp.path().join("a/current");
        write_atomically(&p, b"one").expect("write");
        write_atomically(&p, b"two").expect("write");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        assert_eq!(
            std::fs::read_dir(tmp.path().join("a"))
                .expect("dir")
                .count(),
            1
        );
        assert_eq!(current_version(tmp.path()).expect("read"), None);
    }
}
