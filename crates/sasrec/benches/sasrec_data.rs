//! Bench binary for `scripts/compare sasrec` and the quality figures in docs/benchmarks.md:
//! trains SASRec on the SASRec benchmark data (`../shared/data/sasrec`, see its
//! PROVENANCE.txt) and prints per-epoch lines on stderr and one JSON line on stdout.
//!
//! ```text
//! cargo bench -p groundrec-sasrec --bench sasrec_data -- --data DIR \
//!     [--dataset video|ml1m] [--loss bce|gbce:K:T|ssm:K|full] [--epochs 5] [--eval-every 0] \
//!     [--patience 0] [--select full|sampled] [--threads 2] [--seed 42] [--batch-size 128] \
//!     [--lr 1e-3] [--schedule constant|cosine] [--hidden 50] [--blocks 2] [--heads 1] \
//!     [--maxlen (50 video / 200 ml1m)] [--dropout (0.5 / 0.2)] \
//!     [--pre-ln] [--attn-out-dropout] [--separate-output] [--item-bias] \
//!     [--per-user | --per-position] [--windows] [--l2 0] [--bce 0] [--ema 0] [--smoothing 0] \
//!     [--buckets 0] [--groups 4] [--train-valid]
//! ```
//!
//! Video: the paper's leave-one-out split, test input = train + validation item.
//! ML-1M (the gSASRec split): training on `train/input.txt` with the 512 validation users cut
//! to `val/input.txt`; validation = those users' `val/output`, test ("test_512") = input
//! `val/input + val/output`, target from `test/output`. Both protocols are reported: the
//! paper's (100 sampled unseen negatives) and full ranking (input history removed).
//! `--select` is the validation protocol early stopping keeps the best epoch by.
//! ML-1M also reports a "gap" test (input `items[:-2]`, target `items[-1]`) for the 512 users
//! and for the 5,528 others, to show how the 512 compare with everyone.
//! `--train-valid` (ML-1M, a diagnostic): also train on the 512 users' validation item, so
//! that a test input is a sequence training has seen; validation then leaks and means nothing.
//! `--attn-out-dropout` also drops out attention outputs (the library's default before
//! 2026-11-30, so every earlier run in docs/experiments.md had it); `--no-attn-out-dropout`
//! is the default and is accepted so that the commands written down then still run.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use groundrec_sasrec::{
    Dataset, EarlyStopping, EpochLog, EvalCase, EvalParams, ItemIdx, Loss, LrSchedule,
    NegativeDraw, Protocol, SasRec, Sequences, TrainObserver,
};

/// Per-epoch lines on stderr as training runs.
struct EpochLines;

impl TrainObserver for EpochLines {
    fn epoch(&self, log: &EpochLog) {
        eprintln!("{log}");
    }
}

struct Args(HashMap<String, String>);

/// Options that take no value.
const FLAGS: &[&str] = &[
    "pre-ln",
    "attn-out-dropout",
    "no-attn-out-dropout",
    "separate-output",
    "item-bias",
    "per-user",
    "per-position",
    "windows",
    "train-valid",
];
/// Options that take one value.
const VALUED: &[&str] = &[
    "data",
    "dataset",
    "loss",
    "epochs",
    "eval-every",
    "patience",
    "select",
    "threads",
    "seed",
    "batch-size",
    "lr",
    "schedule",
    "hidden",
    "blocks",
    "heads",
    "maxlen",
    "dropout",
    "l2",
    "bce",
    "ema",
    "smoothing",
    "buckets",
    "groups",
];

/// Stops the bench with a message and exit status 2 (bad command line).
fn usage_error(msg: &str) -> ! {
    eprintln!("sasrec_data: {msg} (--help lists the options)");
    std::process::exit(2)
}

