//! Needs models/ko-dic (built by `scripts/setup`).

use std::path::PathBuf;

use groundrec_keywords::KoreanAnalyzer;

mod common;

fn ko_dic() -> PathBuf {
    common::model("ko-dic")
}

#[test]
fn nouns_come_apart_from_their_particles() {
    let ko = KoreanAnalyzer::load(ko_dic()).expect("dictionary loads");
    let text = "분수의 덧셈과 뺄셈을 배우는 강의";
    let morphemes = ko.analyze(text).expect("analysis");
    let nouns: Vec<&str> = morphemes
        .iter()
        .filter(|m| m.is_noun())
        .map(|m| m.surface.as_str())
        .collect();
    assert_eq!(nouns, ["분수", "덧셈", "뺄셈", "강의"]);
    for m in &morphemes {
        assert_eq!(
            &text[m.start..m.end],
            m.surface,
            "offsets point into the input"
        );
    }
    let particle = morphemes
        .iter()
        .find(|m| m.surface == "의")
        .expect("의 is its own morpheme");
    assert!(
        particle.tag.starts_with('J'),
        "의 is a particle, got {}",
        particle.tag
    );
}

#[test]
fn missing_dictionary_names_the_setup_step() {
    let err = KoreanAnalyzer::load("/nonexistent/ko-dic").expect_err("no dictionary there");
    assert!(err.to_string().contains("scripts/setup"), "{err}");
}
