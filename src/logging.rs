//! `RUST_LOG` diagnostics on stderr: DataFusion and Ballista report through the `log`
//! facade (Ballista's scheduler says which job stage is pending and why).
//!
//! Understands the common subset of env_logger's syntax: `LEVEL` or comma-separated
//! `target=LEVEL` entries, the longest matching target prefix winning
//! (`RUST_LOG=ballista=info,datafusion=warn`). Not env_logger itself: that crate turns
//! on `log`'s `std` feature, which rebuilds all of DataFusion.

use log::{LevelFilter, Log, Metadata, Record};

struct StderrLogger {
    /// (target prefix, level); the empty prefix is the default.
    rules: Vec<(String, LevelFilter)>,
}

impl StderrLogger {
    fn level_for(&self, target: &str) -> LevelFilter {
        self.rules
            .iter()
            .filter(|(prefix, _)| target.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map_or(LevelFilter::Off, |(_, level)| *level)
    }
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level_for(metadata.target())
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            let now = chrono::Utc::now().format("%H:%M:%S%.3f");
            eprintln!(
                "{now} {} {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// Parse `RUST_LOG`-style rules; `None` when nothing would be logged.
fn parse(spec: &str) -> Option<Vec<(String, LevelFilter)>> {
    let rules: Vec<(String, LevelFilter)> = spec
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| match entry.split_once('=') {
            Some((target, level)) => Some((target.trim().to_string(), level.trim().parse().ok()?)),
            None => Some((String::new(), entry.parse().ok()?)),
        })
        .collect();
    rules
        .iter()
        .any(|(_, level)| *level != LevelFilter::Off)
        .then_some(rules)
}

/// Install the stderr logger when `RUST_LOG` asks for any output.
pub fn init_from_env() {
    let Some(rules) = std::env::var("RUST_LOG").ok().as_deref().and_then(parse) else {
        return;
    };
    let max = rules
        .iter()
        .map(|(_, l)| *l)
        .max()
        .unwrap_or(LevelFilter::Off);
    // `set_boxed_logger` needs `log`'s `std` feature; a leaked box lives as long.
    let logger: &'static StderrLogger = Box::leak(Box::new(StderrLogger { rules }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_target_prefix_wins() {
        let logger = StderrLogger {
            rules: parse("warn,ballista=info,ballista_scheduler::state=debug").unwrap(),
        };
        assert_eq!(
            logger.level_for("datafusion::physical_plan"),
            LevelFilter::Warn
        );
        assert_eq!(logger.level_for("ballista_core::client"), LevelFilter::Info);
        assert_eq!(
            logger.level_for("ballista_scheduler::state::task"),
            LevelFilter::Debug
        );
        assert!(parse("off").is_none() && parse("").is_none() && parse("x=nonsense").is_none());
    }
}
