//! Clean-up after deletes, driven by the table's stream: deleting a workspace or channel
//! record makes it unreachable at once (the routes check the record); this removes what it
//! leaves behind. Deleting a channel's messages here in turn removes their search postings
//! (the indexer sees those removals too). A removed workspace membership takes the
//! channel memberships its removal's own sweep missed. A removed channel's subscriptions are ended
//! by the broadcaster once it has delivered `channel.deleted`.

use crate::channels::Channel;
use crate::error::{ApiError, ApiResult};
use crate::keys;
use crate::state::AppState;
use crate::stream::{Change, ChangeKind};
use crate::workspaces::{Workspace, WorkspaceMember};

fn old_image<T: serde::de::DeserializeOwned>(change: &Change) -> ApiResult<Option<T>> {
    change
        .old
        .clone()
        .map(|image| {
            serde_dynamo::from_item(image)
                .map_err(|e| ApiError::internal(anyhow::anyhow!("reading a removed item: {e}")))
        })
        .transpose()
}

async fn clean_up(state: &AppState, change: &Change) -> ApiResult<()> {
    if change.kind != ChangeKind::Remove || change.by_ttl {
        return Ok(());
    }
    match change.entity() {
        Some(keys::entity::WORKSPACE) => {
            let Some(workspace) = old_image::<Workspace>(change)? else {
                return Ok(());
            };
            let doomed = state.store.workspace_leftover_keys(workspace.id).await?;
            state.store.delete_keys(&doomed).await
        }
        Some(keys::entity::CHANNEL) => {
            let Some(channel) = old_image::<Channel>(change)? else {
                return Ok(());
            };
            let doomed = state.store.channel_leftover_keys(channel.id).await?;
            state.store.delete_keys(&doomed).await
        }
        Some(keys::entity::WORKSPACE_MEMBER) => {
            let Some(member) = old_image::<WorkspaceMember>(change)? else {
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

/// Cleans up after every removed workspace and channel in a batch; returns the ids of the
/// records that failed. Idempotent: a redelivered record finds less or nothing to delete.
pub async fn clean_up_changes(state: &AppState, changes: &[Change]) -> Vec<String> {
    let mut failed = Vec::new();
    for change in changes {
        if let Err(error) = clean_up(state, change).await {
            tracing::error!(record = %change.id, error = %error, "clean-up after a delete failed");
            failed.push(change.id.clone());
        }
    }
    failed
}
