//! The auth and users function: registration, login, token refresh and logout, WebSocket
//! tickets, profiles and the health check. Handlers parse, call one rule, map.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, routing};
use huddle_shared::ApiResult;
use huddle_shared::AppState;
use huddle_shared::auth::AuthUser;
use huddle_shared::auth::rules as auth;
use huddle_shared::http::{Json, Path, SourceAddress, created, finish};
use huddle_shared::ids::UserId;
use huddle_shared::users;
use serde::Serialize;

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router(state: AppState) -> Router {
    finish(routes(state))
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/auth/register", post(register))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/auth/ws-ticket", post(ws_ticket))
        .route("/v1/users/me", get(me).patch(update_me))
        .route("/v1/users/{user_id}", routing::get(public_profile))
        .with_state(state)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

async fn register(
    State(state): State<AppState>,
    SourceAddress(address): SourceAddress,
    Json(request): Json<auth::RegisterRequest>,
) -> ApiResult<Response> {
    Ok(created(auth::register(&state, request, address).await?))
}

async fn login(
    State(state): State<AppState>,
    SourceAddress(address): SourceAddress,
    Json(request): Json<auth::LoginRequest>,
) -> ApiResult<Json<auth::Session>> {
    auth::login(&state, request, address).await.map(Json)
}

async fn refresh(
    State(state): State<AppState>,
    Json(request): Json<auth::RefreshRequest>,
) -> ApiResult<Json<auth::Refreshed>> {
    auth::refresh(&state, request).await.map(Json)
}

async fn logout(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(request): Json<auth::RefreshRequest>,
) -> ApiResult<StatusCode> {
    auth::logout(&state, caller.user_id, request).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn ws_ticket(State(state): State<AppState>, caller: AuthUser) -> ApiResult<Response> {
    Ok(created(
        auth::issue_ws_ticket(&state, caller.user_id).await?,
    ))
}

async fn me(State(state): State<AppState>, caller: AuthUser) -> ApiResult<impl IntoResponse> {
    users::me(&state, caller.user_id).await.map(Json)
}

async fn update_me(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(request): Json<users::UpdateProfileRequest>,
) -> ApiResult<impl IntoResponse> {
    users::update_me(&state, caller.user_id, request)
        .await
        .map(Json)
}

async fn public_profile(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(user_id): Path<UserId>,
) -> ApiResult<impl IntoResponse> {
    users::public_profile(&state, caller.user_id, user_id)
        .await
        .map(Json)
}