impl Args {
    /// Parses `--key value` and `--flag` options; unknown options, missing values and
    /// `--help` stop the program instead of being ignored.
    fn parse() -> Self {
        let mut map = HashMap::new();
        let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
        while let Some(a) = it.next() {
            if a == "--help" || a == "-h" {
                let usage: String = include_str!("sasrec_data.rs")
                    .lines()
                    .take_while(|l| l.starts_with("//!"))
                    .map(|l| format!("{}\n", l.trim_start_matches("//!").trim_start()))
                    .collect();
                print!("{usage}");
                std::process::exit(0);
            }
            let Some(key) = a.strip_prefix("--") else {
                usage_error(&format!("unexpected argument {a:?}"))
            };
            let value = if FLAGS.contains(&key) {
                "true".to_string()
            } else if VALUED.contains(&key) {
                it.next()
                    .unwrap_or_else(|| usage_error(&format!("--{key} needs a value")))
            } else {
                usage_error(&format!("unknown option --{key}"))
            };
            map.insert(key.to_string(), value);
        }
        Args(map)
    }
    fn get<T: std::str::FromStr>(&self, key: &str, default: T) -> T {
        match self.0.get(key) {
            None => default,
            Some(v) => v
                .parse()
                .unwrap_or_else(|_| usage_error(&format!("--{key}: cannot parse {v:?}"))),
        }
    }
    fn str(&self, key: &str, default: &str) -> String {
        self.0
            .get(key)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }
}

/// The file's item numbers (1-based) as item indices.
fn read_items(path: &Path) -> Vec<Vec<ItemIdx>> {
    read_lines(path)
        .into_iter()
        .map(|l| l.into_iter().map(|i| ItemIdx::new(i - 1)).collect())
        .collect()
}

fn read_lines(path: &Path) -> Vec<Vec<u32>> {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|e| usage_error(&format!("--data: {}: {e}", path.display())));
    text.lines()
        .enumerate()
        .map(|(n, l)| {
            l.split_whitespace()
                .map(|x| {
                    x.parse().ok().filter(|&i| i > 0).unwrap_or_else(|| {
                        usage_error(&format!(
                            "{}:{}: {x:?} is not an item id",
                            path.display(),
                            n + 1
                        ))
                    })
                })
                .collect()
        })
        .collect()
}

/// The one item of each line of an output file.
fn read_targets(path: &Path) -> Vec<ItemIdx> {
    read_items(path)
        .into_iter()
        .enumerate()
        .map(|(n, l)| match l.as_slice() {
            [item] => *item,
            _ => usage_error(&format!(
                "{}:{}: expected one item id, got {}",
                path.display(),
                n + 1,
                l.len()
            )),
        })
        .collect()
}

/// The ML-1M split with the file's own item numbers (item `k` is index `k - 1`), and the "gap"
/// test cases of the 512 validation users and of the 5,528 others (see [`gap_case`]).
fn load_ml1m(root: &Path, train_valid: bool) -> (Dataset, [Vec<EvalCase>; 2]) {
    let train = read_items(&root.join("train/input.txt"));
    let val_in = read_items(&root.join("val/input.txt"));
    let val_out = read_targets(&root.join("val/output.txt"));
    let test_out = read_targets(&root.join("test/output.txt"));
    if val_in.len() != val_out.len() {
        usage_error(&format!(
            "{}: {} validation inputs but {} outputs",
            root.display(),
            val_in.len(),
            val_out.len()
        ));
    }
    let by_prefix: HashMap<&[ItemIdx], usize> = train
        .iter()
        .enumerate()
        .map(|(u, s)| (s.as_slice(), u))
        .collect();
    let n_items = train
        .iter()
        .chain(&val_in)
        .flatten()
        .chain(&val_out)
        .chain(&test_out)
        .map(|i| i.index() + 1)
        .max()
        .unwrap_or(0);
    let mut data = Dataset {
        items: (1..=n_items).map(|i| i.to_string()).collect(),
        train: train.clone(),
        valid: Vec::new(),
        test: Vec::new(),
    };
    let mut is_valid_user = vec![false; data.train.len()];
    let mut gap_valid = Vec::new();
    for (n, (s, &o)) in val_in.iter().zip(&val_out).enumerate() {
        // A validation user's training line is its validation input minus the last item.
        let (u, target) = s
            .split_last()
            .and_then(|(_, prefix)| by_prefix.get(prefix))
            .and_then(|&u| Some((u, *test_out.get(u)?)))
            .unwrap_or_else(|| {
                usage_error(&format!(
                    "{}: validation user {} has no training line or no test target",
                    root.display(),
                    n + 1
                ))
            });
        is_valid_user[u] = true;
        gap_valid.push(gap_case(u, s, target));
        data.train[u] = s.clone();
        if train_valid {
            data.train[u].push(o);
        }
        let mut history = s.clone();
        history.extend([o, target]);
        data.valid.push(EvalCase {
            user: u,
            input: s.clone(),
            target: o,
            history: history.clone(),
        });
        let mut input = s.clone();
        input.push(o);
        data.test.push(EvalCase {
            user: u,
            input,
            target,
            history,
        });
    }
    let gap_others = (train.iter().zip(&test_out).enumerate())
        .filter(|&(u, (s, _))| !is_valid_user[u] && !s.is_empty())
        .map(|(u, (s, &target))| gap_case(u, s, target))
        .collect();
    (data, [gap_valid, gap_others])
}

