//! The notifications function: the caller's notifications (list, unread count, read,
//! read-all), notification levels, and the workspace activity log. Handlers parse, call
//! one rule, and map the result.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use huddle_shared::activity::{self, ActivityQuery, ActivityView};
use huddle_shared::auth::AuthUser;
use huddle_shared::http::{Json, Path, Query, finish};
use huddle_shared::ids::{ChannelId, NotificationId, WorkspaceId};
use huddle_shared::notifications::{self, NotificationQuery, NotificationView, UnreadCount};
use huddle_shared::table::Page;
use huddle_shared::{ApiResult, AppState};

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router(state: AppState) -> Router {
    finish(routes(state))
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/v1/notifications", get(list))
        .route("/v1/notifications/unread-count", get(unread_count))
        .route("/v1/notifications/read-all", post(read_all))
        .route("/v1/notifications/{notification_id}/read", post(read))
        .route(
            "/v1/channels/{channel_id}/notification-level",
            put(set_level),
        )
        .route("/v1/workspaces/{workspace_id}/activity", get(activity_log))
        .with_state(state)
}

async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(query): Query<NotificationQuery>,
) -> ApiResult<Json<Page<NotificationView>>> {
    notifications::list(&state, caller.user_id, query)
        .await
        .map(Json)
}

async fn unread_count(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<Json<UnreadCount>> {
    notifications::unread_count(&state, caller.user_id)
        .await
        .map(Json)
}

async fn read(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(notification_id): Path<NotificationId>,
) -> ApiResult<StatusCode> {
    notifications::mark_read(&state, caller.user_id, notification_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn read_all(State(state): State<AppState>, caller: AuthUser) -> ApiResult<StatusCode> {
    notifications::read_all(&state, caller.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_level(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Json(request): Json<notifications::LevelRequest>,
) -> ApiResult<StatusCode> {
    notifications::set_level(&state, caller.user_id, channel_id, request).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn activity_log(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Query(query): Query<ActivityQuery>,
) -> ApiResult<Json<Page<ActivityView>>> {
    activity::list(&state, caller.user_id, workspace_id, query)
        .await
        .map(Json)
}
