//! The notifier's activity half: turns table changes into activity entries (who did what
//! to what, with a one-line summary). The actor comes from the item (`created_by`,
//! `updated_by`, `added_by`, `role_changed_by`, `deleted_by`) or, for a delete, from the
//! deletion note its request wrote just before; an entry's id derives from its stream
//! record, so a redelivery writes nothing twice. TTL expiries are not activity.

use serde::Deserialize;

use crate::activity::{Activity, Target};
use crate::boards::{Card, Column};
use crate::channels::{Channel, ChannelKind};
use crate::documents::{RevisionImage, RevisionReason};
use crate::error::ApiResult;
use crate::files::StoredFile;
use crate::ids::{ActivityId, ChannelId, UserId, WorkspaceId};
use crate::invites::Invite;
use crate::keys::{self, Key};
use crate::messages::message_from_image;
use crate::state::AppState;
use crate::stream::{Change, ChangeKind, each_change_concurrently};
use crate::tasks::Task;
use crate::workspaces::WorkspaceMember;

/// Records the activity of every change of a batch; returns the ids of the records that
/// failed.
pub async fn record_changes(state: &AppState, changes: &[Change]) -> Vec<String> {
    // Entry ids derive from their records: any order gives the same log.
    each_change_concurrently(changes, "activity", RECORDS_IN_FLIGHT, |change| {
        record(state, change)
    })
    .await
}

/// Records of a batch handled at once.
const RECORDS_IN_FLIGHT: usize = 16;

/// One entry before it gets its id and time.
struct Entry {
    workspace_id: WorkspaceId,
    kind: String,
    actor_id: UserId,
    target: Target,
    channel_id: Option<ChannelId>,
    summary: String,
}

fn target(kind: &str, id: impl ToString) -> Target {
    Target {
        kind: kind.to_owned(),
        id: id.to_string(),
    }
}

async fn record(state: &AppState, change: &Change) -> ApiResult<()> {
    if change.by_ttl {
        return Ok(());
    }
    let entries = entries_for(state, change).await?;
    let days = i64::from(state.config.activity_retention_days);
    for (index, entry) in entries.into_iter().enumerate() {
        let activity = Activity {
            id: ActivityId::of_record(change.at, &change.id, index),
            workspace_id: entry.workspace_id,
            kind: entry.kind,
            actor_id: entry.actor_id,
            target: entry.target,
            channel_id: entry.channel_id,
            summary: entry.summary,
            at: change.at,
        };
        let expires_at = change.at.timestamp() + days * 24 * 3600;
        state.store.record_activity(&activity, expires_at).await?;
    }
    Ok(())
}

/// Who deleted the item a REMOVE record carries, from the note its request wrote. A
/// removal without a note is clean-up after a deleted workspace or channel: not activity.
async fn deleter(state: &AppState, change: &Change) -> ApiResult<Option<UserId>> {
    let Some(key) = change.old_as::<Key>()? else {
        return Ok(None);
    };
    state.store.deletion_actor(&key).await
}

/// A workspace membership as its stream images carry it, with who changed it.
#[derive(Debug, Deserialize)]
struct MemberImage {
    #[serde(flatten)]
    member: WorkspaceMember,
}

