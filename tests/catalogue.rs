//! A catalogue that changes while it serves: lectures added, changed and retired after the
//! fit, similar items, custom embedders and what goes wrong with them, and the Korean and
//! English versions of lectures finding each other with the multilingual model.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use groundrec::embed::{EmbedError, Embedder, HashingEmbedder, Precision};
use groundrec::sasrec::SasRec;
use groundrec::{
    simulate_learners, Catalog, Clusters, DemoEvents, DemoLearners, FittedPipeline, GroundrecError,
    Item, Pipeline, PipelineParams, Reason, RecommendOptions,
};
use ndarray::Array2;

/// Six subjects of eight lessons, each subject with words of its own.
const SUBJECTS: [(&str, &str); 6] = [
    ("math", "fractions denominators numerators arithmetic"),
    ("history", "joseon dynasty kings sejong"),
    ("music", "scales chords melody harmony"),
    ("code", "rust compiler borrow ownership"),
    ("cooking", "kimchi fermentation recipe spices"),
    ("physics", "newton force acceleration momentum"),
];

fn lecture(cat: &str, words: &str, lesson: usize) -> Item {
    let mut it = Item::new(
        format!("{cat}{lesson}"),
        format!("{words} lesson {lesson}"),
        format!("{words}, part {lesson} of the {cat} course"),
    )
    .with_category(cat);
    it.extra.insert("course".into(), serde_json::json!(cat));
    it.extra.insert("lesson".into(), serde_json::json!(lesson));
    it
}

fn catalog() -> Catalog {
    let items = SUBJECTS
        .iter()
        .flat_map(|(cat, words)| (1..=8).map(move |l| lecture(cat, words, l)));
    Catalog::from_items(items).expect("valid").0
}

fn params() -> PipelineParams {
    Pipeline::builder()
        .hashing(128)
        .clusters(Clusters::Fixed(6))
        .sasrec(
            SasRec::params()
                .hidden(32)
                .learning_rate(3e-3)
                .epochs(15)
                .early_stopping(None),
        )
}

struct Fit {
    catalog: Catalog,
    log: DemoEvents,
    fitted: FittedPipeline,
}

fn fit() -> &'static Fit {
    static FIT: OnceLock<Fit> = OnceLock::new();
    FIT.get_or_init(|| {
        let catalog = catalog();
        let log = simulate_learners(
            &catalog,
            &DemoLearners {
                learners: 200,
                events: (4, 10),
                new_items: 0.0,
                ..Default::default()
            },
        );
        let fitted = params()
            .check()
            .expect("valid")
            .fit(&catalog, &log.events)
            .expect("fits")
            .0;
        Fit {
            catalog,
            log,
            fitted,
        }
    })
}

fn histories(log: &DemoEvents) -> Vec<Vec<&str>> {
    let mut by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in &log.events {
        by.entry(&e.user).or_default().push(&e.item);
    }
    by.into_values().collect()
}

fn ninth_math() -> Item {
    lecture("math", SUBJECTS[0].1, 9)
}

#[test]
fn a_lecture_added_after_the_fit_reaches_the_learners_of_its_cluster() {
    let f = fit();
    let mut p = f.fitted.clone();
    let report = p.upsert_items(&[ninth_math()]).expect("adds");
    assert_eq!(
        (report.added, report.updated.len()),
        (vec!["math9".to_string()], 0)
    );
    let at = p.catalog().position("math9").expect("in the catalogue");
    let c = p.clusters()[at];
    assert_eq!(
        c,
        p.clusters()[p.catalog().position("math1").expect("known")]
    );
    assert!(!p.keywords()[at].is_empty());
    let (mut inside, mut hits, mut outside, mut stray) = (0, 0, 0, 0);
    for h in histories(&f.log) {
        let list = p.recommend(&h, &RecommendOptions::new(10)).expect("ok");
        let found = list.items.iter().find(|r| r.item == "math9");
        if let Some(r) = found {
            assert_eq!(r.reason, Reason::ContentOnly, "no events: content alone");
        }
        let in_cluster = h
            .iter()
            .rev()
            .take(3)
            .all(|id| p.clusters()[p.catalog().position(id).expect("known")] == c);
        if in_cluster {
            inside += 1;
            hits += found.is_some() as usize;
        } else {
            outside += 1;
            stray += found.is_some() as usize;
        }
    }
    assert!(inside >= 10, "{inside} learners in the cluster");
    let (share_in, share_out) = (hits as f64 / inside as f64, stray as f64 / outside as f64);
    assert!(
        share_in >= 0.8 && share_out < 0.3,
        "math9 in {hits}/{inside} lists of its cluster's learners, {stray}/{outside} of the others'"
    );
    // And among similar items, both ways.
    let near = p.similar("math9", &RecommendOptions::new(5)).expect("ok");
    assert!(
        near.items.iter().all(|r| r.item.starts_with("math")),
        "{near:?}"
    );
    assert!(near.items.iter().all(|r| r.reason == Reason::Similar));
    let of_math1 = p.similar("math1", &RecommendOptions::new(8)).expect("ok");
    assert!(of_math1.items.iter().any(|r| r.item == "math9"));
    // A history holding the new lecture reads it.
    let with_new = p
        .recommend(&["math8", "math9"], &RecommendOptions::new(5))
        .expect("a new item in a history");
    assert!(with_new.items.iter().all(|r| r.item != "math9"));
}

