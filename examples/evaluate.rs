//! Quality on real data: MovieLens-100K (titles, genres, years; 100,000 ratings of 943 users),
//! one protocol for every figure, beside RecBole's SASRec.
//!
//! ```text
//! scripts/evaluate ml100k [--epochs N] [--id-dropout P] [--hashing] [--cold-start | --cold-start-only] [--quiet]
//! cargo run --release --example evaluate -- ml100k [--data data/ml-100k] [--models models]
//! ```
//!
//! Protocol (RecBole's `LS: valid_and_test`, order by time): each user's ratings in time order,
//! the last one held out for test, the second-last for validation (early stopping), the rest
//! for training; full ranking over all 1,682 movies minus everything in the user's input
//! history. Figures: the pipeline's content-aware SASRec, SASRec on ids only (same settings,
//! same split), the pipeline's final lists (fair re-ranking), popularity, and RecBole's SASRec
//! with its defaults (run once by `../shared/anchors/sasrec_recbole_ml100k.py`; its JSON line
//! is kept in `docs/anchors/recbole_ml100k.json`).
//!
//! Cold start (`--cold-start`): 10 % of the movies (seeded draw) lose every rating from
//! training; each user's first rating of one of them is then asked for, from the user's
//! earlier ratings of other movies, by the content-aware pipeline, SASRec on ids only and
//! popularity, under the same full-ranking rule.

mod common;

