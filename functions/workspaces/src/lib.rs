//! The workspaces function: workspaces, their members and roles, invites and presence.
//! Handlers parse, call one rule, and map the result; each one's `#[utoipa::path]` is both
//! its route and its entry in the API description.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use huddle_shared::auth::AuthUser;
use huddle_shared::http::{Json, Path, Query, created, finish};
use huddle_shared::invites::{self, AcceptedInvite, CreateInviteRequest, Invite, InvitePreview};
use huddle_shared::invites::{InvitePath, WorkspaceInvitePath};
use huddle_shared::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized,
};
use huddle_shared::pagination::PageQuery;
use huddle_shared::params::WorkspacePath;
use huddle_shared::realtime::{self, OnlineMember};
use huddle_shared::table::Page;
use huddle_shared::workspaces::{self, MemberView, WorkspaceMemberPath, WorkspaceView};
use huddle_shared::workspaces::{AddMemberRequest, UpdateMemberRequest};
use huddle_shared::workspaces::{CreateWorkspaceRequest, UpdateWorkspaceRequest};
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
    [create, list_mine],
    [get_one, update, remove],
    [list_members, add_member],
    [update_member, remove_member],
    [create_invite, list_invites],
    [revoke_invite],
    [presence],
    [preview_invite],
    [accept_invite],
);

/// Creates a workspace: the caller becomes its owner, and its `general` channel is created
/// with the caller in it.
#[utoipa::path(
    post,
    path = "/v1/workspaces",
    tag = "workspaces",
    operation_id = "create_workspace",
    request_body = CreateWorkspaceRequest,
    responses(
        (status = 201, description = "The new workspace", body = WorkspaceView),
        BadRequest, Unauthorized, PayloadTooLarge,
    )
)]
async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(request): Json<CreateWorkspaceRequest>,
) -> ApiResult<Response> {
    Ok(created(
        workspaces::create(&state, caller.user_id, request).await?,
    ))
}

/// The caller's workspaces, each with the caller's role.
#[utoipa::path(
    get,
    path = "/v1/workspaces",
    tag = "workspaces",
    operation_id = "list_workspaces",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of workspaces", body = Page<WorkspaceView>),
        BadRequest, Unauthorized,
    )
)]
async fn list_mine(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<WorkspaceView>>> {
    workspaces::list_mine(&state, caller.user_id, page.validate()?)
        .await
        .map(Json)
}

/// One workspace the caller belongs to.
#[utoipa::path(
    get,
    path = "/v1/workspaces/{workspace_id}",
    tag = "workspaces",
    operation_id = "get_workspace",
    params(WorkspacePath),
    responses(
        (status = 200, description = "The workspace", body = WorkspaceView),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
) -> ApiResult<Json<WorkspaceView>> {
    workspaces::get(&state, caller.user_id, workspace_id)
        .await
        .map(Json)
}

/// Renames a workspace or changes its description (admins and the owner).
#[utoipa::path(
    patch,
    path = "/v1/workspaces/{workspace_id}",
    tag = "workspaces",
    operation_id = "update_workspace",
    params(WorkspacePath),
    request_body = UpdateWorkspaceRequest,
    responses(
        (status = 200, description = "The workspace as updated", body = WorkspaceView),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge,
    )
)]
async fn update(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Json(request): Json<UpdateWorkspaceRequest>,
) -> ApiResult<Json<WorkspaceView>> {
    workspaces::update(&state, caller.user_id, workspace_id, request)
        .await
        .map(Json)
}

/// Deletes a workspace with everything in it (the owner only); it is gone at once.
#[utoipa::path(
    delete,
    path = "/v1/workspaces/{workspace_id}",
    tag = "workspaces",
    operation_id = "delete_workspace",
    params(WorkspacePath),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
