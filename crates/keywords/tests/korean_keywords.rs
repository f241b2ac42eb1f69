//! Korean keyphrases with the real dictionary and multilingual-e5-small (both from
//! `scripts/setup`): lecture descriptions written for this test, each with the nouns a teacher
//! would list for it.

use std::sync::Arc;

use groundrec_embed::{Precision, TransformerEmbedder};
use groundrec_keywords::{
    AutoCandidates, Diversity, KeywordExtractor, KeywordParams, KoreanAnalyzer,
    KoreanNounCandidates, NgramCandidates,
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

/// Longer descriptions (2–3 sentences), written for this test: multi-word terms and Latin
/// names inside Korean. A multi-word expected term counts when a keyword contains it.
const LONGER: &[(&str, &[&str])] = &[
    (
        "이 강의는 경사 하강법으로 선형 회귀 모델을 학습하는 과정을 다룹니다. 학습률을 바꾸며 손실 함수가 줄어드는 모습을 그래프로 확인합니다.",
        &["경사 하강법", "선형 회귀", "학습률", "손실 함수"],
    ),
    (
        "지구의 겉껍질이 여러 조각으로 나뉘어 움직인다는 판 구조론을 소개합니다. 지진과 화산이 판의 경계에 모이는 까닭을 지도로 살펴봅니다.",
        &["판 구조론", "지진", "화산", "경계"],
    ),
    (
        "scikit-learn으로 붓꽃 데이터를 분류하는 실습입니다. 결정 트리와 서포트 벡터 머신의 정확도를 교차 검증으로 비교합니다.",
        &["scikit-learn", "결정 트리", "서포트 벡터 머신", "교차 검증"],
    ),
    (
        "판다스 라이브러리로 판매 기록을 불러와 결측치를 처리합니다. 그룹별 집계를 하고 결과를 막대 그래프로 시각화합니다.",
        &["판다스", "결측치", "집계", "시각화"],
    ),
    (
        "임진왜란 당시 이순신 장군의 한산도 대첩을 중심으로 조선 수군의 전술을 배웁니다. 거북선의 구조와 학익진 전법도 함께 알아봅니다.",
        &["임진왜란", "이순신", "한산도 대첩", "거북선"],
    ),
    (
        "세포 분열의 두 가지 방식인 체세포 분열과 감수 분열을 비교합니다. 염색체가 복제되고 나뉘는 단계를 그림으로 정리합니다.",
        &["세포 분열", "체세포 분열", "감수 분열", "염색체"],
    ),
    (
        "React로 할 일 목록 웹 앱을 만들며 컴포넌트와 상태 관리를 익힙니다. 마지막에는 완성한 앱을 배포하는 방법까지 다룹니다.",
        &["React", "컴포넌트", "상태 관리", "배포"],
    ),
    (
        "이차 방정식의 근의 공식을 유도하고 판별식으로 근의 개수를 판단합니다. 포물선 그래프와 x축의 교점으로 해를 해석합니다.",
        &["이차 방정식", "근의 공식", "판별식", "포물선"],
    ),
    (
        "수요와 공급의 법칙으로 시장 가격이 정해지는 원리를 설명합니다. 최저 임금 같은 가격 규제가 시장에 주는 영향을 사례로 토론합니다.",
        &["수요", "공급", "시장 가격", "최저 임금"],
    ),
    (
        "가야금과 거문고 같은 전통 현악기의 구조와 소리를 비교합니다. 산조 장단에 맞춰 간단한 가락을 연주해 봅니다.",
        &["가야금", "거문고", "산조", "장단"],
    ),
    (
        "SQL의 SELECT 문과 JOIN으로 여러 테이블의 데이터를 조회합니다. 인덱스가 쿼리 성능에 주는 영향도 실행 계획으로 확인합니다.",
        &["SQL", "JOIN", "인덱스", "실행 계획"],
    ),
    (
        "기후 변화의 원인인 온실가스와 탄소 배출을 다룹니다. 재생 에너지로의 전환 정책을 나라별로 비교하고 토론합니다.",
        &["기후 변화", "온실가스", "탄소 배출", "재생 에너지"],
    ),
];

const PARTICLES: &[&str] = &[
    "은", "는", "이", "가", "을", "를", "의", "에", "에서", "와", "과", "으로", "로", "도", "만",
];

/// Top-5 keywords of the real setup (ko-dic nouns and n-grams, e5 with its dense layers in
/// `precision`), and the analyzer behind it.
fn top5_extractor(
    precision: Precision,
) -> (
    KeywordExtractor<TransformerEmbedder, AutoCandidates>,
    Arc<KoreanAnalyzer>,
) {
    let analyzer =
        Arc::new(KoreanAnalyzer::load(common::model("ko-dic")).expect("dictionary loads"));
    let generator = AutoCandidates::new(
        NgramCandidates::new(1, 2).expect("valid"),
        Some(KoreanNounCandidates::new(analyzer.clone(), 2).expect("valid")),
    );
    let e5 = TransformerEmbedder::builder(common::model("multilingual-e5-small"))
        .prefix("query: ")
        .precision(precision)
        .build()
        .expect("e5 loads");
    let x = KeywordExtractor::new(
        e5,
        generator,
        // The groundrec pipeline's keyword settings: MMR 0.5, nested phrases dropped ("선형"
        // after "선형 회귀"); its document-frequency ceiling needs 100 documents or more.
        KeywordParams::default()
            .top_n(5)
            .diversity(Diversity::Mmr { diversity: 0.5 })
            .drop_nested(true)
            .check()
            .expect("valid"),
    );
    (x, analyzer)
}

/// Share of the teachers' nouns found in the top 5 (also checks that no keyword ends in a
/// particle), with e5's dense layers in `precision`.
fn korean_noun_share(precision: Precision) -> f64 {
    let (x, analyzer) = top5_extractor(precision);
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
        "{precision}: {found}/{expected} expected nouns in the top 5:\n{}",
        report.join("\n")
    );
    share
}

