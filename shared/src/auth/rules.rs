//! Registration, login, refresh-token rotation with reuse detection, logout, and
//! WebSocket tickets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::secrets;
use crate::auth::store::{RefreshRotation, RefreshToken, TicketRedemption};
use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::ids::FamilyId;
use crate::ids::UserId;
use crate::state::AppState;
use crate::users::User;
use crate::users::{AccountCreation, NewAccount};
use crate::validate::{Validator, normalize_email};

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const DISPLAY_NAME_MAX: usize = 64;

/// `POST /v1/auth/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The sign-in email; unique regardless of case.
    #[schema(format = Email, max_length = 254, example = "ann@example.org")]
    pub email: String,
    #[schema(format = Password, min_length = 8, max_length = 128)]
    pub password: String,
    /// Shown to other members (surrounding spaces are trimmed).
    #[schema(min_length = 1, max_length = 64)]
    pub display_name: String,
}

/// `POST /v1/auth/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "ann@example.org")]
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The `refresh_token` of the session's latest token pair.
    pub refresh_token: String,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest { .. }")
    }
}

/// The token pair handed to a client.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Tokens {
    /// A JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// An opaque secret for `/v1/auth/refresh`; each one works once.
    pub refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
}

/// A signed-in user and their tokens (register and login).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    pub user: User,
    pub tokens: Tokens,
}

/// A rotated token pair.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Refreshed {
    pub tokens: Tokens,
}

/// A single-use ticket for opening the WebSocket (`?ticket=`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WsTicket {
    pub ticket: String,
    /// Seconds until the ticket expires.
    pub expires_in: u64,
}

const LOGIN_FAILED: &str = "invalid email or password";
const REFRESH_FAILED: &str = "invalid or expired refresh token";

/// A new refresh token (secret + stored record) in `family_id`.
fn mint_refresh_token(
    state: &AppState,
    user_id: UserId,
    family_id: FamilyId,
    now: DateTime<Utc>,
) -> ApiResult<(String, RefreshToken)> {
    let secret = secrets::generate()?;
    let ttl = i64::try_from(state.config.refresh_token_ttl.as_secs()).unwrap_or(i64::MAX / 4);
    let record = RefreshToken {
        token_hash: secrets::digest(&secret),
        user_id,
        family_id,
        created_at: now,
        expires_at: now.timestamp().saturating_add(ttl),
        used_at: None,
    };
    Ok((secret, record))
}

fn token_pair(state: &AppState, user_id: UserId, refresh_secret: String) -> ApiResult<Tokens> {
    let access = state.jwt.issue(user_id)?;
    Ok(Tokens {
        access_token: access.token,
        refresh_token: refresh_secret,
        token_type: "Bearer".into(),
        expires_in: access.expires_in,
        refresh_expires_in: state.config.refresh_token_ttl.as_secs(),
    })
}

/// `POST /v1/auth/register`.
pub async fn register(
    state: &AppState,
    request: RegisterRequest,
    address: Option<std::net::IpAddr>,
) -> ApiResult<Session> {
    crate::limits::auth_call(state, address).await?;
    let mut check = Validator::new();
    check.email("email", &request.email);
    check.length("password", &request.password, PASSWORD_MIN, PASSWORD_MAX);
    check.text("display_name", &request.display_name, 1, DISPLAY_NAME_MAX);
    check.finish()?;

    let now = clock::now();
    // Hashed before anything is written: a refused or failed hash leaves nothing behind.
    let password_hash = state.passwords.hash_password(request.password).await?;
    let user = User {
        id: UserId::generate(),
        email: Some(request.email.trim().to_owned()),
        display_name: request.display_name.trim().to_owned(),
        bio: None,
        avatar_url: None,
        created_at: now,
        updated_at: now,
    };
    let (refresh_secret, refresh) = mint_refresh_token(state, user.id, FamilyId::generate(), now)?;
    let creation = state
        .store
        .create_account(NewAccount {
            user: user.clone(),
            normalized_email: normalize_email(&request.email),
            password_hash,
            refresh,
        })
        .await?;
    if creation == AccountCreation::EmailTaken {
        return Err(ApiError::conflict(
            "an account with this email already exists",
        ));
    }
    tracing::info!(user_id = %user.id, "user registered");
    let tokens = token_pair(state, user.id, refresh_secret)?;
    Ok(Session { user, tokens })
}

