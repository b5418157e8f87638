//! The clock every stored and returned timestamp comes from.

use chrono::{DateTime, SubsecRound, Utc};

/// The current time at millisecond precision: what every stored and returned timestamp
/// uses, so RFC 3339 strings stay short and sort as they compare.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}
