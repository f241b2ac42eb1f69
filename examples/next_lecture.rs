//! groundrec-sasrec on its own: train on simulated learners' sequences (`user item` pairs),
//! evaluate under both protocols, recommend for a new history, save and load.
//!
//! ```text
//! cargo run --release --example next_lecture
//! ```

use groundrec::sasrec::{Dataset, EvalParams, SasRec, SasRecModel, Sequences};
use groundrec::{demo_catalog, simulate_learners, DemoLearners};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (catalog, _) = demo_catalog()?;
    let log = simulate_learners(&catalog, &DemoLearners::default());
    let pairs: String = log
        .events
        .iter()
        .map(|e| format!("{} {}\n", e.user, e.item))
        .collect();
    let data = Dataset::leave_one_out(&Sequences::read_pairs(pairs.as_bytes())?);
    let (model, report) = SasRec::params().hidden(32).epochs(40).check()?.fit(&data)?;
    println!(
        "kept epoch {} of {}",
        report.best_epoch,
        report.epochs.len()
    );
    println!(
        "test: {}",
        model.evaluate(&data.test, &EvalParams::paper_and_full())?
    );
    for r in model.recommend(&["L001", "L002", "L003"], 5)? {
        let title = catalog.get(&r.item).map_or("", |i| i.title.as_str());
        println!("  {} {:<40} {:.2}", r.item, title, r.score);
    }
    let dir = std::env::temp_dir().join("groundrec-next-lecture");
    model.save(&dir)?;
    let loaded = SasRecModel::load(&dir)?;
    assert_eq!(
        model.recommend(&["L001"], 5)?,
        loaded.recommend(&["L001"], 5)?
    );
    println!("saved to {} and loaded: same lists", dir.display());
    Ok(())
}
