//! Reading the command line's input files, with every dropped row named as `FILE:LINE: why`.

use std::io::BufReader;
use std::path::Path;

use groundrec::{Catalog, DataReport, Event};
use groundrec_server::ServerError;

/// How many dropped rows are listed one by one before the rest are counted.
const LISTED: usize = 20;

fn open(path: &Path) -> Result<BufReader<std::fs::File>, ServerError> {
    std::fs::File::open(path)
        .map(BufReader::new)
        .map_err(|e| ServerError::io(path, e))
}

/// Says which rows were dropped, on stderr (unless `quiet`); fails when none was kept.
fn report(path: &Path, what: &str, report: &DataReport, quiet: bool) -> Result<(), ServerError> {
    if report.kept == 0 {
        let why = report
            .dropped
            .first()
            .map_or_else(|| "it holds no rows".to_string(), |d| d.reason.clone());
        return Err(ServerError::Input {
            path: path.display().to_string(),
            line: report.dropped.first().map(|d| d.line),
            reason: format!("no {what} could be read: {why}"),
        });
    }
    if quiet {
        return Ok(());
    }
    for d in report.dropped.iter().take(LISTED) {
        eprintln!("{}:{}: dropped: {}", path.display(), d.line, d.reason);
    }
    if report.dropped.len() > LISTED {
        eprintln!(
            "{}: ... and {} more dropped rows",
            path.display(),
            report.dropped.len() - LISTED
        );
    }
    eprintln!("{}: {what}: {report}", path.display());
    Ok(())
}

/// A JSONL catalogue.
pub fn catalog(path: &Path, quiet: bool) -> Result<Catalog, ServerError> {
    let (catalog, r) = Catalog::read_jsonl(open(path)?).map_err(|e| in_file(path, e))?;
    report(path, "items", &r, quiet)?;
    Ok(catalog)
}

/// Events from CSV (by the `.csv` extension) or JSONL, checked against `catalog`.
pub fn events(path: &Path, catalog: &Catalog, quiet: bool) -> Result<Vec<Event>, ServerError> {
    let csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let (events, r) = if csv {
        groundrec::read_events_csv(open(path)?, catalog)
    } else {
        groundrec::read_events_jsonl(open(path)?, catalog)
    }
    .map_err(|e| in_file(path, e))?;
    report(path, "events", &r, quiet)?;
    Ok(events)
}

/// A reading error that names its file (the reader names the line).
fn in_file(path: &Path, e: groundrec::GroundrecError) -> ServerError {
    ServerError::Input {
        path: path.display().to_string(),
        line: None,
        reason: e.to_string(),
    }
}
