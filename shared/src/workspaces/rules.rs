//! Workspaces and their members: create (with the `general` channel), list, read, update,
//! delete, and the roles owner / admin / member with ownership transfer.

use std::collections::HashMap;

use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::{self, WorkspaceAccess};
use crate::channels::{Channel, ChannelKind, ChannelMember};
use crate::clock;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::ids::{ChannelId, UserId, WorkspaceId};
use crate::patch::Patch;
use crate::realtime;
use crate::state::AppState;
use crate::table::{Page, PageRequest};
use crate::users::{PublicProfile, with_profiles};
use crate::validate::{Validator, normalize_email};
use crate::workspaces::{
    MemberAddition, MemberRemoval, OwnershipTransfer, RoleChange, WorkspaceChanges,
    WorkspaceDeletion, WorkspaceUpdate,
};
use crate::workspaces::{MemberView, Role, Workspace, WorkspaceMember, WorkspaceView};

pub const NAME_MAX: usize = 80;
pub const DESCRIPTION_MAX: usize = 1000;
pub const GENERAL_CHANNEL: &str = "general";

/// `POST /v1/workspaces`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspaceRequest {
    /// Surrounding spaces are trimmed.
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    /// An empty one is the same as none.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub description: Option<String>,
}

/// `PATCH /v1/workspaces/{workspace_id}`: absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkspaceRequest {
    /// A new name; it cannot be cleared.
    #[serde(default)]
    #[schema(value_type = String, min_length = 1, max_length = 80)]
    pub name: Patch<String>,
    /// A new description; `null` or an empty one clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub description: Patch<String>,
}

/// `POST /v1/workspaces/{workspace_id}/members`: exactly one of `user_id` and `email`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The user to add.
    #[serde(default)]
    pub user_id: Option<UserId>,
    /// Or the email of the user to add.
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// `member` (the default) or `admin`; ownership moves only by transfer.
    #[serde(default)]
    pub role: Option<Role>,
}

/// `PATCH /v1/workspaces/{workspace_id}/members/{user_id}`: `owner` transfers ownership
/// (the caller becomes an admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    pub role: Role,
}

fn view(workspace: Workspace, role: Role) -> WorkspaceView {
    WorkspaceView {
        workspace,
        my_role: role,
    }
}

fn check_description(check: &mut Validator, description: Option<&String>) {
    if let Some(description) = description {
        check.text("description", description, 0, DESCRIPTION_MAX);
    }
}