/// `POST /v1/auth/login`: one answer for an unknown email and a wrong password.
/// Throttled per source address and per email: after `RATE_LIMIT_LOGIN_FAILURES` failed
/// logins to an email in a window, even the right password is refused (429) until the
/// window passes. The failure bucket is read beside the credential (no extra round trip).
pub async fn login(
    state: &AppState,
    request: LoginRequest,
    address: Option<std::net::IpAddr>,
) -> ApiResult<Session> {
    crate::limits::auth_call(state, address).await?;
    if request.password.chars().count() > PASSWORD_MAX || request.email.len() > 254 {
        return Err(ApiError::unauthorized(LOGIN_FAILED));
    }
    let normalized = normalize_email(&request.email);
    let (credential, ()) = tokio::try_join!(
        state.store.get_credential(&normalized),
        crate::limits::check_login(state, &normalized),
    )?;
    // An email with no password (a user of the identity provider) is answered as an
    // unknown one: that user signs in only through the provider.
    let Some((user_id, password_hash)) =
        credential.and_then(|found| Some((found.user_id, found.password_hash?)))
    else {
        state
            .passwords
            .verify_against_dummy(request.password)
            .await?;
        crate::limits::count_login_failure(state, &normalized).await?;
        return Err(ApiError::unauthorized(LOGIN_FAILED));
    };
    if !state
        .passwords
        .verify_password(request.password, password_hash)
        .await?
    {
        tracing::info!(%user_id, "login refused: wrong password");
        crate::limits::count_login_failure(state, &normalized).await?;
        return Err(ApiError::unauthorized(LOGIN_FAILED));
    }

    let now = clock::now();
    let (refresh_secret, refresh) = mint_refresh_token(state, user_id, FamilyId::generate(), now)?;
    let (user, ()) = tokio::try_join!(
        state.store.get_user(user_id),
        state.store.start_session(&refresh)
    )?;
    let user = user
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("credential without user {user_id}")))?;
    tracing::info!(user_id = %user.id, "user logged in");
    let tokens = token_pair(state, user.id, refresh_secret)?;
    Ok(Session { user, tokens })
}

/// Looks a presented refresh token up; `None` if unknown or expired.
async fn find_refresh_token(
    state: &AppState,
    secret: &str,
    now: DateTime<Utc>,
) -> ApiResult<Option<RefreshToken>> {
    if secret.is_empty() || secret.len() > secrets::MAX_SECRET_LEN {
        return Ok(None);
    }
    let token = state
        .store
        .get_refresh_token(&secrets::digest(secret))
        .await?;
    Ok(token.filter(|token| token.expires_at > now.timestamp()))
}

/// `POST /v1/auth/refresh`: rotates the token. A token presented a second time revokes
/// its whole family, so a stolen token stops working for thief and owner alike.
pub async fn refresh(state: &AppState, request: RefreshRequest) -> ApiResult<Refreshed> {
    let now = clock::now();
    let Some(old) = find_refresh_token(state, &request.refresh_token, now).await? else {
        return Err(ApiError::unauthorized(REFRESH_FAILED));
    };
    let reuse_detected = || async {
        tracing::warn!(user_id = %old.user_id, family_id = %old.family_id, "refresh token reuse: family revoked");
        state.store.revoke_family(old.family_id).await?;
        Err(ApiError::unauthorized(REFRESH_FAILED))
    };
    if old.used_at.is_some() {
        return reuse_detected().await;
    }
    let (secret, new) = mint_refresh_token(state, old.user_id, old.family_id, now)?;
    match state.store.rotate_refresh_token(&old, &new, now).await? {
        RefreshRotation::Rotated => Ok(Refreshed {
            tokens: token_pair(state, old.user_id, secret)?,
        }),
        RefreshRotation::AlreadyUsed => reuse_detected().await,
        RefreshRotation::FamilyRevoked => Err(ApiError::unauthorized(REFRESH_FAILED)),
    }
}

/// `POST /v1/auth/logout`: revokes the session the refresh token belongs to. Idempotent:
/// an unknown, expired or foreign token changes nothing and still answers 204.
pub async fn logout(state: &AppState, caller: UserId, request: RefreshRequest) -> ApiResult<()> {
    let now = clock::now();
    if let Some(token) = find_refresh_token(state, &request.refresh_token, now).await?
        && token.user_id == caller
    {
        state.store.revoke_family(token.family_id).await?;
        tracing::info!(user_id = %caller, "user logged out");
    }
    Ok(())
}

/// `POST /v1/auth/ws-ticket`: a single-use ticket for opening the WebSocket.
pub async fn issue_ws_ticket(state: &AppState, caller: UserId) -> ApiResult<WsTicket> {
    let ticket = secrets::generate()?;
    let ttl = state.config.ws_ticket_ttl.as_secs();
    let expires_at = clock::now()
        .timestamp()
        .saturating_add(i64::try_from(ttl).unwrap_or(60));
    state
        .store
        .put_ws_ticket(&secrets::digest(&ticket), caller, expires_at)
        .await?;
    Ok(WsTicket {
        ticket,
        expires_in: ttl,
    })
}

/// Redeems a WebSocket ticket (the `$connect` check). Succeeds once, before expiry.
pub async fn redeem_ws_ticket(state: &AppState, ticket: &str) -> ApiResult<UserId> {
    if ticket.is_empty() || ticket.len() > secrets::MAX_SECRET_LEN {
        return Err(ApiError::unauthorized("invalid or expired ticket"));
    }
    match state
        .store
        .redeem_ws_ticket(&secrets::digest(ticket), clock::now().timestamp())
        .await?
    {
        TicketRedemption::Redeemed(user_id) => Ok(user_id),
        TicketRedemption::Refused => Err(ApiError::unauthorized("invalid or expired ticket")),
    }
}
