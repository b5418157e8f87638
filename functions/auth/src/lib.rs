//! The auth and users function: registration, login, token refresh and logout, WebSocket
//! tickets, profiles and the health check. Handlers parse, call one rule, map; each one's
//! `#[utoipa::path]` is both its route and its entry in the API description.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use huddle_shared::auth::AuthUser;
use huddle_shared::auth::rules::{self as auth, LoginRequest, RefreshRequest, RegisterRequest};
use huddle_shared::auth::rules::{Refreshed, Session, WsTicket};
use huddle_shared::http::{Json, Path, SourceAddress, created, finish};
use huddle_shared::openapi::{
    BadRequest, Conflict, NotFound, PayloadTooLarge, ServiceUnavailable, TooManyRequests,
    Unauthorized,
};
use huddle_shared::params::UserPath;
use huddle_shared::users::{self, PublicProfile, UpdateProfileRequest, User};
use huddle_shared::{ApiResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router(state: AppState) -> Router {
    finish(routes(state))
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes(state: AppState) -> Router {
    served().with_state(state)
}

// Every route of this function, each group the handlers of one path: defines `api()`
// (with the description) and `served()` (without it).
huddle_shared::http_routes!(AppState =>
    [health],
    [register],
    [login],
    [refresh],
    [logout],
    [ws_ticket],
    [me, update_me],
    [public_profile],
);

/// Whether the service answers.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum HealthStatus {
    Ok,
}

/// The health check's answer.
#[derive(Debug, Serialize, ToSchema)]
struct Health {
    status: HealthStatus,
}

/// The health check: answers while the service runs (no sign-in, no database).
#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "meta",
    operation_id = "get_health",
    security(()),
    responses(
        (status = 200, description = "The service is up", body = Health),
    )
)]
async fn health() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
    })
}

/// Creates an account and signs it in. Rate-limited per source address.
#[utoipa::path(
    post,
    path = "/v1/auth/register",
    tag = "auth",
    operation_id = "register",
    security(()),
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The new user and their tokens", body = Session),
        BadRequest, Conflict, PayloadTooLarge, TooManyRequests, ServiceUnavailable,
    )
)]
async fn register(
    State(state): State<AppState>,
    SourceAddress(address): SourceAddress,
    Json(request): Json<RegisterRequest>,
) -> ApiResult<Response> {
    Ok(created(auth::register(&state, request, address).await?))
}

/// Signs in with email and password. Rate-limited per source address, and per email after
/// repeated failures (then even the right password is refused until the window passes).
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = "auth",
    operation_id = "login",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "The user and a new session's tokens", body = Session),
        BadRequest, Unauthorized, PayloadTooLarge, TooManyRequests, ServiceUnavailable,
    )
)]
async fn login(
    State(state): State<AppState>,
    SourceAddress(address): SourceAddress,
    Json(request): Json<LoginRequest>,
) -> ApiResult<Json<Session>> {
    auth::login(&state, request, address).await.map(Json)
}

/// Trades a refresh token for a new token pair. A token presented twice revokes its whole
/// session.
#[utoipa::path(
    post,
    path = "/v1/auth/refresh",
    tag = "auth",
    operation_id = "refresh_tokens",
    security(()),
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "The new token pair", body = Refreshed),
        BadRequest, Unauthorized, PayloadTooLarge,
    )
)]
async fn refresh(
    State(state): State<AppState>,
    Json(request): Json<RefreshRequest>,
) -> ApiResult<Json<Refreshed>> {
    auth::refresh(&state, request).await.map(Json)
}

/// Ends the session the refresh token belongs to (an unknown or foreign token changes
/// nothing).
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    tag = "auth",
    operation_id = "logout",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "The session is over (or was not the caller's)"),
        BadRequest, Unauthorized, PayloadTooLarge,
    )
)]
async fn logout(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(request): Json<RefreshRequest>,
) -> ApiResult<StatusCode> {
    auth::logout(&state, caller.user_id, request).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A single-use, short-lived ticket for opening the WebSocket.
#[utoipa::path(
    post,
    path = "/v1/auth/ws-ticket",
    tag = "auth",
    operation_id = "create_ws_ticket",
    responses(
        (status = 201, description = "The ticket", body = WsTicket),
        Unauthorized,
    )
)]
async fn ws_ticket(State(state): State<AppState>, caller: AuthUser) -> ApiResult<Response> {
    Ok(created(
        auth::issue_ws_ticket(&state, caller.user_id).await?,
    ))
}

/// The caller's own profile, with their email.
#[utoipa::path(
    get,
    path = "/v1/users/me",
    tag = "users",
    operation_id = "get_me",
    responses(
        (status = 200, description = "The caller", body = User),
        Unauthorized,
    )
)]
async fn me(State(state): State<AppState>, caller: AuthUser) -> ApiResult<Json<User>> {
    users::me(&state, caller.user_id).await.map(Json)
}

/// Changes the caller's display name or bio.
#[utoipa::path(
    patch,
    path = "/v1/users/me",
    tag = "users",
    operation_id = "update_me",
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "The caller as updated", body = User),
        BadRequest, Unauthorized, PayloadTooLarge,
    )
)]
async fn update_me(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(request): Json<UpdateProfileRequest>,
) -> ApiResult<Json<User>> {
    users::update_me(&state, caller.user_id, request)
        .await
        .map(Json)
}

/// A user's public profile: oneself, or someone sharing a workspace with the caller.
#[utoipa::path(
    get,
    path = "/v1/users/{user_id}",
    tag = "users",
    operation_id = "get_user",
    params(UserPath),
    responses(
        (status = 200, description = "The user's public profile", body = PublicProfile),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn public_profile(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(UserPath { user_id }): Path<UserPath>,
) -> ApiResult<Json<PublicProfile>> {
    users::public_profile(&state, caller.user_id, user_id)
        .await
        .map(Json)
}
