//! The tasks function: tasks of todo channels (create, read, edit, complete, reopen, move,
//! delete), channel stats (todo and kanban), my work and the workspace workload. Handlers
//! parse, call one rule, and map the result; each one's `#[utoipa::path]` is both its
//! route and its entry in the API description.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use huddle_shared::auth::AuthUser;
use huddle_shared::http::{Json, Path, Query, created, finish};
use huddle_shared::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized,
};
use huddle_shared::params::{ChannelPath, WorkspacePath};
use huddle_shared::table::Page;
use huddle_shared::tasks::{self, CreateTaskRequest, MoveTaskRequest, UpdateTaskRequest};
use huddle_shared::tasks::{TaskPath, TaskView};
use huddle_shared::work::{
    self, ChannelStats, MyWorkQuery, StatusQuery, WorkItemView, WorkloadRow,
};
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
    [list, create],
    [get_one, update, remove],
    [complete],
    [reopen],
    [move_task],
    [stats],
    [my_work],
    [workload],
);

/// Creates an open task, placed last (channel members).
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/tasks",
    tag = "tasks",
    operation_id = "create_task",
    params(ChannelPath),
    request_body = CreateTaskRequest,
    responses(
        (status = 201, description = "The task as stored", body = TaskView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Json(request): Json<CreateTaskRequest>,
) -> ApiResult<Response> {
    Ok(created(
        tasks::create(&state, caller.user_id, channel_id, request).await?,
    ))
}

/// The channel's tasks in board order, open (the default), done, or both (open first).
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/tasks",
    tag = "tasks",
    operation_id = "list_tasks",
    params(ChannelPath, StatusQuery),
    responses(
        (status = 200, description = "A page of tasks", body = Page<TaskView>),
        BadRequest, Unauthorized, NotFound, Conflict,
    )
)]
async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Query(query): Query<StatusQuery>,
) -> ApiResult<Json<Page<TaskView>>> {
    tasks::list(&state, caller.user_id, channel_id, query)
        .await
        .map(Json)
}

/// One task.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/tasks/{task_id}",
    tag = "tasks",
    operation_id = "get_task",
    params(TaskPath),
    responses(
        (status = 200, description = "The task", body = TaskView),
        BadRequest, Unauthorized, NotFound, Conflict,
    )
)]
async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(TaskPath {
        channel_id,
        task_id,
    }): Path<TaskPath>,
) -> ApiResult<Json<TaskView>> {
    tasks::get(&state, caller.user_id, channel_id, task_id)
        .await
        .map(Json)
}

/// Changes the fields given (channel members): `null` clears description, assignee and due
/// date, and empties the labels.
#[utoipa::path(
    patch,
    path = "/v1/channels/{channel_id}/tasks/{task_id}",
    tag = "tasks",
    operation_id = "update_task",
    params(TaskPath),
    request_body = UpdateTaskRequest,
    responses(
        (status = 200, description = "The task as changed", body = TaskView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn update(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(TaskPath {
        channel_id,
        task_id,
    }): Path<TaskPath>,
    Json(request): Json<UpdateTaskRequest>,
) -> ApiResult<Json<TaskView>> {
    tasks::update(&state, caller.user_id, channel_id, task_id, request)
        .await
        .map(Json)
}

/// Deletes a task (its creator, or a workspace admin).
#[utoipa::path(
    delete,
    path = "/v1/channels/{channel_id}/tasks/{task_id}",
    tag = "tasks",
    operation_id = "delete_task",
    params(TaskPath),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn remove(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(TaskPath {
        channel_id,
        task_id,
    }): Path<TaskPath>,
) -> ApiResult<StatusCode> {
    tasks::delete(&state, caller.user_id, channel_id, task_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Completes a task (channel members; idempotent: a done task keeps its first completion).
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/tasks/{task_id}/complete",
    tag = "tasks",
    operation_id = "complete_task",
    params(TaskPath),
    responses(
        (status = 200, description = "The task, done", body = TaskView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn complete(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(TaskPath {
        channel_id,
        task_id,
    }): Path<TaskPath>,
) -> ApiResult<Json<TaskView>> {
    tasks::set_done(&state, caller.user_id, channel_id, task_id, true)
        .await
        .map(Json)
}

/// Reopens a task (channel members; idempotent), clearing its completion.
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/tasks/{task_id}/reopen",
    tag = "tasks",
    operation_id = "reopen_task",
    params(TaskPath),
    responses(
        (status = 200, description = "The task, open", body = TaskView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn reopen(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(TaskPath {
        channel_id,
        task_id,
    }): Path<TaskPath>,
) -> ApiResult<Json<TaskView>> {
    tasks::set_done(&state, caller.user_id, channel_id, task_id, false)
        .await
        .map(Json)
}

/// Moves a task right before or right after another task of the channel (channel members).
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/tasks/{task_id}/move",
    tag = "tasks",
    operation_id = "move_task",
    params(TaskPath),
    request_body = MoveTaskRequest,
    responses(
        (status = 200, description = "The task at its new place", body = TaskView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn move_task(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(TaskPath {
        channel_id,
        task_id,
    }): Path<TaskPath>,
    Json(request): Json<MoveTaskRequest>,
) -> ApiResult<Json<TaskView>> {
    tasks::move_task(&state, caller.user_id, channel_id, task_id, request)
        .await
        .map(Json)
}

/// The counts of a todo or kanban channel, from counters kept by every write.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/stats",
    tag = "tasks",
    operation_id = "get_channel_stats",
    params(ChannelPath),
    responses(
        (status = 200, description = "Todo stats for a todo channel, kanban stats for a kanban channel", body = ChannelStats),
        BadRequest, Unauthorized, NotFound, Conflict,
    )
)]
async fn stats(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
) -> ApiResult<Json<ChannelStats>> {
    work::stats(&state, caller.user_id, channel_id)
        .await
        .map(Json)
}

/// The tasks and cards assigned to the caller in the channels they can read, soonest due
/// first (undated last).
#[utoipa::path(
    get,
    path = "/v1/workspaces/{workspace_id}/my-work",
    tag = "tasks",
    operation_id = "list_my_work",
    params(WorkspacePath, MyWorkQuery),
    responses(
        (status = 200, description = "A page of tasks and cards (may be short while `next_cursor` says there is more)", body = Page<WorkItemView>),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn my_work(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Query(query): Query<MyWorkQuery>,
) -> ApiResult<Json<Page<WorkItemView>>> {
    work::my_work(&state, caller.user_id, workspace_id, query)
        .await
        .map(Json)
}

/// Open, done and overdue counts per assignee across the workspace (admin+).
#[utoipa::path(
    get,
    path = "/v1/workspaces/{workspace_id}/workload",
    tag = "tasks",
    operation_id = "get_workload",
    params(WorkspacePath),
    responses(
        (status = 200, description = "One row per user with assigned work, by user id (one page: `next_cursor` is `null`)", body = Page<WorkloadRow>),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
async fn workload(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
) -> ApiResult<Json<Page<WorkloadRow>>> {
    work::workload(&state, caller.user_id, workspace_id)
        .await
        .map(Json)
}
