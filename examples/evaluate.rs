//! Quality on real data: MovieLens-100K (titles, genres, years; 100,000 ratings of 943 users),
//! one protocol for every figure, beside RecBole's SASRec.
//!
//! ```text
//! scripts/evaluate ml100k [--epochs N] [--id-dropout P] [--history-windows true|false]
//!                         [--loss auto|full|sampledN] [--recbole-split] [--hashing]
//!                         [--item-text title-keywords|title-description|keywords|keyword-mean]
//!                         [--cold-start | --cold-start-only] [--quiet]
//! cargo run --release --example evaluate -- ml100k [--data data/ml-100k] [--models models]
//! ```
//!
//! Protocol (RecBole's `LS: valid_and_test`, order by time): each user's ratings in time order,
//! the last one held out for test, the second-last for validation (early stopping), the rest
//! for training; full ranking over all 1,682 movies minus everything in the user's input
//! history. The recommender has the pipeline's defaults ([`Pipeline::sasrec_defaults`]) unless a
//! flag changes one. Figures: the pipeline's content-aware SASRec, SASRec on ids only (same settings,
//! same split), the pipeline's final lists (fair re-ranking), popularity, and RecBole's SASRec
//! with its defaults (run once by `../shared/anchors/sasrec_recbole_ml100k.py`; its JSON line
//! is kept in `docs/anchors/recbole_ml100k.json`).
//!
//! RecBole's two figures come from `docs/anchors/`: `recbole_ml100k.json` is the anchor's own
//! run (RecBole's rule), `recbole_ml100k_both_rules.json` the same model retrained by
//! `scripts/recbole_ml100k.py` and ranked both ways (its RecBole-rule figure reproduces the
//! anchor's). The last line compares like with like: every figure there masks the input.
//!
//! One protocol with RecBole's:
//! - **Order.** RecBole min-max normalises every float column, the timestamp too, and keeps it
//!   as float32, so timestamps about a second apart can become equal; it then sorts stably, so
//!   such ratings keep the file's order. The ratings here are ordered by that same key (see
//!   [`recbole_order`]), so that both hold out the same ratings. `--recbole-split FILE` (made by
//!   `scripts/recbole_split.py` from RecBole's own data pipeline; `scripts/evaluate ml100k
//!   --recbole-split` runs it) checks, user by user, the test and validation targets and the
//!   test input (RecBole's last 50).
//! - **Ranking.** RecBole's full ranking for sequential models masks nothing but its padding
//!   id: a movie the user rated competes with the target. Both models are therefore ranked
//!   under both rules (`mask_input(false)` for RecBole's), as RecBole's model is, and each
//!   figure is compared with RecBole's under the same rule.
//!
//! Cold start (`--cold-start`): 10 % of the movies (seeded draw) lose every rating from
//! training; each user's first rating of one of them is then asked for, from the user's
//! earlier ratings of other movies, by the content-aware pipeline, SASRec on ids only and
//! popularity, under the same full-ranking rule.

mod common;

use common::{arg, flag, root, Bars};
use groundrec::sasrec::{Dataset, EvalParams, ItemIdx, Split};
use groundrec::{
    holdout_cases, read_movielens, Catalog, Event, HoldoutCase, Pipeline, PipelineValidParams,
};
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Orders ratings the way RecBole 1.2.1 does: the timestamp min-max normalised in float64,
/// then kept as float32 (its `normalize_all` and tensor conversion); ties keep the file order
/// (the pipeline's own tie rule). Returns how many distinct timestamps merged.
fn recbole_order(events: &mut [Event]) -> usize {
    let (lo, hi) = events.iter().fold((i64::MAX, i64::MIN), |(lo, hi), e| {
        (lo.min(e.timestamp), hi.max(e.timestamp))
    });
    let span = (hi - lo).max(1) as f64;
    let before: std::collections::HashSet<i64> = events.iter().map(|e| e.timestamp).collect();
    for e in events.iter_mut() {
        // Non-negative floats order as their bits do.
        e.timestamp = i64::from((((e.timestamp - lo) as f64 / span) as f32).to_bits());
    }
    let after: std::collections::HashSet<i64> = events.iter().map(|e| e.timestamp).collect();
    before.len() - after.len()
}

