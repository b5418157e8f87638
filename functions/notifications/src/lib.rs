//! The notifications function: the caller's notifications (list, unread count, read,
//! read-all), notification levels, and the workspace activity log. Handlers parse, call
//! one rule, and map the result; each one's `#[utoipa::path]` is both its route and its
//! entry in the API description.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use huddle_shared::activity::{self, ActivityQuery, ActivityView};
use huddle_shared::auth::AuthUser;
use huddle_shared::http::{Json, Path, Query, finish};
use huddle_shared::notifications::{self, LevelRequest, NotificationPath, NotificationQuery};
use huddle_shared::notifications::{NotificationView, UnreadCount};
use huddle_shared::openapi::{BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized};
use huddle_shared::params::{ChannelPath, WorkspacePath};
use huddle_shared::table::Page;
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
    [list],
    [unread_count],
    [read_all],
    [read],
    [set_level],
    [activity_log],
);

/// The caller's notifications, newest first (those of the last 90 days).
#[utoipa::path(
    get,
    path = "/v1/notifications",
    tag = "notifications",
    operation_id = "list_notifications",
    params(NotificationQuery),
    responses(
        (status = 200, description = "A page of notifications (may be short while `next_cursor` says there is more)", body = Page<NotificationView>),
        BadRequest, Unauthorized,
    )
)]
async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(query): Query<NotificationQuery>,
) -> ApiResult<Json<Page<NotificationView>>> {
    notifications::list(&state, caller.user_id, query)
        .await
        .map(Json)
}

/// How many of the caller's notifications are unread.
#[utoipa::path(
    get,
    path = "/v1/notifications/unread-count",
    tag = "notifications",
    operation_id = "count_unread_notifications",
    responses(
        (status = 200, description = "The unread count", body = UnreadCount),
        Unauthorized,
    )
)]
async fn unread_count(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<Json<UnreadCount>> {
    notifications::unread_count(&state, caller.user_id)
        .await
        .map(Json)
}

/// Marks one of the caller's notifications read (idempotent).
#[utoipa::path(
    post,
    path = "/v1/notifications/{notification_id}/read",
    tag = "notifications",
    operation_id = "read_notification",
    params(NotificationPath),
    responses(
        (status = 204, description = "The notification is read"),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn read(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(NotificationPath { notification_id }): Path<NotificationPath>,
) -> ApiResult<StatusCode> {
    notifications::mark_read(&state, caller.user_id, notification_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks every unread notification of the caller read.
#[utoipa::path(
    post,
    path = "/v1/notifications/read-all",
    tag = "notifications",
    operation_id = "read_all_notifications",
    responses(
        (status = 204, description = "Every notification is read"),
        Unauthorized,
    )
)]
async fn read_all(State(state): State<AppState>, caller: AuthUser) -> ApiResult<StatusCode> {
    notifications::read_all(&state, caller.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets what the caller hears of a channel they are a member of.
#[utoipa::path(
    put,
    path = "/v1/channels/{channel_id}/notification-level",
    tag = "notifications",
    operation_id = "set_notification_level",
    params(ChannelPath),
    request_body = LevelRequest,
    responses(
        (status = 204, description = "The level is set"),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge,
    )
)]
async fn set_level(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Json(request): Json<LevelRequest>,
) -> ApiResult<StatusCode> {
    notifications::set_level(&state, caller.user_id, channel_id, request).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace's activity log, newest first, optionally one actor's (admins and the
/// owner).
#[utoipa::path(
    get,
    path = "/v1/workspaces/{workspace_id}/activity",
    tag = "notifications",
    operation_id = "list_activity",
    params(WorkspacePath, ActivityQuery),
    responses(
        (status = 200, description = "A page of activity entries", body = Page<ActivityView>),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
async fn activity_log(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Query(query): Query<ActivityQuery>,
) -> ApiResult<Json<Page<ActivityView>>> {
    activity::list(&state, caller.user_id, workspace_id, query)
        .await
        .map(Json)
}
