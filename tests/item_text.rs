//! Which texts the fit sends to the encoder: with `ItemText::TitleAndDescription` (the text
//! keywords are extracted from) each item's text is embedded once, at fit and at upsert, and
//! its vector is the one the keyword stage made; with `ItemText::KeywordMean` no item text is
//! embedded a second time either.

mod common;

use std::sync::{Arc, Mutex};

use groundrec::embed::{normalize_rows, Embedder, HashingEmbedder};
use groundrec::{simulate_learners, Clusters, DemoLearners, Item, ItemText, Pipeline};
use ndarray::Array2;

/// Hashing that records every text it embeds.
struct Counting {
    inner: HashingEmbedder,
    seen: Mutex<Vec<String>>,
}

impl Embedder for Counting {
    fn embed(&self, texts: &[&str]) -> groundrec::embed::Result<Array2<f32>> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.extend(texts.iter().map(|t| t.to_string()));
        }
        self.inner.embed(texts)
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
}

/// How often `text` went to the encoder.
fn times(seen: &[String], text: &str) -> usize {
    seen.iter().filter(|t| *t == text).count()
}

#[test]
fn item_vectors_from_the_keyword_stage_skip_the_second_encoder_pass() {
    let catalog = common::demo_catalog();
    let log = simulate_learners(
        &catalog,
        &DemoLearners {
            learners: 60,
            seed: 5,
            ..Default::default()
        },
    );
    let source = |i: &Item| format!("{}. {}", i.title, i.description);
    for text in [
        ItemText::TitleAndDescription,
        ItemText::TitleAndKeywords,
        ItemText::KeywordMean,
    ] {
        let embedder = Arc::new(Counting {
            inner: HashingEmbedder::new(64).expect("valid"),
            seen: Mutex::new(Vec::new()),
        });
        let (mut fitted, _) = Pipeline::builder()
            .embedder(embedder.clone())
            .item_text(text)
            .center_languages(false)
            .clusters(Clusters::Fixed(4))
            .holdout(false)
            .sasrec(Pipeline::sasrec_defaults().hidden(16).epochs(1))
            .check()
            .expect("valid")
            .fit(&catalog, &log.events)
            .expect("fits");
        let seen = embedder.seen.lock().expect("lock").clone();
        let again = match text {
            ItemText::TitleAndKeywords => 1,
            _ => 0,
        };
        for (i, item) in catalog.items().iter().enumerate() {
            // Every description once for its keywords; a second pass only for another text.
            assert_eq!(times(&seen, &source(item)), 1, "{text:?}: {}", item.id);
            let own = format!("{}. {}", item.title, fitted.keywords()[i].join(", "));
            assert_eq!(times(&seen, &own), again, "{text:?}: {}", item.id);
        }
        assert!(seen.len() >= catalog.len() * (1 + again));
        // Unit rows whatever their source.
        for row in fitted.embeddings().rows() {
            assert!((row.dot(&row) - 1.0).abs() < 1e-4, "{text:?}");
        }
        if text == ItemText::TitleAndDescription {
            // The vectors are the encoder's unit vectors of the item texts.
            let texts: Vec<String> = catalog.items().iter().map(source).collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let mut want = HashingEmbedder::new(64)
                .expect("valid")
                .embed(&refs)
                .expect("ok");
            normalize_rows(&mut want);
            let diff = (fitted.embeddings() - &want)
                .iter()
                .fold(0f32, |m, v| m.max(v.abs()));
            assert!(diff < 1e-6, "{diff}");
        }
        // An item added later: embedded once as well.
        let fresh = Item::new(
            "L950",
            "Ratios in recipes",
            "Scaling a recipe with ratios and proportions.",
        );
        let before = embedder.seen.lock().expect("lock").len();
        fitted
            .upsert_items(std::slice::from_ref(&fresh))
            .expect("adds");
        let seen = embedder.seen.lock().expect("lock").clone();
        assert_eq!(times(&seen[before..], &source(&fresh)), 1, "{text:?}");
        let at = fitted.catalog().position("L950").expect("added");
        let own = format!("{}. {}", fresh.title, fitted.keywords()[at].join(", "));
        assert_eq!(times(&seen[before..], &own), again, "{text:?}");
    }
}
