//! Progress bars on standard error for long commands (import of many files, synth): items
//! done, rate and time left. Hidden when standard error is not a terminal, so logs and tests
//! stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over `total` items called `unit` (`rows`, `municipalities`).
pub fn bar(total: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template =
        format!("{{bar:30}} {{human_pos}}/{{human_len}} {unit} · {{per_sec}} · 残り {{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}
