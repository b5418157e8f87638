//! The tasks function: tasks of todo channels (create, read, edit, complete, reopen, move,
//! delete), channel stats (todo and kanban), my work and the workspace workload. Handlers
//! parse, call one rule, and map the result.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use huddle_shared::auth::AuthUser;
use huddle_shared::http::{Json, Path, Query, created, finish};
use huddle_shared::ids::{ChannelId, TaskId, WorkspaceId};
use huddle_shared::table::Page;
use huddle_shared::tasks::{self, TaskView};
use huddle_shared::work::{self, ChannelStats, StatusQuery, WorkItemView, WorkloadRow};
use huddle_shared::{ApiResult, AppState};

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router(state: AppState) -> Router {
    finish(routes(state))
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/v1/channels/{channel_id}/tasks", get(list).post(create))
        .route(
            "/v1/channels/{channel_id}/tasks/{task_id}",
            get(get_one).patch(update).delete(remove),
        )
        .route(
            "/v1/channels/{channel_id}/tasks/{task_id}/complete",
            post(complete),
        )
        .route(
            "/v1/channels/{channel_id}/tasks/{task_id}/reopen",
            post(reopen),
        )
        .route(
            "/v1/channels/{channel_id}/tasks/{task_id}/move",
            post(move_task),
        )
        .route("/v1/channels/{channel_id}/stats", get(stats))
        .route("/v1/workspaces/{workspace_id}/my-work", get(my_work))
        .route("/v1/workspaces/{workspace_id}/workload", get(workload))
        .with_state(state)
}

type TaskPath = Path<(ChannelId, TaskId)>;

async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Json(request): Json<tasks::CreateTaskRequest>,
) -> ApiResult<Response> {
    Ok(created(
        tasks::create(&state, caller.user_id, channel_id, request).await?,
    ))
}

async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Query(query): Query<StatusQuery>,
) -> ApiResult<Json<Page<TaskView>>> {
    tasks::list(&state, caller.user_id, channel_id, query)
        .await
        .map(Json)
}

async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, task_id)): TaskPath,
) -> ApiResult<Json<TaskView>> {
    tasks::get(&state, caller.user_id, channel_id, task_id)
        .await
        .map(Json)
}

async fn update(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, task_id)): TaskPath,
    Json(request): Json<tasks::UpdateTaskRequest>,
) -> ApiResult<Json<TaskView>> {
    tasks::update(&state, caller.user_id, channel_id, task_id, request)
        .await
        .map(Json)
}

async fn remove(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, task_id)): TaskPath,
) -> ApiResult<StatusCode> {
    tasks::delete(&state, caller.user_id, channel_id, task_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn complete(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, task_id)): TaskPath,
) -> ApiResult<Json<TaskView>> {
    tasks::set_done(&state, caller.user_id, channel_id, task_id, true)
        .await
        .map(Json)
}

async fn reopen(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, task_id)): TaskPath,
) -> ApiResult<Json<TaskView>> {
    tasks::set_done(&state, caller.user_id, channel_id, task_id, false)
        .await
        .map(Json)
}

async fn move_task(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, task_id)): TaskPath,
    Json(request): Json<tasks::MoveTaskRequest>,
) -> ApiResult<Json<TaskView>> {
    tasks::move_task(&state, caller.user_id, channel_id, task_id, request)
        .await
        .map(Json)
}

async fn stats(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<Json<ChannelStats>> {
    work::stats(&state, caller.user_id, channel_id)
        .await
        .map(Json)
}

async fn my_work(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Query(query): Query<StatusQuery>,
) -> ApiResult<Json<Page<WorkItemView>>> {
    work::my_work(&state, caller.user_id, workspace_id, query)
        .await
        .map(Json)
}

async fn workload(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
) -> ApiResult<Json<Page<WorkloadRow>>> {
    work::workload(&state, caller.user_id, workspace_id)
        .await
        .map(Json)
}