/// A test case with a gap: the input is `items[:-2]` and the target `items[-1]`, the one input
/// every ML-1M user has (the split lacks `items[-2]` of the 5,528 users outside validation).
/// Scoring all users this way and the 512 the same way shows whether those 512 are harder
/// than the rest: test_512 is one random draw of 512 users, while gSASRec's published
/// figures average all 6,040. The item in the gap is in no history, for either group.
fn gap_case(user: usize, input: &[ItemIdx], target: ItemIdx) -> EvalCase {
    let mut history = input.to_vec();
    history.push(target);
    EvalCase {
        user,
        input: input.to_vec(),
        target,
        history,
    }
}

fn parse_loss(s: &str) -> Loss {
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        ["bce"] => Loss::Bce,
        ["full"] => Loss::FullSoftmax,
        ["ssm", k] => Loss::SampledSoftmax {
            negatives: k.parse().unwrap_or_else(|_| usage_error("--loss ssm:K")),
        },
        ["gbce", k, t] => Loss::GBce {
            negatives: k.parse().unwrap_or_else(|_| usage_error("--loss gbce:K:T")),
            t: t.parse().unwrap_or_else(|_| usage_error("--loss gbce:K:T")),
        },
        _ => usage_error(&format!(
            "unknown loss {s:?}: bce | gbce:K:T | ssm:K | full"
        )),
    }
}

