//! groundrec-sasrec on its own: train on simulated learners' sequences (built in memory with
//! `Dataset::from_sequences`), evaluate under both protocols, recommend for a new history,
//! save and load.
//!
//! ```text
//! cargo run --release --example next_lecture
//! ```

mod common;

use std::collections::BTreeMap;

use groundrec::sasrec::{Dataset, EvalParams, ItemIdx, SasRec, SasRecModel, Split};
use groundrec::{simulate_learners, DemoLearners};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog = common::demo_catalog()?;
    let log = simulate_learners(&catalog, &DemoLearners::default());
    // One sequence per learner, items as catalogue positions.
    let mut by_user: BTreeMap<&str, Vec<ItemIdx>> = BTreeMap::new();
    for e in &log.events {
        if let Some(p) = catalog.position(&e.item) {
            by_user
                .entry(&e.user)
                .or_default()
                .push(ItemIdx::new(p as u32));
        }
    }
    let ids = catalog.items().iter().map(|i| i.id.clone()).collect();
    let data = Dataset::from_sequences(ids, by_user.into_values().collect(), Split::LeaveOneOut)?;
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
    let path = std::env::temp_dir().join("groundrec-next-lecture.sasrec.safetensors");
    model.save(&path)?;
    let loaded = SasRecModel::load(&path)?;
    assert_eq!(
        model.recommend(&["L001"], 5)?,
        loaded.recommend(&["L001"], 5)?
    );
    println!("saved to {} and loaded: same lists", path.display());
    Ok(())
}
