//! Held-out cases by id, so that two fitted pipelines (an old and a new version) can be
//! scored on the same cases even when their catalogues differ.

use groundrec_sasrec::{Dataset, ItemIdx, Split};
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::error::Result;
use crate::events::Event;
use crate::fit::sequences;
use crate::fitted::FittedPipeline;
use crate::lists::ListKind;
use crate::report::HitMetrics;

/// One held-out case: what a user took, oldest first, and the item that came next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldoutCase {
    /// The user.
    pub user: String,
    /// Item ids before the target.
    pub history: Vec<String>,
    /// The held-out item.
    pub target: String,
}

/// The test cases a fit holds out of `events` (the same split and sequence rule: time order,
/// consecutive repeats collapsed, each user's last item held out), by id.
pub fn holdout_cases(catalog: &Catalog, events: &[Event]) -> Result<Vec<HoldoutCase>> {
    let (users, seqs) = sequences(catalog, events);
    let ids: Vec<String> = catalog.items().iter().map(|i| i.id.clone()).collect();
    let data = Dataset::from_sequences(ids.clone(), seqs, Split::LeaveOneOut)?;
    Ok(data
        .test
        .iter()
        .map(|c| HoldoutCase {
            user: users[c.user].clone(),
            history: c.input.iter().map(|i| ids[i.index()].clone()).collect(),
            target: ids[c.target.index()].clone(),
        })
        .collect())
}

/// HR@10 and NDCG@10 of a pipeline's final lists and of popularity on held-out cases.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Cases scored.
    pub cases: usize,
    /// The final lists (the serving rule: history left out, fair re-ranking).
    pub lists: HitMetrics,
    /// The most popular items.
    pub popularity: HitMetrics,
}

impl FittedPipeline {
    /// Scores held-out cases the way lists are served. History items this pipeline does not
    /// know are skipped; a target it does not know is a miss.
    pub fn evaluate(&self, cases: &[HoldoutCase]) -> Result<Evaluation> {
        let catalog = self.catalog();
        let histories: Vec<Vec<ItemIdx>> = cases
            .iter()
            .map(|c| {
                c.history
                    .iter()
                    .filter_map(|id| catalog.position(id).map(|p| ItemIdx::new(p as u32)))
                    .collect()
            })
            .collect();
        let targets: Vec<Option<usize>> =
            cases.iter().map(|c| catalog.position(&c.target)).collect();
        let score = |lists: Vec<Vec<usize>>| {
            HitMetrics::from(groundrec_sasrec::RankMetrics::from_ranks(
                lists
                    .iter()
                    .zip(&targets)
                    .map(|(l, t)| t.and_then(|t| l.iter().position(|p| *p == t))),
                10,
            ))
        };
        let kinds = [ListKind::Fair, ListKind::Popularity];
        let mut sets = self.position_lists(&histories, 10, &kinds)?.into_iter();
        let mut next = || score(sets.next().unwrap_or_default());
        let (lists, popularity) = (next(), next());
        Ok(Evaluation {
            cases: cases.len(),
            lists,
            popularity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Item;

    #[test]
    fn cases_hold_out_each_users_last_item_by_id() {
        let items = (0..4).map(|i| Item::new(format!("i{i}"), format!("t{i}"), ""));
        let (catalog, _) = Catalog::from_items(items).expect("catalogue");
        let ev = |u: &str, i: &str, t| Event {
            user: u.into(),
            item: i.into(),
            timestamp: t,
            event_type: None,
        };
        let events = [
            ev("a", "i2", 3),
            ev("a", "i0", 1),
            ev("a", "i1", 2),
            ev("b", "i3", 1),
        ];
        let cases = holdout_cases(&catalog, &events).expect("cases");
        assert_eq!(
            cases,
            [HoldoutCase {
                user: "a".into(),
                history: vec!["i0".into(), "i1".into()],
                target: "i2".into()
            }]
        );
    }
}
