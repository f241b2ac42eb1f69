//! Korean keyphrases with the real dictionary and multilingual-e5-small (both from
//! `scripts/setup`): lecture descriptions written for this test, each with the nouns a teacher
//! would list for it.

use std::sync::Arc;

use groundrec_embed::TransformerEmbedder;
use groundrec_keywords::{
    AutoCandidates, KeywordExtractor, KeywordParams, KoreanAnalyzer, KoreanNounCandidates,
    NgramCandidates,
};

mod common;

const LECTURES: &[(&str, &[&str])] = &[
    (
        "분수의 덧셈과 뺄셈을 배우는 초등학교 수학 강의입니다. 통분과 약분을 예제로 연습합니다.",
        &["분수", "덧셈", "뺄셈", "통분", "약분"],
    ),
    (
        "광합성의 원리와 엽록체의 구조를 설명하고 식물의 호흡과 비교합니다.",
        &["광합성", "엽록체", "식물", "호흡"],
    ),
    (
        "조선 시대의 정치 제도와 세종대왕의 한글 창제 과정을 살펴봅니다.",
        &["조선", "정치", "세종대왕", "한글", "창제"],
    ),
    (
        "파이썬으로 배우는 데이터 분석 입문 과정으로 판다스와 시각화를 다룹니다.",
        &["파이썬", "데이터", "분석", "판다스", "시각화"],
    ),
    (
        "뉴턴의 운동 법칙과 힘, 가속도, 마찰력의 관계를 실험으로 확인합니다.",
        &["뉴턴", "운동", "법칙", "가속도", "마찰력"],
    ),
    (
        "영어 문법 중 현재완료 시제와 수동태를 예문과 함께 정리합니다.",
        &["영어", "문법", "현재완료", "시제", "수동태"],
    ),
    (
        "세포 분열의 단계와 유전자, 염색체의 역할을 그림으로 이해합니다.",
        &["세포", "분열", "유전자", "염색체"],
    ),
    (
        "기후 변화의 원인인 온실가스와 탄소 배출을 줄이는 방법을 토론합니다.",
        &["기후", "변화", "온실가스", "탄소", "배출"],
    ),
    (
        "피아노 연주에 필요한 화성학 기초와 코드 진행을 연습하는 음악 수업입니다.",
        &["피아노", "연주", "화성학", "코드", "음악"],
    ),
    (
        "일차 함수의 그래프와 기울기, 절편을 좌표평면에서 그려 봅니다.",
        &["함수", "그래프", "기울기", "절편", "좌표평면"],
    ),
    (
        "경제학의 기본 개념인 수요와 공급, 시장 가격의 결정을 배웁니다.",
        &["경제학", "수요", "공급", "시장", "가격"],
    ),
    (
        "인공지능 윤리와 개인정보 보호 문제를 사례 중심으로 살펴봅니다.",
        &["인공지능", "윤리", "개인정보", "보호", "사례"],
    ),
];

const PARTICLES: &[&str] = &[
    "은", "는", "이", "가", "을", "를", "의", "에", "에서", "와", "과", "으로", "로", "도", "만",
];

/// Share of the teachers' nouns found in the top 5 (also checks that no keyword ends in a
/// particle), with e5 in float32 or with int8 dense layers.
fn korean_noun_share(int8: bool) -> f64 {
    let analyzer =
        Arc::new(KoreanAnalyzer::load(common::model("ko-dic")).expect("dictionary loads"));
    let generator = AutoCandidates::new(
        NgramCandidates::new(1, 2).expect("valid"),
        Some(KoreanNounCandidates::new(analyzer.clone(), 2).expect("valid")),
    );
    let e5 = TransformerEmbedder::builder(common::model("multilingual-e5-small"))
        .prefix("query: ")
        .int8(int8)
        .build()
        .expect("e5 loads");
    let x = KeywordExtractor::new(
        e5,
        generator,
        KeywordParams::default().top_n(5).check().expect("valid"),
    );
    let docs: Vec<&str> = LECTURES.iter().map(|l| l.0).collect();
    let out = x.extract(&docs).expect("extraction");
    let (mut found, mut expected) = (0usize, 0usize);
    let mut report = Vec::new();
    for ((doc, nouns), k) in LECTURES.iter().zip(&out) {
        let keys: Vec<&str> = k.keywords.iter().map(|k| k.key.as_str()).collect();
        for kw in &keys {
            // A keyword ends in a particle when its last morpheme is one (tags J*): "분수의"
            // does, "강의" (a noun that happens to end in 의) does not.
            let last = analyzer
                .analyze(kw)
                .expect("analysis")
                .pop()
                .expect("non-empty keyword");
            assert!(
                !(last.tag.starts_with('J') && PARTICLES.contains(&last.surface.as_str())),
                "keyword {kw:?} of {doc:?} ends in the particle {:?}",
                last.surface
            );
        }
        let hits = nouns
            .iter()
            .filter(|n| keys.iter().any(|k| k.split(' ').any(|w| w == **n)))
            .count();
        found += hits;
        expected += nouns.len();
        report.push(format!("{hits}/{} {keys:?}", nouns.len()));
    }
    let share = found as f64 / expected as f64;
    eprintln!(
        "int8 {int8}: {found}/{expected} expected nouns in the top 5:\n{}",
        report.join("\n")
    );
    share
}

#[test]
fn korean_top5_holds_the_teachers_nouns_and_no_particles() {
    let share = korean_noun_share(false);
    assert!(
        share >= 0.7,
        "only {share:.3} of the expected nouns in the top 5"
    );
}

#[test]
fn int8_korean_top5_still_holds_the_teachers_nouns() {
    let share = korean_noun_share(true);
    assert!(
        share >= 0.7,
        "int8: only {share:.3} of the expected nouns in the top 5"
    );
}
