//! Channels, their name and DM markers, memberships, read markers and member counts.

use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::channels::{Channel, ChannelMember};
use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, MessageId, UserId, WorkspaceId};
use crate::keys::{self, Gsi1Key, Key};
use crate::patch::Patch;
use crate::table::{
    Item, Page, PageRequest, Store, TransactOutcome, add_to_counter, check_absent, check_exists,
    conditional, delete_existing, item_exists, put_new, take_item, to_attribute, to_attributes,
    update_of,
};
use crate::workspaces::store::{WorkspaceItem, WorkspaceMemberItem};
use crate::workspaces::{Workspace, WorkspaceMember};

#[derive(Serialize, Deserialize)]
pub(crate) struct ChannelItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    by_workspace: Gsi1Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    pub(crate) channel: Channel,
}

impl ChannelItem {
    pub(crate) fn new(channel: &Channel) -> Self {
        Self {
            key: keys::channel(channel.id),
            by_workspace: keys::channel_by_workspace(channel.workspace_id, channel.id),
            entity: keys::entity::CHANNEL.into(),
            channel: channel.clone(),
        }
    }
}

/// The uniqueness marker of a channel name within its workspace.
#[derive(Serialize, Deserialize)]
pub(crate) struct ChannelNameItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    channel_id: ChannelId,
}

impl ChannelNameItem {
    pub(crate) fn new(channel: &Channel) -> Self {
        Self::for_name(channel, &channel.name)
    }

    fn for_name(channel: &Channel, name: &str) -> Self {
        Self {
            key: keys::channel_name(channel.workspace_id, name),
            entity: keys::entity::CHANNEL_NAME.into(),
            channel_id: channel.id,
        }
    }
}

/// The marker that maps a DM member set to its channel.
#[derive(Serialize, Deserialize)]
struct DmMarkerItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    channel_id: ChannelId,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct ChannelMemberItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    by_user: Gsi1Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    member: ChannelMember,
}

impl ChannelMemberItem {
    pub(crate) fn new(member: &ChannelMember) -> Self {
        Self {
            key: keys::channel_member(member.channel_id, member.user_id),
            by_user: keys::channel_member_by_user(
                member.workspace_id,
                member.channel_id,
                member.user_id,
            ),
            entity: keys::entity::CHANNEL_MEMBER.into(),
            member: member.clone(),
        }
    }
}

/// A channel update; absent fields stay as they are.
#[derive(Debug, Default)]
pub struct ChannelChanges {
    pub name: Option<String>,
    pub topic: Patch<String>,
}

/// How a channel create or rename ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelWrite {
    Done(Box<Channel>),
    NameTaken,
    /// The channel was deleted meanwhile (rename), or the workspace was, or the creator
    /// left it (create).
    Gone,
    /// The workspace already holds as many channels as it may.
    LimitReached,
}

/// How a join, add or leave ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipChange {
    Changed,
    /// Nothing to do: already a member (join) or not a member (leave).
    Unchanged,
    /// The channel was deleted meanwhile.
    ChannelGone,
    /// The user joining or being added is not (or no longer) a member of the workspace.
    NotInWorkspace,
    /// Whoever adds them is no longer a member of the channel or of the workspace.
    AdderNotMember,
}

/// How deleting a channel ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelDeletion {
    Deleted,
    /// The channel (or its workspace) was already gone.
    Gone,
}

/// How moving a member's read marker ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMarkerMove {
    Moved,
    /// The marker was already at or past the position.
    AlreadyPast,
}

/// How a DM lookup-or-create ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DmOutcome {
    Created(Channel),
    Existing(Channel),
    /// These members left the workspace (or were removed) meanwhile.
    NotInWorkspace(Vec<UserId>),
}

/// A channel and the caller's membership of it, read together.
#[derive(Debug, Clone)]
pub struct Membership {
    pub channel: Option<Channel>,
    pub member: Option<ChannelMember>,
}

