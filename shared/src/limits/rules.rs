//! Rate limits and the per-user WebSocket cap. Each limit is a count per fixed window in a
//! bucket item (a conditional `ADD`, one round trip or one item of the write's own
//! transaction, removed by TTL after its window); a
//! refusal is 429 `rate_limited` with `Retry-After` (the seconds left in the window).

use std::net::IpAddr;
use std::time::Duration;

use sha2::Digest;

use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::limits::store::{BucketTake, SlotClaim, Take};
use crate::state::AppState;
use crate::validate::normalize_email;

/// How long a bucket outlives its window (TTL removal is not instant anyway).
const BUCKET_SLACK_SECONDS: i64 = 60;
/// Claims of a socket slot that keep meeting concurrent ones before giving up (with
/// backoff between them).
const SLOT_ATTEMPTS: u32 = 12;

/// The fixed window `now` falls in: its start, its end (epoch seconds).
fn window(now: i64, length: Duration) -> (i64, i64) {
    let length = i64::try_from(length.as_secs()).unwrap_or(i64::MAX).max(1);
    let start = now - now.rem_euclid(length);
    (start, start + length)
}

fn refused(what: &str, now: i64, end: i64) -> ApiError {
    ApiError::rate_limited(
        format!("too many {what}; try again later"),
        u64::try_from(end - now).unwrap_or(1).max(1),
    )
}

/// One call of `what` to count against a limit of `max` per `length`: the bucket of the
/// current window, and the 429 to answer when it is full. Taken alone ([`take`]) or inside
/// the transaction of the write it limits (a send's), so a refused write counts nothing.
#[derive(Debug, Clone)]
pub struct Limited {
    pub bucket: BucketTake,
    what: &'static str,
    now: i64,
    window_end: i64,
}

impl Limited {
    fn new(
        scope: &'static str,
        subject: String,
        max: u64,
        length: Duration,
        what: &'static str,
    ) -> Self {
        let now = clock::now().timestamp();
        let (start, end) = window(now, length);
        Self {
            bucket: BucketTake {
                scope,
                subject,
                window_start: start,
                expires_at: end + BUCKET_SLACK_SECONDS,
                max,
            },
            what,
            now,
            window_end: end,
        }
    }

    /// The 429 for a full bucket, with the seconds left in its window.
    pub fn refused(&self) -> ApiError {
        refused(self.what, self.now, self.window_end)
    }
}

/// Takes one call from `subject`'s bucket of `scope`, or refuses with 429.
async fn take(
    state: &AppState,
    scope: &'static str,
    subject: String,
    max: u64,
    length: Duration,
    what: &'static str,
) -> ApiResult<()> {
    let limited = Limited::new(scope, subject, max, length, what);
    match state.store.take_from_bucket(&limited.bucket).await? {
        Take::Taken => Ok(()),
        Take::Full => Err(limited.refused()),
    }
}

/// An auth call (register, login, refresh) from `address`: at most
/// `RATE_LIMIT_ADDRESS_PER_HOUR` per hour (0: no limit).
pub async fn auth_call(state: &AppState, address: Option<IpAddr>) -> ApiResult<()> {
    let max = state.config.limits.address_per_hour;
    let Some(address) = address.filter(|_| max > 0) else {
        return Ok(());
    };
    take(
        state,
        "address",
        address.to_string(),
        max,
        Duration::from_secs(3600),
        "sign-in attempts from this address",
    )
    .await
}

fn email_subject(email: &str) -> String {
    let digest = sha2::Sha256::digest(normalize_email(email).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether logins to `email` are still allowed: refused (429) once it has had
/// `RATE_LIMIT_LOGIN_FAILURES` failed logins in the current window, even with the
/// right password. One GetItem (run beside the credential's).
pub async fn check_login(state: &AppState, email: &str) -> ApiResult<()> {
    let limits = &state.config.limits;
    let now = clock::now().timestamp();
    let (start, end) = window(now, limits.login_window);
    let failures = state
        .store
        .bucket_hits("login", &email_subject(email), start)
        .await?;
    if failures >= limits.login_failures {
        return Err(refused("failed sign-ins for this account", now, end));
    }
    Ok(())
}

/// Counts a failed login to `email`.
pub async fn count_login_failure(state: &AppState, email: &str) -> ApiResult<()> {
    let now = clock::now().timestamp();
    let (start, end) = window(now, state.config.limits.login_window);
    state
        .store
        .add_to_bucket(
            "login",
            &email_subject(email),
            start,
            end + BUCKET_SLACK_SECONDS,
        )
        .await
}

/// A message send by `user`: at most `RATE_LIMIT_SENDS` per `RATE_LIMIT_SEND_WINDOW_SECONDS`,
/// taken in the send's own transaction.
pub fn send(state: &AppState, user: UserId) -> Limited {
    let limits = &state.config.limits;
    Limited::new(
        "send",
        user.to_string(),
        limits.sends,
        limits.send_window,
        "messages",
    )
}

/// An upload request by `user`: at most `RATE_LIMIT_UPLOADS_PER_MINUTE` per minute.
pub async fn upload(state: &AppState, user: UserId) -> ApiResult<()> {
    take(
        state,
        "upload",
        user.to_string(),
        state.config.limits.uploads_per_minute,
        Duration::from_secs(60),
        "uploads",
    )
    .await
}

/// Claims one of `user`'s WebSocket slots for `connection` until `expires_at`; 429 when
/// they hold `WEBSOCKETS_PER_USER_MAX` live sockets.
pub async fn claim_socket(
    state: &AppState,
    user: UserId,
    connection: &str,
    expires_at: i64,
) -> ApiResult<()> {
    let max = state.config.limits.sockets_per_user;
    for attempt in 1..=SLOT_ATTEMPTS {
        let now = clock::now().timestamp();
        match state
            .store
            .claim_socket_slot(user, connection, expires_at, now, max)
            .await?
        {
            SlotClaim::Claimed => return Ok(()),
            SlotClaim::Full => {
                return Err(ApiError::rate_limited(
                    format!("at most {max} open WebSockets per user; close one first"),
                    1,
                ));
            }
            SlotClaim::Raced => tokio::time::sleep(crate::table::backoff(attempt)).await,
        }
    }
    Err(ApiError::Unavailable(
        "too many sockets opening at once; retry shortly".into(),
    ))
}

/// Gives `connection`'s slot back.
pub async fn release_socket(state: &AppState, user: UserId, connection: &str) -> ApiResult<()> {
    state.store.release_socket_slot(user, connection).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_fixed_and_aligned() {
        assert_eq!(window(0, Duration::from_secs(10)), (0, 10));
        assert_eq!(window(19, Duration::from_secs(10)), (10, 20));
        assert_eq!(window(3600, Duration::from_secs(3600)), (3600, 7200));
        assert_eq!(email_subject(" Ann@X.io "), email_subject("ann@x.io"));
    }
}
