//! Clean-up after channel deletes and workspace removals, driven by the table's stream.
//! Deleting a channel record makes it unreachable at once (the routes check the record);
//! this removes what it leaves behind (a todo or kanban channel's counts leave the
//! workspace workload first; deleting its messages in turn removes their search
//! postings; its document's partition goes too; its subscriptions are ended by the
//! broadcaster once it has delivered `channel.deleted`). A removed workspace membership takes the channel memberships its
//! removal's own sweep missed.

use crate::channels::{Channel, ChannelKind};
use crate::error::ApiResult;
use crate::keys;
use crate::state::AppState;
use crate::stream::{Change, each_change};
use crate::workspaces::WorkspaceMember;

async fn clean_up(state: &AppState, change: &Change) -> ApiResult<()> {
    if !change.is_user_removal() {
        return Ok(());
    }
    match change.entity() {
        Some(keys::entity::CHANNEL) => {
            let Some(channel) = change.old_as::<Channel>()? else {
                return Ok(());
            };
            // Its tasks and cards leave the workspace's workload before they go.
            if matches!(channel.kind, ChannelKind::Todo | ChannelKind::Kanban) {
                state.store.release_channel_work(&channel).await?;
            }
            let mut doomed = state.store.channel_leftover_keys(channel.id).await?;
            // A doc channel's document lives in its own partition (`DOC#cid`).
            doomed.extend(state.store.document_leftover_keys(channel.id).await?);
            state.store.delete_keys(&doomed).await
        }
        Some(keys::entity::WORKSPACE_MEMBER) => {
            let Some(member) = change.old_as::<WorkspaceMember>()? else {
                return Ok(());
            };
            // A deleted workspace's channels take their memberships with them.
            if state
                .store
                .get_workspaces(&[member.workspace_id])
                .await?
                .is_empty()
            {
                return Ok(());
            }
            let swept = state
                .store
                .leave_workspace_channels(member.workspace_id, member.user_id)
                .await?;
            if swept > 0 {
                tracing::info!(
                    workspace_id = %member.workspace_id,
                    swept,
                    "channel memberships left behind by a removal were swept"
                );
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Cleans up after every deleted channel and removed workspace member in a batch; returns
/// the ids of the records that failed. Idempotent: a redelivered record finds less or
/// nothing to delete.
pub async fn clean_up_changes(state: &AppState, changes: &[Change]) -> Vec<String> {
    each_change(changes, "channel clean-up", |change| {
        clean_up(state, change)
    })
    .await
}