#[test]
fn changed_and_retired_lectures_follow_at_once_and_survive_save_and_load() {
    let f = fit();
    let mut p = f.fitted.clone();
    // music1 is rewritten as a cooking lecture: its cluster and keywords follow the text.
    let mut moved = lecture("cooking", SUBJECTS[4].1, 1);
    moved.id = "music1".into();
    let cooking = p.clusters()[p.catalog().position("cooking1").expect("known")];
    let before = p.clusters()[p.catalog().position("music1").expect("known")];
    assert_ne!(before, cooking);
    let r = p.upsert_items(&[moved.clone()]).expect("changes");
    assert_eq!(r.updated, ["music1"]);
    let at = p.catalog().position("music1").expect("still there");
    assert_eq!(p.clusters()[at], cooking);
    assert_eq!(p.catalog().items()[at], moved);
    assert_eq!(p.catalog().len(), f.catalog.len(), "replaced, not added");
    let near = p.similar("music1", &RecommendOptions::new(3)).expect("ok");
    assert!(
        near.items.iter().all(|r| r.item.starts_with("cooking")),
        "{near:?}"
    );

    // Retired: in no list, not even similar ones, but histories still read it.
    p.retire("code3").expect("retires");
    p.retire("code3").expect("twice is fine");
    assert!(p.is_retired("code3") && !p.is_retired("code4"));
    assert_eq!(p.live_items(), f.catalog.len() - 1);
    for h in histories(&f.log) {
        let list = p.recommend(&h, &RecommendOptions::new(10)).expect("ok");
        assert!(list.items.iter().all(|r| r.item != "code3"));
    }
    let after = p
        .recommend(
            &["code2", "code3"],
            &RecommendOptions::new(10).rerank(groundrec::Rerank::Off),
        )
        .expect("a retired item in a history");
    assert!(after.items.iter().all(|r| r.item != "code3"));
    assert!(p
        .similar("code2", &RecommendOptions::new(47))
        .expect("ok")
        .items
        .iter()
        .all(|r| r.item != "code3"));
    assert!(matches!(
        p.retire("nope"),
        Err(GroundrecError::UnknownItem(_))
    ));

    // Saved and loaded with every change.
    p.upsert_items(&[ninth_math()]).expect("adds");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pipeline");
    p.save(&path).expect("saves");
    let back = FittedPipeline::load(&path).expect("loads");
    assert_eq!(back.catalog(), p.catalog());
    assert_eq!(back.clusters(), p.clusters());
    assert!(back.is_retired("code3"));
    let o = RecommendOptions::new(10);
    for h in histories(&f.log).iter().take(30) {
        assert_eq!(
            back.recommend(h, &o).expect("ok"),
            p.recommend(h, &o).expect("ok")
        );
    }
    // An upsert brings a retired lecture back.
    let mut back = back;
    back.upsert_items(&[lecture("code", SUBJECTS[3].1, 3)])
        .expect("upserts on a loaded pipeline (hashing is rebuilt from its spec)");
    assert!(!back.is_retired("code3"));
}

/// An embedder that wraps hashing and can be told to misbehave.
struct Flaky {
    inner: HashingEmbedder,
    nan_for: Option<&'static str>,
    extra_column: bool,
}

