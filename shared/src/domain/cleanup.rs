//! Clean-up after deletes, driven by the table's stream: deleting a workspace or channel
//! record makes it unreachable at once (the routes check the record); this removes what it
//! leaves behind. Deleting a channel's messages here in turn removes their search postings
//! (the indexer sees those removals too). A removed channel's subscriptions are ended by the
//! broadcaster once it has delivered `channel.deleted`.

use crate::error::{ApiError, ApiResult};
use crate::keys;
use crate::model::{Channel, Workspace};
use crate::state::AppState;
use crate::stream::{Change, ChangeKind};

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
            let wid = workspace.id.to_string();
            // Channels (their records' removal cleans each channel up in turn), invites,
            // and the workspace partition: members, name and DM markers.
            let (channels, invites, partition) = (
                keys::workspace_channels(&wid),
                keys::workspace_invites(&wid),
                keys::workspace_partition(&wid),
            );
            let (channels, invites, rest) = tokio::try_join!(
                state.store.keys_in(&channels),
                state.store.keys_in(&invites),
                state.store.keys_in(&partition)
            )?;
            let mut doomed = channels;
            doomed.extend(invites);
            doomed.extend(rest);
            state.store.delete_keys(&doomed).await
        }
        Some(keys::entity::CHANNEL) => {
            let Some(channel) = old_image::<Channel>(change)? else {
                return Ok(());
            };
            let cid = channel.id.to_string();
            let mut doomed = state.store.keys_in(&keys::channel_partition(&cid)).await?;
            // Subscriptions are left to the broadcaster, which tells them of the deletion
            // and then ends them (their TTL is the fallback).
            let subscriptions = keys::channel_subscribers(&cid);
            doomed.retain(|key| !subscriptions.range.contains(&key.sk));
            state.store.delete_keys(&doomed).await
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
