//! The notification routes: list (all or unread, newest first, per workspace), the unread
//! count (a counter), mark one or all read, and a member's notification level.

use futures::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::access;
use crate::clock;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::ids::{ChannelId, NotificationId, UserId, WorkspaceId};
use crate::notifications::notifier::NOTIFICATION_DAYS;
use crate::notifications::{NotificationLevel, NotificationView, ReadMark, UnreadCount};
use crate::pagination::PageQuery;
use crate::state::AppState;
use crate::table::Page;

/// Unread notifications read-all takes per round, and marks at once.
const READ_ALL_BATCH: i32 = 100;
const READS_IN_FLIGHT: usize = 8;
/// Rounds of read-all at most (10,000 notifications); a later call takes the rest.
const READ_ALL_ROUNDS: usize = 100;

/// `?unread_only&workspace_id&limit&cursor`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread notifications (default false).
    #[serde(default)]
    #[param(value_type = Option<bool>)]
    pub unread_only: Option<String>,
    /// Only notifications from this workspace.
    #[serde(default)]
    #[param(value_type = Option<WorkspaceId>)]
    pub workspace_id: Option<String>,
    /// Items per page (default 50).
    #[serde(default)]
    #[param(value_type = Option<i32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `PUT /v1/channels/{channel_id}/notification-level`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelRequest {
    pub level: NotificationLevel,
}

fn flag(name: &str, value: Option<&str>) -> ApiResult<bool> {
    match value {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid_fields(vec![FieldError::new(
            name,
            "must be true or false",
        )])),
    }
}

/// `GET /v1/notifications`: the caller's notifications, newest first; `unread_only`
/// reads the sparse index of unread ones; expired ones not yet removed are left out.
pub async fn list(
    state: &AppState,
    caller: UserId,
    query: NotificationQuery,
) -> ApiResult<Page<NotificationView>> {
    let unread_only = flag("unread_only", query.unread_only.as_deref())?;
    let workspace = match query.workspace_id.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<WorkspaceId>().map_err(|_| {
            ApiError::invalid_fields(vec![FieldError::new(
                "workspace_id",
                "must be a workspace id",
            )])
        })?),
    };
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .validate()?;
    let oldest = clock::now() - chrono::Duration::days(NOTIFICATION_DAYS);
    state
        .store
        .list_notifications(caller, unread_only, &page, |items| async move {
            Ok(items
                .into_iter()
                .map(|n| {
                    let shown =
                        workspace.is_none_or(|w| n.workspace_id == w) && n.created_at > oldest;
                    shown.then(|| NotificationView::from(n))
                })
                .collect())
        })
        .await
}

/// `GET /v1/notifications/unread-count`: one GetItem of the counter.
pub async fn unread_count(state: &AppState, caller: UserId) -> ApiResult<UnreadCount> {
    let count = state.store.unread_notification_count(caller).await?;
    Ok(UnreadCount {
        count: u64::try_from(count).unwrap_or(0),
    })
}

/// `POST /v1/notifications/{nid}/read`: idempotent; 404 for someone else's or unknown.
pub async fn mark_read(
    state: &AppState,
    caller: UserId,
    notification: NotificationId,
) -> ApiResult<()> {
    match state
        .store
        .mark_notification_read(caller, notification)
        .await?
    {
        ReadMark::Marked | ReadMark::AlreadyRead => Ok(()),
        ReadMark::Missing => Err(ApiError::not_found("notification")),
    }
}

/// `POST /v1/notifications/read-all`: marks every unread notification read, each with
/// its own conditional write (so it races safely with single reads).
pub async fn read_all(state: &AppState, caller: UserId) -> ApiResult<()> {
    for _ in 0..READ_ALL_ROUNDS {
        let ids = state
            .store
            .unread_notification_ids(caller, READ_ALL_BATCH)
            .await?;
        if ids.is_empty() {
            return Ok(());
        }
        let marks: Vec<ApiResult<ReadMark>> = futures::stream::iter(ids)
            .map(|id| async move { state.store.mark_notification_read(caller, id).await })
            .buffer_unordered(READS_IN_FLIGHT)
            .collect()
            .await;
        let mut marked = 0;
        for mark in marks {
            if mark? == ReadMark::Marked {
                marked += 1;
            }
        }
        // Only ids the index had not yet dropped: everything is read.
        if marked == 0 {
            return Ok(());
        }
    }
    Ok(())
}

/// `PUT /v1/channels/{cid}/notification-level` (channel members).
pub async fn set_level(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    request: LevelRequest,
) -> ApiResult<()> {
    let access = access::channel(state, channel_id, caller).await?;
    access.require_member()?;
    let indexed = !access.is_dm();
    if state
        .store
        .set_notification_level(channel_id, caller, request.level, indexed)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden("join the channel first".into()))
    }
}
