//! The channels function: channels, channel members, DMs and read markers. Handlers parse,
//! call one rule, and map the result.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use huddle_shared::auth::AuthUser;
use huddle_shared::channels::ChannelView;
use huddle_shared::channels::{self, ChannelMemberView};
use huddle_shared::http::{Json, Path, Query, created, finish};
use huddle_shared::ids::{ChannelId, UserId, WorkspaceId};
use huddle_shared::pagination::PageQuery;
use huddle_shared::table::Page;
use huddle_shared::{ApiResult, AppState};

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router(state: AppState) -> Router {
    finish(routes(state))
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(
            "/v1/workspaces/{workspace_id}/channels",
            post(create).get(list),
        )
        .route("/v1/workspaces/{workspace_id}/dms", post(open_dm))
        .route(
            "/v1/channels/{channel_id}",
            get(get_one).patch(update).delete(remove),
        )
        .route("/v1/channels/{channel_id}/join", post(join))
        .route("/v1/channels/{channel_id}/leave", post(leave))
        .route(
            "/v1/channels/{channel_id}/members",
            get(list_members).post(add_member),
        )
        .route(
            "/v1/channels/{channel_id}/members/{user_id}",
            delete(remove_member),
        )
        .route("/v1/channels/{channel_id}/read", put(mark_read))
        .with_state(state)
}

async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Json(request): Json<channels::CreateChannelRequest>,
) -> ApiResult<Response> {
    Ok(created(
        channels::create(&state, caller.user_id, workspace_id, request).await?,
    ))
}

async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ChannelView>>> {
    channels::list(&state, caller.user_id, workspace_id, page.validate()?)
        .await
        .map(Json)
}

async fn open_dm(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Json(request): Json<channels::OpenDmRequest>,
) -> ApiResult<Response> {
    let opened = channels::open_dm(&state, caller.user_id, workspace_id, request).await?;
    Ok(if opened.created {
        created(opened.channel)
    } else {
        Json(opened.channel).into_response()
    })
}

async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<Json<ChannelView>> {
    channels::get(&state, caller.user_id, channel_id)
        .await
        .map(Json)
}

async fn update(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Json(request): Json<channels::UpdateChannelRequest>,
) -> ApiResult<Json<ChannelView>> {
    channels::update(&state, caller.user_id, channel_id, request)
        .await
        .map(Json)
}

async fn remove(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<StatusCode> {
    channels::delete(&state, caller.user_id, channel_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn join(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<Json<ChannelView>> {
    channels::join(&state, caller.user_id, channel_id)
        .await
        .map(Json)
}

async fn leave(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<StatusCode> {
    channels::leave(&state, caller.user_id, channel_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_members(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ChannelMemberView>>> {
    channels::list_members(&state, caller.user_id, channel_id, page.validate()?)
        .await
        .map(Json)
}

async fn add_member(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Json(request): Json<channels::AddChannelMemberRequest>,
) -> ApiResult<Response> {
    Ok(created(
        channels::add_member(&state, caller.user_id, channel_id, request).await?,
    ))
}

async fn remove_member(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, user_id)): Path<(ChannelId, UserId)>,
) -> ApiResult<StatusCode> {
    channels::remove_member(&state, caller.user_id, channel_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn mark_read(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Json(request): Json<channels::MarkReadRequest>,
) -> ApiResult<StatusCode> {
    channels::mark_read(&state, caller.user_id, channel_id, request).await?;
    Ok(StatusCode::NO_CONTENT)
}