fn trimmed_or_none(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `POST /v1/workspaces`: the caller becomes the owner; `general` is created and joined.
pub async fn create(
    state: &AppState,
    caller: UserId,
    request: CreateWorkspaceRequest,
) -> ApiResult<WorkspaceView> {
    let mut check = Validator::new();
    check.text("name", &request.name, 1, NAME_MAX);
    check_description(&mut check, request.description.as_ref());
    check.finish()?;

    let now = clock::now();
    let workspace = Workspace {
        id: WorkspaceId::generate(),
        name: request.name.trim().to_owned(),
        description: trimmed_or_none(request.description),
        owner_id: caller,
        general_channel_id: ChannelId::generate(),
        channel_count: 1,
        created_at: now,
        updated_at: now,
    };
    let owner = WorkspaceMember {
        workspace_id: workspace.id,
        user_id: caller,
        role: Role::Owner,
        joined_at: now,
        added_by: None,
        invite_code: None,
        role_changed_by: None,
    };
    let general = Channel {
        id: workspace.general_channel_id,
        workspace_id: workspace.id,
        name: GENERAL_CHANNEL.into(),
        kind: ChannelKind::Chat,
        private: false,
        topic: None,
        created_by: caller,
        created_at: now,
        updated_at: now,
        member_count: 1,
        message_count: 0,
        last_message_id: None,
        last_message_at: None,
        general: true,
        dm_members: Vec::new(),
    };
    let general_member = ChannelMember {
        channel_id: general.id,
        workspace_id: workspace.id,
        user_id: caller,
        joined_at: now,
        read_count: 0,
        last_read_message_id: None,
        mention_count: 0,
        notification_level: None,
    };
    state
        .store
        .create_workspace(&workspace, &owner, &general, &general_member)
        .await?;
    tracing::info!(workspace_id = %workspace.id, "workspace created");
    Ok(view(workspace, Role::Owner))
}

/// `GET /v1/workspaces`: the caller's workspaces, each with `my_role`. Deleted workspaces
/// (whose memberships await clean-up) are left out before the page is cut.
pub async fn list_mine(
    state: &AppState,
    caller: UserId,
    page: PageRequest,
) -> ApiResult<Page<WorkspaceView>> {
    let existing = move |memberships: Vec<WorkspaceMember>| async move {
        let ids: Vec<WorkspaceId> = memberships.iter().map(|m| m.workspace_id).collect();
        let mut workspaces: HashMap<WorkspaceId, Workspace> = state
            .store
            .get_workspaces(&ids)
            .await?
            .into_iter()
            .map(|w| (w.id, w))
            .collect();
        Ok::<_, ApiError>(
            memberships
                .into_iter()
                .map(|member| {
                    workspaces
                        .remove(&member.workspace_id)
                        .map(|w| view(w, member.role))
                })
                .collect(),
        )
    };
    state
        .store
        .list_user_workspace_memberships(caller, &page, existing)
        .await
}

/// `GET /v1/workspaces/{wid}`: members only.
pub async fn get(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
) -> ApiResult<WorkspaceView> {
    let access = access::workspace(state, workspace_id, caller).await?;
    Ok(view(access.workspace, access.member.role))
}

/// `PATCH /v1/workspaces/{wid}`: admins and the owner.
pub async fn update(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    request: UpdateWorkspaceRequest,
) -> ApiResult<WorkspaceView> {
    let mut check = Validator::new();
    match &request.name {
        Patch::Absent => {}
        Patch::Clear => check.add("name", "cannot be null"),
        Patch::Set(name) => check.text("name", name, 1, NAME_MAX),
    }
    check_description(&mut check, request.description.as_set());
    check.finish()?;

    let access = access::workspace(state, workspace_id, caller).await?;
    access.require_admin()?;
    if request.name.is_absent() && request.description.is_absent() {
        return Ok(view(access.workspace, access.member.role));
    }
    let changes = WorkspaceChanges {
        name: request.name.as_set().map(|name| name.trim().to_owned()),
        description: match request.description {
            Patch::Set(text) => match trimmed_or_none(Some(text)) {
                Some(text) => Patch::Set(text),
                None => Patch::Clear,
            },
            other => other,
        },
    };
    let updated = match state
        .store
        .update_workspace(workspace_id, &changes, clock::now())
        .await?
    {
        WorkspaceUpdate::Updated(workspace) => workspace,
        WorkspaceUpdate::Gone => return Err(ApiError::not_found("workspace")),
    };
    Ok(view(updated, access.member.role))
}

/// `DELETE /v1/workspaces/{wid}`: the owner only. Unreachable at once.
pub async fn delete(state: &AppState, caller: UserId, workspace_id: WorkspaceId) -> ApiResult<()> {
    let access = access::workspace(state, workspace_id, caller).await?;
    access.require_owner()?;
    if state.store.delete_workspace(workspace_id, caller).await? == WorkspaceDeletion::Refused {
        return Err(ApiError::not_found("workspace"));
    }
    tracing::info!(workspace_id = %workspace_id, "workspace deleted");
    Ok(())
}

fn member_view((user, member): (PublicProfile, WorkspaceMember)) -> MemberView {
    MemberView {
        user,
        role: member.role,
        joined_at: member.joined_at,
    }
}

/// `GET /v1/workspaces/{wid}/members`: members only.
pub async fn list_members(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    page: PageRequest,
) -> ApiResult<Page<MemberView>> {
    // The membership check and the page are independent reads: run them together.
    let (access, members) = tokio::try_join!(
        access::workspace(state, workspace_id, caller),
        state.store.list_workspace_members(workspace_id, &page)
    )?;
    drop(access);
    Ok(with_profiles(state, members, |m| m.user_id)
        .await?
        .map(member_view))
}

/// The user an add-member request names, by id or by email.
async fn resolve_user(
    state: &AppState,
    user_id: Option<UserId>,
    email: Option<&str>,
) -> ApiResult<PublicProfile> {
    let user_id = match (user_id, email) {
        (Some(user_id), _) => user_id,
        (None, Some(email)) => {
            state
                .store
                .get_credential(&normalize_email(email))
                .await?
                .ok_or_else(|| ApiError::not_found("user"))?
                .user_id
        }
        (None, None) => return Err(ApiError::invalid("give user_id or email")),
    };
    profile_of(state, user_id).await
}

async fn profile_of(state: &AppState, user_id: UserId) -> ApiResult<PublicProfile> {
    state
        .store
        .get_user(user_id)
        .await?
        .map(PublicProfile::from)
        .ok_or_else(|| ApiError::not_found("user"))
}

/// `POST /v1/workspaces/{wid}/members`: admins and the owner add a user (by id or email)
/// as a member or admin; they join `general`.
pub async fn add_member(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    request: AddMemberRequest,
) -> ApiResult<MemberView> {
    let mut check = Validator::new();
    match (&request.user_id, &request.email) {
        (Some(_), None) => {}
        (None, Some(email)) => check.email("email", email),
        _ => check.add("user_id", "give exactly one of user_id and email"),
    }
    if request.role == Some(Role::Owner) {
        check.add(
            "role",
            "must be member or admin; transfer ownership with PATCH",
        );
    }
    check.finish()?;

    // The caller's access and the new member's profile are independent reads.
    let (access, user) = tokio::try_join!(
        access::workspace(state, workspace_id, caller),
        resolve_user(state, request.user_id, request.email.as_deref())
    )?;
    access.require_admin()?;
    let user_id = user.id;
    let member = WorkspaceMember {
        workspace_id,
        user_id,
        role: request.role.unwrap_or(Role::Member),
        joined_at: clock::now(),
        added_by: Some(caller),
        invite_code: None,
        role_changed_by: None,
    };
    if state
        .store
        .add_workspace_member(&member, access.workspace.general_channel_id)
        .await?
        == MemberAddition::AlreadyMember
    {
        return Err(ApiError::conflict(
            "the user is already a member of this workspace",
        ));
    }
    Ok(member_view((user, member)))
}

/// `PATCH /v1/workspaces/{wid}/members/{uid}`: the owner sets admin/member, or hands over
/// ownership with `role: "owner"` (becoming an admin).
pub async fn update_member(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    user_id: UserId,
    request: UpdateMemberRequest,
) -> ApiResult<MemberView> {
    let access = access::workspace(state, workspace_id, caller).await?;
    access.require_owner()?;
    if user_id == caller {
        return Err(ApiError::conflict(
            "the owner's role changes only by transferring ownership to another member",
        ));
    }
    if request.role == Role::Owner {
        if state
            .store
            .transfer_ownership(workspace_id, caller, user_id)
            .await?
            == OwnershipTransfer::Refused
        {
            return Err(ApiError::not_found("member"));
        }
        tracing::info!(workspace_id = %workspace_id, new_owner = %user_id, "ownership transferred");
        let (member, user) = tokio::try_join!(
            state.store.get_workspace_member(workspace_id, user_id),
            profile_of(state, user_id)
        )?;
        let member = member.ok_or_else(|| ApiError::not_found("member"))?;
        return Ok(member_view((user, member)));
    }
    let (change, user) = tokio::try_join!(
        state
            .store
            .set_member_role(workspace_id, user_id, request.role, caller),
        profile_of(state, user_id)
    )?;
    match change {
        RoleChange::Changed(member) => Ok(member_view((user, member))),
        RoleChange::NotMemberOrOwner => Err(ApiError::not_found("member")),
    }
}

const OWNER_CANNOT_LEAVE: &str =
    "the owner cannot leave; transfer ownership first or delete the workspace";

/// `DELETE /v1/workspaces/{wid}/members/{uid}`: admins remove non-owners; anyone leaves;
/// the owner cannot leave. Whether the target is the owner is decided by the delete
/// itself, so a concurrent transfer of ownership cannot slip in between.
pub async fn remove_member(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    user_id: UserId,
) -> ApiResult<()> {
    let access: WorkspaceAccess = access::workspace(state, workspace_id, caller).await?;
    let leaving = user_id == caller;
    if leaving {
        if access.role() == Role::Owner {
            return Err(ApiError::conflict(OWNER_CANNOT_LEAVE));
        }
    } else {
        access.require_admin()?;
    }
    match state
        .store
        .remove_workspace_member(workspace_id, user_id, caller)
        .await?
    {
        MemberRemoval::Removed => {
            realtime::end_workspace_subscriptions(state, workspace_id, user_id).await
        }
        MemberRemoval::NotMember => Err(ApiError::not_found("member")),
        MemberRemoval::Owner if leaving => Err(ApiError::conflict(OWNER_CANNOT_LEAVE)),
        MemberRemoval::Owner => Err(ApiError::Forbidden("the owner cannot be removed".into())),
    }
}

/// A field error for an id list, used by routes that take user ids.
pub(crate) fn not_members_error(field: &str, missing: &[UserId]) -> ApiError {
    let ids: Vec<String> = missing.iter().map(ToString::to_string).collect();
    ApiError::invalid_fields(vec![FieldError::new(
        field,
        format!("not members of this workspace: {}", ids.join(", ")),
    )])
}
