//! The messages function: messages, threads, edits and history, reactions, pins and
//! search. Handlers parse, call one rule, and map the result.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, put};
use huddle_shared::auth::AuthUser;
use huddle_shared::http::{Json, Path, Query, created, finish};
use huddle_shared::ids::{ChannelId, MessageId, WorkspaceId};
use huddle_shared::messages::{self, MessageListQuery};
use huddle_shared::messages::{MessageVersion, MessageView};
use huddle_shared::pagination::PageQuery;
use huddle_shared::search::{self, SearchQuery};
use huddle_shared::table::Page;
use huddle_shared::{ApiResult, AppState};

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router(state: AppState) -> Router {
    finish(routes(state))
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/v1/channels/{channel_id}/messages", get(list).post(send))
        .route(
            "/v1/channels/{channel_id}/messages/{message_id}",
            get(get_one).patch(edit).delete(remove),
        )
        .route(
            "/v1/channels/{channel_id}/messages/{message_id}/history",
            get(history),
        )
        .route(
            "/v1/channels/{channel_id}/messages/{message_id}/replies",
            get(replies),
        )
        .route(
            "/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
            put(add_reaction).delete(remove_reaction),
        )
        .route("/v1/workspaces/{workspace_id}/search", get(search))
        .route("/v1/channels/{channel_id}/pins", get(list_pins))
        .route(
            "/v1/channels/{channel_id}/pins/{message_id}",
            put(pin).delete(unpin),
        )
        .with_state(state)
}

type MessagePath = Path<(ChannelId, MessageId)>;

async fn send(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Json(request): Json<messages::SendMessageRequest>,
) -> ApiResult<Response> {
    Ok(created(
        messages::send(&state, caller.user_id, channel_id, request).await?,
    ))
}

async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Query(query): Query<MessageListQuery>,
) -> ApiResult<Json<Page<MessageView>>> {
    messages::list(&state, caller.user_id, channel_id, query)
        .await
        .map(Json)
}

async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, message_id)): MessagePath,
) -> ApiResult<Json<MessageView>> {
    messages::get(&state, caller.user_id, channel_id, message_id)
        .await
        .map(Json)
}

async fn edit(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, message_id)): MessagePath,
    Json(request): Json<messages::EditMessageRequest>,
) -> ApiResult<Json<MessageView>> {
    messages::edit(&state, caller.user_id, channel_id, message_id, request)
        .await
        .map(Json)
}

async fn remove(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, message_id)): MessagePath,
) -> ApiResult<StatusCode> {
    messages::delete(&state, caller.user_id, channel_id, message_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn history(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, message_id)): MessagePath,
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

async fn replies(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, message_id)): MessagePath,
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

async fn add_reaction(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, message_id, emoji)): Path<(ChannelId, MessageId, String)>,
) -> ApiResult<StatusCode> {
    messages::react(&state, caller.user_id, channel_id, message_id, &emoji, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_reaction(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, message_id, emoji)): Path<(ChannelId, MessageId, String)>,
) -> ApiResult<StatusCode> {
    messages::react(
        &state,
        caller.user_id,
        channel_id,
        message_id,
        &emoji,
        false,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_pins(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<MessageView>>> {
    messages::list_pins(&state, caller.user_id, channel_id, page.validate()?)
        .await
        .map(Json)
}

async fn pin(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, message_id)): MessagePath,
) -> ApiResult<StatusCode> {
    messages::pin(&state, caller.user_id, channel_id, message_id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unpin(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, message_id)): MessagePath,
) -> ApiResult<StatusCode> {
    messages::pin(&state, caller.user_id, channel_id, message_id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn search(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Json<Page<MessageView>>> {
    search::search(&state, caller.user_id, workspace_id, query)
        .await
        .map(Json)
}
