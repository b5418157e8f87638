//! The messages function: messages, threads, edits and history, reactions, pins and
//! search. Handlers parse, call one rule, and map the result; each one's
//! `#[utoipa::path]` is both its route and its entry in the API description.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use huddle_shared::auth::AuthUser;
use huddle_shared::http::{Json, Path, Query, created, finish};
use huddle_shared::messages::{self, MessageListQuery, MessagePath, ReactionPath};
use huddle_shared::messages::{EditMessageRequest, SendMessageRequest};
use huddle_shared::messages::{MessageVersion, MessageView};
use huddle_shared::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, TooManyRequests, Unauthorized,
};
use huddle_shared::pagination::PageQuery;
use huddle_shared::params::{ChannelPath, WorkspacePath};
use huddle_shared::search::{self, SearchQuery};
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
    [list, send],
    [get_one, edit, remove],
    [history],
    [replies],
    [add_reaction, remove_reaction],
    [search],
    [list_pins],
    [pin, unpin],
);

/// Sends a message, or a reply when `parent_id` is set. Idempotent with `client_id`.
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/messages",
    tag = "messages",
    operation_id = "send_message",
    params(ChannelPath),
    request_body = SendMessageRequest,
    responses(
        (status = 201, description = "The message as stored (or as first sent, on a retry with the same `client_id`)", body = MessageView),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, TooManyRequests,
    )
)]
async fn send(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Json(request): Json<SendMessageRequest>,
) -> ApiResult<Response> {
    Ok(created(
        messages::send(&state, caller.user_id, channel_id, request).await?,
    ))
}

/// The channel's top-level messages, newest first (oldest first with `after`).
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/messages",
    tag = "messages",
    operation_id = "list_messages",
    params(ChannelPath, MessageListQuery),
    responses(
        (status = 200, description = "A page of messages", body = Page<MessageView>),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Query(query): Query<MessageListQuery>,
) -> ApiResult<Json<Page<MessageView>>> {
    messages::list(&state, caller.user_id, channel_id, query)
        .await
        .map(Json)
}

/// One message (a deleted one shows as a tombstone).
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/messages/{message_id}",
    tag = "messages",
    operation_id = "get_message",
    params(MessagePath),
    responses(
        (status = 200, description = "The message", body = MessageView),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(MessagePath {
        channel_id,
        message_id,
    }): Path<MessagePath>,
) -> ApiResult<Json<MessageView>> {
    messages::get(&state, caller.user_id, channel_id, message_id)
        .await
        .map(Json)
}

