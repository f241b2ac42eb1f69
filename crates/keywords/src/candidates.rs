//! Candidate keyphrases: the [`CandidateGenerator`] trait and the built-in generators.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use crate::error::{KeywordsError, Result};
use crate::korean::{KoreanAnalyzer, Morpheme};
use crate::tokenize::{is_hangul, segments, Token};

/// A candidate keyphrase found in one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The normalised form used for de-duplication and embedding (lower-cased words joined by
    /// one space, as KeyBERT's vectoriser writes them).
    pub key: String,
    /// The text as it first appears in the document.
    pub surface: String,
    /// Byte ranges of every occurrence in the document (for highlighting).
    pub spans: Vec<(usize, usize)>,
}

/// Anything that proposes keyphrase candidates for a document. Implement it to bring your own
/// language or domain vocabulary (Japanese, Chinese, a curated list).
pub trait CandidateGenerator: Send + Sync {
    /// The distinct candidates of `doc` (by key), each with all its occurrences.
    fn candidates(&self, doc: &str) -> Result<Vec<Candidate>>;
}

/// Stopword lists. The defaults: scikit-learn's English list (the one KeyBERT uses) and a short
/// list of Korean function nouns; both replaceable.
#[derive(Debug, Clone, Default)]
pub struct Stopwords {
    words: HashSet<String>,
}

impl Stopwords {
    /// scikit-learn's `ENGLISH_STOP_WORDS` (318 words).
    pub fn english() -> Self {
        Self::from_words(include_str!("stopwords_en.txt").lines())
    }
    /// Common Korean function nouns (것, 수, 등, 때, …).
    pub fn korean() -> Self {
        Self::from_words(include_str!("stopwords_ko.txt").lines())
    }
    /// No stopwords.
    pub fn none() -> Self {
        Self::default()
    }
    /// A list of your own (compared lower-cased).
    pub fn from_words<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Self {
        Self {
            words: words
                .into_iter()
                .map(|w| w.as_ref().trim().to_lowercase())
                .filter(|w| !w.is_empty())
                .collect(),
        }
    }
    /// Both lists together.
    pub fn union(mut self, other: &Stopwords) -> Self {
        self.words.extend(other.words.iter().cloned());
        self
    }
    /// Whether `word` (any case) is a stopword.
    pub fn contains(&self, word: &str) -> bool {
        self.words.contains(&word.to_lowercase())
    }
}

/// Candidates of one document in order of first occurrence, merged by key in constant time
/// per occurrence (a long document's n-grams are collected in linear time).
#[derive(Default)]
struct Collector {
    out: Vec<Candidate>,
    index: HashMap<String, usize>,
}

impl Collector {
    /// Adds an occurrence, merging by key.
    fn push(&mut self, doc: &str, key: String, span: (usize, usize)) {
        match self.index.get(&key) {
            Some(&i) => self.out[i].spans.push(span),
            None => {
                self.index.insert(key.clone(), self.out.len());
                self.out.push(Candidate {
                    key,
                    surface: doc[span.0..span.1].to_string(),
                    spans: vec![span],
                });
            }
        }
    }
}

/// Word n-grams, as KeyBERT's `CountVectorizer` makes them, but Unicode-aware and never across
/// punctuation: words of at least `min_chars` characters, stopwords removed, n-grams over the
/// remaining consecutive words of a segment.
#[derive(Debug, Clone)]
pub struct NgramCandidates {
    min_n: usize,
    max_n: usize,
    min_chars: usize,
    stopwords: Stopwords,
}

impl NgramCandidates {
    /// n-grams of `min_n..=max_n` words with the English stopword list (KeyBERT's defaults are
    /// `(1, 1)` and `(1, 2)` in its examples).
    pub fn new(min_n: usize, max_n: usize) -> Result<Self> {
        if min_n == 0 || max_n < min_n {
            return Err(KeywordsError::param(
                "ngram range",
                format!("needs 1 <= min <= max, got ({min_n}, {max_n})"),
            ));
        }
        Ok(Self {
            min_n,
            max_n,
            min_chars: 2,
            stopwords: Stopwords::english(),
        })
    }
    /// Replaces the stopword list.
    pub fn stopwords(mut self, stopwords: Stopwords) -> Self {
        self.stopwords = stopwords;
        self
    }
    /// Shortest word kept, in characters (default 2, as scikit-learn's token pattern).
    pub fn min_chars(mut self, n: usize) -> Self {
        self.min_chars = n;
        self
    }