fn main() {
    let args = Args::parse();
    let dataset = args.str("dataset", "video");
    let root = PathBuf::from(args.str("data", "../shared/data/sasrec"));
    let video = match dataset.as_str() {
        "video" => true,
        "ml1m" => false,
        other => usage_error(&format!("--dataset video|ml1m, got {other:?}")),
    };
    let train_valid = args.get("train-valid", false);
    if video && train_valid {
        usage_error("--train-valid applies to --dataset ml1m only");
    }
    let draw = match (args.get("per-user", false), args.get("per-position", false)) {
        (true, true) => usage_error("--per-user and --per-position exclude each other"),
        (false, true) => NegativeDraw::PerPosition,
        (true, false) => NegativeDraw::PerUser,
        (false, false) => NegativeDraw::PerBatch,
    };
    let loss = parse_loss(&args.str("loss", "bce"));
    let eval_every = args.get("eval-every", 0usize);
    let patience = args.get("patience", 0usize);
    let seed = args.get("seed", 42u64);
    let early = (eval_every > 0).then_some(EarlyStopping {
        every: eval_every,
        patience: if patience == 0 { usize::MAX } else { patience },
        protocol: match args.str("select", "full").as_str() {
            "full" => Protocol::Full,
            "sampled" => Protocol::Sampled { negatives: 100 },
            other => usage_error(&format!("--select full|sampled, got {other:?}")),
        },
        max_users: 10_000,
    });
    // Off by default since 2026-11-30; the runs in docs/experiments.md before then had it on.
    let attn_out_dropout = match (
        args.get("attn-out-dropout", false),
        args.get("no-attn-out-dropout", false),
    ) {
        (true, true) => usage_error("--attn-out-dropout and --no-attn-out-dropout conflict"),
        (on, _) => on,
    };
    let params = SasRec::params()
        .loss(loss)
        .epochs(args.get("epochs", 5))
        .batch_size(args.get("batch-size", 128))
        .learning_rate(args.get("lr", 1e-3))
        .lr_schedule(match args.str("schedule", "constant").as_str() {
            "constant" => LrSchedule::Constant,
            "cosine" => LrSchedule::Cosine,
            other => usage_error(&format!("--schedule constant|cosine, got {other:?}")),
        })
        .hidden(args.get("hidden", 50))
        .blocks(args.get("blocks", 2))
        .heads(args.get("heads", 1))
        .max_len(args.get("maxlen", if video { 50 } else { 200 }))
        .dropout(args.get("dropout", if video { 0.5 } else { 0.2 }))
        .pre_ln(args.get("pre-ln", false))
        .separate_output(args.get("separate-output", false))
        .item_bias(args.get("item-bias", false))
        .attention_output_dropout(attn_out_dropout)
        .length_buckets(args.get("buckets", 0usize))
        .length_groups(args.get("groups", 4usize))
        .negative_draw(draw)
        .history_windows(args.get("windows", false))
        .l2_emb(args.get("l2", 0.0))
        .bce_weight(args.get("bce", 0.0))
        .weight_ema(args.get("ema", 0.0))
        .label_smoothing(args.get("smoothing", 0.0))
        .seed(seed)
        .early_stopping(early)
        .check()
        .unwrap_or_else(|e| usage_error(&format!("invalid parameters: {e}")));
    // Threads are the program's to set: libtorch's for training, rayon's for evaluation.
    let threads = args.get("threads", 2usize);
    tch::set_num_threads(threads as i32);
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
    let t0 = Instant::now();
    let (data, gap) = if video {
        let path = root.join("Video.txt");
        let f = fs::File::open(&path)
            .unwrap_or_else(|e| usage_error(&format!("--data: {}: {e}", path.display())));
        let pairs = Sequences::read_pairs(std::io::BufReader::new(f))
            .unwrap_or_else(|e| usage_error(&format!("{}: {e}", path.display())));
        let data = Dataset::leave_one_out(&pairs)
            .unwrap_or_else(|e| usage_error(&format!("{}: {e}", path.display())));
        (data, Default::default())
    } else {
        load_ml1m(&root.join("ml1m_gsasrec_split"), train_valid)
    };
    let load_s = t0.elapsed().as_secs_f64();
    eprintln!(
        "{dataset}: {} items, {} users, {} test cases, loss {loss:?}",
        data.n_items(),
        data.train.len(),
        data.test.len()
    );
    let (model, report) = params
        .fit_observed(&data, None, &EpochLines)
        .expect("training");
    let t = Instant::now();
    // The test and the gap tests share one protocol, so their figures compare.
    let test_params = EvalParams::paper_and_full().seed(seed + 1);
    let test = model
        .evaluate(&data.test, &test_params)
        .expect("evaluation");
    let eval_s = t.elapsed().as_secs_f64();
    eprintln!("test: {test}");
    let gap: Vec<_> = ["valid_users", "other_users"]
        .into_iter()
        .zip(&gap)
        .filter(|(_, cases)| !cases.is_empty())
        .map(|(name, cases)| {
            let e = model
                .evaluate(cases, &test_params)
                .expect("evaluation");
            eprintln!("gap test, {name}: {e}");
            let m = |x: Option<groundrec_sasrec::RankMetrics>| x.map(|m| [m.hr, m.ndcg]);
            (name.to_string(), serde_json::json!({"users": e.users, "sampled100": m(e.sampled), "full": m(e.full)}))
        })
        .collect();
    let mut secs: Vec<f64> = report.epochs.iter().map(|e| e.seconds).collect();
    secs.sort_by(f64::total_cmp);
    let json = serde_json::json!({
        "bench": "sasrec_rust",
        "dataset": dataset,
        "loss": format!("{loss:?}"),
        "n_items": data.n_items(),
        "test_users": test.users,
        "load_s": load_s,
        "epochs_run": report.epochs.len(),
        "best_epoch": report.best_epoch,
        "sec_per_epoch_median": secs[secs.len() / 2],
        "train_s_total": secs.iter().sum::<f64>(),
        "losses": report.epochs.iter().map(|e| (e.loss * 1e4).round() / 1e4).collect::<Vec<_>>(),
        "sampled100_HR@10": test.sampled.map(|m| m.hr),
        "sampled100_NDCG@10": test.sampled.map(|m| m.ndcg),
        "full_HR@10": test.full.map(|m| m.hr),
        "full_NDCG@10": test.full.map(|m| m.ndcg),
        "coverage@10": test.coverage,
        "eval_s": eval_s,
        "gap_test": gap.into_iter().collect::<serde_json::Map<_, _>>(),
    });
    println!("{json}");
}