async fn remove(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
) -> ApiResult<StatusCode> {
    workspaces::delete(&state, caller.user_id, workspace_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace's members with their profiles and roles.
#[utoipa::path(
    get,
    path = "/v1/workspaces/{workspace_id}/members",
    tag = "workspaces",
    operation_id = "list_workspace_members",
    params(WorkspacePath, PageQuery),
    responses(
        (status = 200, description = "A page of members", body = Page<MemberView>),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn list_members(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<MemberView>>> {
    workspaces::list_members(&state, caller.user_id, workspace_id, page.validate()?)
        .await
        .map(Json)
}

/// Adds a user (by id or email) as a member or admin (admins and the owner); they join
/// `general`.
#[utoipa::path(
    post,
    path = "/v1/workspaces/{workspace_id}/members",
    tag = "workspaces",
    operation_id = "add_workspace_member",
    params(WorkspacePath),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "The new member", body = MemberView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn add_member(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Json(request): Json<AddMemberRequest>,
) -> ApiResult<Response> {
    Ok(created(
        workspaces::add_member(&state, caller.user_id, workspace_id, request).await?,
    ))
}

/// Sets a member's role (the owner only); `owner` hands over ownership.
#[utoipa::path(
    patch,
    path = "/v1/workspaces/{workspace_id}/members/{user_id}",
    tag = "workspaces",
    operation_id = "update_workspace_member",
    params(WorkspaceMemberPath),
    request_body = UpdateMemberRequest,
    responses(
        (status = 200, description = "The member with their new role", body = MemberView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn update_member(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspaceMemberPath {
        workspace_id,
        user_id,
    }): Path<WorkspaceMemberPath>,
    Json(request): Json<UpdateMemberRequest>,
) -> ApiResult<Json<MemberView>> {
    workspaces::update_member(&state, caller.user_id, workspace_id, user_id, request)
        .await
        .map(Json)
}

/// Removes a member (admins, for anyone but the owner) or leaves (anyone but the owner).
#[utoipa::path(
    delete,
    path = "/v1/workspaces/{workspace_id}/members/{user_id}",
    tag = "workspaces",
    operation_id = "remove_workspace_member",
    params(WorkspaceMemberPath),
    responses(
        (status = 204, description = "The user is no longer a member"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn remove_member(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspaceMemberPath {
        workspace_id,
        user_id,
    }): Path<WorkspaceMemberPath>,
) -> ApiResult<StatusCode> {
    workspaces::remove_member(&state, caller.user_id, workspace_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates an invite code (admins and the owner).
#[utoipa::path(
    post,
    path = "/v1/workspaces/{workspace_id}/invites",
    tag = "workspaces",
    operation_id = "create_invite",
    params(WorkspacePath),
    request_body = CreateInviteRequest,
    responses(
        (status = 201, description = "The new invite", body = Invite),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge,
    )
)]
async fn create_invite(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Json(request): Json<CreateInviteRequest>,
) -> ApiResult<Response> {
    Ok(created(
        invites::create(&state, caller.user_id, workspace_id, request).await?,
    ))
}

/// The workspace's invites (admins and the owner).
#[utoipa::path(
    get,
    path = "/v1/workspaces/{workspace_id}/invites",
    tag = "workspaces",
    operation_id = "list_invites",
    params(WorkspacePath, PageQuery),
    responses(
        (status = 200, description = "A page of invites", body = Page<Invite>),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
async fn list_invites(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Invite>>> {
    invites::list(&state, caller.user_id, workspace_id, page.validate()?)
        .await
        .map(Json)
}

/// Revokes an invite (admins and the owner).
#[utoipa::path(
    delete,
    path = "/v1/workspaces/{workspace_id}/invites/{code}",
    tag = "workspaces",
    operation_id = "revoke_invite",
    params(WorkspaceInvitePath),
    responses(
        (status = 204, description = "The invite is revoked"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
async fn revoke_invite(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspaceInvitePath { workspace_id, code }): Path<WorkspaceInvitePath>,
) -> ApiResult<StatusCode> {
    invites::revoke(&state, caller.user_id, workspace_id, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an invite leads to, for deciding whether to accept it (no sign-in needed).
#[utoipa::path(
    get,
    path = "/v1/invites/{code}",
    tag = "workspaces",
    operation_id = "preview_invite",
    security(()),
    params(InvitePath),
    responses(
        (status = 200, description = "The workspace the invite leads to", body = InvitePreview),
        BadRequest, NotFound,
    )
)]
async fn preview_invite(
    State(state): State<AppState>,
    Path(InvitePath { code }): Path<InvitePath>,
) -> ApiResult<Json<InvitePreview>> {
    invites::preview(&state, &code).await.map(Json)
}

/// Joins the invite's workspace as a member (and its `general` channel); a member
/// accepting again keeps their role and uses nothing up.
#[utoipa::path(
    post,
    path = "/v1/invites/{code}/accept",
    tag = "workspaces",
    operation_id = "accept_invite",
    params(InvitePath),
    responses(
        (status = 200, description = "The workspace joined, with the caller's role", body = AcceptedInvite),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn accept_invite(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(InvitePath { code }): Path<InvitePath>,
) -> ApiResult<Json<AcceptedInvite>> {
    invites::accept(&state, caller.user_id, &code)
        .await
        .map(Json)
}

/// The workspace's members who are online now, with their status.
#[utoipa::path(
    get,
    path = "/v1/workspaces/{workspace_id}/presence",
    tag = "workspaces",
    operation_id = "list_presence",
    params(WorkspacePath, PageQuery),
    responses(
        (status = 200, description = "A page of online members", body = Page<OnlineMember>),
        BadRequest, Unauthorized, NotFound,
    )
)]
async fn presence(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(WorkspacePath { workspace_id }): Path<WorkspacePath>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<OnlineMember>>> {
    realtime::online_members(&state, caller.user_id, workspace_id, page.validate()?)
        .await
        .map(Json)
}