impl Embedder for Flaky {
    fn embed(&self, texts: &[&str]) -> groundrec::embed::Result<Array2<f32>> {
        let mut m = self.inner.embed(texts)?;
        if let Some(bad) = self.nan_for {
            for (i, t) in texts.iter().enumerate() {
                if t.contains(bad) {
                    m[[i, 0]] = f32::NAN;
                }
            }
        }
        if self.extra_column {
            let n = m.nrows();
            m.push_column(ndarray::Array1::zeros(n).view())
                .map_err(|e| EmbedError::Backend(e.to_string()))?;
        }
        Ok(m)
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn describe(&self) -> String {
        "flaky hashing".into()
    }
}

fn flaky(nan_for: Option<&'static str>, extra_column: bool) -> Arc<dyn Embedder> {
    Arc::new(Flaky {
        inner: HashingEmbedder::new(128).expect("valid"),
        nan_for,
        extra_column,
    })
}

#[test]
fn custom_embedders_are_taken_again_at_load_and_checked() {
    let f = fit();
    let (p, _) = params()
        .embedder(flaky(None, false))
        .sasrec(SasRec::params().hidden(16).epochs(1).early_stopping(None))
        .check()
        .expect("valid")
        .fit(&f.catalog, &f.log.events)
        .expect("fits with a custom embedder");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("custom");
    p.save(&path).expect("saves");
    // Serving needs no embedder; changing the catalogue does.
    let mut plain = FittedPipeline::load(&path).expect("loads");
    plain
        .recommend(&["math1"], &RecommendOptions::new(3))
        .expect("serves");
    assert!(matches!(
        plain.upsert_items(&[ninth_math()]),
        Err(GroundrecError::EmbedderRequired(_))
    ));
    let mut again = FittedPipeline::load_with_embedder(&path, flaky(None, false)).expect("same");
    again.upsert_items(&[ninth_math()]).expect("adds with it");
    // Another width, or other vectors of the same width, are not the fitted embedder.
    let wider: Arc<dyn Embedder> = Arc::new(HashingEmbedder::new(64).expect("valid"));
    assert!(matches!(
        FittedPipeline::load_with_embedder(&path, wider),
        Err(GroundrecError::EmbedderMismatch(_))
    ));
    let other: Arc<dyn Embedder> = Arc::new(HashingEmbedder::with_ngram(128, 2).expect("valid"));
    assert!(matches!(
        FittedPipeline::load_with_embedder(&path, other),
        Err(GroundrecError::EmbedderMismatch(_))
    ));
}

#[test]
fn bad_upserts_are_typed_errors_and_change_nothing() {
    let f = fit();
    let mut p = f.fitted.clone();
    let snapshot = p.clone();
    let same = |a: &FittedPipeline, b: &FittedPipeline| {
        a.catalog() == b.catalog()
            && a.embeddings() == b.embeddings()
            && a.clusters() == b.clusters()
    };
    assert!(matches!(
        p.upsert_items(&[ninth_math(), ninth_math()]),
        Err(GroundrecError::DuplicateItem(_))
    ));
    let mut untitled = ninth_math();
    untitled.title = " ".into();
    assert!(matches!(
        p.upsert_items(&[untitled]),
        Err(GroundrecError::InvalidItem { .. })
    ));
    assert!(same(&p, &snapshot));
    assert!(p.upsert_items(&[]).expect("nothing to do").added.is_empty());
    // A custom embedder that gives NaN, or rows of the wrong width.
    let (mut custom, _) = params()
        .embedder(flaky(Some("zebra"), false))
        .sasrec(SasRec::params().hidden(16).epochs(1).early_stopping(None))
        .check()
        .expect("valid")
        .fit(&f.catalog, &f.log.events)
        .expect("fits: no text has the word");
    let before = custom.clone();
    let zebra = Item::new("z1", "zebra stripes", "about zebras");
    assert!(matches!(
        custom.upsert_items(&[zebra]),
        Err(GroundrecError::EmbedderOutput(_))
    ));
    assert!(same(&custom, &before));
    let err = params()
        .embedder(flaky(None, true))
        .check()
        .expect("valid")
        .fit(&f.catalog, &f.log.events)
        .expect_err("rows one column too wide");
    assert!(matches!(err, GroundrecError::EmbedderOutput(_)), "{err}");
    // Items prepared by one pipeline do not apply to another.
    let prepared = p.prepare_upsert(&[ninth_math()]).expect("prepares");
    assert!(custom.apply_upsert(prepared.clone()).is_err());
    assert!(same(&custom, &before));
    p.apply_upsert(prepared)
        .expect("applies where it was prepared");
    assert!(p.catalog().get("math9").is_some());
}

fn model_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name);
    assert!(
        dir.join(".complete").is_file(),
        "model {} is missing: run `scripts/setup` first",
        dir.display()
    );
    dir
}

/// Ten lectures written in Korean and in English (for this test), among twenty others.
const PAIRS: [(&str, &str); 10] = [
    ("분수의 덧셈과 뺄셈", "Adding and subtracting fractions"),
    (
        "조선 시대의 과거 제도",
        "The civil service exam of the Joseon dynasty",
    ),
    ("광합성의 원리", "How photosynthesis works"),
    (
        "파이썬으로 배우는 정렬 알고리즘",
        "Sorting algorithms in Python",
    ),
    ("김치 담그는 법", "How to make kimchi"),
    ("뉴턴의 운동 법칙", "Newton's laws of motion"),
    ("수요와 공급", "Supply and demand"),
    ("기타 코드 입문", "Beginner guitar chords"),
    ("수채화 기초", "Watercolour painting basics"),
    ("세포의 구조", "The structure of the cell"),
];

