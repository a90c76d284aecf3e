//! The progress line of long solves: an `indicatif` spinner on stderr that appears only once a solve has
//! run for a second, and only when stderr is a terminal (scripts and pipes see nothing).

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a solve runs before its progress line appears.
pub const DELAY: Duration = Duration::from_secs(1);

/// Runs `work` with a progress line that shows `message` (updated by `work` through the bar it is handed)
/// from [`DELAY`] on, and erases it when `work` returns.
pub fn with_progress<R>(message: &str, work: impl FnOnce(&ProgressBar) -> R) -> R {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    let style = ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_message(message.to_string());
    let (done, wait) = mpsc::channel::<()>();
    let out = std::thread::scope(|s| {
        let shown = bar.clone();
        s.spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(DELAY) {
                shown.set_draw_target(ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(120));
            }
        });
        let out = work(&bar);
        drop(done);
        out
    });
    bar.finish_and_clear();
    out
}