use common::{arg, flag, root, Bars};
use groundrec::sasrec::{Dataset, EvalParams, ItemIdx, SasRec, Split};
use groundrec::{
    holdout_cases, read_movielens, Catalog, Event, HoldoutCase, Pipeline, PipelineValidParams,
};
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Held-out cases by id as a sasrec dataset over the whole catalogue (each case's history and
/// target as one sequence, split leave-one-out again), for SASRec's own training and ranking.
fn id_dataset(
    catalog: &Catalog,
    cases: &[HoldoutCase],
) -> Result<Dataset, Box<dyn std::error::Error>> {
    let ids: Vec<String> = catalog.items().iter().map(|i| i.id.clone()).collect();
    let seqs: Vec<Vec<ItemIdx>> = cases
        .iter()
        .map(|c| {
            c.history
                .iter()
                .chain([&c.target])
                .filter_map(|id| catalog.position(id).map(|p| ItemIdx::new(p as u32)))
                .collect()
        })
        .collect();
    Ok(Dataset::from_sequences(ids, seqs, Split::LeaveOneOut)?)
}

/// The cold-start check (see the module docs); prints one line per way of ranking.
fn cold_start(
    catalog: &Catalog,
    events: &[Event],
    params: &PipelineValidParams,
    observer: &dyn groundrec::Observer,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut ids: Vec<&str> = catalog.items().iter().map(|i| i.id.as_str()).collect();
    ids.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(11));
    let cold: std::collections::HashSet<&str> = ids[..catalog.len() / 10].iter().copied().collect();
    let warm: Vec<Event> = events
        .iter()
        .filter(|e| !cold.contains(e.item.as_str()))
        .cloned()
        .collect();
    // Each user's first cold rating, asked for from the warm ratings before it.
    let mut by_user: std::collections::BTreeMap<&str, Vec<(i64, usize, &Event)>> =
        Default::default();
    for (n, e) in events.iter().enumerate() {
        by_user
            .entry(e.user.as_str())
            .or_default()
            .push((e.timestamp, n, e));
    }
    let mut cases = Vec::new();
    for (user, mut rated) in by_user {
        rated.sort_by_key(|r| (r.0, r.1));
        let Some(at) = rated.iter().position(|r| cold.contains(r.2.item.as_str())) else {
            continue;
        };
        let history: Vec<String> = rated[..at]
            .iter()
            .filter(|r| !cold.contains(r.2.item.as_str()))
            .map(|r| r.2.item.clone())
            .collect();
        if !history.is_empty() {
            cases.push(HoldoutCase {
                user: user.to_string(),
                history,
                target: rated[at].2.item.clone(),
            });
        }
    }
    let (fitted, _) = params.fit_observed(catalog, &warm, observer)?;
    let pos = |id: &str| catalog.position(id).map(|p| ItemIdx::new(p as u32));
    let eval_cases: Vec<groundrec::sasrec::EvalCase> = cases
        .iter()
        .enumerate()
        .filter_map(|(u, c)| {
            let input: Vec<ItemIdx> = c.history.iter().filter_map(|i| pos(i)).collect();
            Some(groundrec::sasrec::EvalCase {
                user: u,
                history: input.clone(),
                input,
                target: pos(&c.target)?,
            })
        })
        .collect();
    // SASRec on ids only, trained on the same warm sequences (cold movies keep untrained rows).
    let data = id_dataset(catalog, &holdout_cases(catalog, &warm)?)?;
    let (id_only, _) = params.sasrec().fit(&data)?;
    let full = EvalParams::full();
    let hr = |e: groundrec::sasrec::Evaluation| e.full.map_or(f64::NAN, |m| m.hr);
    let content_hr = hr(fitted.recommender().evaluate(&eval_cases, &full)?);
    let id_hr = hr(id_only.evaluate(&eval_cases, &full)?);
    let served = fitted.evaluate(&cases)?;
    // The same cases ranked among the new movies only (a "new arrivals" shelf): the rank of
    // the target among the cold movies outside the history, ties counted against it.
    let cold_pos: Vec<usize> = cold.iter().filter_map(|id| catalog.position(id)).collect();
    let among_new =
        |m: &groundrec::sasrec::SasRecModel| -> Result<(f64, f64), Box<dyn std::error::Error>> {
            let inputs: Vec<Vec<ItemIdx>> = eval_cases.iter().map(|c| c.input.clone()).collect();
            let scores = m.scores(&inputs)?;
            let mut chance = 0.0;
            let ranks: Vec<Option<usize>> = eval_cases
                .iter()
                .zip(scores.rows())
                .map(|(c, row)| {
                    let t = c.target.index();
                    let seen: std::collections::HashSet<usize> =
                        c.history.iter().map(|i| i.index()).collect();
                    let pool: Vec<usize> = cold_pos
                        .iter()
                        .copied()
                        .filter(|p| !seen.contains(p))
                        .collect();
                    chance += 10f64.min(pool.len() as f64) / pool.len().max(1) as f64;
                    Some(pool.iter().filter(|&&p| p != t && row[p] >= row[t]).count())
                })
                .collect();
            let hr = groundrec::sasrec::RankMetrics::from_ranks(ranks, 10).hr;
            Ok((hr, chance / eval_cases.len().max(1) as f64))
        };
    let (content_new, chance) = among_new(fitted.recommender())?;
    let (id_new, _) = among_new(&id_only)?;
    println!(
        "cold start: {} movies without training ratings, {} users asking for one",
        cold.len(),
        cases.len()
    );
    println!("                        all movies   among the new movies");
    println!("  content-aware SASRec  HR@10 {content_hr:.4}  HR@10 {content_new:.4}");
    println!("  SASRec on ids only    HR@10 {id_hr:.4}  HR@10 {id_new:.4}");
    println!("  final lists           HR@10 {:.4}", served.lists.hr_at_10);
    println!(
        "  popularity            HR@10 {:.4}  (no ratings: no order among the new movies)",
        served.popularity.hr_at_10
    );
    println!("  chance                             HR@10 {chance:.4}");
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let which = std::env::args().nth(1).unwrap_or_default();
    if which != "ml100k" {
        eprintln!("usage: evaluate ml100k [--data DIR] [--models DIR] [--epochs N] [--id-dropout P] [--hashing] [--cold-start | --cold-start-only] [--quiet]");
        std::process::exit(2);
    }
    groundrec::set_threads(2)?;
    let data_dir = arg("--data").map_or_else(|| root().join("data/ml-100k"), Into::into);
    let (catalog, events) = read_movielens(&data_dir)
        .map_err(|e| format!("{e} (scripts/setup unpacks MovieLens-100K into data/ml-100k)"))?;
    let epochs: Option<usize> = arg("--epochs").map(|s| s.parse()).transpose()?;
    eprintln!(
        "MovieLens-100K: {} movies, {} ratings",
        catalog.len(),
        events.len()
    );

    let mut sasrec = SasRec::params();
    if let Some(e) = epochs {
        sasrec = sasrec.epochs(e);
    }
    if let Some(p) = arg("--id-dropout") {
        sasrec = sasrec.id_dropout(p.parse()?);
    }
    let params = common::demo_embedder(Pipeline::builder().sasrec(sasrec)).check()?;
    let bars = Bars::default();
    let observer: &dyn groundrec::Observer = if flag("--quiet") { &() } else { &bars };
    if flag("--cold-start-only") {
        return cold_start(&catalog, &events, &params, observer);
    }
    let (fitted, report) = params.fit_observed(&catalog, &events, observer)?;
    let holdout = report.holdout.as_ref().ok_or("the fit held nothing out")?;

    // The same split by id, rebuilt as a sasrec dataset (every user here has >= 20 ratings,
    // so the held-out cases cover every user), for the two models' own full ranking.
    let cases = holdout_cases(&catalog, &events)?;
    let data = id_dataset(&catalog, &cases)?;
    let full = EvalParams::full();
    let content = fitted.recommender().evaluate(&data.test, &full)?;
    let (id_only, _) = params.sasrec().fit(&data)?;
    let id_only = id_only.evaluate(&data.test, &full)?;
    let served = fitted.evaluate(&cases)?;

    let anchor_path = root().join("docs/anchors/recbole_ml100k.json");
    let anchor: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&anchor_path)?)?;
    let recbole_ndcg = anchor["test_full"]["ndcg@10"]
        .as_f64()
        .ok_or("no test_full.ndcg@10")?;
    let recbole_hr = anchor["test_full"]["hit@10"].as_f64().unwrap_or(f64::NAN);

    let m =
        |e: &groundrec::sasrec::Evaluation| e.full.map_or((f64::NAN, f64::NAN), |m| (m.ndcg, m.hr));
    let (c_ndcg, c_hr) = m(&content);
    let (i_ndcg, i_hr) = m(&id_only);
    println!(
        "{} users held out (last rating; second-last for validation)",
        data.test.len()
    );
    println!("content-aware SASRec (pipeline)  NDCG@10 {c_ndcg:.4}  HR@10 {c_hr:.4}");
    println!("SASRec on ids only               NDCG@10 {i_ndcg:.4}  HR@10 {i_hr:.4}");
    println!(
        "final lists (fair re-ranking)    NDCG@10 {:.4}  HR@10 {:.4}  (report: {:.4} / {:.4})",
        served.lists.ndcg_at_10,
        served.lists.hr_at_10,
        holdout.lists.ndcg_at_10,
        holdout.lists.hr_at_10
    );
    println!(
        "popularity                       NDCG@10 {:.4}  HR@10 {:.4}",
        served.popularity.ndcg_at_10, served.popularity.hr_at_10
    );
    println!(
        "RecBole SASRec (its defaults)    NDCG@10 {recbole_ndcg:.4}  HR@10 {recbole_hr:.4}  ({})",
        anchor_path.display()
    );
    if flag("--cold-start") {
        cold_start(&catalog, &events, &params, observer)?;
    }
    println!(
        "evaluate ml100k: ours NDCG@10 {c_ndcg:.4} HR@10 {c_hr:.4} lists NDCG@10 {:.4} HR@10 {:.4} popularity NDCG@10 {:.4} recbole NDCG@10 {recbole_ndcg:.4}",
        served.lists.ndcg_at_10, served.lists.hr_at_10, served.popularity.ndcg_at_10
    );
    Ok(())
}
