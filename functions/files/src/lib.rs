//! The files function: presigned uploads (S3 enforces the declared length and type),
//! completion, downloads, deletes and avatars. Handlers parse, call one rule,
//! and map the result.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use huddle_shared::auth::AuthUser;
use huddle_shared::files;
use huddle_shared::files::FileView;
use huddle_shared::http::{Json, Path, created, finish};
use huddle_shared::ids::{ChannelId, FileId, UserId};
use huddle_shared::{ApiResult, AppState};

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router(state: AppState) -> Router {
    finish(routes(state))
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/v1/channels/{channel_id}/uploads", post(request_upload))
        .route("/v1/files/{file_id}", get(get_one).delete(remove))
        .route("/v1/files/{file_id}/complete", post(complete))
        .route("/v1/users/me/avatar", post(request_avatar_upload))
        .route("/v1/users/{user_id}/avatar", get(avatar))
        .with_state(state)
}

async fn request_upload(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Json(request): Json<files::UploadRequest>,
) -> ApiResult<Response> {
    Ok(created(
        files::request_upload(&state, caller.user_id, channel_id, request).await?,
    ))
}

async fn request_avatar_upload(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(request): Json<files::AvatarUploadRequest>,
) -> ApiResult<Response> {
    Ok(created(
        files::request_avatar_upload(&state, caller.user_id, request).await?,
    ))
}

async fn complete(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(file_id): Path<FileId>,
) -> ApiResult<Json<FileView>> {
    files::complete(&state, caller.user_id, file_id)
        .await
        .map(Json)
}

async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(file_id): Path<FileId>,
) -> ApiResult<Json<FileView>> {
    files::get(&state, caller.user_id, file_id).await.map(Json)
}

async fn remove(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(file_id): Path<FileId>,
) -> ApiResult<StatusCode> {
    files::delete(&state, caller.user_id, file_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A stable avatar URL for `<img src>`: no token needed; redirects to a short-lived one.
async fn avatar(State(state): State<AppState>, Path(user_id): Path<UserId>) -> ApiResult<Response> {
    let location = files::avatar_location(&state, user_id).await?;
    Ok((
        StatusCode::FOUND,
        [
            (LOCATION, location),
            (CACHE_CONTROL, "private, max-age=60".to_owned()),
        ],
    )
        .into_response())
}
