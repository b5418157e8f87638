//! The files function: presigned uploads (S3 enforces the declared length and type),
//! completion, downloads, deletes and avatars. Handlers parse, call one rule, and map the
//! result; each one's `#[utoipa::path]` is both its route and its entry in the API
//! description.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::response::{IntoResponse, Response};
use huddle_shared::auth::AuthUser;
use huddle_shared::files::{self, AvatarUploadRequest, FilePath, FileView};
use huddle_shared::files::{UploadRequest, UploadTicket};
use huddle_shared::http::{Json, Path, created, finish};
use huddle_shared::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, TooManyRequests, Unauthorized,
};
use huddle_shared::params::{ChannelPath, UserPath};
use huddle_shared::{ApiResult, AppState};

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
    [request_upload],
    [get_one, remove],
    [complete],
    [request_avatar_upload],
    [avatar],
);

/// Hands a channel member the instructions to upload one file to the channel: a presigned
/// PUT that S3 accepts only with the declared length and type. At most
/// `RATE_LIMIT_UPLOADS_PER_MINUTE` a user.
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/uploads",
    tag = "files",
    operation_id = "request_upload",
    params(ChannelPath),
    request_body = UploadRequest,
    responses(
        (status = 201, description = "The pending file's id and how to upload it", body = UploadTicket),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, TooManyRequests,
    )
)]
async fn request_upload(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Json(request): Json<UploadRequest>,
) -> ApiResult<Response> {
    Ok(created(
        files::request_upload(&state, caller.user_id, channel_id, request).await?,
    ))
}

/// Hands the caller the instructions to upload a new avatar (an image); completing it makes
/// it the profile's.
#[utoipa::path(
    post,
    path = "/v1/users/me/avatar",
    tag = "files",
    operation_id = "request_avatar_upload",
    request_body = AvatarUploadRequest,
    responses(
        (status = 201, description = "The pending file's id and how to upload it", body = UploadTicket),
        BadRequest, Unauthorized, PayloadTooLarge, TooManyRequests,
    )
)]
async fn request_avatar_upload(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(request): Json<AvatarUploadRequest>,
) -> ApiResult<Response> {
    Ok(created(
        files::request_avatar_upload(&state, caller.user_id, request).await?,
    ))
}

/// Completes an upload (the uploader): checks the object S3 holds against what was declared
/// and makes the file ready. Idempotent.
#[utoipa::path(
    post,
    path = "/v1/files/{file_id}/complete",
    tag = "files",
    operation_id = "complete_upload",
    params(FilePath),
    responses(
        (status = 200, description = "The ready file", body = FileView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn complete(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(FilePath { file_id }): Path<FilePath>,
) -> ApiResult<Json<FileView>> {
    files::complete(&state, caller.user_id, file_id)
        .await
        .map(Json)
}

/// One file (readers of its channel; an avatar: its owner), with a short-lived download URL
/// once it is ready.
#[utoipa::path(
    get,
    path = "/v1/files/{file_id}",
    tag = "files",
    operation_id = "get_file",
    params(FilePath),
    responses(
        (status = 200, description = "The file", body = FileView),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(FilePath { file_id }): Path<FilePath>,
) -> ApiResult<Json<FileView>> {
    files::get(&state, caller.user_id, file_id).await.map(Json)
}

/// Deletes a file and its object (the uploader, or a workspace admin).
#[utoipa::path(
    delete,
    path = "/v1/files/{file_id}",
    tag = "files",
    operation_id = "delete_file",
    params(FilePath),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
async fn remove(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(FilePath { file_id }): Path<FilePath>,
) -> ApiResult<StatusCode> {
    files::delete(&state, caller.user_id, file_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A stable avatar URL for `<img src>`: no token needed; redirects to a short-lived one.
#[utoipa::path(
    get,
    path = "/v1/users/{user_id}/avatar",
    tag = "files",
    operation_id = "get_avatar",
    params(UserPath),
    security(()),
    responses(
        (
            status = 302,
            description = "The avatar is at a short-lived presigned URL",
            headers(
                ("Location" = String, description = "The presigned download URL"),
                ("Cache-Control" = String, description = "`private, max-age=60`"),
            )
        ),
        BadRequest, NotFound,
    )
)]
async fn avatar(
    State(state): State<AppState>,
    Path(UserPath { user_id }): Path<UserPath>,
) -> ApiResult<Response> {
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