/// Checks the held-out cases against RecBole's split (`scripts/recbole_split.py`: user, validation
/// target, test target, test input), returning how many users agree in all three, and the
/// number of users in the file.
fn check_recbole_split(
    cases: &[HoldoutCase],
    path: &std::path::Path,
) -> Result<(usize, usize), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: {e} (scripts/evaluate ml100k --recbole-split makes it)",
            path.display()
        )
    })?;
    let theirs: std::collections::HashMap<&str, Vec<&str>> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0], f)
        })
        .collect();
    let same = cases
        .iter()
        .filter(|c| {
            theirs.get(c.user.as_str()).is_some_and(|f| {
                let input: Vec<&str> = f.get(3).map_or(vec![], |s| s.split(' ').collect());
                let ours: Vec<&str> = c.history.iter().map(String::as_str).collect();
                f.len() == 4
                    && f[2] == c.target
                    && c.history.last().is_some_and(|v| v == f[1])
                    && ours[ours.len().saturating_sub(input.len())..] == input[..]
                    && input.len() == ours.len().min(50)
            })
        })
        .count();
    Ok((same, theirs.len()))
}

/// The pipeline serving with `slots` of each list kept for items without training events.
fn with_new_item_slots(
    fitted: &groundrec::FittedPipeline,
    slots: usize,
) -> Result<groundrec::FittedPipeline, Box<dyn std::error::Error>> {
    let mut f = fitted.clone();
    f.set_fair(groundrec::FairSettings {
        new_item_slots: slots,
        ..fitted.config().fair
    })?;
    Ok(f)
}

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
    for slots in [1, 2] {
        let e = with_new_item_slots(&fitted, slots)?.evaluate(&cases)?;
        println!(
            "    {slots} new-item slot{}      HR@10 {:.4}",
            if slots == 1 { " " } else { "s" },
            e.lists.hr_at_10
        );
    }
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
        eprintln!("usage: evaluate ml100k [--data DIR] [--models DIR] [--epochs N] [--id-dropout P] [--history-windows true|false] [--loss auto|full|sampledN] [--recbole-split FILE] [--hashing] [--cold-start | --cold-start-only] [--quiet]");
        std::process::exit(2);
    }
    groundrec::set_threads(2)?;
    let data_dir = arg("--data").map_or_else(|| root().join("data/ml-100k"), Into::into);
    let (catalog, mut events) = read_movielens(&data_dir)
        .map_err(|e| format!("{e} (scripts/setup unpacks MovieLens-100K into data/ml-100k)"))?;
    let merged = recbole_order(&mut events);
    eprintln!("order: RecBole's (float32 timestamps: {merged} distinct timestamps merge with a neighbour)");
    let epochs: Option<usize> = arg("--epochs").map(|s| s.parse()).transpose()?;
    eprintln!(
        "MovieLens-100K: {} movies, {} ratings",
        catalog.len(),
        events.len()
    );

    // The pipeline's own recommender settings, so the figures are the defaults' figures.
    let mut sasrec = Pipeline::sasrec_defaults();
    if let Some(e) = epochs {
        sasrec = sasrec.epochs(e);
    }
    if let Some(p) = arg("--id-dropout") {
        sasrec = sasrec.id_dropout(p.parse()?);
    }
    if let Some(w) = arg("--history-windows") {
        sasrec = sasrec.history_windows(w.parse()?);
    }
    match arg("--loss").as_deref() {
        None | Some("auto") => {}
        Some("full") => sasrec = sasrec.loss(groundrec::sasrec::Loss::FullSoftmax),
        Some(n) => {
            let negatives = n
                .strip_prefix("sampled")
                .ok_or("--loss auto|full|sampledN")?
                .parse()?;
            sasrec = sasrec.loss(groundrec::sasrec::Loss::SampledSoftmax { negatives })
        }
    }
    let mut params = Pipeline::builder().sasrec(sasrec);
    if let Some(text) = arg("--item-text") {
        params = params.item_text(text.parse()?);
    }
    let params = common::demo_embedder(params).check()?;
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
    if let Some(path) = arg("--recbole-split") {
        let (same, theirs) = check_recbole_split(&cases, path.as_ref())?;
        println!(
            "split: {same} of {} users hold out RecBole's test and validation ratings after its input ({theirs} users in {path})",
            cases.len()
        );
        if same != cases.len() || theirs != cases.len() {
            return Err("the split is not RecBole's".into());
        }
    }
    let data = id_dataset(&catalog, &cases)?;
    let full = EvalParams::full();
    let unmasked = full.mask_input(false);
    let content = fitted.recommender().evaluate(&data.test, &full)?;
    let content_rb = fitted.recommender().evaluate(&data.test, &unmasked)?;
    let (id_only, _) = params.sasrec().fit(&data)?;
    let id_only_rb = id_only.evaluate(&data.test, &unmasked)?;
    let id_only = id_only.evaluate(&data.test, &full)?;
    let served = fitted.evaluate(&cases)?;

    // RecBole's figures: its own run (its rule), and the same model ranked both ways.
    let read = |name: &str| -> Result<serde_json::Value, Box<dyn std::error::Error>> {
        let path = root().join("docs/anchors").join(name);
        Ok(serde_json::from_str(
            &std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?,
        )?)
    };
    // NDCG@10 must be there (the figure compared); HR@10 is shown when it is.
    let pair = |v: &serde_json::Value, what: &str| -> Result<(f64, f64), String> {
        let ndcg = v["ndcg@10"]
            .as_f64()
            .ok_or_else(|| format!("no ndcg@10 in {what}"))?;
        Ok((ndcg, v["hit@10"].as_f64().unwrap_or(f64::NAN)))
    };
    let (recbole_ndcg, recbole_hr) = pair(
        &read("recbole_ml100k.json")?["test_full"],
        "recbole_ml100k.json test_full",
    )?;
    let (rbm_ndcg, rbm_hr) = pair(
        &read("recbole_ml100k_both_rules.json")?["test_full"]["masked"],
        "recbole_ml100k_both_rules.json test_full.masked",
    )?;

    let m =
        |e: &groundrec::sasrec::Evaluation| e.full.map_or((f64::NAN, f64::NAN), |m| (m.ndcg, m.hr));
    let (c_ndcg, c_hr) = m(&content);
    let (i_ndcg, i_hr) = m(&id_only);
    let (crb_ndcg, crb_hr) = m(&content_rb);
    let (irb_ndcg, irb_hr) = m(&id_only_rb);
    println!(
        "{} users held out (last rating; second-last for validation)",
        data.test.len()
    );
    println!("                                 input masked (serving)    nothing masked (RecBole's rule)");
    println!("content-aware SASRec (pipeline)  NDCG@10 {c_ndcg:.4}  HR@10 {c_hr:.4}  NDCG@10 {crb_ndcg:.4}  HR@10 {crb_hr:.4}");
    println!("SASRec on ids only               NDCG@10 {i_ndcg:.4}  HR@10 {i_hr:.4}  NDCG@10 {irb_ndcg:.4}  HR@10 {irb_hr:.4}");
    println!(
        "final lists (fair re-ranking)    NDCG@10 {:.4}  HR@10 {:.4}  (report: {:.4} / {:.4})",
        served.lists.ndcg_at_10,
        served.lists.hr_at_10,
        holdout.lists.ndcg_at_10,
        holdout.lists.hr_at_10
    );
    let slot = with_new_item_slots(&fitted, 1)?.evaluate(&cases)?;
    println!(
        "  with 1 new-item slot           NDCG@10 {:.4}  HR@10 {:.4}",
        slot.lists.ndcg_at_10, slot.lists.hr_at_10
    );
    println!(
        "popularity                       NDCG@10 {:.4}  HR@10 {:.4}",
        served.popularity.ndcg_at_10, served.popularity.hr_at_10
    );
    println!(
        "RecBole SASRec (its defaults)    NDCG@10 {rbm_ndcg:.4}  HR@10 {rbm_hr:.4}  NDCG@10 {recbole_ndcg:.4}  HR@10 {recbole_hr:.4}  (docs/anchors)"
    );
    println!(
        "ours / RecBole's NDCG@10: {:.2} with the input masked, {:.2} under RecBole's rule",
        c_ndcg / rbm_ndcg,
        crb_ndcg / recbole_ndcg
    );
    if flag("--cold-start") {
        cold_start(&catalog, &events, &params, observer)?;
    }
    println!(
        "evaluate ml100k: ours NDCG@10 {c_ndcg:.4} HR@10 {c_hr:.4} lists NDCG@10 {:.4} HR@10 {:.4} popularity NDCG@10 {:.4} recbole NDCG@10 {rbm_ndcg:.4}",
        served.lists.ndcg_at_10, served.lists.hr_at_10, served.popularity.ndcg_at_10
    );
    Ok(())
}
