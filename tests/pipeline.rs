//! The whole pipeline on the demo data: fit, the report, lists with options and filters, users
//! without history, one pipeline shared by many threads, and inputs that must not fail a fit.

mod common;

use common::{fit, histories, refs};
use groundrec::sasrec::{Loss, SasRec};
use groundrec::{
    simulate_learners, Catalog, Clusters, DemoLearners, EmptyReason, Event, FairSettings,
    FittedPipeline, GroundrecError, Item, Pipeline, Reason, RecommendList, RecommendOptions,
    Recommendation, Rerank,
};
use proptest::prelude::*;

#[test]
fn the_fit_beats_popularity_and_reports_what_it_did() {
    let f = fit();
    let (fitted, report) = (&f.fitted, &f.report);
    assert_eq!(fitted.clusters().len(), f.catalog.len());
    assert_eq!(report.clusters.len(), 12);
    let h = report.holdout.as_ref().expect("held-out metrics");
    assert!(h.users > 200, "{h:?}");
    // The simulated learners follow courses, so the sequence model must beat popularity.
    assert!(
        h.model.ndcg_at_10 > 2.0 * h.popularity.ndcg_at_10 && h.model.hr_at_10 > 0.3,
        "{report}"
    );
    assert!(h.lists.hr_at_10 > h.popularity.hr_at_10, "{report}");
    let shares: f64 = report.clusters.iter().map(|c| c.exposure_share).sum();
    assert!((shares - 1.0).abs() < 1e-9);
    assert!(report.training.len() == 15 && report.coverage > 0.0);
    // The pipeline's loss resolves to the full softmax on a catalogue this small.
    assert_eq!(report.loss, Some(Loss::FullSoftmax));
    assert!(report.to_string().contains("full softmax"), "{report}");
    let stages: Vec<&str> = report.timings.iter().map(|t| t.step.as_str()).collect();
    assert_eq!(
        stages,
        [
            "load embedder",
            "keywords",
            "embeddings",
            "clusters",
            "sasrec",
            "report"
        ]
    );
    // New lectures (no events) are reachable through their content.
    assert!(report.cold_items > 0);
    assert!(report.cold_items_recommended > 0, "{report}");
}