/// What a channel access check reads: the channel, the caller's membership of it, the
/// channel's workspace and the caller's membership of that (each may be missing).
#[derive(Debug, Clone, Default)]
pub struct ChannelAccessRead {
    pub channel: Option<Channel>,
    pub member: Option<ChannelMember>,
    pub workspace: Option<Workspace>,
    pub workspace_member: Option<WorkspaceMember>,
}

impl Store {
    /// What a deleted channel leaves behind: everything in its partition (members,
    /// messages, history, idempotency markers) but its subscriptions, which the
    /// broadcaster ends once it has told them of the deletion (their TTL is the fallback).
    pub async fn channel_leftover_keys(&self, channel_id: ChannelId) -> ApiResult<Vec<Key>> {
        let mut doomed = self.keys_in(&keys::channel_partition(channel_id)).await?;
        let subscriptions = keys::channel_subscribers(channel_id);
        doomed.retain(|key| !subscriptions.range.contains(&key.sk));
        Ok(doomed)
    }

    /// Creates a channel, its name marker and the creator's membership, and counts the
    /// channel on its workspace, in one transaction. The count's condition keeps the
    /// workspace at `max_channels` at most whatever the concurrency (never check, then
    /// write), and a check on the creator's workspace membership keeps out a creator
    /// removed meanwhile. `first_writes` (a kanban board's first columns, say) go last.
    pub async fn create_channel(
        &self,
        channel: &Channel,
        creator: &ChannelMember,
        max_channels: u64,
        first_writes: Vec<TransactWriteItem>,
    ) -> ApiResult<ChannelWrite> {
        const NAME_MARKER: usize = 1;
        const WORKSPACE_COUNT: usize = 3;
        const CREATOR_IN_WORKSPACE: usize = 4;
        let table = self.table();
        let count = update_of(table, &keys::workspace(channel.workspace_id))?
            .update_expression("ADD channel_count :one")
            .condition_expression(format!(
                "{} AND (attribute_not_exists(channel_count) OR channel_count < :max)",
                item_exists()
            ))
            .expression_attribute_values(":one", to_attribute(&1u64)?)
            .expression_attribute_values(":max", to_attribute(&max_channels)?)
            .build()
            .map_err(ApiError::internal)?;
        let mut items = vec![
            put_new(table, &ChannelItem::new(channel))?,
            put_new(table, &ChannelNameItem::new(channel))?,
            put_new(table, &ChannelMemberItem::new(creator))?,
            TransactWriteItem::builder().update(count).build(),
            check_exists(
                table,
                &keys::workspace_member(channel.workspace_id, creator.user_id),
            )?,
        ];
        items.extend(first_writes);
        let outcome = self.transact(items).await?;
        match outcome {
            TransactOutcome::Committed => {
                self.memory()
                    .channel_homes
                    .remember(channel.id, channel.workspace_id);
                Ok(ChannelWrite::Done(Box::new(channel.clone())))
            }
            _ if outcome.failed_at(NAME_MARKER) => Ok(ChannelWrite::NameTaken),
            _ if outcome.failed_at(CREATOR_IN_WORKSPACE) => Ok(ChannelWrite::Gone),
            // The workspace is full, or gone: only a failure costs the extra read.
            _ if outcome.failed_at(WORKSPACE_COUNT) => {
                let gone = self
                    .get_workspaces(&[channel.workspace_id])
                    .await?
                    .is_empty();
                Ok(if gone {
                    ChannelWrite::Gone
                } else {
                    ChannelWrite::LimitReached
                })
            }
            TransactOutcome::ConditionFailed(codes) => {
                Err(TransactOutcome::cancelled("channel creation", &codes))
            }
        }
    }