#[test]
fn korean_top5_holds_the_teachers_nouns_and_no_particles() {
    let share = korean_noun_share(Precision::F32);
    assert!(
        share >= 0.7,
        "only {share:.3} of the expected nouns in the top 5"
    );
}

/// Both formats `Precision::Auto` may choose hold the same bar as float32.
#[test]
fn int8_and_bf16_korean_top5_still_hold_the_teachers_nouns() {
    for precision in [Precision::Int8, Precision::Bf16] {
        let share = korean_noun_share(precision);
        assert!(
            share >= 0.7,
            "{precision}: only {share:.3} of the expected nouns in the top 5"
        );
    }
}

/// Share of the expected terms of `LONGER` that some top-5 keyword contains (printed).
fn longer_term_share() -> f64 {
    let (x, _) = top5_extractor(Precision::F32);
    let docs: Vec<&str> = LONGER.iter().map(|l| l.0).collect();
    let out = x.extract(&docs).expect("extraction");
    let (mut found, mut expected) = (0usize, 0usize);
    for ((_, terms), k) in LONGER.iter().zip(&out) {
        let keys: Vec<String> = k.keywords.iter().map(|k| k.key.to_lowercase()).collect();
        let hits = terms
            .iter()
            .filter(|t| keys.iter().any(|k| k.contains(&t.to_lowercase())))
            .count();
        eprintln!("{hits}/{} {keys:?}", terms.len());
        found += hits;
        expected += terms.len();
    }
    let share = found as f64 / expected as f64;
    eprintln!("{found}/{expected} expected terms in the top 5 ({share:.3})");
    share
}

/// Issue #27's goal for the longer set (0.583 on 2026-12-01 before nouns were kept whole,
/// "판" + "다스" as "판다스", and nested phrases dropped).
#[test]
fn longer_korean_descriptions_keep_their_terms() {
    let share = longer_term_share();
    assert!(
        share >= 0.7,
        "only {share:.3} of the expected terms in the top 5"
    );
}
