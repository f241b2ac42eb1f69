//! Reading interaction logs in the SASRec formats and splitting them like the paper.

use std::collections::HashMap;
use std::io::BufRead;

use crate::error::{Result, SasRecError};

/// Users' item sequences with dense ids: items are `1..=n_items` (0 is padding), users are
/// `0..n_users`; both keep the maps back to the ids in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sequences {
    /// One time-ordered item sequence per user (dense item ids, 1-based).
    pub sequences: Vec<Vec<u32>>,
    /// External user id of each dense user index.
    pub user_ids: Vec<String>,
    /// External item id of each dense item id; index 0 is the padding entry (empty string).
    pub item_ids: Vec<String>,
}

impl Sequences {
    /// Number of distinct items (dense ids run from 1 to this number).
    pub fn n_items(&self) -> usize {
        self.item_ids.len().saturating_sub(1)
    }

    /// Reads `user item` lines (whitespace-separated, one interaction per line, each user's lines
    /// in time order, as in the SASRec repository's data files). Blank lines are skipped.
    pub fn read_pairs(reader: impl BufRead) -> Result<Self> {
        let mut users: HashMap<String, usize> = HashMap::new();
        let mut items: HashMap<String, u32> = HashMap::new();
        let mut out = Sequences {
            item_ids: vec![String::new()],
            ..Default::default()
        };
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| SasRecError::Io(e.to_string()))?;
            let mut fields = line.split_whitespace();
            let (Some(user), Some(item)) = (fields.next(), fields.next()) else {
                if line.trim().is_empty() {
                    continue;
                }
                return Err(SasRecError::Parse {
                    line: n + 1,
                    reason: "expected `user item`".into(),
                });
            };
            let u = *users.entry(user.to_string()).or_insert_with(|| {
                out.user_ids.push(user.to_string());
                out.sequences.push(Vec::new());
                out.user_ids.len() - 1
            });
            let i = out.intern(&mut items, item);
            out.sequences[u].push(i);
        }
        Ok(out)
    }
}

impl Sequences {
    /// Reads one user per line: whitespace-separated item ids in time order (the format of the
    /// gSASRec ML-1M split). Line `k` (1-based) becomes user `"k"`; empty lines are users
    /// without interactions, so line numbers stay user ids.
    pub fn read_user_lines(reader: impl BufRead) -> Result<Self> {
        let mut out = Sequences {
            item_ids: vec![String::new()],
            ..Default::default()
        };
        let mut items: HashMap<String, u32> = HashMap::new();
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| SasRecError::Io(e.to_string()))?;
            let seq = line
                .split_whitespace()
                .map(|item| out.intern(&mut items, item))
                .collect();
            out.user_ids.push((n + 1).to_string());
            out.sequences.push(seq);
        }
        Ok(out)
    }

    fn intern(&mut self, items: &mut HashMap<String, u32>, item: &str) -> u32 {
        *items.entry(item.to_string()).or_insert_with(|| {
            self.item_ids.push(item.to_string());
            (self.item_ids.len() - 1) as u32
        })
    }

    /// A map from external item ids to dense ids.
    pub fn item_index(&self) -> HashMap<&str, u32> {
        self.item_ids
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, s)| (s.as_str(), i as u32))
            .collect()
    }
}

/// The paper's leave-one-out split of one user's sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSplit {
    /// All but the last two items (all items for users with fewer than 3).
    pub train: Vec<u32>,
    /// The second-to-last item, if the user has at least 3.
    pub valid: Option<u32>,
    /// The last item, if the user has at least 3.
    pub test: Option<u32>,
}

/// Splits a sequence as in SASRec: users with fewer than 3 interactions train only.
pub fn leave_one_out(seq: &[u32]) -> UserSplit {
    if seq.len() < 3 {
        return UserSplit {
            train: seq.to_vec(),
            valid: None,
            test: None,
        };
    }
    let n = seq.len();
    UserSplit {
        train: seq[..n - 2].to_vec(),
        valid: Some(seq[n - 2]),
        test: Some(seq[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pairs_are_grouped_per_user_in_order() {
        let s = Sequences::read_pairs("u1 a\nu2 b\nu1 b\n\nu1 c\n".as_bytes()).expect("valid");
        assert_eq!(s.user_ids, ["u1", "u2"]);
        assert_eq!(s.item_ids, ["", "a", "b", "c"]);
        assert_eq!(s.sequences, vec![vec![1, 2, 3], vec![2]]);
        assert_eq!(s.n_items(), 3);
    }

    #[test]
    fn a_line_with_one_field_is_an_error_with_its_number() {
        let err = Sequences::read_pairs("u1 a\nu2\n".as_bytes()).expect_err("bad line");
        assert!(matches!(err, SasRecError::Parse { line: 2, .. }), "{err}");
    }

    proptest! {
        #[test]
        fn split_keeps_every_item_once(seq in proptest::collection::vec(1u32..50, 0..20)) {
            let s = leave_one_out(&seq);
            let mut back = s.train.clone();
            back.extend(s.valid);
            back.extend(s.test);
            prop_assert_eq!(back, seq.clone());
            prop_assert_eq!(s.test.is_some(), seq.len() >= 3);
        }
    }
}