    /// A channel's record (strongly consistent).
    pub async fn get_channel(&self, channel_id: ChannelId) -> ApiResult<Option<Channel>> {
        let item: Option<ChannelItem> = self.get(keys::channel(channel_id)).await?;
        Ok(item.map(|item| item.channel))
    }

    /// What a channel access check needs: the channel, the user's membership of it, its
    /// workspace and the user's membership of that. One BatchGetItem when this process
    /// knows the channel's workspace ([`crate::table::remembered`]); otherwise two in
    /// sequence (the second's keys need the workspace id the channel names), and the
    /// channel's workspace is remembered.
    pub async fn get_channel_access(
        &self,
        channel_id: ChannelId,
        user_id: UserId,
    ) -> ApiResult<ChannelAccessRead> {
        let Some(workspace_id) = self.memory().channel_homes.get(&channel_id) else {
            let found = self.get_channel_and_member(channel_id, user_id).await?;
            let Some(channel) = found.channel else {
                return Ok(ChannelAccessRead::default());
            };
            self.memory()
                .channel_homes
                .remember(channel.id, channel.workspace_id);
            let (workspace, workspace_member) = self
                .get_workspace_and_member(channel.workspace_id, user_id)
                .await?;
            return Ok(ChannelAccessRead {
                channel: Some(channel),
                member: found.member,
                workspace,
                workspace_member,
            });
        };
        let channel_key = keys::channel(channel_id);
        let member_key = keys::channel_member(channel_id, user_id);
        let workspace_key = keys::workspace(workspace_id);
        let workspace_member_key = keys::workspace_member(workspace_id, user_id);
        let mut items: Vec<Item> = self
            .batch_get_items(&[
                channel_key.clone(),
                member_key.clone(),
                workspace_key.clone(),
                workspace_member_key.clone(),
            ])
            .await?;
        let channel: Option<ChannelItem> = take_item(&mut items, &channel_key)?;
        let member: Option<ChannelMemberItem> = take_item(&mut items, &member_key)?;
        let workspace: Option<WorkspaceItem> = take_item(&mut items, &workspace_key)?;
        let workspace_member: Option<WorkspaceMemberItem> =
            take_item(&mut items, &workspace_member_key)?;
        Ok(ChannelAccessRead {
            channel: channel.map(|item| item.channel),
            member: member.map(|item| item.member),
            workspace: workspace.map(|item| item.workspace),
            workspace_member: workspace_member.map(|item| item.member),
        })
    }

    /// A channel and one user's membership of it, in one read.
    pub async fn get_channel_and_member(
        &self,
        channel_id: ChannelId,
        user_id: UserId,
    ) -> ApiResult<Membership> {
        let channel_key = keys::channel(channel_id);
        let member_key = keys::channel_member(channel_id, user_id);
        let mut items: Vec<Item> = self
            .batch_get_items(&[channel_key.clone(), member_key.clone()])
            .await?;
        let channel: Option<ChannelItem> = take_item(&mut items, &channel_key)?;
        let member: Option<ChannelMemberItem> = take_item(&mut items, &member_key)?;
        Ok(Membership {
            channel: channel.map(|item| item.channel),
            member: member.map(|item| item.member),
        })
    }

    pub async fn get_channel_member(
        &self,
        channel_id: ChannelId,
        user_id: UserId,
    ) -> ApiResult<Option<ChannelMember>> {
        let item: Option<ChannelMemberItem> =
            self.get(keys::channel_member(channel_id, user_id)).await?;
        Ok(item.map(|item| item.member))
    }

    /// A page of the workspace's channels (all kinds, public and private) that `select`
    /// keeps, oldest first; see [`Store::query_selected`] for how far it reads.
    pub async fn list_workspace_channels<U, F, Fut>(
        &self,
        workspace_id: WorkspaceId,
        page: &PageRequest,
        mut select: F,
    ) -> ApiResult<Page<U>>
    where
        F: FnMut(Vec<Channel>) -> Fut,
        Fut: Future<Output = ApiResult<Vec<Option<U>>>>,
    {
        self.query_selected(
            &keys::workspace_channels(workspace_id),
            page,
            true,
            |items: Vec<ChannelItem>| select(items.into_iter().map(|item| item.channel).collect()),
        )
        .await
    }

