//! Showing a long import's progress: a bar per step with counts, rate and ETA on a terminal
//! (indicatif), plain lines when the output is not a terminal (logs, CI), or nothing.

use std::{
    collections::HashMap,
    io::{IsTerminal, Write},
    sync::Mutex,
    time::Instant,
};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::Step;

/// What the runner tells about its progress.
pub trait Progress: Send + Sync {
    /// A step begins (or resumes, with `done` objects already counted).
    fn started(&self, step: Step, done: u64);
    /// A page of `step` was imported: `done` objects so far, of `total` when the source says.
    fn page(&self, step: Step, done: u64, total: Option<u64>);
    /// The step is complete.
    fn finished(&self, step: Step, done: u64);
}

/// The progress display fitting standard error: bars on a terminal, lines otherwise.
pub fn for_stderr() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(Bars::default())
    } else {
        Box::new(Lines::default())
    }
}

/// Shows nothing (tests, `--json`).
#[derive(Debug, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn started(&self, _step: Step, _done: u64) {}
    fn page(&self, _step: Step, _done: u64, _total: Option<u64>) {}
    fn finished(&self, _step: Step, _done: u64) {}
}

/// One line on standard error per page: counts, rate, and the ETA when the total is known.
#[derive(Debug, Default)]
pub struct Lines {
    started: Mutex<HashMap<Step, (Instant, u64)>>,
}

impl Progress for Lines {
    fn started(&self, step: Step, done: u64) {
        if let Ok(mut started) = self.started.lock() {
            started.insert(step, (Instant::now(), done));
        }
        let _ = writeln!(std::io::stderr(), "{}: started", step.as_str());
    }

    fn page(&self, step: Step, done: u64, total: Option<u64>) {
        let (since, first) =
            self.started.lock().ok().and_then(|s| s.get(&step).copied()).unwrap_or((Instant::now(), 0));
        let seconds = since.elapsed().as_secs_f64().max(0.001);
        #[allow(clippy::cast_precision_loss)]
        let rate = done.saturating_sub(first) as f64 / seconds;
        let line = match total {
            Some(total) if rate > 0.0 => {
                #[allow(clippy::cast_precision_loss)]
                let eta = total.saturating_sub(done) as f64 / rate;
                format!("{}: {done}/{total} ({rate:.0}/s, about {eta:.0} s left)", step.as_str())
            }
            Some(total) => format!("{}: {done}/{total}", step.as_str()),
            None => format!("{}: {done} ({rate:.0}/s)", step.as_str()),
        };
        let _ = writeln!(std::io::stderr(), "{line}");
    }

    fn finished(&self, step: Step, done: u64) {
        let _ = writeln!(std::io::stderr(), "{}: done, {done} read", step.as_str());
    }
}

/// A progress bar per step (indicatif), on standard error.
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<Step, ProgressBar>>,
}

impl Default for Bars {
    fn default() -> Self {
        Bars { multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), bars: Mutex::default() }
    }
}

impl Bars {
    fn bar(&self, step: Step) -> Option<ProgressBar> {
        self.bars.lock().ok().and_then(|bars| bars.get(&step).cloned())
    }
}

impl Progress for Bars {
    fn started(&self, step: Step, done: u64) {
        let bar = self.multi.add(ProgressBar::no_length());
        bar.set_style(counting_style());
        bar.set_prefix(step.as_str());
        bar.set_position(done);
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(step, bar);
        }
    }

    fn page(&self, step: Step, done: u64, total: Option<u64>) {
        let Some(bar) = self.bar(step) else { return };
        if let Some(total) = total {
            if bar.length() != Some(total) {
                bar.set_length(total.max(done));
                bar.set_style(bar_style());
            }
        }
        bar.set_position(done);
    }

    fn finished(&self, step: Step, done: u64) {
        if let Some(bar) = self.bar(step) {
            bar.set_position(done);
            bar.finish();
        }
    }
}

/// A bar with counts, rate and ETA, once the total is known.
fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Counts and rate while the total is unknown.
fn counting_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>12} {spinner} {pos} {per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}
