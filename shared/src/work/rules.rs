//! The rules tasks and boards share (field checks, who may be assigned, the channel-kind
//! guard, where a moved item lands) and the reads over both: channel stats, my work and the
//! workspace workload.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::{ObjectBuilder, Type};

use crate::access::{self, ChannelAccess};
use crate::channels::{Channel, ChannelKind};
use crate::clock;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::ids::{ChannelId, UserId, WorkspaceId};
use crate::keys::{self, Key};
use crate::patch::Patch;
use crate::positions;
use crate::state::AppState;
use crate::table::Page;
use crate::validate::Validator;
use crate::work::store::WorkItem;
use crate::work::{
    AssigneeOpen, AssigneeStats, ByPriority, ChannelStats, ColumnStats, KanbanStats, TodoStats,
    WorkItemView, WorkloadRow, count,
};

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const LABEL_MAX: usize = 32;
pub const LABELS_MAX: usize = 10;
/// Attempts of a read-modify-write that keeps meeting concurrent changes of its item.
pub(crate) const WRITE_ATTEMPTS: usize = 5;

/// Today's date in UTC, as due dates and keys write it.
pub fn today() -> String {
    clock::now().date_naive().format("%Y-%m-%d").to_string()
}

pub(crate) fn check_title(check: &mut Validator, title: &str) {
    if title.trim().is_empty() {
        check.add("title", format!("must be 1 to {TITLE_MAX} characters"));
    } else {
        check.text("title", title, 1, TITLE_MAX);
    }
}

pub(crate) fn check_description(check: &mut Validator, description: Option<&String>) {
    if let Some(description) = description {
        check.length("description", description, 0, DESCRIPTION_MAX);
    }
}

pub(crate) fn check_labels(check: &mut Validator, labels: &[String]) {
    if labels.len() > LABELS_MAX {
        check.add("labels", format!("at most {LABELS_MAX} labels"));
        return;
    }
    let mut seen = HashSet::new();
    for label in labels {
        if label.trim().is_empty() || label.chars().count() > LABEL_MAX {
            check.add(
                "labels",
                format!("each label must be 1 to {LABEL_MAX} characters"),
            );
            return;
        }
        if label.chars().any(char::is_control) {
            check.add("labels", "labels must not contain control characters");
            return;
        }
        if !seen.insert(label.as_str()) {
            check.add("labels", "labels must be unique");
            return;
        }
    }
}

/// A `YYYY-MM-DD` due date (a wrong date is a 400 naming the field).
pub(crate) fn parse_due(check: &mut Validator, due: Option<&String>) -> Option<NaiveDate> {
    let due = due?;
    match NaiveDate::parse_from_str(due, "%Y-%m-%d") {
        Ok(date) if due.len() == 10 => Some(date),
        _ => {
            check.add("due_date", "must be a date written YYYY-MM-DD");
            None
        }
    }
}

/// A channel the caller may read, of the kind a route serves: 404 if they may not read
/// it, then 409 if it is of another kind.
pub async fn channel_of_kind(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    kinds: &[ChannelKind],
) -> ApiResult<ChannelAccess> {
    let access = access::channel(state, channel_id, caller).await?;
    if !kinds.contains(&access.channel.kind) {
        let names: Vec<String> = kinds
            .iter()
            .map(|kind| {
                serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect();
        return Err(ApiError::conflict(format!(
            "this route serves channels of kind {}",
            names.join(" or ")
        )));
    }
    Ok(access)
}

/// What a write reads before each attempt: the first attempt takes the read made alongside
/// the access check (one round trip for both), a retry after a concurrent write reads again.
pub(crate) struct Reread<T> {
    first: Option<T>,
}

impl<T> Reread<T> {
    pub(crate) fn new(first: T) -> Self {
        Self { first: Some(first) }
    }

    /// The first read, then `read()` for every later attempt.
    pub(crate) async fn next<Fut>(&mut self, read: impl FnOnce() -> Fut) -> ApiResult<T>
    where
        Fut: std::future::Future<Output = ApiResult<T>>,
    {
        match self.first.take() {
            Some(first) => Ok(first),
            None => read().await,
        }
    }
}

/// A move's neighbour lookup made from where this process last saw the anchor (see
/// [`crate::table::remembered`]), alongside the move's other reads. It stands only if the
/// anchor, once read, is still at that place: then it is the very lookup the move would
/// make next, one round trip earlier.
pub(crate) struct GuessedNeighbour<P, T> {
    place: Option<P>,
    found: Option<Option<T>>,
}

impl<P: PartialEq, T> GuessedNeighbour<P, T> {
    /// `found` is what the lookup from `place` found (`None` when nothing was guessed).
    pub(crate) fn new(place: Option<P>, found: Option<Option<T>>) -> Self {
        Self { place, found }
    }

    /// The guessed neighbour, if the anchor stands where it was guessed (once: a retry
    /// looks again).
    pub(crate) fn take_if_at(&mut self, anchor: &P) -> Option<Option<T>> {
        let found = self.found.take()?;
        (self.place.as_ref() == Some(anchor)).then_some(found)
    }
}

/// The memberships a member's write relies on: still in the workspace and the channel.
pub(crate) fn writer_guards(access: &ChannelAccess) -> Vec<Key> {
    vec![
        keys::workspace_member(access.channel.workspace_id, access.caller),
        keys::channel_member(access.channel.id, access.caller),
    ]
}

/// The fields tasks and cards share, as a PATCH names them.
pub(crate) struct FieldsPatch<'a> {
    pub title: &'a Patch<String>,
    pub description: &'a Patch<String>,
    pub assignee_id: Patch<UserId>,
    pub due_date: &'a Patch<String>,
    pub labels: &'a Patch<Vec<String>>,
}

/// The same fields of a stored task or card, to change in place.
pub(crate) struct Fields<'a> {
    pub title: &'a mut String,
    pub description: &'a mut Option<String>,
    pub assignee_id: &'a mut Option<UserId>,
    pub due_date: &'a mut Option<NaiveDate>,
    pub labels: &'a mut Vec<String>,
}