    /// The memberships among the given (channel, user) pairs; pairs that are not
    /// memberships are left out. One BatchGetItem per 100 pairs.
    pub async fn get_channel_memberships(
        &self,
        pairs: &[(ChannelId, UserId)],
    ) -> ApiResult<Vec<ChannelMember>> {
        let keys: Vec<Key> = pairs
            .iter()
            .map(|(cid, uid)| keys::channel_member(*cid, *uid))
            .collect();
        let items: Vec<ChannelMemberItem> = self.batch_get(&keys).await?;
        Ok(items.into_iter().map(|item| item.member).collect())
    }

    /// Every channel membership a user has in one workspace.
    pub async fn list_user_channel_memberships(
        &self,
        workspace_id: WorkspaceId,
        user_id: UserId,
    ) -> ApiResult<Vec<ChannelMember>> {
        let items: Vec<ChannelMemberItem> = self
            .query_all(
                &keys::user_channels_in_workspace(user_id, workspace_id),
                usize::MAX,
            )
            .await?;
        Ok(items.into_iter().map(|item| item.member).collect())
    }

    /// A page of a channel's members, in user-id order.
    pub async fn list_channel_members(
        &self,
        channel_id: ChannelId,
        page: &PageRequest,
    ) -> ApiResult<Page<ChannelMember>> {
        let page: Page<ChannelMemberItem> = self
            .query_page(&keys::channel_members(channel_id), page, true)
            .await?;
        Ok(page.map(|item| item.member))
    }

