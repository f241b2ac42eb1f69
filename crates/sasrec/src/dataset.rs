//! Training sequences plus validation and test cases, checked once.

use crate::data::{leave_one_out, Sequences};
use crate::error::{Result, SasRecError};
use crate::item::ItemIdx;

/// One evaluation case: the model reads `input` and should rank `target` high.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalCase {
    /// Index of the user (into [`Dataset::train`]) the case belongs to.
    pub user: usize,
    /// The history the model reads (oldest first).
    pub input: Vec<ItemIdx>,
    /// The held-out next item.
    pub target: ItemIdx,
    /// Items the sampled protocol never draws as negatives: the user's whole known history
    /// (training, validation and test items).
    pub history: Vec<ItemIdx>,
}

/// How [`Dataset::from_sequences`] splits each user's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Everything trains; no validation or test cases.
    None,
    /// The paper's split: the last item is the test target (input: everything before it), the
    /// second-to-last the validation target (input: the training part); users with fewer
    /// than three items train only.
    LeaveOneOut,
}

/// What a model is trained and evaluated on: items `0..n_items`, one sequence per user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dataset {
    /// External id of every item index.
    pub items: Vec<String>,
    /// One training sequence per user (oldest first).
    pub train: Vec<Vec<ItemIdx>>,
    /// Validation cases (early stopping).
    pub valid: Vec<EvalCase>,
    /// Test cases.
    pub test: Vec<EvalCase>,
}

impl Dataset {
    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    /// A dataset from item ids and one time-ordered sequence per user, split as asked. Item
    /// indices outside `0..items.len()` and repeated item ids are errors.
    pub fn from_sequences(
        items: Vec<String>,
        sequences: Vec<Vec<ItemIdx>>,
        split: Split,
    ) -> Result<Self> {
        let mut seen = std::collections::HashSet::with_capacity(items.len());
        if let Some(dup) = items.iter().find(|i| !seen.insert(i.as_str())) {
            return Err(SasRecError::DuplicateItem(dup.clone()));
        }
        let n = items.len();
        for (u, s) in sequences.iter().enumerate() {
            if let Some(i) = s.iter().find(|i| i.index() >= n) {
                return Err(SasRecError::UnknownItem(format!(
                    "sequence {u} holds item index {i}, outside 0..{n}"
                )));
            }
        }
        let mut data = Dataset {
            items,
            ..Default::default()
        };
        for (u, seq) in sequences.into_iter().enumerate() {
            let split = match split {
                Split::None => {
                    data.train.push(seq);
                    continue;
                }
                Split::LeaveOneOut => leave_one_out(&seq),
            };
            if let (Some(valid), Some(test)) = (split.valid, split.test) {
                data.valid.push(EvalCase {
                    user: u,
                    input: split.train.clone(),
                    target: valid,
                    history: seq.clone(),
                });
                let mut input = split.train.clone();
                input.push(valid);
                data.test.push(EvalCase {
                    user: u,
                    input,
                    target: test,
                    history: seq,
                });
            }
            data.train.push(split.train);
        }
        Ok(data)
    }

    /// The paper's split of every user ([`Split::LeaveOneOut`]) of `seqs`.
    pub fn leave_one_out(seqs: &Sequences) -> Result<Self> {
        Self::from_sequences(
            seqs.item_ids.clone(),
            seqs.sequences.clone(),
            Split::LeaveOneOut,
        )
    }

