//! Clean-up after a workspace is deleted, driven by the table's stream: deleting the
//! workspace record makes it unreachable at once (the routes check the record); this removes
//! what it leaves behind: its channel records (whose removal cleans each channel up in turn,
//! see [`crate::channels::cleanup`]), its invites and its partition (members, name and DM
//! markers).

use crate::error::ApiResult;
use crate::keys;
use crate::state::AppState;
use crate::stream::{Change, each_change};
use crate::workspaces::Workspace;

async fn clean_up(state: &AppState, change: &Change) -> ApiResult<()> {
    if !change.is_user_removal() || change.entity() != Some(keys::entity::WORKSPACE) {
        return Ok(());
    }
    let Some(workspace) = change.old_as::<Workspace>()? else {
        return Ok(());
    };
    let doomed = state.store.workspace_leftover_keys(workspace.id).await?;
    state.store.delete_keys(&doomed).await
}

/// Cleans up after every deleted workspace in a batch; returns the ids of the records that
/// failed. Idempotent: a redelivered record finds less or nothing to delete.
pub async fn clean_up_changes(state: &AppState, changes: &[Change]) -> Vec<String> {
    each_change(changes, "workspace clean-up", |change| {
        clean_up(state, change)
    })
    .await
}