impl FieldsPatch<'_> {
    /// Checks the fields given (`null` for the title is a 400); returns the due date parsed.
    pub(crate) fn check(&self, check: &mut Validator) -> Option<NaiveDate> {
        match self.title {
            Patch::Clear => check.add("title", "must not be null"),
            Patch::Set(title) => check_title(check, title),
            Patch::Absent => {}
        }
        check_description(check, self.description.as_set());
        if let Patch::Set(labels) = self.labels {
            check_labels(check, labels);
        }
        parse_due(check, self.due_date.as_set())
    }

    /// Applies the fields given: `null` clears description, assignee and due date, and
    /// empties the labels. `due` is the date [`FieldsPatch::check`] parsed.
    pub(crate) fn apply(&self, due: Option<NaiveDate>, fields: Fields<'_>) {
        if let Patch::Set(title) = self.title {
            *fields.title = title.trim().to_owned();
        }
        match self.description {
            Patch::Set(description) => *fields.description = Some(description.clone()),
            Patch::Clear => *fields.description = None,
            Patch::Absent => {}
        }
        match self.assignee_id {
            Patch::Set(assignee) => *fields.assignee_id = Some(assignee),
            Patch::Clear => *fields.assignee_id = None,
            Patch::Absent => {}
        }
        match self.due_date {
            Patch::Set(_) => *fields.due_date = due,
            Patch::Clear => *fields.due_date = None,
            Patch::Absent => {}
        }
        match self.labels {
            Patch::Set(labels) => *fields.labels = labels.clone(),
            Patch::Clear => fields.labels.clear(),
            Patch::Absent => {}
        }
    }
}

/// The memberships that let `user` read `channel`: the workspace membership, and the
/// channel membership where only members read. A write that assigns checks they still
/// exist in its transaction.
pub(crate) fn read_guards(channel: &Channel, user: UserId) -> Vec<Key> {
    let mut guards = vec![keys::workspace_member(channel.workspace_id, user)];
    if channel.members_only() {
        guards.push(keys::channel_member(channel.id, user));
    }
    guards
}

/// Adds the guards an assignee's access needs to a write's guards (those already there,
/// when the assignee is the caller, are not repeated: a transaction touches an item once).
pub(crate) fn add_guards(guards: &mut Vec<Key>, more: Vec<Key>) {
    for key in more {
        if !guards.contains(&key) {
            guards.push(key);
        }
    }
}

fn cannot_read() -> ApiError {
    ApiError::invalid_fields(vec![FieldError::new(
        "assignee_id",
        "must be someone who can read this channel",
    )])
}

/// Checks that `assignee` may read the channel (one BatchGetItem); a 400 naming
/// `assignee_id` if not.
pub(crate) async fn check_assignee(
    state: &AppState,
    channel: &Channel,
    assignee: UserId,
) -> ApiResult<()> {
    let guards = read_guards(channel, assignee);
    if state.store.batch_get_items(&guards).await?.len() == guards.len() {
        Ok(())
    } else {
        Err(cannot_read())
    }
}

/// The error for a failed guard of a write: the caller's membership (gone since the
/// access check), or the assignee's.
pub(crate) fn guard_error(caller_guards: usize, index: usize) -> ApiError {
    if index < caller_guards {
        ApiError::not_found("channel")
    } else {
        cannot_read()
    }
}

