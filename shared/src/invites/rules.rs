//! Workspace invites: admins create, list and revoke them; anyone signed in accepts one
//! (idempotently for a member); the code alone previews the workspace.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access;
use crate::auth::secrets;
use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::ids::{UserId, WorkspaceId};
use crate::invites::Invite;
use crate::invites::{InviteAcceptance, InviteRevocation};
use crate::state::AppState;
use crate::table::{Page, PageRequest};
use crate::validate::Validator;
use crate::workspaces::{Role, WorkspaceMember, WorkspaceView};

pub const DEFAULT_EXPIRY_HOURS: i64 = 168;
pub const MAX_EXPIRY_HOURS: i64 = 720;
pub const MAX_USES_LIMIT: u32 = 10_000;

/// `POST /v1/workspaces/{workspace_id}/invites`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    /// Hours until the invite expires (default 168, a week).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 720)]
    pub expires_in_hours: Option<i64>,
    /// How many times it may be accepted (default: unlimited).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_uses: Option<u32>,
}

/// `POST /v1/invites/{code}/accept`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AcceptedInvite {
    pub workspace: WorkspaceView,
    /// The caller's role (a member accepting again keeps theirs).
    pub role: Role,
}

/// What the code alone reveals: enough to decide whether to accept.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitePreview {
    pub workspace: WorkspacePreview,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The workspace an invite leads to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkspacePreview {
    pub id: WorkspaceId,
    pub name: String,
}

const UNUSABLE: &str = "invite not found";

fn usable(invite: &Invite, now: chrono::DateTime<chrono::Utc>) -> bool {
    invite.expires_at > now && invite.max_uses.is_none_or(|max| invite.uses < max)
}

fn looks_like_a_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= secrets::MAX_SECRET_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `POST /v1/workspaces/{wid}/invites`: admins and the owner.
pub async fn create(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    request: CreateInviteRequest,
) -> ApiResult<Invite> {
    let hours = request.expires_in_hours.unwrap_or(DEFAULT_EXPIRY_HOURS);
    let mut check = Validator::new();
    if !(1..=MAX_EXPIRY_HOURS).contains(&hours) {
        check.add(
            "expires_in_hours",
            format!("must be 1 to {MAX_EXPIRY_HOURS}"),
        );
    }
    if let Some(max_uses) = request.max_uses
        && !(1..=MAX_USES_LIMIT).contains(&max_uses)
    {
        check.add("max_uses", format!("must be 1 to {MAX_USES_LIMIT}"));
    }
    check.finish()?;

    let access = access::workspace(state, workspace_id, caller).await?;
    access.require_admin()?;
    let now = clock::now();
    let invite = Invite {
        code: secrets::generate()?,
        workspace_id,
        created_by: caller,
        created_at: now,
        expires_at: now + Duration::hours(hours),
        max_uses: request.max_uses,
        uses: 0,
    };
    state.store.create_invite(&invite).await?;
    Ok(invite)
}

/// `GET /v1/workspaces/{wid}/invites`: admins and the owner.
pub async fn list(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    page: PageRequest,
) -> ApiResult<Page<Invite>> {
    let (access, invites) = tokio::try_join!(
        access::workspace(state, workspace_id, caller),
        state.store.list_invites(workspace_id, &page)
    )?;
    access.require_admin()?;
    Ok(invites)
}

/// `DELETE /v1/workspaces/{wid}/invites/{code}`: admins and the owner revoke.
pub async fn revoke(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    code: &str,
) -> ApiResult<()> {
    let access = access::workspace(state, workspace_id, caller).await?;
    access.require_admin()?;
    if !looks_like_a_code(code) {
        return Err(ApiError::not_found("invite"));
    }
    match state
        .store
        .delete_invite(workspace_id, code, caller)
        .await?
    {
        InviteRevocation::Revoked => Ok(()),
        InviteRevocation::NotFound => Err(ApiError::not_found("invite")),
    }
}

/// `GET /v1/invites/{code}`: no sign-in needed; 404 unless the invite can be accepted.
pub async fn preview(state: &AppState, code: &str) -> ApiResult<InvitePreview> {
    if !looks_like_a_code(code) {
        return Err(ApiError::NotFound(UNUSABLE.into()));
    }
    let invite = state
        .store
        .get_invite(code)
        .await?
        .filter(|invite| usable(invite, clock::now()))
        .ok_or_else(|| ApiError::NotFound(UNUSABLE.into()))?;
    let workspace = state
        .store
        .get_workspaces(&[invite.workspace_id])
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound(UNUSABLE.into()))?;
    Ok(InvitePreview {
        workspace: WorkspacePreview {
            id: workspace.id,
            name: workspace.name,
        },
        expires_at: invite.expires_at,
    })
}

/// `POST /v1/invites/{code}/accept`: joins the caller as a member (and to `general`).
/// A member accepting again gets 200 and uses nothing up.
pub async fn accept(state: &AppState, caller: UserId, code: &str) -> ApiResult<AcceptedInvite> {
    if !looks_like_a_code(code) {
        return Err(ApiError::NotFound(UNUSABLE.into()));
    }
    let invite = state
        .store
        .get_invite(code)
        .await?
        .ok_or_else(|| ApiError::NotFound(UNUSABLE.into()))?;
    let (workspace, existing) = state
        .store
        .get_workspace_and_member(invite.workspace_id, caller)
        .await?;
    let workspace = workspace.ok_or_else(|| ApiError::NotFound(UNUSABLE.into()))?;
    if let Some(member) = existing {
        return Ok(AcceptedInvite {
            role: member.role,
            workspace: WorkspaceView {
                workspace,
                my_role: member.role,
            },
        });
    }
    let member = WorkspaceMember {
        workspace_id: workspace.id,
        user_id: caller,
        role: Role::Member,
        joined_at: clock::now(),
        added_by: Some(caller),
        invite_code: Some(code.to_owned()),
        role_changed_by: None,
    };
    match state
        .store
        .accept_invite(code, &member, workspace.general_channel_id)
        .await?
    {
        InviteAcceptance::Joined => {
            tracing::info!(workspace_id = %workspace.id, "invite accepted");
            Ok(AcceptedInvite {
                role: Role::Member,
                workspace: WorkspaceView {
                    workspace,
                    my_role: Role::Member,
                },
            })
        }
        // Joined concurrently through another request: still idempotent.
        InviteAcceptance::AlreadyMember => {
            let member = state
                .store
                .get_workspace_member(workspace.id, caller)
                .await?
                .ok_or_else(|| ApiError::NotFound(UNUSABLE.into()))?;
            Ok(AcceptedInvite {
                role: member.role,
                workspace: WorkspaceView {
                    workspace,
                    my_role: member.role,
                },
            })
        }
        InviteAcceptance::Unusable => Err(ApiError::NotFound(UNUSABLE.into())),
    }
}