async fn entries_for(state: &AppState, change: &Change) -> ApiResult<Vec<Entry>> {
    let kind = change.kind;
    Ok(match change.entity() {
        Some(keys::entity::WORKSPACE_MEMBER) => member_entries(state, change).await?,
        Some(keys::entity::INVITE) => {
            let (old, new) = (change.old_as::<Invite>()?, change.new_as::<Invite>()?);
            match (kind, old, new) {
                (ChangeKind::Insert, _, Some(invite)) => vec![Entry {
                    workspace_id: invite.workspace_id,
                    kind: "invite.created".into(),
                    actor_id: invite.created_by,
                    target: target("invite", &invite.code),
                    channel_id: None,
                    summary: "created an invite".into(),
                }],
                (ChangeKind::Remove, Some(invite), _) => match deleter(state, change).await? {
                    Some(actor) => vec![Entry {
                        workspace_id: invite.workspace_id,
                        kind: "invite.revoked".into(),
                        actor_id: actor,
                        target: target("invite", &invite.code),
                        channel_id: None,
                        summary: "revoked an invite".into(),
                    }],
                    None => Vec::new(),
                },
                _ => Vec::new(),
            }
        }
        Some(keys::entity::CHANNEL) => channel_entries(state, change).await?,
        Some(keys::entity::MESSAGE) if kind == ChangeKind::Modify => {
            let (Some(old), Some(new)) = (
                change.old.clone().map(message_from_image).transpose()?,
                change.new.clone().map(message_from_image).transpose()?,
            ) else {
                return Ok(Vec::new());
            };
            let deleted_by = change
                .new_as::<DeletedBy>()?
                .and_then(|image| image.deleted_by);
            match deleted_by {
                Some(actor)
                    if new.message.deleted
                        && !old.message.deleted
                        && actor != new.message.author_id =>
                {
                    vec![Entry {
                        workspace_id: new.message.workspace_id,
                        kind: "message.deleted".into(),
                        actor_id: actor,
                        target: target("message", new.message.id),
                        channel_id: Some(new.message.channel_id),
                        summary: "deleted someone else's message".into(),
                    }]
                }
                _ => Vec::new(),
            }
        }
        Some(keys::entity::FILE) if kind == ChangeKind::Remove => {
            let file = change.old_as::<StoredFile>()?;
            let actor = deleter(state, change).await?;
            match (file, actor) {
                (Some(file), Some(actor)) => match file.workspace_id {
                    Some(workspace_id) => vec![Entry {
                        workspace_id,
                        kind: "file.deleted".into(),
                        actor_id: actor,
                        target: target("file", file.id),
                        channel_id: file.channel_id,
                        summary: format!("deleted the file {}", file.filename),
                    }],
                    None => Vec::new(),
                },
                _ => Vec::new(),
            }
        }
        Some(keys::entity::TASK) => {
            let (old, new) = (change.old_as::<Task>()?, change.new_as::<Task>()?);
            work_entries(
                state,
                change,
                "task",
                old.map(WorkItem::task),
                new.map(WorkItem::task),
            )
            .await?
        }
        Some(keys::entity::CARD) => {
            let (old, new) = (change.old_as::<Card>()?, change.new_as::<Card>()?);
            work_entries(
                state,
                change,
                "card",
                old.map(WorkItem::card),
                new.map(WorkItem::card),
            )
            .await?
        }
        Some(keys::entity::DOCUMENT_REVISION) if kind == ChangeKind::Insert => {
            let Some(revision) = change.new_as::<RevisionImage>()? else {
                return Ok(Vec::new());
            };
            if revision.reason != RevisionReason::Restore {
                return Ok(Vec::new());
            }
            match state.store.get_channel(revision.channel_id).await? {
                Some(channel) => vec![Entry {
                    workspace_id: channel.workspace_id,
                    kind: "document.restored".into(),
                    actor_id: revision.updated_by,
                    target: target("document", channel.id),
                    channel_id: Some(channel.id),
                    summary: format!(
                        "restored the document of #{} as version {}",
                        channel.name, revision.version
                    ),
                }],
                None => Vec::new(),
            }
        }
        Some(keys::entity::COLUMN) => {
            let (old, new) = (change.old_as::<Column>()?, change.new_as::<Column>()?);
            // A card coming or going changes the count alone: not column news.
            if let (Some(old), Some(new)) = (&old, &new)
                && old.name == new.name
                && old.position == new.position
                && old.wip_limit == new.wip_limit
            {
                return Ok(Vec::new());
            }
            work_entries(
                state,
                change,
                "column",
                old.map(WorkItem::column),
                new.map(WorkItem::column),
            )
            .await?
        }
        _ => Vec::new(),
    })
}

#[derive(Debug, Deserialize)]
struct DeletedBy {
    #[serde(default)]
    deleted_by: Option<UserId>,
}

async fn member_entries(state: &AppState, change: &Change) -> ApiResult<Vec<Entry>> {
    let old = change.old_as::<MemberImage>()?.map(|image| image.member);
    let new = change.new_as::<MemberImage>()?.map(|image| image.member);
    let entry = |member: &WorkspaceMember, kind: &str, actor: UserId, summary: String| Entry {
        workspace_id: member.workspace_id,
        kind: kind.into(),
        actor_id: actor,
        target: target("user", member.user_id),
        channel_id: None,
        summary,
    };
    Ok(match (change.kind, old, new) {
        (ChangeKind::Insert, _, Some(member)) => {
            let actor = member.added_by.unwrap_or(member.user_id);
            let mut entries = vec![entry(
                &member,
                "member.joined",
                actor,
                if actor == member.user_id {
                    "joined the workspace".into()
                } else {
                    format!("added a member as {}", role_name(&member))
                },
            )];
            if let Some(code) = &member.invite_code {
                entries.push(Entry {
                    workspace_id: member.workspace_id,
                    kind: "invite.accepted".into(),
                    actor_id: member.user_id,
                    target: target("invite", code),
                    channel_id: None,
                    summary: "accepted an invite".into(),
                });
            }
            entries
        }
        (ChangeKind::Modify, Some(old), Some(member)) if old.role != member.role => {
            let actor = member.role_changed_by.unwrap_or(member.user_id);
            vec![entry(
                &member,
                "member.role_changed",
                actor,
                format!("changed a member's role to {}", role_name(&member)),
            )]
        }
        (ChangeKind::Remove, Some(member), _) => {
            let Some(actor) = deleter(state, change).await? else {
                return Ok(Vec::new());
            };
            if actor == member.user_id {
                vec![entry(
                    &member,
                    "member.left",
                    actor,
                    "left the workspace".into(),
                )]
            } else {
                vec![entry(
                    &member,
                    "member.removed",
                    actor,
                    "removed a member".into(),
                )]
            }
        }
        _ => Vec::new(),
    })
}