/// Exactly one of `before_id` / `after_id` (or, where `optional`, neither).
pub(crate) fn one_anchor<T: Copy>(
    before: Option<T>,
    after: Option<T>,
    optional: bool,
) -> ApiResult<Option<Anchor<T>>> {
    match (before, after) {
        (Some(_), Some(_)) => Err(ApiError::invalid_fields(vec![
            FieldError::new("before_id", "give before_id or after_id, not both"),
            FieldError::new("after_id", "give before_id or after_id, not both"),
        ])),
        (Some(id), None) => Ok(Some(Anchor::Before(id))),
        (None, Some(id)) => Ok(Some(Anchor::After(id))),
        (None, None) if optional => Ok(None),
        (None, None) => Err(ApiError::invalid_fields(vec![FieldError::new(
            "before_id",
            "give before_id or after_id",
        )])),
    }
}

/// Where a moved item goes: right before or right after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor<T> {
    Before(T),
    After(T),
}

impl<T> Anchor<T> {
    pub fn field(&self) -> &'static str {
        match self {
            Self::Before(_) => "before_id",
            Self::After(_) => "after_id",
        }
    }
}

/// A position strictly between two neighbours' positions. Neighbours with equal positions
/// (two concurrent moves into one gap that drew the same random digits) leave no room
/// between them: the item then goes right after them.
pub(crate) fn position_between(lower: Option<&str>, upper: Option<&str>) -> ApiResult<String> {
    let upper = match (lower, upper) {
        (Some(lower), Some(upper)) if lower >= upper => None,
        _ => upper,
    };
    let key = positions::between(lower, upper).map_err(ApiError::internal)?;
    // Only ever more items squeezed into one gap get here (about 1,500 of them): a key
    // stays well inside DynamoDB's 1 KiB sort-key limit.
    if key.len() > positions::POSITION_MAX {
        return Err(ApiError::conflict(
            "no room is left at this spot of the list; place the item elsewhere",
        ));
    }
    Ok(key)
}

/// `GET /v1/channels/{cid}/stats`: from the counters (one Query) and the overdue markers
/// (one bounded Query), never by counting items.
pub async fn stats(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
) -> ApiResult<ChannelStats> {
    let today = today();
    // Counted alongside the access check; nothing is shown before it passes.
    let (access, counters, overdue) = tokio::try_join!(
        channel_of_kind(
            state,
            caller,
            channel_id,
            &[ChannelKind::Todo, ChannelKind::Kanban],
        ),
        state.store.channel_counters(channel_id),
        state.store.count_overdue(channel_id, &today),
    )?;
    let mut assignees = counters.assignees;
    assignees.retain(|(_, c)| c.open > 0 || c.done > 0);
    assignees.sort_by_key(|(user, _)| *user);
    let totals = counters.totals;
    if access.channel.kind == ChannelKind::Kanban {
        let mut columns = counters.columns;
        columns.sort_by(|a, b| (&a.position, a.id).cmp(&(&b.position, b.id)));
        return Ok(ChannelStats::Kanban(KanbanStats {
            total: count(totals.total),
            overdue,
            by_column: columns
                .into_iter()
                .map(|column| ColumnStats {
                    column_id: column.id,
                    name: column.name,
                    count: count(column.card_count),
                    wip_limit: column.wip_limit,
                })
                .collect(),
            by_assignee: assignees
                .into_iter()
                .filter(|(_, c)| c.open > 0)
                .map(|(user_id, c)| AssigneeOpen {
                    user_id,
                    open: count(c.open),
                })
                .collect(),
        }));
    }
    let (total, done) = (count(totals.total), count(totals.done));
    Ok(ChannelStats::Todo(TodoStats {
        total,
        open: count(totals.open),
        done,
        completion_percent: (done * 100).checked_div(total).unwrap_or(0),
        overdue,
        by_priority: ByPriority {
            low: count(totals.low),
            medium: count(totals.medium),
            high: count(totals.high),
            urgent: count(totals.urgent),
        },
        by_assignee: assignees
            .into_iter()
            .map(|(user_id, c)| AssigneeStats {
                user_id,
                open: count(c.open),
                done: count(c.done),
            })
            .collect(),
    }))
}

/// `?status&assignee_id&limit&cursor` of the task list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    #[serde(default)]
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    /// Only the tasks assigned to this user.
    #[serde(default)]
    #[param(value_type = Option<UserId>)]
    pub assignee_id: Option<String>,
    /// Items per page (default 50).
    #[serde(default)]
    #[param(value_type = Option<i32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `?status&limit&cursor` of my-work. It lists the caller's own work: an `assignee_id` is
/// a 400 (and not a documented parameter).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyWorkQuery {
    #[serde(default)]
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    #[serde(default)]
    #[param(ignore)]
    pub assignee_id: Option<String>,
    /// Items per page (default 50).
    #[serde(default)]
    #[param(value_type = Option<i32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The schema of `status`: what [`parse_status`] accepts.
