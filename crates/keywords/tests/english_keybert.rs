//! English keyphrases against KeyBERT's own output (fixture made by
//! `scripts/make_keybert_fixture.py` with all-MiniLM-L6-v2, (1, 2)-grams, English stopwords, top 5).

mod common;

use groundrec_embed::{Precision, TransformerEmbedder};
use groundrec_keywords::{KeywordExtractor, KeywordParams, NgramCandidates};

/// Mean share of KeyBERT's top 5 that our top 5 holds, and a per-document report.
fn agreement_with_keybert(precision: Precision) -> (f64, String) {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/keybert_top5.json")).expect("fixture parses");
    let docs: Vec<&str> = fixture["docs"]
        .as_array()
        .expect("docs")
        .iter()
        .map(|d| d.as_str().expect("text"))
        .collect();
    let model = common::model("all-MiniLM-L6-v2");
    let minilm = TransformerEmbedder::builder(&model)
        .precision(precision)
        .build()
        .expect("model loads");
    let x = KeywordExtractor::new(
        minilm,
        NgramCandidates::new(1, 2).expect("valid"),
        KeywordParams::default().check().expect("valid"),
    );
    let ours = x.extract(&docs).expect("extraction");
    let mut agreement = 0.0;
    let mut report = Vec::new();
    for (doc_keys, theirs) in ours.iter().zip(fixture["top5"].as_array().expect("top5")) {
        let theirs: Vec<&str> = theirs
            .as_array()
            .expect("list")
            .iter()
            .map(|k| k[0].as_str().expect("key"))
            .collect();
        let mine: Vec<&str> = doc_keys.keywords.iter().map(|k| k.key.as_str()).collect();
        let shared = mine.iter().filter(|k| theirs.contains(k)).count();
        agreement += shared as f64 / theirs.len().max(1) as f64;
        report.push(format!("{shared}/5 ours {mine:?} keybert {theirs:?}"));
    }
    (agreement / docs.len() as f64, report.join("\n"))
}

#[test]
fn top5_sets_agree_with_keybert() {
    let (mean, report) = agreement_with_keybert(Precision::F32);
    eprintln!("mean top-5 agreement with KeyBERT: {mean:.3}\n{report}");
    assert!(
        mean >= 0.8,
        "mean top-5 agreement {mean:.3} < 0.8:\n{report}"
    );
}

/// Both formats `Precision::Auto` may choose hold the same bar as float32.
#[test]
fn int8_and_bf16_encoders_still_agree_with_keybert() {
    for precision in [Precision::Int8, Precision::Bf16] {
        let (mean, report) = agreement_with_keybert(precision);
        eprintln!("{precision}: mean top-5 agreement with KeyBERT: {mean:.3}\n{report}");
        assert!(
            mean >= 0.8,
            "{precision}: mean top-5 agreement {mean:.3} < 0.8:\n{report}"
        );
    }
}
