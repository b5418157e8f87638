//! Workspaces, workspace members and invites.

use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::channels::store::{ChannelItem, ChannelMemberItem, ChannelNameItem};
use crate::channels::{Channel, ChannelMember};
use crate::error::{ApiError, ApiResult};
use crate::ids::{UserId, WorkspaceId};
use crate::keys::{self, Gsi1Key, Key};
use crate::patch::Patch;
use crate::table::{
    Item, Page, PageRequest, Store, TransactOutcome, add_to_counter, conditional, from_attributes,
    item_exists, put_new, take_item, to_attribute, to_attributes,
};
use crate::workspaces::{Role, Workspace, WorkspaceMember};

#[derive(Serialize, Deserialize)]
pub(crate) struct WorkspaceItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    pub(crate) workspace: Workspace,
}

impl WorkspaceItem {
    fn new(workspace: &Workspace) -> Self {
        Self {
            key: keys::workspace(workspace.id),
            entity: keys::entity::WORKSPACE.into(),
            workspace: workspace.clone(),
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct WorkspaceMemberItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    by_user: Gsi1Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    pub(crate) member: WorkspaceMember,
}

impl WorkspaceMemberItem {
    pub(crate) fn new(member: &WorkspaceMember) -> Self {
        Self {
            key: keys::workspace_member(member.workspace_id, member.user_id),
            by_user: keys::workspace_member_by_user(member.workspace_id, member.user_id),
            entity: keys::entity::WORKSPACE_MEMBER.into(),
            member: member.clone(),
        }
    }
}

/// A workspace update; absent fields stay as they are.
#[derive(Debug, Default)]
pub struct WorkspaceChanges {
    pub name: Option<String>,
    pub description: Patch<String>,
}

/// How removing a member (or leaving) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRemoval {
    Removed,
    NotMember,
    /// The member is the owner (perhaps since a transfer that committed first).
    Owner,
}

/// How updating a workspace ended.
#[derive(Debug, Clone)]
pub enum WorkspaceUpdate {
    Updated(Workspace),
    /// The workspace is gone.
    Gone,
}

/// How deleting a workspace ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceDeletion {
    Deleted,
    /// The workspace is gone, or no longer owned by the caller.
    Refused,
}

/// How adding a member to a workspace ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberAddition {
    Added,
    AlreadyMember,
}

/// How setting a member's role ended.
#[derive(Debug, Clone)]
pub enum RoleChange {
    Changed(WorkspaceMember),
    /// The user is not a member, or is the owner (whose role changes only by a transfer).
    NotMemberOrOwner,
}

/// How a transfer of ownership ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnershipTransfer {
    Transferred,
    /// The giver is no longer the owner, or the receiver is not a member.
    Refused,
}

pub(crate) fn general_membership_writes(
    table: &str,
    member: &WorkspaceMember,
    general_channel_id: crate::ids::ChannelId,
    now: DateTime<Utc>,
) -> ApiResult<Vec<TransactWriteItem>> {
    let general_member = ChannelMember {
        channel_id: general_channel_id,
        workspace_id: member.workspace_id,
        user_id: member.user_id,
        joined_at: now,
        read_count: 0,
        last_read_message_id: None,
        mention_count: 0,
        notification_level: None,
    };
    Ok(vec![
        put_new(table, &ChannelMemberItem::new(&general_member))?,
        add_to_counter(table, &keys::channel(general_channel_id), "member_count", 1)?,
    ])
}

impl Store {
    /// What a deleted workspace leaves behind: its channel records (whose removal cleans
    /// each channel up in turn), its invites, and its partition (members, name and DM
    /// markers).
    pub async fn workspace_leftover_keys(&self, workspace_id: WorkspaceId) -> ApiResult<Vec<Key>> {
        let (channels, invites, partition) = (
            keys::workspace_channels(workspace_id),
            keys::workspace_invites(workspace_id),
            keys::workspace_partition(workspace_id),
        );
        let (channels, invites, partition) = tokio::try_join!(
            self.keys_in(&channels),
            self.keys_in(&invites),
            self.keys_in(&partition)
        )?;
        Ok(channels
            .into_iter()
            .chain(invites)
            .chain(partition)
            .collect())
    }

