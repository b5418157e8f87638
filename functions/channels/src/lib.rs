//! The channels function: channels, channel members, DMs and read markers. Handlers parse,
//! call one rule, and map the result; each one's `#[utoipa::path]` is both its route and its
//! entry in the API description.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use huddle_shared::auth::AuthUser;
use huddle_shared::channels::{self, ChannelMemberPath, ChannelMemberView, ChannelView};
use huddle_shared::channels::{
    AddChannelMemberRequest, CreateChannelRequest, MarkReadRequest, OpenDmRequest,
    UpdateChannelRequest,
};
use huddle_shared::http::{Json, Path, Query, created, finish};
use huddle_shared::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized,
};
use huddle_shared::pagination::PageQuery;
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
    [create, list],
    [open_dm],
    [get_one, update, remove],
    [join],
    [leave],
    [list_members, add_member],
    [remove_member],
    [mark_read],
);

/// Creates a channel in the workspace (any member); the creator joins it.
#[utoipa::path(
    post,
    path = "/v1/workspaces/{workspace_id}/channels",
    tag = "channels",
    operation_id = "create_channel",
    params(WorkspacePath),
    request_body = CreateChannelRequest,
    responses(
        (status = 201, description = "The channel, with the creator as its member", body = ChannelView),
        BadRequest, Unauthorized, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Json(request): Json<CreateChannelRequest>,
) -> ApiResult<Response> {
    Ok(created(
        channels::create(&state, caller.user_id, workspace_id, request).await?,
    ))
}

/// The workspace's public channels and the private ones and DMs the caller is in, oldest
/// first, with the caller's unread and mention counts.
#[utoipa::path(
    get,
    path = "/v1/workspaces/{workspace_id}/channels",
    tag = "channels",
    operation_id = "list_channels",
    params(WorkspacePath, PageQuery),
    responses(
        (status = 200, description = "A page of channels", body = Page<ChannelView>),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ChannelView>>> {
    channels::list(&state, caller.user_id, workspace_id, page.validate()?)
        .await
        .map(Json)
}

/// Opens the DM of exactly the caller and `user_ids`, creating it on first use.
#[utoipa::path(
    post,
    path = "/v1/workspaces/{workspace_id}/dms",
    tag = "channels",
    operation_id = "open_dm",
    params(WorkspacePath),
    request_body = OpenDmRequest,
    responses(
        (status = 200, description = "The DM of this member set, which already existed", body = ChannelView),
        (status = 201, description = "The DM of this member set, created now", body = ChannelView),
        BadRequest, Unauthorized, NotFound, PayloadTooLarge, ServiceUnavailable,
    )
)]
async fn open_dm(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Json(request): Json<OpenDmRequest>,
) -> ApiResult<Response> {
    let opened = channels::open_dm(&state, caller.user_id, workspace_id, request).await?;
    Ok(if opened.created {
        created(opened.channel)
    } else {
        Json(opened.channel).into_response()
    })
}

/// One channel, with the caller's view of it.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}",
    tag = "channels",
    operation_id = "get_channel",
    params(ChannelPath),
    responses(
        (status = 200, description = "The channel", body = ChannelView),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
) -> ApiResult<Json<ChannelView>> {
    channels::get(&state, caller.user_id, channel_id)
        .await
        .map(Json)
}

/// Renames or re-topics a channel (its creator or a workspace admin; DMs keep their name).
#[utoipa::path(
    patch,
    path = "/v1/channels/{channel_id}",
    tag = "channels",
    operation_id = "update_channel",
    params(ChannelPath),
    request_body = UpdateChannelRequest,
    responses(
        (status = 200, description = "The updated channel", body = ChannelView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn update(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Json(request): Json<UpdateChannelRequest>,
) -> ApiResult<Json<ChannelView>> {
    channels::update(&state, caller.user_id, channel_id, request)
        .await
        .map(Json)
}

/// Deletes a channel (its creator or a workspace admin; never `general`); its contents go
/// with it.
#[utoipa::path(
    delete,
    path = "/v1/channels/{channel_id}",
    tag = "channels",
    operation_id = "delete_channel",
    params(ChannelPath),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn remove(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
) -> ApiResult<StatusCode> {
    channels::delete(&state, caller.user_id, channel_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Joins a public channel (idempotent).
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/join",
    tag = "channels",
    operation_id = "join_channel",
    params(ChannelPath),
    responses(
        (status = 200, description = "The channel, joined", body = ChannelView),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn join(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
) -> ApiResult<Json<ChannelView>> {
    channels::join(&state, caller.user_id, channel_id)
        .await
        .map(Json)
}

/// Leaves a channel (idempotent; not a DM, nor `general`).
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/leave",
    tag = "channels",
    operation_id = "leave_channel",
    params(ChannelPath),
    responses(
        (status = 204, description = "The caller is not a member"),
        BadRequest, Unauthorized, NotFound, Conflict,
    )
)]
async fn leave(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
) -> ApiResult<StatusCode> {
    channels::leave(&state, caller.user_id, channel_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The channel's members, with their public profiles.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/members",
    tag = "channels",
    operation_id = "list_channel_members",
    params(ChannelPath, PageQuery),
    responses(
        (status = 200, description = "A page of members", body = Page<ChannelMemberView>),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn list_members(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ChannelMemberView>>> {
    channels::list_members(&state, caller.user_id, channel_id, page.validate()?)
        .await
        .map(Json)
}

/// Adds a workspace member to the channel (any channel member; not to a DM).
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/members",
    tag = "channels",
    operation_id = "add_channel_member",
    params(ChannelPath),
    request_body = AddChannelMemberRequest,
    responses(
        (status = 201, description = "The new member", body = ChannelMemberView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn add_member(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Json(request): Json<AddChannelMemberRequest>,
) -> ApiResult<Response> {
    Ok(created(
        channels::add_member(&state, caller.user_id, channel_id, request).await?,
    ))
}

/// Removes a member from the channel (a workspace admin, or the member themselves; not from
/// a DM, nor from `general`).
#[utoipa::path(
    delete,
    path = "/v1/channels/{channel_id}/members/{user_id}",
    tag = "channels",
    operation_id = "remove_channel_member",
    params(ChannelMemberPath),
    responses(
        (status = 204, description = "Removed"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn remove_member(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelMemberPath {
        channel_id,
        user_id,
    }): Path<ChannelMemberPath>,
) -> ApiResult<StatusCode> {
    channels::remove_member(&state, caller.user_id, channel_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves the caller's read marker forward to a message (never back); reading up to the
/// latest message clears the unread and mention counts.
#[utoipa::path(
    put,
    path = "/v1/channels/{channel_id}/read",
    tag = "channels",
    operation_id = "mark_channel_read",
    params(ChannelPath),
    request_body = MarkReadRequest,
    responses(
        (status = 204, description = "The marker is at or past the message"),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge,
    )
)]
async fn mark_read(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Json(request): Json<MarkReadRequest>,
) -> ApiResult<StatusCode> {
    channels::mark_read(&state, caller.user_id, channel_id, request).await?;
    Ok(StatusCode::NO_CONTENT)
}