fn role_name(member: &WorkspaceMember) -> String {
    serde_json::to_value(member.role)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn channel_entries(state: &AppState, change: &Change) -> ApiResult<Vec<Entry>> {
    let (old, new) = (change.old_as::<Channel>()?, change.new_as::<Channel>()?);
    let entry = |channel: &Channel, kind: &str, actor: UserId, summary: String| Entry {
        workspace_id: channel.workspace_id,
        kind: kind.into(),
        actor_id: actor,
        target: target("channel", channel.id),
        channel_id: Some(channel.id),
        summary,
    };
    // DMs are conversations, not workspace structure.
    if old
        .as_ref()
        .or(new.as_ref())
        .is_some_and(|c| c.kind == ChannelKind::Dm)
    {
        return Ok(Vec::new());
    }
    Ok(match (change.kind, old, new) {
        (ChangeKind::Insert, _, Some(channel)) => vec![entry(
            &channel,
            "channel.created",
            channel.created_by,
            format!("created the channel #{}", channel.name),
        )],
        (ChangeKind::Modify, Some(old), Some(channel))
            if old.name != channel.name || old.topic != channel.topic =>
        {
            let actor = change
                .new_as::<UpdatedBy>()?
                .and_then(|image| image.updated_by)
                .unwrap_or(channel.created_by);
            let summary = if old.name == channel.name {
                format!("changed the topic of #{}", channel.name)
            } else {
                format!("renamed #{} to #{}", old.name, channel.name)
            };
            vec![entry(&channel, "channel.updated", actor, summary)]
        }
        (ChangeKind::Remove, Some(channel), _) => {
            let Some(actor) = deleter(state, change).await? else {
                return Ok(Vec::new());
            };
            vec![entry(
                &channel,
                "channel.deleted",
                actor,
                format!("deleted the channel #{}", channel.name),
            )]
        }
        _ => Vec::new(),
    })
}

#[derive(Debug, Deserialize)]
struct UpdatedBy {
    #[serde(default)]
    updated_by: Option<UserId>,
}

/// What the log needs of a task, card or column.
struct WorkItem {
    id: String,
    workspace_id: WorkspaceId,
    channel_id: ChannelId,
    name: String,
    created_by: UserId,
    updated_by: Option<UserId>,
}

impl WorkItem {
    fn task(task: Task) -> Self {
        Self {
            id: task.id.to_string(),
            workspace_id: task.workspace_id,
            channel_id: task.channel_id,
            name: task.title,
            created_by: task.created_by,
            updated_by: task.updated_by,
        }
    }

    fn card(card: Card) -> Self {
        Self {
            id: card.id.to_string(),
            workspace_id: card.workspace_id,
            channel_id: card.channel_id,
            name: card.title,
            created_by: card.created_by,
            updated_by: card.updated_by,
        }
    }

    fn column(column: Column) -> Self {
        Self {
            id: column.id.to_string(),
            workspace_id: column.workspace_id,
            channel_id: column.channel_id,
            name: column.name,
            created_by: column.created_by,
            updated_by: column.updated_by,
        }
    }
}

async fn work_entries(
    state: &AppState,
    change: &Change,
    entity: &str,
    old: Option<WorkItem>,
    new: Option<WorkItem>,
) -> ApiResult<Vec<Entry>> {
    let (verb, item, actor) = match (change.kind, old, new) {
        (ChangeKind::Insert, _, Some(item)) => {
            let actor = item.updated_by.unwrap_or(item.created_by);
            ("created", item, actor)
        }
        (ChangeKind::Modify, _, Some(item)) => {
            let actor = item.updated_by.unwrap_or(item.created_by);
            ("updated", item, actor)
        }
        (ChangeKind::Remove, Some(item), _) => match deleter(state, change).await? {
            Some(actor) => ("deleted", item, actor),
            None => return Ok(Vec::new()),
        },
        _ => return Ok(Vec::new()),
    };
    Ok(vec![Entry {
        workspace_id: item.workspace_id,
        kind: format!("{entity}.{verb}"),
        actor_id: actor,
        target: target(entity, &item.id),
        channel_id: Some(item.channel_id),
        summary: format!("{verb} the {entity} \"{}\"", item.name),
    }])
}
