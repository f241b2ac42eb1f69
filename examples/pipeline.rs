//! The README's main job: fit the whole pipeline on the demo data (bilingual lecture catalogue
//! and simulated learners), print lists for a few learners with their keywords, clusters and
//! reasons, a filtered list, similar lectures, a lecture added after the fit, the report's key
//! figures, then save, load and check the lists are unchanged.
//!
//! ```text
//! scripts/demo pipeline        # installs models if missing, then runs this example
//! cargo run --release --example pipeline -- [--models DIR] [--learners 800] [--epochs 60] [--id-dropout P]
//!     [--hashing] [--quiet] [--save DIR] [--report-json FILE] [--threads 2] [--max-df SHARE]
//!     [--item-text title-keywords|title-description|keywords|keyword-mean]
//! ```
//!
//! With `--hashing` no model is needed (feature hashing instead of multilingual-e5-small).

mod common;

use common::{arg, flag, root, Bars};
use groundrec::{
    simulate_learners, DemoLearners, FittedPipeline, Item, Pipeline, RecommendList,
    RecommendOptions,
};

fn show(list: &RecommendList) {
    if let Some(why) = list.empty {
        println!("    (empty: {why:?})");
    }
    for r in &list.items {
        println!(
            "    {} {:<44} cluster {:>2}  {:>6.2}  {:<12} [{}]",
            r.item,
            r.title,
            r.cluster,
            r.score,
            format!("{:?}", r.reason),
            r.keywords.join(", ")
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let learners: usize = arg("--learners").map_or(Ok(800), |s| s.parse())?;
    let epochs: usize = arg("--epochs").map_or(Ok(60), |s| s.parse())?;
    let threads: usize = arg("--threads").map_or(Ok(2), |s| s.parse())?;
    groundrec::set_threads(threads)?;

    let catalog = common::demo_catalog()?;
    let log = simulate_learners(
        &catalog,
        &DemoLearners {
            learners,
            ..Default::default()
        },
    );
    println!(
        "catalogue: {} lectures; events: {} from {learners} simulated learners; {} new lectures without events",
        catalog.len(),
        log.events.len(),
        log.new_items.len()
    );

    let mut sasrec = Pipeline::sasrec_defaults().epochs(epochs);
    if let Some(p) = arg("--id-dropout") {
        sasrec = sasrec.id_dropout(p.parse()?);
    }
    let mut params = Pipeline::builder().sasrec(sasrec);
    if let Some(share) = arg("--max-df") {
        params = params.keywords(
            groundrec::keywords::KeywordParams::default()
                .top_n(5)
                .diversity(groundrec::keywords::Diversity::Mmr { diversity: 0.5 })
                .max_df(share.parse()?),
        );
    }
    if let Some(text) = arg("--item-text") {
        params = params.item_text(text.parse()?);
    }
    params = common::demo_embedder(params);
    let bars = Bars::default();
    let observer: &dyn groundrec::Observer = if flag("--quiet") { &() } else { &bars };
    let (mut fitted, report) = params
        .check()?
        .fit_observed(&catalog, &log.events, observer)?;

    // A few learners: their last lectures and what comes next.
    let mut users: Vec<&str> = log.events.iter().map(|e| e.user.as_str()).collect();
    users.dedup();
    let ten = RecommendOptions::new(8);
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
        show(&fitted.recommend(&history, &ten)?);
    }
    let history: Vec<&str> = log.events.iter().take(5).map(|e| e.item.as_str()).collect();
    println!("\nthe first learner, Korean lectures only:");
    show(&fitted.recommend(&history, &RecommendOptions::new(5).languages(["ko"]))?);
    println!("\nnew learner (no history), Music only:");
    show(&fitted.recommend(&[], &RecommendOptions::new(5).categories(["Music"]))?);
    println!("\nlectures like L001 ({}):", catalog.items()[0].title);
    show(&fitted.similar("L001", &RecommendOptions::new(5))?);

    // A lecture published after the fit: recommendable at once, by its content.
    let fresh = Item::new(
        "L900",
        "Fractions and ratios in recipes",
        "Using fractions, ratios and proportions to scale a recipe up or down.",
    )
    .with_category("Mathematics")
    .with_language("en");
    let upserted = fitted.upsert_items(&[fresh])?;
    println!("\nadded {:?}; lectures like it:", upserted.added);
    show(&fitted.similar("L900", &RecommendOptions::new(5))?);

    println!("\n{report}");
    // The keyword phrases most items share (boilerplate unless they name a subject).
    let mut df: std::collections::HashMap<String, usize> = Default::default();
    for kws in fitted.keywords() {
        let mut mine: Vec<String> = kws.iter().map(|k| k.to_lowercase()).collect();
        mine.sort();
        mine.dedup();
        for k in mine {
            *df.entry(k).or_default() += 1;
        }
    }
    let mut shared: Vec<(String, usize)> = df.into_iter().collect();
    shared.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let n = fitted.catalog().len() as f64;
    let top: Vec<String> = shared
        .iter()
        .take(6)
        .map(|(k, c)| format!("{k:?} {:.1} %", 100.0 * *c as f64 / n))
        .collect();
    println!("most shared keywords (share of items): {}", top.join(", "));
    if let Some(path) = arg("--report-json") {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
        println!("report written to {path}");
    }

    // Save, load, and check that the lists are the same.
    let dir = arg("--save").map_or_else(|| root().join("target/demo-pipeline"), Into::into);
    fitted.save(&dir)?;
    let loaded = FittedPipeline::load(&dir)?;
    assert_eq!(
        fitted.recommend(&history, &ten)?,
        loaded.recommend(&history, &ten)?
    );
    println!("saved to {} and loaded back: same lists", dir.display());
    Ok(())
}