    /// Creates a workspace with its owner and its `general` channel (which the owner joins),
    /// in one transaction.
    pub async fn create_workspace(
        &self,
        workspace: &Workspace,
        owner: &WorkspaceMember,
        general: &Channel,
        general_member: &ChannelMember,
    ) -> ApiResult<()> {
        let table = self.table();
        let outcome = self
            .transact(vec![
                put_new(table, &WorkspaceItem::new(workspace))?,
                put_new(table, &WorkspaceMemberItem::new(owner))?,
                put_new(table, &ChannelItem::new(general))?,
                put_new(table, &ChannelNameItem::new(general))?,
                put_new(table, &ChannelMemberItem::new(general_member))?,
            ])
            .await?;
        match outcome {
            TransactOutcome::Committed => Ok(()),
            TransactOutcome::ConditionFailed(codes) => {
                Err(TransactOutcome::cancelled("workspace creation", &codes))
            }
        }
    }

    /// The workspace and the user's membership, in one read (either may be missing).
    pub async fn get_workspace_and_member(
        &self,
        workspace_id: WorkspaceId,
        user_id: UserId,
    ) -> ApiResult<(Option<Workspace>, Option<WorkspaceMember>)> {
        let workspace_key = keys::workspace(workspace_id);
        let member_key = keys::workspace_member(workspace_id, user_id);
        let mut items: Vec<Item> = self
            .batch_get_items(&[workspace_key.clone(), member_key.clone()])
            .await?;
        let workspace: Option<WorkspaceItem> = take_item(&mut items, &workspace_key)?;
        let member: Option<WorkspaceMemberItem> = take_item(&mut items, &member_key)?;
        Ok((workspace.map(|w| w.workspace), member.map(|m| m.member)))
    }

    /// Several members of one workspace (those that are not members are left out).
    pub async fn get_workspace_members(
        &self,
        workspace_id: WorkspaceId,
        user_ids: &[UserId],
    ) -> ApiResult<Vec<WorkspaceMember>> {
        let keys: Vec<Key> = user_ids
            .iter()
            .map(|uid| keys::workspace_member(workspace_id, *uid))
            .collect();
        let items: Vec<WorkspaceMemberItem> = self.batch_get(&keys).await?;
        Ok(items.into_iter().map(|item| item.member).collect())
    }

    pub async fn get_workspace_member(
        &self,
        workspace_id: WorkspaceId,
        user_id: UserId,
    ) -> ApiResult<Option<WorkspaceMember>> {
        let key = keys::workspace_member(workspace_id, user_id);
        let item: Option<WorkspaceMemberItem> = self.get(key).await?;
        Ok(item.map(|item| item.member))
    }

    /// A page of the user's workspace memberships that `select` keeps (newest workspace
    /// last); see [`Store::query_selected`] for how far it reads.
    pub async fn list_user_workspace_memberships<U, F, Fut>(
        &self,
        user_id: UserId,
        page: &PageRequest,
        mut select: F,
    ) -> ApiResult<Page<U>>
    where
        F: FnMut(Vec<WorkspaceMember>) -> Fut,
        Fut: Future<Output = ApiResult<Vec<Option<U>>>>,
    {
        self.query_selected(
            &keys::user_workspaces(user_id),
            page,
            true,
            |items: Vec<WorkspaceMemberItem>| {
                select(items.into_iter().map(|item| item.member).collect())
            },
        )
        .await
    }

    /// Every workspace membership of a user (bounded by how many workspaces one joins).
    pub async fn all_user_workspace_memberships(
        &self,
        user_id: UserId,
    ) -> ApiResult<Vec<WorkspaceMember>> {
        let items: Vec<WorkspaceMemberItem> = self
            .query_all(&keys::user_workspaces(user_id), usize::MAX)
            .await?;
        Ok(items.into_iter().map(|item| item.member).collect())
    }

    /// Workspaces by id (deleted ones are left out).
    pub async fn get_workspaces(&self, ids: &[WorkspaceId]) -> ApiResult<Vec<Workspace>> {
        let keys: Vec<Key> = ids.iter().map(|id| keys::workspace(*id)).collect();
        let items: Vec<WorkspaceItem> = self.batch_get(&keys).await?;
        Ok(items.into_iter().map(|item| item.workspace).collect())
    }

