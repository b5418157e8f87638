//! Logging setup: JSON lines in Lambda (CloudWatch), readable text locally. The level comes
//! from `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .without_time() // CloudWatch stamps every line
            .try_init()
    } else {
        builder.with_target(false).try_init()
    };
    // Already installed (tests, or a second call): keep the first.
    drop(result);
}
