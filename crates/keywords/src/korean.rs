//! Korean morphological analysis with lindera and the mecab-ko-dic dictionary.

use std::borrow::Cow;
use std::path::Path;

use lindera::dictionary::load_dictionary;
use lindera::mode::Mode;
use lindera::segmenter::Segmenter;

use crate::error::{KeywordsError, Result};

/// One morpheme of a Korean text: its surface form, byte span and part-of-speech tag
/// (Sejong tag set as used by mecab-ko-dic: `NNG` common noun, `NNP` proper noun, `JKG`
/// genitive particle, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Morpheme {
    /// The text as it appears in the input.
    pub surface: String,
    /// Byte offset of the first byte in the input.
    pub start: usize,
    /// Byte offset one past the last byte in the input.
    pub end: usize,
    /// The part-of-speech tag (for compound analyses, the first tag, e.g. `NNG` of `NNG+JKS`).
    pub tag: String,
}

impl Morpheme {
    /// Common (`NNG`) or proper (`NNP`) noun, the tags that make keyword candidates.
    pub fn is_noun(&self) -> bool {
        self.tag == "NNG" || self.tag == "NNP"
    }
}

/// A Korean morphological analyser over a lindera ko-dic dictionary folder.
///
/// Why lindera: it is a maintained pure-Rust MeCab-compatible analyser that loads the standard
/// mecab-ko-dic dictionary, so Korean nouns come out separated from their particles
/// ("분수의" → "분수" + "의") without a Java or Python dependency.
pub struct KoreanAnalyzer {
    segmenter: Segmenter,
}

impl std::fmt::Debug for KoreanAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KoreanAnalyzer").finish_non_exhaustive()
    }
}

impl KoreanAnalyzer {
    /// Loads a dictionary folder built by `groundrec-build-ko-dic` (e.g. `models/ko-dic`).
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        if !dir.join("dict.words").is_file() {
            return Err(KeywordsError::MissingDictionary {
                path: dir.to_path_buf(),
                reason: "dict.words is missing".into(),
            });
        }
        let path = dir
            .to_str()
            .ok_or_else(|| KeywordsError::MissingDictionary {
                path: dir.to_path_buf(),
                reason: "path is not valid UTF-8".into(),
            })?;
        let dictionary = load_dictionary(path).map_err(|e| KeywordsError::MissingDictionary {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            segmenter: Segmenter::new(Mode::Normal, dictionary, None),
        })
    }

    /// Splits `text` into morphemes with byte offsets into `text`.
    pub fn analyze(&self, text: &str) -> Result<Vec<Morpheme>> {
        let tokens = self
            .segmenter
            .segment(Cow::Borrowed(text))
            .map_err(|e| KeywordsError::Analyzer(e.to_string()))?;
        Ok(tokens
            .into_iter()
            .map(|mut t| {
                let tag = t
                    .get_detail(0)
                    .unwrap_or("UNK")
                    .split('+')
                    .next()
                    .unwrap_or("UNK")
                    .to_string();
                Morpheme {
                    surface: t.surface.to_string(),
                    start: t.byte_start,
                    end: t.byte_end,
                    tag,
                }
            })
            .collect())
    }
}
