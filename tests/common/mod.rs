//! Shared by the facade's integration tests: the repository's demo catalogue and one fit of
//! the pipeline on simulated learners (hashing embedder, a small SASRec), made once per test
//! binary.
#![allow(dead_code)]

use std::sync::OnceLock;

use groundrec::{
    simulate_learners, Catalog, Clusters, DemoEvents, DemoLearners, FittedPipeline, Pipeline,
    PipelineParams, Report,
};

/// `data/demo/catalog.jsonl`: 288 lectures, twelve subjects, three levels, ko / en / ko+en.
pub fn demo_catalog() -> Catalog {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo/catalog.jsonl");
    let f = std::fs::File::open(path).expect("the demo catalogue is in the repository");
    let (catalog, report) = Catalog::read_jsonl(std::io::BufReader::new(f)).expect("valid");
    assert!(report.dropped.is_empty());
    catalog
}

/// The settings every shared fit uses: no model needed, a fast recommender (the pipeline's
/// loss and history windows, smaller and shorter).
pub fn params() -> PipelineParams {
    Pipeline::builder()
        .hashing(128)
        .clusters(Clusters::Fixed(12))
        .sasrec(
            Pipeline::sasrec_defaults()
                .hidden(32)
                .learning_rate(3e-3)
                .epochs(15)
                .early_stopping(None),
        )
}

pub struct Fit {
    pub catalog: Catalog,
    pub log: DemoEvents,
    pub fitted: FittedPipeline,
    pub report: Report,
}

/// One fit on 300 simulated learners, shared by the tests of a binary.
pub fn fit() -> &'static Fit {
    static FIT: OnceLock<Fit> = OnceLock::new();
    FIT.get_or_init(|| {
        let catalog = demo_catalog();
        let log = simulate_learners(
            &catalog,
            &DemoLearners {
                learners: 300,
                seed: 3,
                ..Default::default()
            },
        );
        let (fitted, report) = params()
            .check()
            .expect("valid settings")
            .fit(&catalog, &log.events)
            .expect("fits");
        Fit {
            catalog,
            log,
            fitted,
            report,
        }
    })
}

/// Every simulated learner's item ids in time order.
pub fn histories(log: &DemoEvents) -> Vec<Vec<String>> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for e in &log.events {
        match out.last_mut() {
            Some((u, h)) if *u == e.user => h.push(e.item.clone()),
            _ => out.push((e.user.clone(), vec![e.item.clone()])),
        }
    }
    out.into_iter().map(|(_, h)| h).collect()
}

pub fn refs(h: &[String]) -> Vec<&str> {
    h.iter().map(String::as_str).collect()
}
