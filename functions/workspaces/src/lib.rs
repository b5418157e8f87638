//! The workspaces function: workspaces, their members and roles, and invites. Handlers
//! parse, call one rule, and map the result.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, patch, post};
use huddle_shared::auth::AuthUser;
use huddle_shared::http::{Json, Path, Query, created, finish};
use huddle_shared::ids::{UserId, WorkspaceId};
use huddle_shared::invites::Invite;
use huddle_shared::invites::{self, AcceptedInvite, InvitePreview};
use huddle_shared::pagination::PageQuery;
use huddle_shared::realtime::{self, OnlineMember};
use huddle_shared::table::Page;
use huddle_shared::workspaces;
use huddle_shared::workspaces::{MemberView, WorkspaceView};
use huddle_shared::{ApiResult, AppState};

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router(state: AppState) -> Router {
    finish(routes(state))
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/v1/workspaces", post(create).get(list_mine))
        .route(
            "/v1/workspaces/{workspace_id}",
            get(get_one).patch(update).delete(remove),
        )
        .route(
            "/v1/workspaces/{workspace_id}/members",
            get(list_members).post(add_member),
        )
        .route(
            "/v1/workspaces/{workspace_id}/members/{user_id}",
            patch(update_member).delete(remove_member),
        )
        .route(
            "/v1/workspaces/{workspace_id}/invites",
            post(create_invite).get(list_invites),
        )
        .route(
            "/v1/workspaces/{workspace_id}/invites/{code}",
            delete(revoke_invite),
        )
        .route("/v1/workspaces/{workspace_id}/presence", get(presence))
        .route("/v1/invites/{code}", get(preview_invite))
        .route("/v1/invites/{code}/accept", post(accept_invite))
        .with_state(state)
}

async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(request): Json<workspaces::CreateWorkspaceRequest>,
) -> ApiResult<Response> {
    Ok(created(
        workspaces::create(&state, caller.user_id, request).await?,
    ))
}

async fn list_mine(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<WorkspaceView>>> {
    workspaces::list_mine(&state, caller.user_id, page.validate()?)
        .await
        .map(Json)
}

async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
) -> ApiResult<Json<WorkspaceView>> {
    workspaces::get(&state, caller.user_id, workspace_id)
        .await
        .map(Json)
}

async fn update(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Json(request): Json<workspaces::UpdateWorkspaceRequest>,
) -> ApiResult<Json<WorkspaceView>> {
    workspaces::update(&state, caller.user_id, workspace_id, request)
        .await
        .map(Json)
}

async fn remove(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
) -> ApiResult<StatusCode> {
    workspaces::delete(&state, caller.user_id, workspace_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_members(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<MemberView>>> {
    workspaces::list_members(&state, caller.user_id, workspace_id, page.validate()?)
        .await
        .map(Json)
}

async fn add_member(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Json(request): Json<workspaces::AddMemberRequest>,
) -> ApiResult<Response> {
    Ok(created(
        workspaces::add_member(&state, caller.user_id, workspace_id, request).await?,
    ))
}

async fn update_member(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((workspace_id, user_id)): Path<(WorkspaceId, UserId)>,
    Json(request): Json<workspaces::UpdateMemberRequest>,
) -> ApiResult<Json<MemberView>> {
    workspaces::update_member(&state, caller.user_id, workspace_id, user_id, request)
        .await
        .map(Json)
}

async fn remove_member(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((workspace_id, user_id)): Path<(WorkspaceId, UserId)>,
) -> ApiResult<StatusCode> {
    workspaces::remove_member(&state, caller.user_id, workspace_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_invite(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Json(request): Json<invites::CreateInviteRequest>,
) -> ApiResult<Response> {
    Ok(created(
        invites::create(&state, caller.user_id, workspace_id, request).await?,
    ))
}

async fn list_invites(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Invite>>> {
    invites::list(&state, caller.user_id, workspace_id, page.validate()?)
        .await
        .map(Json)
}

async fn revoke_invite(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((workspace_id, code)): Path<(WorkspaceId, String)>,
) -> ApiResult<StatusCode> {
    invites::revoke(&state, caller.user_id, workspace_id, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn preview_invite(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<InvitePreview>> {
    invites::preview(&state, &code).await.map(Json)
}

async fn accept_invite(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(code): Path<String>,
) -> ApiResult<Json<AcceptedInvite>> {
    invites::accept(&state, caller.user_id, &code)
        .await
        .map(Json)
}

async fn presence(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(workspace_id): Path<WorkspaceId>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<OnlineMember>>> {
    realtime::online_members(&state, caller.user_id, workspace_id, page.validate()?)
        .await
        .map(Json)
}
