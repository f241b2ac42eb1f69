//! Reading interaction logs in the SASRec formats and splitting them like the paper.

use std::collections::HashMap;
use std::io::BufRead;

use crate::error::{Result, SasRecError};
use crate::item::ItemIdx;

/// Users' item sequences with item indices `0..n_items` and user indices `0..n_users`; both
/// keep the maps back to the ids in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sequences {
    /// One time-ordered item sequence per user.
    pub sequences: Vec<Vec<ItemIdx>>,
    /// External user id of each user index.
    pub user_ids: Vec<String>,
    /// External item id of each item index.
    pub item_ids: Vec<String>,
}

impl Sequences {
    /// Number of distinct items.
    pub fn n_items(&self) -> usize {
        self.item_ids.len()
    }

    /// Reads `user item` lines (whitespace-separated, one interaction per line, each user's lines
    /// in time order, as in the SASRec repository's data files). Blank lines are skipped.
    pub fn read_pairs(reader: impl BufRead) -> Result<Self> {
        let mut users: HashMap<String, usize> = HashMap::new();
        let mut items: HashMap<String, ItemIdx> = HashMap::new();
        let mut out = Sequences::default();
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| read_error(n, e))?;
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
        let mut out = Sequences::default();
        let mut items: HashMap<String, ItemIdx> = HashMap::new();
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| read_error(n, e))?;
            let seq = line
                .split_whitespace()
                .map(|item| out.intern(&mut items, item))
                .collect();
            out.user_ids.push((n + 1).to_string());
            out.sequences.push(seq);
        }
        Ok(out)
    }

    fn intern(&mut self, items: &mut HashMap<String, ItemIdx>, item: &str) -> ItemIdx {
        *items.entry(item.to_string()).or_insert_with(|| {
            self.item_ids.push(item.to_string());
            ItemIdx::new((self.item_ids.len() - 1) as u32)
        })
    }

    /// A map from external item ids to item indices.
    pub fn item_index(&self) -> HashMap<&str, ItemIdx> {
        self.item_ids
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), ItemIdx::new(i as u32)))
            .collect()
    }
}

fn read_error(n: usize, e: std::io::Error) -> SasRecError {
    SasRecError::Parse {
        line: n + 1,
        reason: format!("cannot read: {e}"),
    }
}

/// The paper's leave-one-out split of one user's sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSplit {
    /// All but the last two items (all items for users with fewer than 3).
    pub train: Vec<ItemIdx>,
    /// The second-to-last item, if the user has at least 3.
    pub valid: Option<ItemIdx>,
    /// The last item, if the user has at least 3.
    pub test: Option<ItemIdx>,
}

/// Splits a sequence as in SASRec: users with fewer than 3 interactions train only.
pub fn leave_one_out(seq: &[ItemIdx]) -> UserSplit {
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
    use crate::item::items;
    use proptest::prelude::*;

    #[test]
    fn pairs_are_grouped_per_user_in_order() {
        let s = Sequences::read_pairs("u1 a\nu2 b\nu1 b\n\nu1 c\n".as_bytes()).expect("valid");
        assert_eq!(s.user_ids, ["u1", "u2"]);
        assert_eq!(s.item_ids, ["a", "b", "c"]);
        assert_eq!(s.sequences, vec![items([0, 1, 2]), items([1])]);
        assert_eq!(s.n_items(), 3);
    }

    #[test]
    fn a_line_with_one_field_is_an_error_with_its_number() {
        let err = Sequences::read_pairs("u1 a\nu2\n".as_bytes()).expect_err("bad line");
        assert!(matches!(err, SasRecError::Parse { line: 2, .. }), "{err}");
    }

    proptest! {
        #[test]
        fn split_keeps_every_item_once(seq in proptest::collection::vec(0u32..50, 0..20)) {
            let seq = items(seq);
            let s = leave_one_out(&seq);
            let mut back = s.train.clone();
            back.extend(s.valid);
            back.extend(s.test);
            prop_assert_eq!(back, seq.clone());
            prop_assert_eq!(s.test.is_some(), seq.len() >= 3);
        }
    }
}
