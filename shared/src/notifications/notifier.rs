//! The notifier's notification half: turns table changes into notifications. A new
//! message notifies the people it mentions, the thread's starter and repliers, the other
//! members of a DM, and members whose level is `all`; a task or card assigned to someone
//! notifies them. Never the actor, never someone who can no longer read the channel, and
//! only what the recipient's level admits. Ids derive from the source event, so a
//! redelivered record notifies nobody twice. A notification the TTL removes while unread
//! gives its unread count back.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};

use crate::boards::Card;
use crate::channels::{Channel, ChannelKind};
use crate::error::ApiResult;
use crate::ids::{CardId, NotificationId, TaskId, UserId};
use crate::keys;
use crate::messages::message_from_image;
use crate::notifications::{
    Notification, NotificationKind, NotificationLevel, ReaderState, preview,
};
use crate::state::AppState;
use crate::stream::{Change, ChangeKind, each_change_concurrently};
use crate::tasks::Task;

/// Thread participants (besides the starter) a reply notifies at most: the first this many
/// to have replied; others still hear of mentions and of their level-`all` channels.
pub const THREAD_NOTIFY_MAX: usize = 100;
/// Participant items a reply reads at most (a thread's repliers beyond them are not seen).
pub const THREAD_READ_MAX: usize = 1000;
/// Members at level `all` a message notifies at most (in id order).
pub const LEVEL_ALL_NOTIFY_MAX: usize = 1000;
/// Days a notification is kept.
pub const NOTIFICATION_DAYS: i64 = 90;
/// Notifications written at once for one record.
const DELIVERIES_IN_FLIGHT: usize = 8;

/// Records of a batch handled at once (the order of records does not matter here: every
/// notification's id derives from its source).
const RECORDS_IN_FLIGHT: usize = 16;

/// Notifies for every change of a batch; returns the ids of the records that failed.
pub async fn notify_changes(state: &AppState, changes: &[Change]) -> Vec<String> {
    each_change_concurrently(changes, "notifications", RECORDS_IN_FLIGHT, |change| {
        notify(state, change)
    })
    .await
}