    /// Updates name and/or description.
    pub async fn update_workspace(
        &self,
        workspace_id: WorkspaceId,
        changes: &WorkspaceChanges,
        now: DateTime<Utc>,
    ) -> ApiResult<WorkspaceUpdate> {
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::workspace(workspace_id))?))
            .condition_expression(item_exists())
            .return_values(ReturnValue::AllNew)
            .expression_attribute_values(":updated_at", to_attribute(&now)?);
        let mut set = vec!["updated_at = :updated_at"];
        let mut remove = Vec::new();
        if let Some(name) = &changes.name {
            set.push("#name = :name");
            request = request
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":name", to_attribute(name)?);
        }
        match &changes.description {
            Patch::Absent => {}
            Patch::Clear => {
                remove.push("#description");
                request = request.expression_attribute_names("#description", "description");
            }
            Patch::Set(description) => {
                set.push("#description = :description");
                request = request
                    .expression_attribute_names("#description", "description")
                    .expression_attribute_values(":description", to_attribute(description)?);
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let result = request.update_expression(expression).send().await;
        match conditional("UpdateItem", result)?.and_then(|output| output.attributes) {
            Some(item) => Ok(WorkspaceUpdate::Updated(
                from_attributes::<WorkspaceItem>(item)?.workspace,
            )),
            None => Ok(WorkspaceUpdate::Gone),
        }
    }

    /// Deletes the workspace record (the workspace is unreachable from then on), then its
    /// channels and their name markers. Memberships are left for later clean-up: nothing
    /// reaches them without the workspace or channel record.
    pub async fn delete_workspace(
        &self,
        workspace_id: WorkspaceId,
        owner_id: UserId,
    ) -> ApiResult<WorkspaceDeletion> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::workspace(workspace_id))?))
            .condition_expression(format!("{} AND owner_id = :owner", item_exists()))
            .expression_attribute_values(":owner", to_attribute(&owner_id)?)
            .send()
            .await;
        if conditional("DeleteItem", result)?.is_none() {
            return Ok(WorkspaceDeletion::Refused);
        }
        let channels: Vec<ChannelItem> = self
            .query_all(&keys::workspace_channels(workspace_id), usize::MAX)
            .await?;
        let mut deletes = Vec::with_capacity(channels.len() * 2);
        for item in &channels {
            deletes.push(channel_delete_key(&item.channel));
            if item.channel.dm_members.is_empty() {
                deletes.push(keys::channel_name(workspace_id, &item.channel.name));
            }
        }
        self.delete_keys(&deletes).await?;
        Ok(WorkspaceDeletion::Deleted)
    }

    /// A page of a workspace's members, in user-id order.
    pub async fn list_workspace_members(
        &self,
        workspace_id: WorkspaceId,
        page: &PageRequest,
    ) -> ApiResult<Page<WorkspaceMember>> {
        let page: Page<WorkspaceMemberItem> = self
            .query_page(&keys::workspace_members(workspace_id), page, true)
            .await?;
        Ok(page.map(|item| item.member))
    }

    /// A page of the workspace's members that `select` keeps, in user-id order; see
    /// [`Store::query_selected`] for how far it reads.
    pub async fn list_workspace_members_where<U, F, Fut>(
        &self,
        workspace_id: WorkspaceId,
        page: &PageRequest,
        mut select: F,
    ) -> ApiResult<Page<U>>
    where
        F: FnMut(Vec<WorkspaceMember>) -> Fut,
        Fut: Future<Output = ApiResult<Vec<Option<U>>>>,
    {
        self.query_selected(
            &keys::workspace_members(workspace_id),
            page,
            true,
            |items: Vec<WorkspaceMemberItem>| {
                select(items.into_iter().map(|item| item.member).collect())
            },
        )
        .await
    }

    /// Adds a member and joins them to the general channel.
    pub async fn add_workspace_member(
        &self,
        member: &WorkspaceMember,
        general_channel_id: crate::ids::ChannelId,
    ) -> ApiResult<MemberAddition> {
        const NEW_MEMBER: usize = 0;
        let table = self.table();
        let mut items = vec![put_new(table, &WorkspaceMemberItem::new(member))?];
        items.extend(general_membership_writes(
            table,
            member,
            general_channel_id,
            member.joined_at,
        )?);
        match self.transact(items).await? {
            TransactOutcome::Committed => Ok(MemberAddition::Added),
            outcome if outcome.failed_at(NEW_MEMBER) => Ok(MemberAddition::AlreadyMember),
            TransactOutcome::ConditionFailed(codes) => {
                Err(TransactOutcome::cancelled("adding member", &codes))
            }
        }
    }

    /// Sets a (non-owner) member's role.
    pub async fn set_member_role(
        &self,
        workspace_id: WorkspaceId,
        user_id: UserId,
        role: Role,
        actor: UserId,
    ) -> ApiResult<RoleChange> {
        let key = keys::workspace_member(workspace_id, user_id);
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&key)?))
            .update_expression("SET #role = :role, role_changed_by = :actor")
            .condition_expression(format!("{} AND #role <> :owner", item_exists()))
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":role", to_attribute(&role)?)
            .expression_attribute_values(":actor", to_attribute(&actor)?)
            .expression_attribute_values(":owner", to_attribute(&Role::Owner)?)
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match conditional("UpdateItem", result)?.and_then(|output| output.attributes) {
            Some(item) => Ok(RoleChange::Changed(
                from_attributes::<WorkspaceMemberItem>(item)?.member,
            )),
            None => Ok(RoleChange::NotMemberOrOwner),
        }
    }

    /// Makes `to` the owner and `from` (the current owner) an admin, atomically. Refused if
    /// `from` is no longer the owner or `to` is not a member: each role update is
    /// conditioned on its membership existing, so a removal of `to` that commits first
    /// fails the transfer (and a transfer that commits first fails the removal, which is
    /// conditioned on the role not being owner). Either way the owner stays a member.
    pub async fn transfer_ownership(
        &self,
        workspace_id: WorkspaceId,
        from: UserId,
        to: UserId,
    ) -> ApiResult<OwnershipTransfer> {
        let set_role = |user: UserId, role: Role| -> ApiResult<TransactWriteItem> {
            let update = Update::builder()
                .table_name(self.table())
                .set_key(Some(to_attributes(&keys::workspace_member(
                    workspace_id,
                    user,
                ))?))
                .update_expression("SET #role = :role, role_changed_by = :actor")
                .condition_expression(item_exists())
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":role", to_attribute(&role)?)
                .expression_attribute_values(":actor", to_attribute(&from)?)
                .build()
                .map_err(ApiError::internal)?;
            Ok(TransactWriteItem::builder().update(update).build())
        };
        let owner = Update::builder()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::workspace(workspace_id))?))
            .update_expression("SET owner_id = :to")
            .condition_expression(format!("{} AND owner_id = :from", item_exists()))
            .expression_attribute_values(":to", to_attribute(&to)?)
            .expression_attribute_values(":from", to_attribute(&from)?)
            .build()
            .map_err(ApiError::internal)?;
        let outcome = self
            .transact(vec![
                TransactWriteItem::builder().update(owner).build(),
                set_role(to, Role::Owner)?,
                set_role(from, Role::Admin)?,
            ])
            .await?;
        Ok(match outcome {
            TransactOutcome::Committed => OwnershipTransfer::Transferred,
            TransactOutcome::ConditionFailed(_) => OwnershipTransfer::Refused,
        })
    }

    /// Removes a member from the workspace, then from each of its channels (keeping the
    /// channels' member counts exact). The workspace membership goes first, deleted only
    /// while its role is not owner: the owner never leaves, even when a transfer of
    /// ownership to this member commits between the caller's role check and this delete.
    /// Every join, add or DM that commits after it fails its check on the membership, so
    /// the sweep of channel memberships that follows cannot be outrun; whatever it misses
    /// (an index that lags, a failure half way) grants nothing, since channel access
    /// needs the workspace membership, and is swept again from the table's stream.
    pub async fn remove_workspace_member(
        &self,
        workspace_id: WorkspaceId,
        user_id: UserId,
        actor: UserId,
    ) -> ApiResult<MemberRemoval> {
        let key = keys::workspace_member(workspace_id, user_id);
        // For the activity log: who removed the member (themselves, when leaving).
        self.note_deletion(&key, actor).await?;
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&key)?))
            .condition_expression(format!("{} AND #role <> :owner", item_exists()))
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":owner", to_attribute(&Role::Owner)?)
            .send()
            .await;
        if conditional("DeleteItem", result)?.is_none() {
            // The condition failed: the member was gone, or was the owner.
            self.forget_deletion(&key).await?;
            return Ok(
                match self.get_workspace_member(workspace_id, user_id).await? {
                    Some(_) => MemberRemoval::Owner,
                    None => MemberRemoval::NotMember,
                },
            );
        }
        self.leave_workspace_channels(workspace_id, user_id).await?;
        Ok(MemberRemoval::Removed)
    }
}

fn channel_delete_key(channel: &Channel) -> Key {
    keys::channel(channel.id)
}