/// Edits the caller's own message; the version it replaces goes to its history.
#[utoipa::path(
    patch,
    path = "/v1/channels/{channel_id}/messages/{message_id}",
    tag = "messages",
    operation_id = "edit_message",
    params(MessagePath),
    request_body = EditMessageRequest,
    responses(
        (status = 200, description = "The edited message", body = MessageView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn edit(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(MessagePath {
        channel_id,
        message_id,
    }): Path<MessagePath>,
    Json(request): Json<EditMessageRequest>,
) -> ApiResult<Json<MessageView>> {
    messages::edit(&state, caller.user_id, channel_id, message_id, request)
        .await
        .map(Json)
}

/// Deletes a message (its author, or a channel or workspace admin); it stays as a tombstone.
#[utoipa::path(
    delete,
    path = "/v1/channels/{channel_id}/messages/{message_id}",
    tag = "messages",
    operation_id = "delete_message",
    params(MessagePath),
    responses(
        (status = 204, description = "Deleted (or already deleted)"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
async fn remove(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(MessagePath {
        channel_id,
        message_id,
    }): Path<MessagePath>,
) -> ApiResult<StatusCode> {
    messages::delete(&state, caller.user_id, channel_id, message_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The earlier versions of an edited message, newest first.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/messages/{message_id}/history",
    tag = "messages",
    operation_id = "list_message_history",
    params(MessagePath, PageQuery),
    responses(
        (status = 200, description = "A page of earlier versions", body = Page<MessageVersion>),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn history(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(MessagePath {
        channel_id,
        message_id,
    }): Path<MessagePath>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<MessageVersion>>> {
    messages::history(
        &state,
        caller.user_id,
        channel_id,
        message_id,
        page.validate()?,
    )
    .await
    .map(Json)
}

/// The replies in a message's thread, oldest first.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/messages/{message_id}/replies",
    tag = "messages",
    operation_id = "list_replies",
    params(MessagePath, PageQuery),
    responses(
        (status = 200, description = "A page of replies", body = Page<MessageView>),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn replies(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(MessagePath {
        channel_id,
        message_id,
    }): Path<MessagePath>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<MessageView>>> {
    messages::replies(
        &state,
        caller.user_id,
        channel_id,
        message_id,
        page.validate()?,
    )
    .await
    .map(Json)
}

/// Adds the caller's reaction (idempotent).
#[utoipa::path(
    put,
    path = "/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
    tag = "messages",
    operation_id = "add_reaction",
    params(ReactionPath),
    responses(
        (status = 204, description = "The caller has reacted with this emoji"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn add_reaction(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(reaction): Path<ReactionPath>,
) -> ApiResult<StatusCode> {
    react(&state, caller, reaction, true).await
}

/// Removes the caller's reaction (idempotent).
#[utoipa::path(
    delete,
    path = "/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
    tag = "messages",
    operation_id = "remove_reaction",
    params(ReactionPath),
    responses(
        (status = 204, description = "The caller has no reaction with this emoji"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn remove_reaction(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(reaction): Path<ReactionPath>,
) -> ApiResult<StatusCode> {
    react(&state, caller, reaction, false).await
}

async fn react(
    state: &AppState,
    caller: AuthUser,
    reaction: ReactionPath,
    add: bool,
) -> ApiResult<StatusCode> {
    let ReactionPath {
        channel_id,
        message_id,
        emoji,
    } = reaction;
    messages::react(state, caller.user_id, channel_id, message_id, &emoji, add).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The channel's pinned messages, most recently pinned first.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/pins",
    tag = "messages",
    operation_id = "list_pins",
    params(ChannelPath, PageQuery),
    responses(
        (status = 200, description = "A page of pinned messages", body = Page<MessageView>),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn list_pins(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<MessageView>>> {
    messages::list_pins(&state, caller.user_id, channel_id, page.validate()?)
        .await
        .map(Json)
}

/// Pins a message (idempotent).
#[utoipa::path(
    put,
    path = "/v1/channels/{channel_id}/pins/{message_id}",
    tag = "messages",
    operation_id = "pin_message",
    params(MessagePath),
    responses(
        (status = 204, description = "The message is pinned"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn pin(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(MessagePath {
        channel_id,
        message_id,
    }): Path<MessagePath>,
) -> ApiResult<StatusCode> {
    messages::pin(&state, caller.user_id, channel_id, message_id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unpins a message (idempotent).
#[utoipa::path(
    delete,
    path = "/v1/channels/{channel_id}/pins/{message_id}",
    tag = "messages",
    operation_id = "unpin_message",
    params(MessagePath),
    responses(
        (status = 204, description = "The message is not pinned"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn unpin(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(MessagePath {
        channel_id,
        message_id,
    }): Path<MessagePath>,
) -> ApiResult<StatusCode> {
    messages::pin(&state, caller.user_id, channel_id, message_id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Messages of the workspace containing every word of `q`, newest first, from channels the
/// caller may read.
#[utoipa::path(
    get,
    path = "/v1/workspaces/{workspace_id}/search",
    tag = "messages",
    operation_id = "search_messages",
    params(WorkspacePath, SearchQuery),
    responses(
        (status = 200, description = "A page of matching messages (may be short while `next_cursor` says there is more)", body = Page<MessageView>),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn search(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Json<Page<MessageView>>> {
    search::search(&state, caller.user_id, workspace_id, query)
        .await
        .map(Json)
}
