//! The README's main job: fit the whole pipeline on the demo data (bilingual lecture catalogue
//! and simulated learners), print lists for a few learners with their keywords and clusters,
//! the report's key figures, then save, load and check the lists are unchanged.
//!
//! ```text
//! scripts/demo pipeline        # installs models if missing, then runs this example
//! cargo run --release --example pipeline -- [--models DIR] [--learners 800] [--epochs 60]
//!     [--hashing] [--quiet] [--save DIR] [--report-json FILE]
//! ```
//!
//! With `--hashing` no model is needed (feature hashing instead of multilingual-e5-small).

use std::path::PathBuf;

use groundrec::sasrec::SasRec;
use groundrec::{demo_catalog, simulate_learners, DemoLearners, FittedPipeline, Pipeline};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let models = arg("--models").map_or_else(|| root.join("models"), PathBuf::from);
    let learners: usize = arg("--learners").map_or(Ok(800), |s| s.parse())?;
    let epochs: usize = arg("--epochs").map_or(Ok(60), |s| s.parse())?;
    let quiet = flag("--quiet");

    let (catalog, catalog_report) = demo_catalog()?;
    let log = simulate_learners(
        &catalog,
        &DemoLearners {
            learners,
            ..Default::default()
        },
    );
    println!(
        "catalogue: {catalog_report}; events: {} from {learners} simulated learners; {} new lectures without events",
        log.events.len(),
        log.new_items.len()
    );

    let mut builder = Pipeline::builder()
        .sasrec(SasRec::params().epochs(epochs))
        .quiet(quiet);
    builder = if flag("--hashing") {
        builder.hashing(256)
    } else {
        builder
            .model(models.join("multilingual-e5-small"), "query: ")
            .korean_dictionary(models.join("ko-dic"))
    };
    let (fitted, report) = builder.build()?.fit(&catalog, &log.events)?;

    // A few learners: their last lectures and what comes next.
    let mut users: Vec<&str> = log.events.iter().map(|e| e.user.as_str()).collect();
    users.dedup();
    for user in users.iter().take(3) {
        let history: Vec<&str> = log
            .events
            .iter()
            .filter(|e| e.user == *user)
            .map(|e| e.item.as_str())
            .collect();
        println!("\n{user} recently took:");
        for id in &history[history.len().saturating_sub(3)..] {
            let title = catalog.get(id).map_or("", |i| i.title.as_str());
            println!("    {id} {title}");
        }
        println!("  recommended:");
        for r in fitted.recommend(&history, 8)? {
            println!(
                "    {} {:<44} cluster {:>2}  {:>6.2}  [{}]",
                r.item,
                r.title,
                r.cluster,
                r.score,
                r.keywords.join(", ")
            );
        }
    }
    println!("\nnew learner (no history):");
    for r in fitted.recommend(&[], 6)? {
        println!("    {} {:<44} cluster {:>2}", r.item, r.title, r.cluster);
    }

    println!("\n{report}");
    if let Some(path) = arg("--report-json") {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
        println!("report written to {path}");
    }

    // Save, load, and check that the lists are the same.
    let dir = arg("--save").map_or_else(|| root.join("target/demo-pipeline"), PathBuf::from);
    fitted.save(&dir)?;
    let loaded = FittedPipeline::load(&dir)?;
    let history: Vec<&str> = log.events.iter().take(5).map(|e| e.item.as_str()).collect();
    assert_eq!(
        fitted.recommend(&history, 10)?,
        loaded.recommend(&history, 10)?
    );
    println!("saved to {} and loaded back: same lists", dir.display());
    Ok(())
}