#[test]
fn lists_keep_the_cap_leave_seen_items_out_and_say_why() {
    let f = fit();
    let fitted = &f.fitted;
    let all = histories(&f.log);
    let history = refs(&all[0]);
    let list = fitted
        .recommend(&history, &RecommendOptions::new(10))
        .expect("recommends");
    assert_eq!(list.items.len(), 10);
    assert!(list.empty.is_none());
    assert!(list
        .items
        .iter()
        .all(|r| !history.contains(&r.item.as_str())));
    assert!(list
        .items
        .iter()
        .all(|r| matches!(r.reason, Reason::Model | Reason::ContentOnly)));
    let fair = fitted.config().fair;
    for w in list.items.windows(fair.window) {
        let c = w[0].cluster;
        assert!(w.iter().filter(|r| r.cluster == c).count() <= fair.max_per_window);
    }
    // Reviews: the history may come back; without re-ranking the order is the score order.
    let reviews = fitted
        .recommend(
            &history,
            &RecommendOptions::new(f.catalog.len())
                .include_seen(true)
                .rerank(Rerank::Off),
        )
        .expect("recommends");
    assert_eq!(reviews.items.len(), f.catalog.len());
    assert!(reviews.items.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(history
        .iter()
        .all(|h| reviews.items.iter().any(|r| r.item == *h)));
    // A history with a repeat reads like the same history collapsed (as training reads it).
    let mut repeated = history.clone();
    repeated.push(history[history.len() - 1]);
    assert_eq!(
        fitted
            .recommend(&repeated, &RecommendOptions::new(10))
            .expect("ok"),
        list
    );
}

#[test]
fn filters_apply_before_re_ranking_and_bad_ones_are_errors() {
    let f = fit();
    let fitted = &f.fitted;
    let all = histories(&f.log);
    let history = refs(&all[1]);
    let cat = |id: &str| f.catalog.get(id).and_then(|i| i.category.clone());
    let only = RecommendOptions::new(8).categories(["Music", "Cooking"]);
    let list = fitted.recommend(&history, &only).expect("recommends");
    assert_eq!(list.items.len(), 8);
    assert!(list
        .items
        .iter()
        .all(|r| matches!(cat(&r.item).as_deref(), Some("Music" | "Cooking"))));
    let korean = fitted
        .recommend(&history, &RecommendOptions::new(8).languages(["ko"]))
        .expect("recommends");
    assert!(korean
        .items
        .iter()
        .all(|r| f.catalog.get(&r.item).is_some_and(|i| i.in_language("ko"))));
    let c = fitted.clusters()[0];
    let in_cluster = fitted
        .recommend(&history, &RecommendOptions::new(5).clusters([c]))
        .expect("recommends");
    assert!(in_cluster.items.iter().all(|r| r.cluster == c));
    let banned: Vec<String> = fitted
        .recommend(&history, &RecommendOptions::new(3))
        .expect("ok")
        .items
        .into_iter()
        .map(|r| r.item)
        .collect();
    let without = fitted
        .recommend(&history, &RecommendOptions::new(10).exclude(banned.clone()))
        .expect("ok");
    assert!(without.items.iter().all(|r| !banned.contains(&r.item)));
    // A filter that matches nothing, and one whose items were all seen.
    let cooking: Vec<&str> = f
        .catalog
        .items()
        .iter()
        .filter(|i| i.category.as_deref() == Some("Cooking"))
        .map(|i| i.id.as_str())
        .collect();
    let none = fitted
        .recommend(
            &cooking,
            &RecommendOptions::new(5)
                .categories(["Cooking"])
                .exclude(Vec::<String>::new()),
        )
        .expect("ok");
    assert_eq!(
        (none.items.len(), none.empty),
        (0, Some(EmptyReason::AllSeen))
    );
    let korean_cooking = fitted
        .recommend(
            &history,
            &RecommendOptions::new(5)
                .categories(["Cooking"])
                .clusters([(0..12)
                    .find(|&c| {
                        f.catalog
                            .items()
                            .iter()
                            .zip(fitted.clusters())
                            .all(|(i, &k)| k != c || i.category.as_deref() != Some("Cooking"))
                    })
                    .expect("a cluster without cooking")]),
        )
        .expect("ok");
    assert_eq!(korean_cooking.empty, Some(EmptyReason::NoMatch));
    // Names that are nowhere in the catalogue are errors, as is n = 0.
    for (o, field) in [
        (
            RecommendOptions::new(5).categories(["Knitting"]),
            "category",
        ),
        (RecommendOptions::new(5).languages(["fr"]), "language"),
        (RecommendOptions::new(5).clusters([99]), "cluster"),
    ] {
        match fitted.recommend(&history, &o) {
            Err(GroundrecError::UnknownFilter { field: got, .. }) => assert_eq!(got, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(matches!(
        fitted.recommend(&history, &RecommendOptions::new(5).exclude(["nope"])),
        Err(GroundrecError::UnknownItem(_))
    ));
    assert!(matches!(
        fitted.recommend(&history, &RecommendOptions::new(0)),
        Err(GroundrecError::ZeroLength)
    ));
    assert!(matches!(
        fitted.recommend(&["no-such-lecture"], &RecommendOptions::new(5)),
        Err(GroundrecError::UnknownItem(_))
    ));
    let skipped = fitted
        .recommend(
            &["no-such-lecture", history[0]],
            &RecommendOptions::new(5).skip_unknown_history(true),
        )
        .expect("skips");
    assert_eq!(
        skipped,
        fitted
            .recommend(&[history[0]], &RecommendOptions::new(5))
            .expect("ok")
    );
    let bad_fair = FairSettings {
        window: 2,
        max_per_window: 2,
        pool_factor: 3,
        new_item_slots: 0,
    };
    assert!(matches!(
        fitted.recommend(
            &history,
            &RecommendOptions::new(5).rerank(Rerank::With(bad_fair))
        ),
        Err(GroundrecError::Shuffle(_))
    ));
    // More than there is: every qualifying item, no error.
    let huge = fitted
        .recommend(
            &history,
            &RecommendOptions::new(1_000_000).categories(["Art"]),
        )
        .expect("ok");
    assert!(huge.items.len() <= 24 && !huge.items.is_empty());
}

#[test]
fn new_item_slots_bring_new_lectures_into_lists_and_keep_the_rest_in_order() {
    let f = fit();
    let mut fitted = f.fitted.clone();
    let counts = fitted.recommender().popularity().to_vec();
    let is_new = |id: &str| counts[f.catalog.position(id).expect("known")] == 0;
    assert!(counts.contains(&0), "the demo has lectures without events");
    let all = histories(&f.log);
    let users = &all[..20];
    let ask = |p: &FittedPipeline, h: &[String], o: &RecommendOptions| {
        p.recommend(&refs(h), o).expect("recommends")
    };
    let ten = RecommendOptions::new(10);
    let before: Vec<RecommendList> = users.iter().map(|h| ask(&fitted, h, &ten)).collect();
    let with_slots = FairSettings {
        new_item_slots: 2,
        ..FairSettings::default()
    };
    fitted.set_fair(with_slots).expect("valid settings");
    assert_eq!(fitted.config().fair, with_slots);
    let old = |l: &RecommendList| -> Vec<String> {
        l.items
            .iter()
            .filter(|r| !is_new(&r.item))
            .map(|r| r.item.clone())
            .collect()
    };
    let mut lifted = 0;
    for (h, before) in users.iter().zip(&before) {
        let after = ask(&fitted, h, &ten);
        assert_eq!(after.items.len(), 10);
        let new: Vec<&Recommendation> = after.items.iter().filter(|r| is_new(&r.item)).collect();
        assert!(new.len() >= 2, "{:?}", after.items);
        assert!(new.iter().all(|r| r.reason == Reason::ContentOnly));
        // Lectures with a history keep their order: the list without the rule, cut short.
        let (a, b) = (old(&after), old(before));
        assert_eq!(a[..], b[..a.len()]);
        lifted += usize::from(old(&after).len() < old(before).len());
        // Without re-ranking, the rule is off too.
        let plain = ask(&fitted, h, &ten.clone().rerank(Rerank::Off));
        let plain_before = ask(&f.fitted, h, &ten.clone().rerank(Rerank::Off));
        assert_eq!(plain, plain_before);
    }
    assert!(lifted > 0, "the rule changed no list");
    let bad = FairSettings {
        pool_factor: 0,
        ..FairSettings::default()
    };
    assert!(matches!(
        fitted.set_fair(bad),
        Err(GroundrecError::InvalidParam { .. })
    ));
    assert_eq!(
        fitted.config().fair,
        with_slots,
        "a refused change changes nothing"
    );
}

#[test]
fn users_without_history_get_popular_items_per_filter() {
    let f = fit();
    let fitted = &f.fitted;
    let counts = fitted.recommender().popularity();
    let pos = |id: &str| f.catalog.position(id).expect("known");
    let cold = fitted
        .recommend(&[], &RecommendOptions::new(8))
        .expect("popular list");
    assert_eq!(cold.items.len(), 8);
    assert!(cold.items.iter().all(|r| r.reason == Reason::Popularity));
    // Without re-ranking: exactly the most popular items, most popular first.
    let plain = fitted
        .recommend(&[], &RecommendOptions::new(8).rerank(Rerank::Off))
        .expect("ok");
    let mut by_count: Vec<u32> = counts.to_vec();
    by_count.sort_unstable_by(|a, b| b.cmp(a));
    let got: Vec<u32> = plain.items.iter().map(|r| counts[pos(&r.item)]).collect();
    assert_eq!(got, by_count[..8]);
    // Per category: the category's most popular.
    let music = fitted
        .recommend(
            &[],
            &RecommendOptions::new(3)
                .categories(["Music"])
                .rerank(Rerank::Off),
        )
        .expect("ok");
    let mut music_counts: Vec<u32> = f
        .catalog
        .items()
        .iter()
        .enumerate()
        .filter(|(_, i)| i.category.as_deref() == Some("Music"))
        .map(|(p, _)| counts[p])
        .collect();
    music_counts.sort_unstable_by(|a, b| b.cmp(a));
    let got: Vec<u32> = music.items.iter().map(|r| counts[pos(&r.item)]).collect();
    assert_eq!(got, music_counts[..3]);
    assert!(music.items.iter().all(|r| r.reason == Reason::Popularity));
}

#[test]
fn one_pipeline_serves_many_threads_with_the_single_thread_lists() {
    fn shared<T: Send + Sync>(_: &T) {}
    let f = fit();
    shared(&f.fitted);
    let all = histories(&f.log);
    let options = RecommendOptions::new(10);
    let want: Vec<_> = all
        .iter()
        .take(60)
        .map(|h| f.fitted.recommend(&refs(h), &options).expect("ok"))
        .collect();
    let got: Vec<Vec<_>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    all.iter()
                        .take(60)
                        .map(|h| f.fitted.recommend(&refs(h), &options).expect("ok"))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for g in got {
        assert_eq!(g, want);
    }
    // The batch call gives the same lists.
    let batch: Vec<Vec<&str>> = all.iter().take(60).map(|h| refs(h)).collect();
    let batch_refs: Vec<&[&str]> = batch.iter().map(Vec::as_slice).collect();
    assert_eq!(
        f.fitted.recommend_batch(&batch_refs, &options).expect("ok"),
        want
    );
}

/// The demo catalogue plus one learner who took every lecture: lists for heavy users are
/// shorter, the fit does not fail.
#[test]
fn heavy_users_and_tiny_catalogues_never_fail_a_fit() {
    let catalog = common::demo_catalog();
    let mut log = simulate_learners(
        &catalog,
        &DemoLearners {
            learners: 60,
            ..Default::default()
        },
    );
    for (t, item) in catalog.items().iter().enumerate() {
        log.events.push(Event {
            user: "completionist".into(),
            item: item.id.clone(),
            timestamp: t as i64,
            event_type: None,
        });
    }
    let quick = || {
        Pipeline::builder()
            .hashing(64)
            .sasrec(SasRec::params().hidden(16).epochs(1).early_stopping(None))
    };
    for holdout in [true, false] {
        let (fitted, report) = quick()
            .clusters(Clusters::Fixed(6))
            .holdout(holdout)
            .check()
            .expect("valid")
            .fit(&catalog, &log.events)
            .expect("fits with a learner who took everything");
        assert_eq!(report.holdout.is_some(), holdout);
        let everything: Vec<&str> = catalog.items().iter().map(|i| i.id.as_str()).collect();
        let list = fitted
            .recommend(&everything, &RecommendOptions::new(10))
            .expect("ok");
        assert_eq!(list.empty, Some(EmptyReason::AllSeen));
    }
    // Twelve items, thirty users with five events each; and five items with automatic k.
    let small = |n: usize| {
        let items =
            (0..n).map(|i| Item::new(format!("i{i}"), format!("item {i} topic {}", i % 3), ""));
        Catalog::from_items(items).expect("valid").0
    };
    for (n, users, per) in [(12, 30, 5), (5, 20, 4)] {
        let catalog = small(n);
        let events: Vec<Event> = (0..users)
            .flat_map(|u| {
                (0..per).map(move |k| Event {
                    user: format!("u{u}"),
                    item: format!("i{}", (u + k) % n),
                    timestamp: k as i64,
                    event_type: None,
                })
            })
            .collect();
        let (fitted, _) = quick()
            .clusters(Clusters::Auto { min: 6, max: 16 })
            .check()
            .expect("valid")
            .fit(&catalog, &events)
            .expect("fits a tiny catalogue");
        assert!(fitted.kmeans().k() < n, "k clamped below {n}");
    }
    // Too many fixed clusters is a clear setting error, not a k-means failure.
    let err = quick()
        .clusters(Clusters::Fixed(40))
        .check()
        .expect("valid")
        .fit(&small(12), &[])
        .expect_err("40 clusters for 12 items");
    assert!(
        matches!(
            err,
            GroundrecError::InvalidParam {
                param: "clusters",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn bad_settings_are_errors_that_name_the_setting() {
    let cases: [(groundrec::PipelineParams, &str); 5] = [
        (Pipeline::builder().clusters(Clusters::Fixed(0)), "clusters"),
        (
            Pipeline::builder().clusters(Clusters::Auto { min: 5, max: 3 }),
            "clusters",
        ),
        (
            Pipeline::builder().keyword_max_words(0),
            "keyword_max_words",
        ),
        (Pipeline::builder().hashing(0), "hashing"),
        (
            Pipeline::builder().fair(FairSettings {
                pool_factor: usize::MAX,
                ..FairSettings::default()
            }),
            "fair",
        ),
    ];
    for (p, name) in cases {
        match p.check() {
            Err(GroundrecError::InvalidParam { param, .. }) => assert_eq!(param, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(matches!(
        Pipeline::builder()
            .sasrec(SasRec::params().heads(7))
            .check(),
        Err(GroundrecError::SasRec(_))
    ));
    // A missing model folder is reported before any work.
    let (catalog, _) = Catalog::from_items([Item::new("a", "Fractions", "")]).expect("valid");
    let err = Pipeline::builder()
        .model("/nonexistent/model", "")
        .check()
        .expect("settings are fine")
        .fit(&catalog, &[])
        .expect_err("no model");
    assert!(matches!(err, GroundrecError::Embed(_)), "{err}");
}

fn options() -> impl Strategy<Value = RecommendOptions> {
    let cats = proptest::sample::subsequence(vec!["Mathematics", "Music", "Art", "Knitting"], 0..3);
    let langs = proptest::sample::subsequence(vec!["ko", "en", "fr"], 0..2);
    (
        0usize..40,
        cats,
        langs,
        proptest::collection::vec(0usize..14, 0..3),
        any::<bool>(),
        prop_oneof![
            Just(Rerank::Pipeline),
            Just(Rerank::Off),
            (1usize..6, 0usize..4, 0usize..5, 0usize..4).prop_map(|(w, m, p, s)| Rerank::With(
                FairSettings {
                    window: w,
                    max_per_window: m,
                    pool_factor: p,
                    new_item_slots: s,
                }
            )),
        ],
        proptest::collection::vec(0usize..300, 0..4),
    )
        .prop_map(|(n, c, l, k, seen, rerank, ex)| {
            RecommendOptions::new(n)
                .categories(c)
                .languages(l)
                .clusters(k)
                .include_seen(seen)
                .rerank(rerank)
                .exclude(ex.into_iter().map(|i| format!("L{:03}", i + 1)))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any options: a list that obeys them, or a typed error; never a panic.
    #[test]
    fn any_options_give_an_obedient_list_or_a_typed_error(
        o in options(),
        user in 0usize..300,
        similar in any::<bool>(),
    ) {
        let f = fit();
        let all = histories(&f.log);
        let history = refs(&all[user % all.len()]);
        let got = if similar {
            f.fitted.similar(history[0], &o)
        } else {
            f.fitted.recommend(&history, &o)
        };
        let (cats, langs, clusters, excluded, reviews) = o.filters();
        let list = match got {
            Ok(l) => l,
            Err(GroundrecError::ZeroLength
                | GroundrecError::UnknownFilter { .. }
                | GroundrecError::UnknownItem(_)
                | GroundrecError::Shuffle(_)
                | GroundrecError::InvalidParam { .. }) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        };
        prop_assert!(list.items.len() <= o.len());
        prop_assert_eq!(list.items.is_empty(), list.empty.is_some());
        let mut seen = std::collections::HashSet::new();
        for r in &list.items {
            prop_assert!(seen.insert(r.item.clone()), "twice: {}", r.item);
            prop_assert!(r.score.is_finite());
            let item = f.catalog.get(&r.item).expect("a catalogue item");
            prop_assert!(cats.is_empty() || cats.iter().any(|c| item.category.as_deref() == Some(c.as_str())));
            prop_assert!(langs.is_empty() || langs.iter().any(|l| item.in_language(l)));
            prop_assert!(clusters.is_empty() || clusters.contains(&r.cluster));
            prop_assert!(!excluded.contains(&r.item));
            prop_assert!(reviews || similar || !history.contains(&r.item.as_str()));
        }
        if similar {
            prop_assert!(list.items.iter().all(|r| r.item != history[0]));
        }
    }
}

#[test]
fn a_fitted_pipeline_is_cloneable_and_the_clone_serves_the_same() {
    let f = fit();
    let copy: FittedPipeline = f.fitted.clone();
    let all = histories(&f.log);
    let o = RecommendOptions::new(10);
    assert_eq!(
        copy.recommend(&refs(&all[2]), &o).expect("ok"),
        f.fitted.recommend(&refs(&all[2]), &o).expect("ok")
    );
}

#[test]
fn no_keyword_phrase_is_boilerplate_shared_by_many_items() {
    let f = fit();
    let share = |keywords: &[Vec<String>], phrase: &str| {
        keywords
            .iter()
            .filter(|k| k.iter().any(|w| w.to_lowercase() == phrase))
            .count() as f64
            / keywords.len() as f64
    };
    let mut phrases: Vec<String> = f
        .fitted
        .keywords()
        .iter()
        .flatten()
        .map(|k| k.to_lowercase())
        .collect();
    phrases.sort();
    phrases.dedup();
    for p in &phrases {
        let s = share(f.fitted.keywords(), p);
        assert!(
            s <= 0.05,
            "{p:?} is a keyword of {:.1} % of the items",
            100.0 * s
        );
    }
    // A lecture added later, alone, does not get the phrases the fit found too common.
    let mut p = f.fitted.clone();
    let item = Item::new(
        "L901",
        "Fractions in recipes",
        "Scaling recipes with fractions. No background needed; short examples and exercises.",
    );
    p.upsert_items(&[item]).expect("adds");
    let at = p.catalog().position("L901").expect("added");
    let mine: Vec<String> = p.keywords()[at].iter().map(|k| k.to_lowercase()).collect();
    assert!(!mine.is_empty());
    for boilerplate in [
        "short examples",
        "examples and exercises",
        "background needed",
    ] {
        assert!(!mine.contains(&boilerplate.to_string()), "{mine:?}");
    }
}
