//! Progress of a fit on stderr: a bar for each stage that counts (keywords, embeddings,
//! epochs), a spinner for the rest, and a closing line per stage. Nothing with `--quiet`.

use std::sync::Mutex;

use groundrec::sasrec::EpochLog;
use groundrec::{Observer, Stage};
use indicatif::{ProgressBar, ProgressStyle};

/// The command line's [`Observer`].
#[derive(Debug, Default)]
pub struct Progress {
    current: Mutex<Option<ProgressBar>>,
}

impl Progress {
    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Ok(guard) = self.current.lock() {
            if let Some(bar) = guard.as_ref() {
                f(bar);
            }
        }
    }
}

impl Observer for Progress {
    fn stage(&self, stage: Stage) {
        let bar = ProgressBar::new_spinner().with_message(stage.to_string());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {msg:>12} {wide_bar} {pos}/{len} {eta}")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        if let Ok(mut guard) = self.current.lock() {
            *guard = Some(bar);
        }
    }

    fn progress(&self, _stage: Stage, done: usize, total: usize) {
        self.with_bar(|bar| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        });
    }

    fn epoch(&self, log: &EpochLog) {
        let line = log.to_string();
        let mut shown = false;
        self.with_bar(|bar| {
            bar.println(&line);
            shown = true;
        });
        if !shown {
            eprintln!("{line}");
        }
    }

    fn stage_done(&self, stage: Stage, seconds: f64) {
        if let Ok(mut guard) = self.current.lock() {
            if let Some(bar) = guard.take() {
                bar.finish_and_clear();
            }
        }
        eprintln!("groundrec: {stage} in {seconds:.1} s");
    }
}