    /// Renames and/or re-topics a channel; a rename moves the name marker atomically.
    pub async fn update_channel(
        &self,
        channel: &Channel,
        changes: &ChannelChanges,
        now: DateTime<Utc>,
        actor: UserId,
    ) -> ApiResult<ChannelWrite> {
        const CHANNEL: usize = 0;
        const NEW_NAME_MARKER: usize = 1;
        let table = self.table();
        let mut updated = channel.clone();
        updated.updated_at = now;
        let mut update = update_of(table, &keys::channel(channel.id))?
            .condition_expression(item_exists())
            .expression_attribute_values(":updated_at", to_attribute(&now)?)
            .expression_attribute_values(":updated_by", to_attribute(&actor)?);
        let mut set = vec!["updated_at = :updated_at", "updated_by = :updated_by"];
        let mut remove = Vec::new();
        let mut items = Vec::new();
        let renamed = changes.name.as_ref().filter(|name| **name != channel.name);
        if let Some(name) = renamed {
            set.push("#name = :name");
            update = update
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":name", to_attribute(name)?);
            updated.name = name.clone();
        }
        match &changes.topic {
            Patch::Absent => {}
            Patch::Clear => {
                remove.push("#topic");
                update = update.expression_attribute_names("#topic", "topic");
                updated.topic = None;
            }
            Patch::Set(topic) => {
                set.push("#topic = :topic");
                update = update
                    .expression_attribute_names("#topic", "topic")
                    .expression_attribute_values(":topic", to_attribute(topic)?);
                updated.topic = Some(topic.clone());
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let update = update
            .update_expression(expression)
            .build()
            .map_err(ApiError::internal)?;
        items.push(TransactWriteItem::builder().update(update).build());
        if let Some(name) = renamed {
            items.push(put_new(table, &ChannelNameItem::for_name(channel, name))?);
            items.push(delete_existing(
                table,
                &keys::channel_name(channel.workspace_id, &channel.name),
            )?);
        }
        let outcome = self.transact(items).await?;
        Ok(match outcome {
            TransactOutcome::Committed => ChannelWrite::Done(Box::new(updated)),
            _ if outcome.failed_at(CHANNEL) => ChannelWrite::Gone,
            _ if outcome.failed_at(NEW_NAME_MARKER) => ChannelWrite::NameTaken,
            TransactOutcome::ConditionFailed(codes) => {
                return Err(TransactOutcome::cancelled("channel update", &codes));
            }
        })
    }

    /// Deletes a channel and its name marker, and gives its slot back to the workspace's
    /// channel count (DMs are not counted); the channel is unreachable from then on.
    /// Memberships are left for later clean-up.
    pub async fn delete_channel(
        &self,
        channel: &Channel,
        actor: UserId,
    ) -> ApiResult<ChannelDeletion> {
        // For the activity log: who deleted it.
        self.note_deletion(&keys::channel(channel.id), actor)
            .await?;
        let table = self.table();
        let mut items = vec![delete_existing(table, &keys::channel(channel.id))?];
        if channel.dm_members.is_empty() {
            // Unconditional: a missing marker must not keep the channel alive.
            let delete = aws_sdk_dynamodb::types::Delete::builder()
                .table_name(table)
                .set_key(Some(to_attributes(&keys::channel_name(
                    channel.workspace_id,
                    &channel.name,
                ))?))
                .build()
                .map_err(ApiError::internal)?;
            items.push(TransactWriteItem::builder().delete(delete).build());
            items.push(add_to_counter(
                table,
                &keys::workspace(channel.workspace_id),
                "channel_count",
                -1,
            )?);
        }
        Ok(match self.transact(items).await? {
            TransactOutcome::Committed => ChannelDeletion::Deleted,
            TransactOutcome::ConditionFailed(_) => ChannelDeletion::Gone,
        })
    }

    /// Adds a member and counts them, atomically, provided the member still belongs to
    /// the channel's workspace and (when someone else adds them) the adder still belongs
    /// to the channel and the workspace. Whichever of a join and a removal from the
    /// workspace commits first wins, so nobody removed from a workspace ends up in its
    /// channels.
    pub async fn join_channel(
        &self,
        member: &ChannelMember,
        added_by: Option<UserId>,
    ) -> ApiResult<MembershipChange> {
        const MEMBER: usize = 0;
        const COUNTER: usize = 1;
        const IN_WORKSPACE: usize = 2;
        const ADDER_IN_CHANNEL: usize = 3;
        const ADDER_IN_WORKSPACE: usize = 4;
        let table = self.table();
        let mut items = vec![
            put_new(table, &ChannelMemberItem::new(member))?,
            add_to_counter(table, &keys::channel(member.channel_id), "member_count", 1)?,
            check_exists(
                table,
                &keys::workspace_member(member.workspace_id, member.user_id),
            )?,
        ];
        // (Adding oneself is a join: the put already needs the membership to be new.)
        if let Some(adder) = added_by.filter(|adder| *adder != member.user_id) {
            items.push(check_exists(
                table,
                &keys::channel_member(member.channel_id, adder),
            )?);
            items.push(check_exists(
                table,
                &keys::workspace_member(member.workspace_id, adder),
            )?);
        }
        let outcome = self.transact(items).await?;
        Ok(match outcome {
            TransactOutcome::Committed => MembershipChange::Changed,
            _ if outcome.failed_at(MEMBER) => MembershipChange::Unchanged,
            _ if outcome.failed_at(COUNTER) => MembershipChange::ChannelGone,
            _ if outcome.failed_at(IN_WORKSPACE) => MembershipChange::NotInWorkspace,
            _ if outcome.failed_at(ADDER_IN_CHANNEL) || outcome.failed_at(ADDER_IN_WORKSPACE) => {
                MembershipChange::AdderNotMember
            }
            TransactOutcome::ConditionFailed(codes) => {
                return Err(TransactOutcome::cancelled("channel join", &codes));
            }
        })
    }

    /// Removes a member and uncounts them, atomically. If the channel itself is gone, the
    /// orphaned membership is removed alone.
    pub async fn leave_channel(
        &self,
        channel_id: ChannelId,
        user_id: UserId,
    ) -> ApiResult<MembershipChange> {
        self.remove_channel_member(channel_id, user_id, None).await
    }

    /// Takes a user who is no longer a member of a workspace out of each of its channels
    /// they are still in (keeping member counts exact); returns how many. Each removal is
    /// conditioned on the user still being outside the workspace, so a sweep that runs
    /// late (the clean-up from the table's stream) never undoes a later re-admission.
    /// The memberships are found through GSI1, which may lag: what one sweep misses grants
    /// nothing (channel access needs the workspace membership) and the next sweep takes.
    pub async fn leave_workspace_channels(
        &self,
        workspace_id: WorkspaceId,
        user_id: UserId,
    ) -> ApiResult<usize> {
        let memberships = self
            .list_user_channel_memberships(workspace_id, user_id)
            .await?;
        let mut removed = 0;
        for membership in &memberships {
            let change = self
                .remove_channel_member(membership.channel_id, user_id, Some(workspace_id))
                .await?;
            if change != MembershipChange::Unchanged {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Deletes a membership and uncounts it, atomically; with `unless_in`, only while the
    /// user is not a member of that workspace.
    async fn remove_channel_member(
        &self,
        channel_id: ChannelId,
        user_id: UserId,
        unless_in: Option<WorkspaceId>,
    ) -> ApiResult<MembershipChange> {
        const MEMBER: usize = 0;
        const COUNTER: usize = 1;
        const OUTSIDE_WORKSPACE: usize = 2;
        let table = self.table();
        let member_key = keys::channel_member(channel_id, user_id);
        let mut items = vec![
            delete_existing(table, &member_key)?,
            add_to_counter(table, &keys::channel(channel_id), "member_count", -1)?,
        ];
        if let Some(workspace_id) = unless_in {
            items.push(check_absent(
                table,
                &keys::workspace_member(workspace_id, user_id),
            )?);
        }
        let outcome = self.transact(items).await?;
        Ok(match outcome {
            TransactOutcome::Committed => MembershipChange::Changed,
            _ if outcome.failed_at(MEMBER) => MembershipChange::Unchanged,
            // Back in the workspace meanwhile: the membership is theirs again.
            _ if outcome.failed_at(OUTSIDE_WORKSPACE) && !outcome.failed_at(COUNTER) => {
                MembershipChange::Unchanged
            }
            _ => {
                self.delete_keys(&[member_key]).await?;
                MembershipChange::ChannelGone
            }
        })
    }

    /// Finds the DM channel of a member set, creating it (with every membership) if it does
    /// not exist. Concurrent creators all get the one channel. The creation checks that
    /// every member still belongs to the workspace, so a DM never brings back someone
    /// removed meanwhile.
    pub async fn find_or_create_dm(
        &self,
        channel: &Channel,
        members: &[ChannelMember],
        member_set_digest: &str,
    ) -> ApiResult<DmOutcome> {
        const MARKER: usize = 0;
        let table = self.table();
        let marker_key = keys::dm_marker(channel.workspace_id, member_set_digest);
        let marker = DmMarkerItem {
            key: marker_key.clone(),
            entity: keys::entity::DM_MARKER.into(),
            channel_id: channel.id,
        };
        let mut items = vec![
            put_new(table, &marker)?,
            put_new(table, &ChannelItem::new(channel))?,
        ];
        for member in members {
            items.push(put_new(table, &ChannelMemberItem::new(member))?);
        }
        let first_check = items.len();
        for member in members {
            items.push(check_exists(
                table,
                &keys::workspace_member(channel.workspace_id, member.user_id),
            )?);
        }
        let outcome = self.transact(items).await?;
        if outcome == TransactOutcome::Committed {
            self.memory()
                .channel_homes
                .remember(channel.id, channel.workspace_id);
            return Ok(DmOutcome::Created(channel.clone()));
        }
        let gone: Vec<UserId> = members
            .iter()
            .enumerate()
            .filter(|(i, _)| outcome.failed_at(first_check + i))
            .map(|(_, member)| member.user_id)
            .collect();
        if !gone.is_empty() {
            return Ok(DmOutcome::NotInWorkspace(gone));
        }
        if !outcome.failed_at(MARKER) {
            return Err(ApiError::internal(anyhow::anyhow!(
                "DM creation cancelled: {outcome:?}"
            )));
        }
        let existing: Option<DmMarkerItem> = self.get(marker_key).await?;
        let Some(existing) = existing else {
            return Err(ApiError::Unavailable(
                "the conversation is being created; retry".into(),
            ));
        };
        let channel: Option<ChannelItem> = self.get(keys::channel(existing.channel_id)).await?;
        match channel {
            Some(item) => Ok(DmOutcome::Existing(item.channel)),
            None => Err(ApiError::Unavailable(
                "the conversation is being created; retry".into(),
            )),
        }
    }

    /// Moves a member's read marker forward to `position` (never backwards), recording
    /// `read_count` (for a caught-up member: the channel's message count as read, with
    /// `position` its latest message) and, when caught up, clearing mentions. The clearing
    /// is conditioned on what was read: the member's `mention_count` still as in `member`
    /// and the channel's count still `read_count`. A mention or message that lands in
    /// between makes it fall back to moving the marker alone, so no mention of an unread
    /// message is ever lost.
    pub async fn mark_read(
        &self,
        member: &ChannelMember,
        position: MessageId,
        read_count: u64,
        caught_up: bool,
    ) -> ApiResult<ReadMarkerMove> {
        let table = self.table();
        let key = keys::channel_member(member.channel_id, member.user_id);
        let forward = format!(
            "{} AND (attribute_not_exists(last_read_message_id) OR last_read_message_id < :position)",
            item_exists()
        );
        if caught_up {
            let reset = update_of(table, &key)?
                .update_expression(
                    "SET last_read_message_id = :position, read_count = :read_count, \
                     mention_count = :zero",
                )
                .condition_expression(format!("{forward} AND mention_count = :seen"))
                .expression_attribute_values(":position", to_attribute(&position)?)
                .expression_attribute_values(":read_count", to_attribute(&read_count)?)
                .expression_attribute_values(":zero", to_attribute(&0u64)?)
                .expression_attribute_values(":seen", to_attribute(&member.mention_count)?)
                .build()
                .map_err(ApiError::internal)?;
            let channel_as_read = aws_sdk_dynamodb::types::ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(to_attributes(&keys::channel(member.channel_id))?))
                .condition_expression("message_count = :read_count")
                .expression_attribute_values(":read_count", to_attribute(&read_count)?)
                .build()
                .map_err(ApiError::internal)?;
            let outcome = self
                .transact(vec![
                    TransactWriteItem::builder().update(reset).build(),
                    TransactWriteItem::builder()
                        .condition_check(channel_as_read)
                        .build(),
                ])
                .await?;
            if outcome == TransactOutcome::Committed {
                return Ok(ReadMarkerMove::Moved);
            }
        }
        let request = self
            .client()
            .update_item()
            .table_name(table)
            .set_key(Some(to_attributes(&key)?))
            .update_expression("SET last_read_message_id = :position, read_count = :read_count")
            .condition_expression(forward)
            .expression_attribute_values(":position", to_attribute(&position)?)
            .expression_attribute_values(":read_count", to_attribute(&read_count)?);
        Ok(match conditional("UpdateItem", request.send().await)? {
            Some(_) => ReadMarkerMove::Moved,
            None => ReadMarkerMove::AlreadyPast,
        })
    }
}
