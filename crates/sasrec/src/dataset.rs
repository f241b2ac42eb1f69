//! Training sequences plus validation and test cases, checked once.

use crate::data::{leave_one_out, Sequences};
use crate::error::{Result, SasRecError};

/// One evaluation case: the model reads `input` and should rank `target` high.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalCase {
    /// Index of the user (into [`Dataset::train`]) the case belongs to.
    pub user: usize,
    /// The history the model reads (dense item ids, oldest first).
    pub input: Vec<u32>,
    /// The held-out next item.
    pub target: u32,
    /// Items the sampled protocol never draws as negatives: the user's whole known history
    /// (training, validation and test items).
    pub history: Vec<u32>,
}

/// What a model is trained and evaluated on: dense item ids `1..=n_items`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// External id of every dense item id (index 0 is padding).
    pub item_ids: Vec<String>,
    /// One training sequence per user (oldest first).
    pub train: Vec<Vec<u32>>,
    /// Validation cases (early stopping).
    pub valid: Vec<EvalCase>,
    /// Test cases.
    pub test: Vec<EvalCase>,
}

impl Dataset {
    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.item_ids.len().saturating_sub(1)
    }

    /// The paper's split of every user: last item for test (input: everything before it),
    /// second-to-last for validation (input: the training part); users with fewer than three
    /// interactions train only.
    pub fn leave_one_out(seqs: &Sequences) -> Self {
        let mut data = Dataset {
            item_ids: seqs.item_ids.clone(),
            ..Default::default()
        };
        for (u, seq) in seqs.sequences.iter().enumerate() {
            let split = leave_one_out(seq);
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
                    history: seq.clone(),
                });
            }
            data.train.push(split.train);
        }
        data
    }

    /// Checks that every id is in `1..=n_items`, that cases point at existing users and have a
    /// non-empty input.
    pub fn check(&self) -> Result<()> {
        let n = self.n_items() as u32;
        if n == 0 {
            return Err(SasRecError::EmptyInput("the dataset has no items".into()));
        }
        if self.train.iter().all(|s| s.len() < 2) {
            return Err(SasRecError::EmptyInput(
                "no user has two training interactions, so there is nothing to learn".into(),
            ));
        }
        let bad = |&i: &u32| i == 0 || i > n;
        for (u, s) in self.train.iter().enumerate() {
            if let Some(i) = s.iter().find(|i| bad(i)) {
                return Err(SasRecError::UnknownItem(format!(
                    "training sequence {u} holds item id {i}, outside 1..={n}"
                )));
            }
        }
        for (what, cases) in [("validation", &self.valid), ("test", &self.test)] {
            for c in cases {
                if c.user >= self.train.len() {
                    return Err(SasRecError::InvalidParam(format!(
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
                        "a {what} case of user {} holds item id {i}, outside 1..={n}",
                        c.user
                    )));
                }
            }
        }
        Ok(())
    }

    /// How often each item occurs in the training sequences (index 0 unused).
    pub fn train_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.n_items() + 1];
        for &i in self.train.iter().flatten() {
            counts[i as usize] += 1;
        }
        counts
    }
}

impl Default for Dataset {
    fn default() -> Self {
        Self {
            item_ids: vec![String::new()],
            train: Vec::new(),
            valid: Vec::new(),
            test: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_one_out_builds_valid_and_test_cases() {
        let s = Sequences::read_pairs("a 1\na 2\na 3\na 4\nb 1\nb 2\n".as_bytes()).expect("valid");
        let d = Dataset::leave_one_out(&s);
        assert_eq!(d.train, vec![vec![1, 2], vec![1, 2]]);
        assert_eq!(d.valid.len(), 1);
        assert_eq!(
            (d.valid[0].input.clone(), d.valid[0].target),
            (vec![1, 2], 3)
        );
        assert_eq!(
            (d.test[0].input.clone(), d.test[0].target),
            (vec![1, 2, 3], 4)
        );
        assert_eq!(d.test[0].history, vec![1, 2, 3, 4]);
        d.check().expect("consistent");
        assert_eq!(d.train_counts(), vec![0, 2, 2, 0, 0]);
    }

    #[test]
    fn check_names_the_problem() {
        let s = Sequences::read_pairs("a 1\na 2\na 3\na 4\n".as_bytes()).expect("valid");
        let mut d = Dataset::leave_one_out(&s);
        d.test[0].target = 9;
        assert!(matches!(d.check(), Err(SasRecError::UnknownItem(_))));
        let mut d = Dataset::leave_one_out(&s);
        d.train = vec![vec![1]];
        assert!(matches!(d.check(), Err(SasRecError::EmptyInput(_))));
    }
}
