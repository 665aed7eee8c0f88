//! The terminal progress bar of `pollen sim`: simulated time done, sessions
//! so far and the time left, drawn on stderr. Runs of the whole festival or
//! city take minutes; this says how many.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pollen_sim::engine::Progress;
use std::io::IsTerminal;

/// A progress bar for one policy's run, or nothing.
pub struct SimProgress {
    bar: Option<ProgressBar>,
}

impl SimProgress {
    /// A bar for running `policy`, shown only where a person watches: not
    /// with `--json`, and not when stdout is a pipe or a file (the bar
    /// itself goes to stderr, and only if that is a terminal too).
    pub fn new(policy: &str, duration_s: f64, json: bool) -> SimProgress {
        let shown = !json && std::io::stdout().is_terminal();
        SimProgress::with_target(policy, duration_s, shown.then(ProgressDrawTarget::stderr))
    }

    fn with_target(
        policy: &str,
        duration_s: f64,
        target: Option<ProgressDrawTarget>,
    ) -> SimProgress {
        let bar = target.map(|target| {
            let bar = ProgressBar::with_draw_target(Some(duration_s.ceil() as u64), target);
            let style = ProgressStyle::with_template(
                "{prefix} [{bar:30}] {msg} · {elapsed_precise} elapsed, ETA {eta_precise}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(policy.to_owned());
            bar
        });
        SimProgress { bar }
    }

    /// Whether a bar is drawn.
    pub fn shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Takes one report from the engine.
    pub fn update(&self, p: Progress) {
        if let Some(bar) = &self.bar {
            bar.set_position(p.sim_s as u64);
            bar.set_message(format!(
                "{} of {} simulated, {} sessions",
                hms(p.sim_s),
                hms(p.duration_s),
                p.sessions
            ));
        }
    }

    /// Clears the bar once the run is over.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Seconds as `h:mm:ss` (days count as hours).
fn hms(s: f64) -> String {
    let s = s.max(0.0) as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_with_json_or_without_a_terminal() {
        assert!(!SimProgress::new("pollen", 60.0, true).shown());
        // In CI stdout is a pipe; run by hand in a terminal, it is not.
        let terminal = std::io::stdout().is_terminal();
        assert_eq!(SimProgress::new("pollen", 60.0, false).shown(), terminal);
    }

    #[test]
    fn shows_simulated_time_and_sessions() {
        let p = SimProgress::with_target("pollen", 7200.0, Some(ProgressDrawTarget::hidden()));
        assert!(p.shown());
        p.update(Progress {
            sim_s: 3725.0,
            duration_s: 7200.0,
            sessions: 42,
            transmissions: 7,
        });
        let bar = p.bar.as_ref().unwrap();
        assert_eq!(bar.position(), 3725);
        assert_eq!(bar.length(), Some(7200));
        assert_eq!(bar.message(), "1:02:05 of 2:00:00 simulated, 42 sessions");
        assert_eq!(hms(3.0 * 86_400.0), "72:00:00");
    }
}
