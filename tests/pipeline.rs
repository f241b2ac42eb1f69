//! The whole pipeline on a slice of the demo data: fit, recommend, save, load, recommend again;
//! the fitted pipeline beats popularity on held-out events; bad input is reported.

use groundrec::sasrec::SasRec;
use groundrec::{
    demo_catalog, read_events_csv, simulate_learners, Catalog, Clusters, DemoLearners,
    FittedPipeline, GroundrecError, Item, Pipeline,
};

fn fit(
    learners: usize,
) -> (
    Catalog,
    groundrec::DemoEvents,
    FittedPipeline,
    groundrec::Report,
) {
    let (catalog, _) = demo_catalog().expect("demo catalogue");
    let log = simulate_learners(
        &catalog,
        &DemoLearners {
            learners,
            seed: 3,
            ..Default::default()
        },
    );
    let pipeline = Pipeline::builder()
        .hashing(128)
        .clusters(Clusters::Fixed(6))
        .sasrec(
            SasRec::params()
                .hidden(32)
                .learning_rate(3e-3)
                .epochs(15)
                .early_stopping(None),
        )
        .quiet(true)
        .build()
        .expect("valid settings");
    let (fitted, report) = pipeline.fit(&catalog, &log.events).expect("fits");
    (catalog, log, fitted, report)
}

#[test]
fn fit_recommend_save_load_and_beat_popularity() {
    let (catalog, log, fitted, report) = fit(300);
    assert_eq!(fitted.clusters().len(), catalog.len());
    assert_eq!(report.clusters.len(), 6);
    let h = report.holdout.as_ref().expect("held-out metrics");
    assert!(h.users > 200, "{h:?}");
    // The simulated learners follow courses, so the sequence model must beat popularity clearly.
    assert!(
        h.model.ndcg_at_10 > 2.0 * h.popularity.ndcg_at_10 && h.model.hr_at_10 > 0.3,
        "{report}"
    );
    assert!(h.lists.hr_at_10 > h.popularity.hr_at_10, "{report}");
    let shares: f64 = report.clusters.iter().map(|c| c.exposure_share).sum();
    assert!((shares - 1.0).abs() < 1e-9);
    assert!(report.training.len() == 15 && report.coverage > 0.0);

    // Lists: right length, no seen items, every cluster cap kept.
    let history: Vec<&str> = log.events.iter().take(6).map(|e| e.item.as_str()).collect();
    let list = fitted.recommend(&history, 10).expect("recommends");
    assert_eq!(list.len(), 10);
    assert!(list.iter().all(|r| !history.contains(&r.item.as_str())));
    let fair = fitted.config().fair;
    for w in list.windows(fair.window) {
        let c = w[0].cluster;
        assert!(w.iter().filter(|r| r.cluster == c).count() <= fair.max_per_window);
    }
    // New lectures (no events) are reachable through their content.
    assert!(report.cold_items > 0);
    assert!(report.cold_items_recommended > 0, "{report}");
    // Cold start: an empty history gets a popular, diversified list.
    let cold = fitted.recommend(&[], 8).expect("popular list");
    assert_eq!(cold.len(), 8);
    assert!(cold.iter().all(|r| !r.from_history));

    // Save, load, same lists; a damaged folder is a clear error.
    let dir = std::env::temp_dir().join(format!("groundrec-pipeline-{}", std::process::id()));
    fitted.save(&dir).expect("saves");
    fitted.save(&dir).expect("saves over an existing folder");
    let loaded = FittedPipeline::load(&dir).expect("loads");
    for user_events in log.events.chunks(7).take(20) {
        let h: Vec<&str> = user_events.iter().map(|e| e.item.as_str()).collect();
        assert_eq!(
            fitted.recommend(&h, 10).expect("before"),
            loaded.recommend(&h, 10).expect("after")
        );
    }
    let emb = dir.join("embeddings.safetensors");
    let bytes = std::fs::read(&emb).expect("embeddings");
    std::fs::write(&emb, &bytes[..bytes.len() - 10]).expect("truncate");
    assert!(matches!(
        FittedPipeline::load(&dir),
        Err(GroundrecError::Artifact { .. })
    ));
    std::fs::remove_dir_all(&dir).expect("cleanup");
    assert!(matches!(
        FittedPipeline::load(&dir),
        Err(GroundrecError::Artifact { .. })
    ));

    // Unknown ids and impossible list lengths are errors.
    assert!(matches!(
        fitted.recommend(&["no-such-lecture"], 5),
        Err(GroundrecError::UnknownItem(_))
    ));
    assert!(matches!(
        fitted.recommend(&["L001"], 0),
        Err(GroundrecError::InvalidParam(_))
    ));
    assert!(matches!(
        fitted.recommend(&["L001"], catalog.len()),
        Err(GroundrecError::InvalidParam(_))
    ));
}

#[test]
fn bad_settings_and_data_are_errors() {
    assert!(matches!(
        Pipeline::builder().clusters(Clusters::Fixed(0)).build(),
        Err(GroundrecError::InvalidParam(_))
    ));
    assert!(matches!(
        Pipeline::builder()
            .clusters(Clusters::Auto { min: 5, max: 3 })
            .build(),
        Err(GroundrecError::InvalidParam(_))
    ));
    assert!(Pipeline::builder()
        .sasrec(SasRec::params().heads(7))
        .build()
        .is_err());
    let (catalog, report) = Catalog::from_items([
        Item::new("a", "Fractions", ""),
        Item::new("a", "Fractions again", ""),
        Item::new("b", "분수", ""),
    ])
    .expect("two items");
    assert_eq!((catalog.len(), report.dropped.len()), (2, 1));
    let err = read_events_csv("user,item,timestamp\nu,zzz,1\n".as_bytes(), &catalog)
        .expect_err("no usable events");
    assert!(err.to_string().contains("unknown item"), "{err}");
    // A missing model folder is reported before any work.
    let p = Pipeline::builder()
        .model("/nonexistent/model", "")
        .quiet(true)
        .build()
        .expect("settings are fine");
    let events = groundrec::validate_events(
        [groundrec::Event {
            user: "u".into(),
            item: "a".into(),
            timestamp: 1,
            event_type: None,
        }],
        &catalog,
    )
    .expect("one event")
    .0;
    assert!(matches!(
        p.fit(&catalog, &events),
        Err(GroundrecError::Embed(_))
    ));
}
