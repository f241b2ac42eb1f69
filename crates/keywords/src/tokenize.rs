//! Unicode-aware word tokens with byte offsets, grouped into punctuation-free segments.

/// A word of the input: a maximal run of letters, digits and `_` (`\w`), split where Hangul
/// meets another script ("Python프로그래밍" is two words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

pub(crate) fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}')
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Tokens grouped by segment: a segment ends at any character that is neither part of a word
/// nor whitespace (punctuation, symbols), so that no n-gram crosses punctuation.
pub(crate) fn segments<'a>(text: &'a str) -> Vec<Vec<Token<'a>>> {
    let mut out: Vec<Vec<Token<'a>>> = vec![Vec::new()];
    let mut word_start: Option<(usize, bool)> = None;
    let close = |out: &mut Vec<Vec<Token<'a>>>, s: usize, e: usize| {
        if let Some(seg) = out.last_mut() {
            seg.push(Token {
                text: &text[s..e],
                start: s,
                end: e,
            });
        }
    };
    for (i, c) in text.char_indices() {
        if is_word(c) {
            let h = is_hangul(c);
            match word_start {
                Some((s, hs)) if hs != h => {
                    close(&mut out, s, i);
                    word_start = Some((i, h));
                }
                None => word_start = Some((i, h)),
                _ => {}
            }
        } else {
            if let Some((s, _)) = word_start.take() {
                close(&mut out, s, i);
            }
            // A hyphen or apostrophe inside a word ("scikit-learn", "don't") separates the
            // words but does not end the segment.
            let joiner = matches!(c, '-' | '\'' | '\u{2019}')
                && text[..i].chars().next_back().is_some_and(is_word)
                && text[i + c.len_utf8()..].chars().next().is_some_and(is_word);
            if !c.is_whitespace() && !joiner && out.last().is_some_and(|seg| !seg.is_empty()) {
                out.push(Vec::new());
            }
        }
    }
    if let Some((s, _)) = word_start {
        close(&mut out, s, text.len());
    }
    out.retain(|seg| !seg.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words<'a>(segs: &[Vec<Token<'a>>]) -> Vec<Vec<&'a str>> {
        segs.iter()
            .map(|s| s.iter().map(|t| t.text).collect())
            .collect()
    }

    #[test]
    fn punctuation_splits_segments_and_scripts_split_words() {
        let s = segments("Deep learning, for Python프로그래밍 (beginners).");
        assert_eq!(
            words(&s),
            vec![
                vec!["Deep", "learning"],
                vec!["for", "Python", "프로그래밍"],
                vec!["beginners"]
            ]
        );
        assert_eq!(s[1][1].start, "Deep learning, for ".len());
        assert!(segments("  ...  ").is_empty());
        assert_eq!(
            words(&segments("scikit-learn - fast")),
            vec![vec!["scikit", "learn"], vec!["fast"]]
        );
    }

    proptest! {
        #[test]
        fn offsets_point_at_the_token_text(text in ".{0,60}") {
            for seg in segments(&text) {
                for t in seg {
                    prop_assert_eq!(&text[t.start..t.end], t.text);
                    prop_assert!(!t.text.is_empty());
                }
            }
        }
    }
}