    /// Checks that every index is below `n_items`, that cases point at existing users and have
    /// a non-empty input, and that some user has two training items.
    pub fn check(&self) -> Result<()> {
        let n = self.n_items();
        if n == 0 {
            return Err(SasRecError::EmptyInput("the dataset has no items".into()));
        }
        if self.train.iter().all(|s| s.len() < 2) {
            let why = if self.valid.is_empty() {
                String::new()
            } else {
                " (the leave-one-out split holds each user's last two items out of training, \
                 so a user needs at least four items to contribute)"
                    .to_string()
            };
            return Err(SasRecError::EmptyInput(format!(
                "no user has two training items, so there is nothing to learn{why}"
            )));
        }
        let bad = |i: &ItemIdx| i.index() >= n;
        for (u, s) in self.train.iter().enumerate() {
            if let Some(i) = s.iter().find(|i| bad(i)) {
                return Err(SasRecError::UnknownItem(format!(
                    "training sequence {u} holds item index {i}, outside 0..{n}"
                )));
            }
        }
        for (what, cases) in [("validation", &self.valid), ("test", &self.test)] {
            for c in cases {
                if c.user >= self.train.len() {
                    return Err(SasRecError::EmptyInput(format!(
                        "a {what} case names user {} of {}",
                        c.user,
                        self.train.len()
                    )));
                }
                if c.input.is_empty() {
                    return Err(SasRecError::EmptyInput(format!(
                        "a {what} case of user {} has no input",
                        c.user
                    )));
                }
                let all = c.input.iter().chain(&c.history).chain([&c.target]);
                if let Some(i) = all.into_iter().find(|i| bad(i)) {
                    return Err(SasRecError::UnknownItem(format!(
                        "a {what} case of user {} holds item index {i}, outside 0..{n}",
                        c.user
                    )));
                }
            }
        }
        Ok(())
    }

    /// How often each item occurs in the training sequences.
    pub fn train_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.n_items()];
        for i in self.train.iter().flatten() {
            counts[i.index()] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::items;

    #[test]
    fn leave_one_out_builds_valid_and_test_cases() {
        let s = Sequences::read_pairs("a 1\na 2\na 3\na 4\nb 1\nb 2\n".as_bytes()).expect("valid");
        let d = Dataset::leave_one_out(&s).expect("consistent");
        assert_eq!(d.train, vec![items([0, 1]), items([0, 1])]);
        assert_eq!(d.valid.len(), 1);
        assert_eq!(
            (d.valid[0].input.clone(), d.valid[0].target),
            (items([0, 1]), ItemIdx::new(2))
        );
        assert_eq!(
            (d.test[0].input.clone(), d.test[0].target),
            (items([0, 1, 2]), ItemIdx::new(3))
        );
        assert_eq!(d.test[0].history, items([0, 1, 2, 3]));
        d.check().expect("consistent");
        assert_eq!(d.train_counts(), vec![2, 2, 0, 0]);
    }

    #[test]
    fn from_sequences_checks_ids_and_splits_as_asked() {
        let names = || vec!["x".to_string(), "y".to_string(), "z".to_string()];
        let seqs = vec![items([0, 1, 2, 0]), items([2, 1])];
        let whole = Dataset::from_sequences(names(), seqs.clone(), Split::None).expect("valid");
        assert_eq!((whole.train.clone(), whole.test.len()), (seqs.clone(), 0));
        let split = Dataset::from_sequences(names(), seqs, Split::LeaveOneOut).expect("valid");
        assert_eq!(split.train, vec![items([0, 1]), items([2, 1])]);
        assert_eq!(split.test[0].target, ItemIdx::new(0));
        let bad = Dataset::from_sequences(names(), vec![items([3])], Split::None);
        assert!(matches!(bad, Err(SasRecError::UnknownItem(_))));
        let dup = vec!["x".to_string(), "x".to_string()];
        assert!(matches!(
            Dataset::from_sequences(dup, vec![], Split::None),
            Err(SasRecError::DuplicateItem(_))
        ));
    }

    #[test]
    fn check_names_the_problem() {
        let s = Sequences::read_pairs("a 1\na 2\na 3\na 4\n".as_bytes()).expect("valid");
        let mut d = Dataset::leave_one_out(&s).expect("consistent");
        d.test[0].target = ItemIdx::new(9);
        assert!(matches!(d.check(), Err(SasRecError::UnknownItem(_))));
        // Three items each: the split leaves one training item per user, and the message says so.
        let s = Sequences::read_pairs("a 1\na 2\na 3\nb 1\nb 2\nb 3\n".as_bytes()).expect("valid");
        let err = Dataset::leave_one_out(&s)
            .expect("consistent")
            .check()
            .expect_err("nothing to learn");
        assert!(err.to_string().contains("at least four"), "{err}");
    }
}
