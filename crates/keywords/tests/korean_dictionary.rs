//! Needs models/ko-dic (built by `scripts/setup`).

use std::path::PathBuf;

use std::sync::Arc;

use groundrec_keywords::{CandidateGenerator, KoreanAnalyzer, KoreanNounCandidates};

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
fn nouns_the_dictionary_cuts_come_back_whole() {
    let ko = Arc::new(KoreanAnalyzer::load(ko_dic()).expect("dictionary loads"));
    let text =
        "판다스 라이브러리로 결측치를 처리하고 scikit-learn으로 이차 방정식을 풉니다. 학생들";
    // The dictionary's pieces: 판 + 다스, 결 + 측 + 치, scikit + - + learn, 이 + 차.
    let pieces: Vec<String> = ko
        .analyze(text)
        .expect("analysis")
        .into_iter()
        .map(|m| m.surface)
        .collect();
    for piece in ["판", "다스", "측", "scikit", "learn", "차"] {
        assert!(pieces.iter().any(|p| p == piece), "{piece} in {pieces:?}");
    }
    let candidates = KoreanNounCandidates::new(ko, 2)
        .expect("valid")
        .candidates(text)
        .expect("candidates");
    let keys: Vec<&str> = candidates.iter().map(|c| c.key.as_str()).collect();
    for whole in [
        "판다스",
        "판다스 라이브러리",
        "결측치",
        "scikit-learn",
        "이차 방정식",
    ] {
        assert!(keys.contains(&whole), "{whole} in {keys:?}");
    }
    // No piece alone, no particle, and the plural suffix stays out ("학생들" → "학생").
    for piece in ["다스", "scikit", "learn", "결", "라이브러리로", "학생들"] {
        assert!(!keys.contains(&piece), "{piece} in {keys:?}");
    }
    assert!(keys.contains(&"학생"), "{keys:?}");
    for c in &candidates {
        let (a, b) = c.spans[0];
        assert_eq!(
            &text[a..b],
            c.surface,
            "the surface is the text at the first span"
        );
    }
}

#[test]
fn missing_dictionary_names_the_setup_step() {
    let err = KoreanAnalyzer::load("/nonexistent/ko-dic").expect_err("no dictionary there");
    assert!(err.to_string().contains("scripts/setup"), "{err}");
}