async fn notify(state: &AppState, change: &Change) -> ApiResult<()> {
    match change.entity() {
        Some(keys::entity::MESSAGE) if change.kind == ChangeKind::Insert => {
            message_notifications(state, change).await
        }
        Some(keys::entity::TASK) if !change.by_ttl => {
            let (old, new) = (change.old_as::<Task>()?, change.new_as::<Task>()?);
            let Some(task) = new else { return Ok(()) };
            let assignment = Assignment {
                before: old.and_then(|t| t.assignee_id),
                after: task.assignee_id,
                actor: task.updated_by.unwrap_or(task.created_by),
                revision: task.revision,
                title: &task.title,
                at: task.updated_at,
                task: Some(task.id),
                card: None,
            };
            assignment_notification(state, task.channel_id, assignment).await
        }
        Some(keys::entity::CARD) if !change.by_ttl => {
            let (old, new) = (change.old_as::<Card>()?, change.new_as::<Card>()?);
            let Some(card) = new else { return Ok(()) };
            let assignment = Assignment {
                before: old.and_then(|c| c.assignee_id),
                after: card.assignee_id,
                actor: card.updated_by.unwrap_or(card.created_by),
                revision: card.revision,
                title: &card.title,
                at: card.updated_at,
                task: None,
                card: Some(card.id),
            };
            assignment_notification(state, card.channel_id, assignment).await
        }
        Some(keys::entity::NOTIFICATION) if change.by_ttl => {
            match change.old_as::<Notification>()? {
                Some(expired) if !expired.read => {
                    state
                        .store
                        .release_expired_notification(&expired, change.at)
                        .await
                }
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// Who may hear of an event in `channel`, and at what level.
fn admitted(channel: &Channel, reader: Option<&ReaderState>, kind: NotificationKind) -> bool {
    let Some(reader) = reader else { return false };
    let readable = reader.in_workspace && (reader.member.is_some() || !channel.members_only());
    let level = reader
        .member
        .as_ref()
        .and_then(|member| member.notification_level)
        .unwrap_or_else(|| NotificationLevel::default_for(channel.kind));
    readable && level.admits(kind)
}

/// Writes each notification (with its unread count), a few at once.
async fn deliver_all(state: &AppState, notifications: Vec<Notification>) -> ApiResult<()> {
    let expires = |n: &Notification| (n.created_at.timestamp()) + NOTIFICATION_DAYS * 24 * 3600;
    futures::stream::iter(notifications)
        .map(|notification| async move {
            state
                .store
                .deliver_notification(&notification, expires(&notification))
                .await
        })
        .buffer_unordered(DELIVERIES_IN_FLIGHT)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

async fn message_notifications(state: &AppState, change: &Change) -> ApiResult<()> {
    let Some(stored) = change.new.clone().map(message_from_image).transpose()? else {
        return Ok(());
    };
    let message = stored.message;
    if message.deleted {
        return Ok(());
    }
    let (channel, thread) = tokio::try_join!(state.store.get_channel(message.channel_id), async {
        match message.parent_id {
            Some(parent) => {
                state
                    .store
                    .thread_people(
                        message.channel_id,
                        parent,
                        message.id,
                        THREAD_NOTIFY_MAX,
                        THREAD_READ_MAX,
                    )
                    .await
            }
            None => Ok(None),
        }
    })?;
    let Some(channel) = channel else {
        return Ok(());
    };
    // Each candidate keeps the strongest reason: mention, reply, dm, message.
    let mut wanted: BTreeMap<UserId, NotificationKind> = BTreeMap::new();
    let mut offer = |user: UserId, kind: NotificationKind| {
        if user != message.author_id {
            let entry = wanted.entry(user).or_insert(kind);
            *entry = (*entry).min(kind);
        }
    };
    for user in &message.mentions {
        offer(*user, NotificationKind::Mention);
    }
    // Whoever started the thread or replied in it before this reply (so a replayed
    // record notifies the same people as the first time).
    if let Some((starter, repliers)) = thread {
        offer(starter, NotificationKind::Reply);
        for user in repliers {
            offer(user, NotificationKind::Reply);
        }
    }
    if channel.kind == ChannelKind::Dm {
        for user in &channel.dm_members {
            offer(*user, NotificationKind::Dm);
        }
    } else {
        let all = state
            .store
            .level_all_members(channel.id, LEVEL_ALL_NOTIFY_MAX)
            .await?;
        for user in all {
            offer(user, NotificationKind::Message);
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let users: Vec<UserId> = wanted.keys().copied().collect();
    let readers = state
        .store
        .reader_states(channel.workspace_id, channel.id, &users)
        .await?;
    let id = NotificationId::derived(message.created_at, &format!("message#{}", message.id));
    let notifications = wanted
        .into_iter()
        .filter(|(user, kind)| admitted(&channel, readers.get(user), *kind))
        .map(|(user, kind)| Notification {
            id,
            user_id: user,
            kind,
            workspace_id: channel.workspace_id,
            channel_id: channel.id,
            message_id: Some(message.id),
            task_id: None,
            card_id: None,
            actor_id: message.author_id,
            preview: preview(&message.content),
            read: false,
            created_at: message.created_at,
        })
        .collect();
    deliver_all(state, notifications).await
}

/// A task or card's assignee before and after a change.
struct Assignment<'a> {
    before: Option<UserId>,
    after: Option<UserId>,
    actor: UserId,
    revision: u64,
    title: &'a str,
    at: chrono::DateTime<chrono::Utc>,
    task: Option<TaskId>,
    card: Option<CardId>,
}

async fn assignment_notification(
    state: &AppState,
    channel_id: crate::ids::ChannelId,
    assignment: Assignment<'_>,
) -> ApiResult<()> {
    let Some(assignee) = assignment.after else {
        return Ok(());
    };
    if assignment.before == Some(assignee) || assignee == assignment.actor {
        return Ok(());
    }
    let Some(channel) = state.store.get_channel(channel_id).await? else {
        return Ok(());
    };
    let readers = state
        .store
        .reader_states(channel.workspace_id, channel.id, &[assignee])
        .await?;
    if !admitted(&channel, readers.get(&assignee), NotificationKind::Assigned) {
        return Ok(());
    }
    let item = match (assignment.task, assignment.card) {
        (Some(task), _) => format!("task#{task}"),
        (None, Some(card)) => format!("card#{card}"),
        (None, None) => return Ok(()),
    };
    let seed = format!("assigned#{item}#{}", assignment.revision);
    let notification = Notification {
        id: NotificationId::derived(assignment.at, &seed),
        user_id: assignee,
        kind: NotificationKind::Assigned,
        workspace_id: channel.workspace_id,
        channel_id: channel.id,
        message_id: None,
        task_id: assignment.task,
        card_id: assignment.card,
        actor_id: assignment.actor,
        preview: preview(assignment.title),
        read: false,
        created_at: assignment.at,
    };
    deliver_all(state, vec![notification]).await
}