#[test]
fn korean_and_english_versions_of_a_lecture_find_each_other() {
    let mut items = Vec::new();
    for (i, (ko, en)) in PAIRS.iter().enumerate() {
        items.push(Item::new(format!("ko{i}"), *ko, "").with_language("ko"));
        items.push(Item::new(format!("en{i}"), *en, "").with_language("en"));
    }
    let others = [
        "Introduction to statistics",
        "Reading Shakespeare",
        "Basic chemistry experiments",
        "World geography",
        "Learning to swim",
        "Public speaking",
        "Chess openings",
        "Knitting a scarf",
        "Car maintenance",
        "Gardening for beginners",
        "영어 회화 기초",
        "한국 근대사",
        "요가 입문",
        "사진 촬영 기초",
        "재무 관리",
        "심리학 개론",
        "천문학 입문",
        "작문 연습",
        "마케팅 전략",
        "중국어 발음",
    ];
    for (i, t) in others.iter().enumerate() {
        items.push(Item::new(format!("x{i}"), *t, ""));
    }
    let (catalog, _) = Catalog::from_items(items).expect("valid");
    let log = simulate_learners(
        &catalog,
        &DemoLearners {
            learners: 40,
            events: (4, 6),
            new_items: 0.0,
            ..Default::default()
        },
    );
    // float32, and each format Auto may pick (issue #25's gate: within one pair of float32).
    let mut firsts = Vec::new();
    for precision in [Precision::F32, Precision::Int8, Precision::Bf16] {
        let (p, report) = Pipeline::builder()
            .model(model_dir("multilingual-e5-small"), "query: ")
            .precision(precision)
            .korean_dictionary(model_dir("ko-dic"))
            .clusters(Clusters::Fixed(8))
            .holdout(false)
            .sasrec(SasRec::params().hidden(16).epochs(1).early_stopping(None))
            .check()
            .expect("valid")
            .fit(&catalog, &log.events)
            .expect("fits with e5");
        let mut found = 0;
        for i in 0..PAIRS.len() {
            let (ko, en) = (format!("ko{i}"), format!("en{i}"));
            let o = RecommendOptions::new(1);
            let a = p.similar(&ko, &o).expect("ok").items[0].item.clone();
            let b = p.similar(&en, &o).expect("ok").items[0].item.clone();
            found += usize::from(a == en) + usize::from(b == ko);
            // With a language filter the other version is found among that language's items.
            let only_en = p
                .similar(&ko, &RecommendOptions::new(3).languages(["en"]))
                .expect("ok");
            assert!(only_en.items.iter().all(|r| r.item.starts_with("en")));
        }
        // Each translation pair in one cluster (k = 8 over the 40 titles).
        let cluster = |id: &str| p.clusters()[catalog.position(id).expect("known id")];
        let together = (0..PAIRS.len())
            .filter(|i| cluster(&format!("ko{i}")) == cluster(&format!("en{i}")))
            .count();
        eprintln!(
            "{}: {together} of {} pairs share a cluster, {found} of 20 directions found their translation first",
            report.embedder,
            PAIRS.len()
        );
        // Measured: 10 of 10 together in float32 on both CPU kinds; int8 10 of 10 on the
        // Intel Xeon (VNNI, 2026-12-01), 8 of 10 on the AMD EPYC (AVX2, 2026-12-02), whose
        // int8 kernels round differently. Issue #27's 90 % holds for float32; the faster
        // formats keep at least 8 (chance is about 1 in 8 per pair).
        let least = if precision == Precision::F32 { 9 } else { 8 };
        assert!(
            together >= least,
            "{}: {together} of {} pairs share a cluster",
            report.embedder,
            PAIRS.len()
        );
        assert!(
            found >= 14,
            "{found} of 20 directions found their translation first"
        );
        firsts.push(found);
    }
    assert!(
        firsts.iter().all(|f| f.abs_diff(firsts[0]) <= 2),
        "a format differs from float32 by more than a pair (f32, int8, bf16): {firsts:?}"
    );
}

/// MovieLens-100K from `data/ml-100k/` (scripts/setup unpacks it from the recbole wheel):
/// every movie and every rating is read.
#[test]
fn movielens_100k_reads_whole() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/ml-100k");
    if !dir.join(".complete").is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "data/ml-100k is missing under CI=true: scripts/setup unpacks it"
        );
        eprintln!("skipped: data/ml-100k is missing (run scripts/setup)");
        return;
    }
    let (catalog, events) = groundrec::read_movielens(&dir).expect("reads");
    assert_eq!(catalog.len(), 1682);
    assert_eq!(events.len(), 100_000);
    let users: std::collections::HashSet<&str> = events.iter().map(|e| e.user.as_str()).collect();
    assert_eq!(users.len(), 943);
    assert!(catalog.items().iter().all(|i| !i.title.is_empty()));
}