    fn grams_of(&self, doc: &str, words: &[Token<'_>], out: &mut Collector) {
        for n in self.min_n..=self.max_n {
            for w in words.windows(n) {
                let key = w
                    .iter()
                    .map(|t| t.text.to_lowercase())
                    .collect::<Vec<_>>()
                    .join(" ");
                out.push(doc, key, (w[0].start, w[n - 1].end));
            }
        }
    }
}

impl CandidateGenerator for NgramCandidates {
    fn candidates(&self, doc: &str) -> Result<Vec<Candidate>> {
        let mut out = Collector::default();
        for seg in segments(doc) {
            let words: Vec<Token<'_>> = seg
                .into_iter()
                .filter(|t| {
                    t.text.chars().count() >= self.min_chars && !self.stopwords.contains(t.text)
                })
                .collect();
            self.grams_of(doc, &words, &mut out);
        }
        Ok(out.out)
    }
}

/// Korean candidates from morphological analysis: nouns as written (`NNG`, `NNP` and foreign
/// words `SL` such as "Python"; the dictionary's pieces of one written noun are joined again,
/// so "판다스" and "scikit-learn" stay whole) and runs of up to `max_words` nouns separated
/// by spaces as compound candidates ("분수 덧셈"). Particles and endings never enter a
/// candidate, so "분수의" gives "분수".
#[derive(Debug, Clone)]
pub struct KoreanNounCandidates {
    analyzer: Arc<KoreanAnalyzer>,
    max_words: usize,
    stopwords: Stopwords,
}

impl KoreanNounCandidates {
    /// Nouns and compounds of up to `max_words` nouns (at least 1).
    pub fn new(analyzer: Arc<KoreanAnalyzer>, max_words: usize) -> Result<Self> {
        if max_words == 0 {
            return Err(KeywordsError::param("max_words", "must be at least 1"));
        }
        Ok(Self {
            analyzer,
            max_words,
            stopwords: Stopwords::korean().union(&Stopwords::english()),
        })
    }
    /// Replaces the stopword list (Korean and English by default).
    pub fn stopwords(mut self, stopwords: Stopwords) -> Self {
        self.stopwords = stopwords;
        self
    }
}

impl CandidateGenerator for KoreanNounCandidates {
    fn candidates(&self, doc: &str) -> Result<Vec<Candidate>> {
        let morphemes = self.analyzer.analyze(doc)?;
        let mut out = Collector::default();
        let mut run: Vec<(usize, usize, String)> = Vec::new();
        let flush = |run: &mut Vec<(usize, usize, String)>, out: &mut Collector| {
            for n in 1..=self.max_words.min(run.len()) {
                for w in run.windows(n) {
                    let key = w.iter().map(|m| m.2.as_str()).collect::<Vec<_>>().join(" ");
                    out.push(doc, key, (w[0].0, w[n - 1].1));
                }
            }
            run.clear();
        };
        for word in compound_words(&morphemes) {
            let (start, end) = (morphemes[word.start].start, morphemes[word.end - 1].end);
            let text = &doc[start..end];
            let single_proper = word.len() == 1 && morphemes[word.start].tag == "NNP";
            let long_enough = text.chars().count() >= 2 || single_proper;
            let gap_ok = run
                .last()
                .is_none_or(|last| doc[last.1..start].chars().all(char::is_whitespace));
            if !gap_ok {
                flush(&mut run, &mut out);
            }
            if long_enough && !self.stopwords.contains(text) {
                run.push((start, end, text.to_lowercase()));
            } else {
                flush(&mut run, &mut out);
            }
        }
        flush(&mut run, &mut out);
        Ok(out.out)
    }
}

/// The nouns of a text as a reader writes them: maximal runs of morphemes written together
/// (no space between them) that make one noun, as ranges into `morphemes`. A run starts at a
/// noun (`NNG`, `NNP`), a foreign word (`SL`, and `SN` digits) or a numeral with its counter
/// (`NR` + `NNBC`: "이차"), and goes on through further
/// nouns, dependent nouns (`NNB`) and noun suffixes (`XSN`, except the plural "들"), and
/// through "-", ".", "+" or "#" between foreign parts. So the dictionary's pieces come back
/// whole: "판" + "다스" is "판다스", "결" + "측" + "치" is "결측치", "scikit" + "-" +
/// "learn" is "scikit-learn"; particles and endings stay out ("판다스로" gives "판다스").
fn compound_words(morphemes: &[Morpheme]) -> Vec<Range<usize>> {
    let starts = |m: &Morpheme| m.is_noun() || m.tag == "SL" || m.tag == "SN";
    let foreign = |m: &Morpheme| m.tag == "SL" || m.tag == "SN";
    let glued = |i: usize| morphemes[i].start == morphemes[i - 1].end;
    let mut words = Vec::new();
    let mut i = 0;
    while i < morphemes.len() {
        // A numeral starts a word only with its counter: "이" + "차" is "이차".
        let counted = morphemes[i].tag == "NR"
            && morphemes.get(i + 1).is_some_and(|m| m.tag == "NNBC")
            && glued(i + 1);
        if !starts(&morphemes[i]) && !counted {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < morphemes.len() && glued(end) {
            let (prev, m) = (&morphemes[end - 1], &morphemes[end]);
            let joins = starts(m)
                || m.tag == "NNBC" && (prev.tag == "NR" || prev.tag == "SN")
                || (m.tag == "NNB" || (m.tag == "XSN" && m.surface != "들")) && !foreign(prev)
                || m.tag == "SY"
                    && ["-", ".", "+", "#"].contains(&m.surface.as_str())
                    && foreign(prev)
                    && morphemes
                        .get(end + 1)
                        .is_some_and(|next| foreign(next) && next.start == m.end);
            if !joins {
                break;
            }
            end += 1;
        }
        words.push(i..end);
        i = end;
    }
    words
}

/// Korean analysis for documents with Hangul, word n-grams for the others.
#[derive(Debug, Clone)]
pub struct AutoCandidates {
    english: NgramCandidates,
    korean: Option<KoreanNounCandidates>,
}

impl AutoCandidates {
    /// `korean` handles documents containing Hangul; without it every document gets n-grams.
    pub fn new(english: NgramCandidates, korean: Option<KoreanNounCandidates>) -> Self {
        Self { english, korean }
    }
}

impl CandidateGenerator for AutoCandidates {
    fn candidates(&self, doc: &str) -> Result<Vec<Candidate>> {
        match &self.korean {
            Some(k) if doc.chars().any(is_hangul) => k.candidates(doc),
            _ => self.english.candidates(doc),
        }
    }
}

/// The same candidate list for every document (user-given vocabulary): a candidate is offered
/// for a document when its words occur there in sequence (case-insensitive).
#[derive(Debug, Clone)]
pub struct ListCandidates {
    keys: Vec<Vec<String>>,
}

impl ListCandidates {
    /// Candidates from a list of phrases.
    pub fn new<S: AsRef<str>>(phrases: impl IntoIterator<Item = S>) -> Self {
        let keys = phrases
            .into_iter()
            .map(|p| {
                segments(p.as_ref())
                    .into_iter()
                    .flatten()
                    .map(|t| t.text.to_lowercase())
                    .collect::<Vec<_>>()
            })
            .filter(|k: &Vec<String>| !k.is_empty())
            .collect();
        Self { keys }
    }
}

impl CandidateGenerator for ListCandidates {
    fn candidates(&self, doc: &str) -> Result<Vec<Candidate>> {
        let words: Vec<Token<'_>> = segments(doc).into_iter().flatten().collect();
        let lower: Vec<String> = words.iter().map(|t| t.text.to_lowercase()).collect();
        let mut out = Collector::default();
        for key in &self.keys {
            for (i, w) in lower.windows(key.len()).enumerate() {
                if w == key.as_slice() {
                    out.push(
                        doc,
                        key.join(" "),
                        (words[i].start, words[i + key.len() - 1].end),
                    );
                }
            }
        }
        Ok(out.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngrams_drop_stopwords_and_keep_offsets() {
        let g = NgramCandidates::new(1, 2).expect("valid");
        let doc = "The Fourier transform, and the Fourier series.";
        let c = g.candidates(doc).expect("ok");
        let keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "fourier",
                "transform",
                "fourier transform",
                "series",
                "fourier series"
            ]
        );
        let fourier = &c[0];
        assert_eq!(fourier.spans.len(), 2);
        assert_eq!(fourier.surface, "Fourier");
        assert!(
            !keys.contains(&"transform fourier"),
            "no n-gram across the comma"
        );
        assert!(NgramCandidates::new(2, 1).is_err());
    }

    #[test]
    fn only_stopwords_give_nothing() {
        let g = NgramCandidates::new(1, 3).expect("valid");
        assert!(g.candidates("and the of it").expect("ok").is_empty());
        assert!(g.candidates("").expect("ok").is_empty());
    }

    #[test]
    fn list_candidates_match_phrases_case_insensitively() {
        let g = ListCandidates::new(["machine learning", "Python"]);
        let c = g.candidates("Python for Machine Learning").expect("ok");
        let keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["machine learning", "python"]);
        assert_eq!(c[0].surface, "Machine Learning");
    }
}
