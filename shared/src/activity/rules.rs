//! The activity route: a workspace's log, newest first, optionally one actor's (admin+).

use serde::Deserialize;
use utoipa::IntoParams;

use crate::access;
use crate::activity::ActivityView;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::ids::{UserId, WorkspaceId};
use crate::pagination::PageQuery;
use crate::state::AppState;
use crate::table::Page;

/// `?actor_id&limit&cursor`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Only what this user did.
    #[serde(default)]
    #[param(value_type = Option<UserId>)]
    pub actor_id: Option<String>,
    /// Items per page (default 50).
    #[serde(default)]
    #[param(value_type = Option<i32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /v1/workspaces/{wid}/activity` (admin+).
pub async fn list(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    query: ActivityQuery,
) -> ApiResult<Page<ActivityView>> {
    let actor = match query.actor_id.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<UserId>().map_err(|_| {
            ApiError::invalid_fields(vec![FieldError::new("actor_id", "must be a user id")])
        })?),
    };
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .validate()?;
    access::workspace(state, workspace_id, caller)
        .await?
        .require_admin()?;
    let entries = state
        .store
        .list_activity(workspace_id, actor, &page)
        .await?;
    Ok(entries.map(ActivityView::from))
}
