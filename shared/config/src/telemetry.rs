//! `tracing` set-up: JSON lines in Lambda (CloudWatch), compact text elsewhere; level from
//! `RUST_LOG` (default `info`).
//!
//! `RUST_LOG` is read as `Targets` directives (`info`, `warn,vivid_api=debug`): a level per target
//! prefix, no span or field filters. `EnvFilter` would accept those too, but it links a regex
//! engine and its Unicode tables into every function (134–143 KiB of each arm64 zip) for a syntax
//! the template's `LogLevel` parameter never uses.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

/// The directives of `RUST_LOG`; `info` when unset, empty or unreadable (a bare word is a target
/// name, as with `EnvFilter`).
fn filter(spec: Option<&str>) -> Targets {
    spec.map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

pub fn init() {
    let filter = filter(std::env::var("RUST_LOG").ok().as_deref());
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let registry = tracing_subscriber::registry().with(filter);
    // `try_init` so that a second call (tests, the local gateway) is harmless.
    let _ = if in_lambda {
        registry
            .with(fmt::layer().json().with_current_span(true).with_span_list(false).without_time().with_target(false))
            .try_init()
    } else {
        registry.with(fmt::layer().compact().with_target(false)).try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn reads_a_level_and_per_target_levels() {
        let f = filter(Some("warn,vivid_api=debug"));
        assert!(f.would_enable("vivid_api::videos", &Level::DEBUG));
        assert!(!f.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(f.would_enable("aws_smithy_runtime", &Level::WARN));
        assert!(filter(Some("debug")).would_enable("anything", &Level::DEBUG));
    }

    #[test]
    fn unset_or_unreadable_is_info() {
        for spec in [None, Some(""), Some("  "), Some("vivid=shouting")] {
            let f = filter(spec);
            assert!(f.would_enable("vivid_api", &Level::INFO), "{spec:?}");
            assert!(!f.would_enable("vivid_api", &Level::DEBUG), "{spec:?}");
        }
    }
}
