//! How the whole `Pipeline::fit` scales with the catalogue: seconds per stage and peak
//! resident memory for a generated catalogue of `--items N` Korean and English lectures with
//! about 10 events per item, fitted with the default pipeline (multilingual-e5-small at
//! `Precision::Auto`, ko-dic keywords). One fit per process, so the peak memory is this fit's.
//!
//! ```text
//! cargo bench --bench fit_scaling -- --items 10000 [--events-per-item 10] [--epochs N] [--models DIR]
//!     [--item-text T] [--hashing] [--dense-updates] [--quiet]
//! ```
//!
//! `--hashing` embeds with feature hashing instead of the model (the SASRec stage without the
//! encoder's hours); `--dense-updates` turns `row_updates` off, to compare plain Adam;
//! `--item-text` (`title-keywords`, `title-description`, `keywords`, `keyword-mean`) sets
//! [`groundrec::ItemText`].
//!
//! On stderr, unless `--quiet`: a line when each stage begins and ends (seconds, peak memory so
//! far), one per tenth of a stage's work and one per training epoch, with the time since the
//! start, so that a run stopped early still says where its time went.
//!
//! The catalogue repeats the 288 demo lectures as separate courses, each copy's titles and
//! descriptions marked with its part number ("part 7", "7부"), so every text is distinct. One
//! JSON line at the end: items, events, seconds per stage, total, peak RSS (MiB), and the
//! held-out NDCG@10 / HR@10 of the model and of the lists (leave-one-out, as the report).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use groundrec::sasrec::EpochLog;
use groundrec::{simulate_learners, Catalog, DemoLearners, Item, Observer, Pipeline, Stage};

/// The examples' helpers: command-line arguments, the demo catalogue, the demo's embedder.
#[path = "../examples/common/mod.rs"]
mod common;

use common::{arg, flag};

/// Peak resident memory of this process so far (`VmHWM`), MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Lines on stderr as the fit goes (see the file's docs).
struct Lines {
    start: Instant,
    /// The last tenth of the current stage's work reported.
    tenth: AtomicUsize,
}

impl Lines {
    fn say(&self, what: std::fmt::Arguments<'_>) {
        eprintln!(
            "[{:7.1} s] {what} (peak RSS {:.0} MiB)",
            self.start.elapsed().as_secs_f64(),
            peak_rss_mib()
        );
    }
}

impl Observer for Lines {
    fn stage(&self, stage: Stage) {
        self.tenth.store(0, Ordering::Relaxed);
        self.say(format_args!("{stage} begins"));
    }
    fn progress(&self, stage: Stage, done: usize, total: usize) {
        let tenth = done * 10 / total.max(1);
        if tenth > self.tenth.fetch_max(tenth, Ordering::Relaxed) {
            self.say(format_args!("{stage}: {done} of {total}"));
        }
    }
    fn epoch(&self, log: &EpochLog) {
        let valid = log.valid.as_ref().and_then(|v| v.full).map(|m| m.ndcg);
        self.say(format_args!(
            "sasrec epoch {}: loss {:.4}, {:.1} s{}",
            log.epoch,
            log.loss,
            log.seconds,
            valid.map_or(String::new(), |n| format!(", validation NDCG@10 {n:.4}"))
        ));
        let p = &log.phases;
        self.say(format_args!(
            "  phases: sampling {:.1}, forward {:.1}, backward {:.1}, update {:.1} s",
            p.sampling, p.forward, p.backward, p.update
        ));
    }
    fn stage_done(&self, stage: Stage, seconds: f64) {
        self.say(format_args!("{stage} done in {seconds:.1} s"));
    }
}

/// `n` lectures: the demo catalogue repeated, copy `r` as its own courses.
fn catalogue(n: usize) -> Result<Catalog, Box<dyn std::error::Error>> {
    let demo = common::demo_catalog()?;
    let base = demo.items();
    let items: Vec<Item> = (0..n)
        .map(|k| {
            let (r, it) = (k / base.len(), &base[k % base.len()]);
            let mut item = it.clone();
            item.id = format!("S{k:06}");
            if r > 0 {
                item.title = format!("{} (part {r}, {r}부)", it.title);
                item.description =
                    format!("{} Part {r} of the series. 시리즈 {r}부.", it.description);
                if let Some(c) = it.extra.get("course").and_then(|v| v.as_str()) {
                    item.extra
                        .insert("course".into(), format!("{c} #{r}").into());
                }
            }
            item
        })
        .collect();
    Ok(Catalog::from_items(items)?.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--bench") && arg("--items").is_none() {
        eprintln!("fit_scaling: pass --items N (see the file's docs); skipping");
        return Ok(());
    }
    let n: usize = arg("--items").ok_or("--items N is required")?.parse()?;
    let per_item: usize = arg("--events-per-item").map_or(Ok(10), |s| s.parse())?;
    groundrec::set_threads(2)?;
    let catalog = catalogue(n)?;
    // The simulated learners take 6 to 30 lectures, 18 on average.
    let log = simulate_learners(
        &catalog,
        &DemoLearners {
            learners: (n * per_item / 18).max(1),
            ..Default::default()
        },
    );
    let mut sasrec = Pipeline::sasrec_defaults();
    if let Some(e) = arg("--epochs") {
        sasrec = sasrec.epochs(e.parse()?);
    }
    if flag("--dense-updates") {
        sasrec = sasrec.row_updates(false);
    }
    let mut params = Pipeline::builder().sasrec(sasrec);
    if let Some(text) = arg("--item-text") {
        params = params.item_text(text.parse()?);
    }
    let params = common::demo_embedder(params).check()?;
    let before = peak_rss_mib();
    let t = Instant::now();
    let lines = Lines {
        start: t,
        tenth: AtomicUsize::new(0),
    };
    let quiet = flag("--quiet");
    let observer: &dyn Observer = if quiet { &() } else { &lines };
    let (_, report) = params.fit_observed(&catalog, &log.events, observer)?;
    let total = t.elapsed().as_secs_f64();
    let stages: Vec<String> = report
        .timings
        .iter()
        .map(|s| format!("\"{}\": {:.1}", s.step, s.seconds))
        .collect();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_default();
    eprintln!("cpu: {cpu}");
    eprintln!("{}", report.embedder);
    let held = report.holdout.as_ref().map_or("null".to_string(), |h| {
        format!(
            "{{\"users\": {}, \"model_ndcg10\": {:.4}, \"model_hr10\": {:.4}, \"lists_ndcg10\": {:.4}, \"lists_hr10\": {:.4}}}",
            h.users, h.model.ndcg_at_10, h.model.hr_at_10, h.lists.ndcg_at_10, h.lists.hr_at_10
        )
    });
    println!(
        "{{\"bench\": \"fit_scaling\", \"items\": {n}, \"events\": {}, \"epochs_run\": {}, \"row_updates\": {}, \"stages_s\": {{{}}}, \"total_s\": {total:.1}, \"peak_rss_mib_before\": {before:.0}, \"peak_rss_mib\": {:.0}, \"holdout\": {held}}}",
        log.events.len(),
        report.training.len(),
        params.config().sasrec.row_updates(),
        stages.join(", "),
        peak_rss_mib()
    );
    Ok(())
}