fn status_schema() -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "`open` (the default), `done`, or `all` (the open ones, then the done ones)",
        ))
        .enum_values(Some(["open", "done", "all"]))
        .default(Some(serde_json::Value::from("open")))
        .build()
}

/// What a status filter keeps: open (`Some(false)`), done (`Some(true)`) or all (`None`).
pub(crate) fn parse_status(status: Option<&str>) -> ApiResult<Option<bool>> {
    match status {
        None | Some("") | Some("open") => Ok(Some(false)),
        Some("done") => Ok(Some(true)),
        Some("all") => Ok(None),
        Some(_) => Err(ApiError::invalid_fields(vec![FieldError::new(
            "status",
            "must be open, done or all",
        )])),
    }
}

/// `GET /v1/workspaces/{wid}/my-work`: the tasks and cards assigned to the caller in the
/// channels they can still read, from the assignee index (soonest due first, undated
/// last; with `status=all` the open ones first, then the done ones).
pub async fn my_work(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    query: MyWorkQuery,
) -> ApiResult<Page<WorkItemView>> {
    if query.assignee_id.is_some() {
        return Err(ApiError::invalid_fields(vec![FieldError::new(
            "assignee_id",
            "my-work lists the caller's own work",
        )]));
    }
    let done = parse_status(query.status.as_deref())?;
    let page = crate::pagination::PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .validate()?;
    access::workspace(state, workspace_id, caller).await?;
    let readable = move |items: Vec<WorkItem>| async move {
        let channel_ids: Vec<ChannelId> = items
            .iter()
            .map(WorkItem::channel_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let readable = access::readable_channels(state, workspace_id, caller, &channel_ids).await?;
        Ok(items
            .into_iter()
            .map(|item| {
                (readable.get(&item.channel_id()) == Some(&true)).then(|| match item {
                    WorkItem::Task(task) => WorkItemView::Task((*task).into()),
                    WorkItem::Card(card) => WorkItemView::Card((*card).into()),
                })
            })
            .collect())
    };
    state
        .store
        .my_work_page(workspace_id, caller, done, &page, readable)
        .await
}

/// `GET /v1/workspaces/{wid}/workload` (admin+): open and done counts per user from the
/// workload counters, overdue from one bounded Query on the workspace's due markers.
pub async fn workload(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
) -> ApiResult<Page<WorkloadRow>> {
    access::workspace(state, workspace_id, caller)
        .await?
        .require_admin()?;
    let today = today();
    let (counters, overdue) = tokio::try_join!(
        state.store.workload_counters(workspace_id),
        state.store.overdue_by_assignee(workspace_id, &today),
    )?;
    let mut rows: HashMap<UserId, WorkloadRow> = HashMap::new();
    for (user_id, counts) in counters {
        rows.insert(
            user_id,
            WorkloadRow {
                user_id,
                open: count(counts.open),
                done: count(counts.done),
                overdue: 0,
            },
        );
    }
    for (user_id, late) in overdue {
        rows.entry(user_id)
            .or_insert(WorkloadRow {
                user_id,
                open: 0,
                done: 0,
                overdue: 0,
            })
            .overdue = late;
    }
    let mut items: Vec<WorkloadRow> = rows
        .into_values()
        .filter(|row| row.open > 0 || row.done > 0 || row.overdue > 0)
        .collect();
    items.sort_by_key(|row| row.user_id);
    Ok(Page {
        items,
        next_cursor: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reread_takes_the_first_read_then_reads_again() {
        let mut reads = Reread::new(1);
        let first = reads.next(|| async { Ok(2) }).await.unwrap();
        let second = reads.next(|| async { Ok(2) }).await.unwrap();
        assert_eq!((first, second), (1, 2));
    }

    #[test]
    fn a_guessed_neighbour_stands_only_where_the_anchor_still_is() {
        let mut guessed = GuessedNeighbour::new(Some("a1"), Some(Some("n")));
        assert_eq!(guessed.take_if_at(&"a2"), None, "the anchor moved");
        let mut guessed = GuessedNeighbour::new(Some("a1"), Some(Some("n")));
        assert_eq!(guessed.take_if_at(&"a1"), Some(Some("n")));
        assert_eq!(
            guessed.take_if_at(&"a1"),
            None,
            "once only: a retry looks again"
        );
        let mut nothing: GuessedNeighbour<&str, &str> = GuessedNeighbour::new(None, None);
        assert_eq!(nothing.take_if_at(&"a1"), None, "nothing was guessed");
        let mut last = GuessedNeighbour::new(Some("a1"), Some(None::<&str>));
        assert_eq!(last.take_if_at(&"a1"), Some(None), "the anchor is last");
    }
}
