//! Logging setup: JSON lines in Lambda (CloudWatch), readable text locally. The levels come
//! from `RUST_LOG` (default `info`): a level (`warn`) and `target=level` directives
//! (`info,huddle_shared=debug`), read by tracing-subscriber's `Targets` filter, which needs
//! no regular expressions (`EnvFilter`'s span and field filters would link a regex engine
//! into every function for a form these functions never use).

use tracing::Subscriber;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber once; later calls are no-ops.
pub fn init(json: bool) {
    let subscriber = subscriber(json, levels(std::env::var("RUST_LOG").ok().as_deref()));
    // Already installed (tests, or a second call): keep the first.
    drop(subscriber.try_init());
}

/// The subscriber: `filter` alone decides what is written. (A `fmt()` builder carries a
/// level of its own, `info` unless set, which no `RUST_LOG` could then lower: the formatting
/// layer is put on a bare registry instead.)
fn subscriber(json: bool, filter: Targets) -> Box<dyn Subscriber + Send + Sync> {
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        Box::new(
            registry.with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .without_time(), // CloudWatch stamps every line
            ),
        )
    } else {
        Box::new(registry.with(fmt::layer().with_target(false)))
    }
}

/// The filter `RUST_LOG` describes; `info` when it is unset or unreadable.
fn levels(rust_log: Option<&str>) -> Targets {
    let default = || Targets::new().with_default(LevelFilter::INFO);
    match rust_log.map(str::trim) {
        None | Some("") => default(),
        Some(directives) => directives.parse().unwrap_or_else(|_| default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn rust_log_sets_the_default_level_and_per_target_levels() {
        let filter = levels(Some("warn,huddle_shared=debug"));
        assert!(filter.would_enable("huddle_tasks", &Level::WARN));
        assert!(!filter.would_enable("huddle_tasks", &Level::INFO));
        assert!(filter.would_enable("huddle_shared::work", &Level::DEBUG));
        assert!(!filter.would_enable("huddle_shared::work", &Level::TRACE));
    }

    /// `RUST_LOG=debug` reaches debug events, in both formats (the formatting layer adds no
    /// level of its own).
    #[test]
    fn the_installed_subscriber_follows_rust_log_below_info() {
        for json in [false, true] {
            let subscriber = subscriber(json, levels(Some("warn,huddle_shared=debug")));
            tracing::subscriber::with_default(subscriber, || {
                assert!(tracing::enabled!(target: "huddle_shared::realtime", Level::DEBUG));
                assert!(!tracing::enabled!(target: "huddle_shared::realtime", Level::TRACE));
                assert!(!tracing::enabled!(target: "huddle_tasks", Level::INFO));
            });
        }
    }

    #[test]
    fn unset_or_unreadable_rust_log_means_info() {
        for rust_log in [None, Some(""), Some("huddle=loud")] {
            let filter = levels(rust_log);
            assert!(
                filter.would_enable("huddle_tasks", &Level::INFO),
                "{rust_log:?}"
            );
            assert!(
                !filter.would_enable("huddle_tasks", &Level::DEBUG),
                "{rust_log:?}"
            );
        }
    }
}
