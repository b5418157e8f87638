//! Tasks of todo channels: create (placed last), read, list (open, done or all, by
//! assignee), field-level edits, complete and reopen (idempotent), moves, deletes. Readers
//! read, channel members write, the creator or a workspace admin deletes. Every write is
//! one transaction with the counters it moves, conditioned on the revision read (retried
//! on a concurrent change) and on the memberships it relies on.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::ChannelAccess;
use crate::channels::ChannelKind;
use crate::clock;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::ids::{ChannelId, TaskId, UserId};
use crate::keys::{self, Key};
use crate::pagination::PageQuery;
use crate::patch::Patch;
use crate::state::AppState;
use crate::table::{Page, PageRequest};
use crate::tasks::{Task, TaskStatus, TaskView};
use crate::validate::Validator;
use crate::work::{
    self, Anchor, FieldsPatch, GuessedNeighbour, Priority, Reread, StatusQuery, WRITE_ATTEMPTS,
    WorkOutcome, add_guards, check_assignee, check_description, check_labels, check_title,
    guard_error, labels_schema, parse_due, position_between, read_guards, writer_guards,
};

/// `POST /v1/channels/{channel_id}/tasks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskRequest {
    /// Trimmed; 1 to 200 characters, no control characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Someone who can read the channel (a 400 naming `assignee_id` otherwise).
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Option<String>,
    /// `medium` when absent.
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    #[schema(schema_with = labels_schema)]
    pub labels: Option<Vec<String>>,
}

/// A PATCH: absent fields stay, `null` clears (description, assignee, due date; labels
/// become `[]`); `null` for title or priority is a 400.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskRequest {
    /// Trimmed; 1 to 200 characters, no control characters; not `null`.
    #[serde(default)]
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    pub title: Patch<String>,
    /// `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub description: Patch<String>,
    /// Someone who can read the channel; `null` unassigns.
    #[serde(default)]
    #[schema(value_type = Option<UserId>)]
    pub assignee_id: Patch<UserId>,
    /// `YYYY-MM-DD`; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Patch<String>,
    /// Not `null`.
    #[serde(default)]
    #[schema(value_type = Priority)]
    pub priority: Patch<Priority>,
    #[serde(default)]
    #[schema(schema_with = labels_schema)]
    pub labels: Patch<Vec<String>>,
}

/// `{before_id | after_id}`: exactly one, another task of the channel.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveTaskRequest {
    /// Places the task right before this one.
    #[serde(default)]
    pub before_id: Option<TaskId>,
    /// Places the task right after this one.
    #[serde(default)]
    pub after_id: Option<TaskId>,
}

async fn todo_channel(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
) -> ApiResult<ChannelAccess> {
    work::channel_of_kind(state, caller, channel_id, &[ChannelKind::Todo]).await
}

/// Maps how a write ended; `Ok(None)` means "read again and retry".
fn written(outcome: WorkOutcome, caller_guards: usize) -> ApiResult<Option<()>> {
    match outcome {
        WorkOutcome::Written => Ok(Some(())),
        WorkOutcome::Stale => Ok(None),
        WorkOutcome::ChannelGone => Err(ApiError::not_found("channel")),
        WorkOutcome::GuardFailed(index) => Err(guard_error(caller_guards, index)),
        WorkOutcome::ExtraFailed(_) => Err(ApiError::internal(anyhow::anyhow!(
            "a task write has no extra writes"
        ))),
    }
}

fn busy() -> ApiError {
    ApiError::conflict("the task is being changed by others; try again")
}

/// `POST /v1/channels/{cid}/tasks` (channel members): a new open task, placed last.
pub async fn create(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    request: CreateTaskRequest,
) -> ApiResult<TaskView> {
    let mut check = Validator::new();
    check_title(&mut check, &request.title);
    check_description(&mut check, request.description.as_ref());
    let labels = request.labels.unwrap_or_default();
    check_labels(&mut check, &labels);
    let due_date = parse_due(&mut check, request.due_date.as_ref());
    check.finish()?;

    // The last task is read alongside the access check (nothing read is shown before it
    // passes).
    let (access, last) = tokio::try_join!(
        todo_channel(state, caller, channel_id),
        state.store.last_open_task(channel_id)
    )?;
    access.require_member()?;
    let mut guards = writer_guards(&access);
    let caller_guards = guards.len();
    if let Some(assignee) = request.assignee_id {
        check_assignee(state, &access.channel, assignee).await?;
        add_guards(&mut guards, read_guards(&access.channel, assignee));
    }
    let now = clock::now();
    let task = Task {
        id: TaskId::generate(),
        channel_id,
        workspace_id: access.channel.workspace_id,
        title: request.title.trim().to_owned(),
        description: request.description,
        status: TaskStatus::Open,
        priority: request.priority.unwrap_or_default(),
        assignee_id: request.assignee_id,
        due_date,
        labels,
        position: position_between(last.as_ref().map(|t| t.position.as_str()), None)?,
        created_by: caller,
        created_at: now,
        updated_at: now,
        updated_by: Some(caller),
        completed_at: None,
        completed_by: None,
        revision: 1,
    };
    let outcome = state.store.save_task(None, Some(&task), guards).await?;
    match written(outcome, caller_guards)? {
        Some(()) => {
            remember_places(state, [&task]);
            Ok(task.into())
        }
        None => Err(ApiError::internal(anyhow::anyhow!(
            "a new task id collided"
        ))),
    }
}

/// Remembers where these tasks stand, for a later move next to one of them.
fn remember_places<'a>(state: &AppState, tasks: impl IntoIterator<Item = &'a Task>) {
    for task in tasks {
        state
            .store
            .memory()
            .task_places
            .remember(task.id, task.place());
    }
}

/// The caller's access to a todo channel and one of its tasks, read at once (nothing read
/// is shown before the access check passes).
async fn task_and_access(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    task_id: TaskId,
) -> ApiResult<(ChannelAccess, Option<Task>)> {
    tokio::try_join!(
        todo_channel(state, caller, channel_id),
        state.store.get_task(channel_id, task_id)
    )
}

/// `GET /v1/channels/{cid}/tasks/{tid}` (readers).
pub async fn get(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    task_id: TaskId,
) -> ApiResult<TaskView> {
    let (_, task) = task_and_access(state, caller, channel_id, task_id).await?;
    task.map(TaskView::from)
        .ok_or_else(|| ApiError::not_found("task"))
}

/// `GET /v1/channels/{cid}/tasks?status&assignee_id&limit&cursor` (readers): board order;
/// `status=all` lists the open tasks, then the done ones.
pub async fn list(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    query: StatusQuery,
) -> ApiResult<Page<TaskView>> {
    let done = work::parse_status(query.status.as_deref())?;
    let assignee = match query.assignee_id.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<UserId>().map_err(|_| {
            ApiError::invalid_fields(vec![FieldError::new("assignee_id", "must be a user id")])
        })?),
    };
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .validate()?;
    todo_channel(state, caller, channel_id).await?;
    let page = match done {
        Some(done) => {
            state
                .store
                .list_tasks(channel_id, done, &page, assignee)
                .await?
        }
        None => list_all(state, channel_id, page, assignee).await?,
    };
    remember_places(state, &page.items);
    Ok(page.map(TaskView::from))
}

const OPEN_PHASE: &str = "open.";
const DONE_PHASE: &str = "done.";

/// Open tasks, then done ones: the cursor says which list it continues (each list's own
/// cursor is sealed for that list).
async fn list_all(
    state: &AppState,
    channel_id: ChannelId,
    page: PageRequest,
    assignee: Option<UserId>,
) -> ApiResult<Page<Task>> {
    let invalid = || ApiError::invalid("invalid cursor");
    let (in_done, inner) = match page.cursor.as_deref() {
        None => (false, None),
        Some(cursor) => {
            if let Some(rest) = cursor.strip_prefix(OPEN_PHASE) {
                (false, Some(rest.to_owned()))
            } else if let Some(rest) = cursor.strip_prefix(DONE_PHASE) {
                (true, Some(rest.to_owned()).filter(|rest| !rest.is_empty()))
            } else {
                return Err(invalid());
            }
        }
    };
    let mut items = Vec::new();
    if !in_done {
        let open = state
            .store
            .list_tasks(
                channel_id,
                false,
                &PageRequest {
                    limit: page.limit,
                    cursor: inner.clone(),
                },
                assignee,
            )
            .await?;
        if let Some(next) = open.next_cursor {
            return Ok(Page {
                items: open.items,
                next_cursor: Some(format!("{OPEN_PHASE}{next}")),
            });
        }
        items = open.items;
    }
    let room = page.limit - i32::try_from(items.len()).unwrap_or(page.limit);
    if room <= 0 {
        return Ok(Page {
            items,
            next_cursor: Some(DONE_PHASE.to_owned()),
        });
    }
    let done = state
        .store
        .list_tasks(
            channel_id,
            true,
            &PageRequest {
                limit: room,
                cursor: if in_done { inner } else { None },
            },
            assignee,
        )
        .await?;
    items.extend(done.items);
    Ok(Page {
        items,
        next_cursor: done.next_cursor.map(|next| format!("{DONE_PHASE}{next}")),
    })
}

/// Reads the task, lets `change` make the new version (`None`: nothing to change), and
/// writes it on condition nothing changed meanwhile, retrying when something did.
async fn change_task<F>(
    state: &AppState,
    access: &ChannelAccess,
    task_id: TaskId,
    first_read: Option<Task>,
    extra_guards: Vec<Key>,
    change: F,
) -> ApiResult<Task>
where
    F: Fn(&Task) -> ApiResult<Option<Task>>,
{
    let mut guards = writer_guards(access);
    let caller_guards = guards.len();
    add_guards(&mut guards, extra_guards);
    let mut reads = Reread::new(first_read);
    for _ in 0..WRITE_ATTEMPTS {
        let before = reads
            .next(|| state.store.get_task(access.channel.id, task_id))
            .await?
            .ok_or_else(|| ApiError::not_found("task"))?;
        let Some(mut after) = change(&before)? else {
            return Ok(before);
        };
        after.revision = before.revision + 1;
        after.updated_at = clock::now();
        after.updated_by = Some(access.caller);
        let outcome = state
            .store
            .save_task(Some(&before), Some(&after), guards.clone())
            .await?;
        if written(outcome, caller_guards)?.is_some() {
            return Ok(after);
        }
    }
    Err(busy())
}

/// `PATCH /v1/channels/{cid}/tasks/{tid}` (channel members): only the fields given.
pub async fn update(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    task_id: TaskId,
    request: UpdateTaskRequest,
) -> ApiResult<TaskView> {
    let mut check = Validator::new();
    let fields = FieldsPatch {
        title: &request.title,
        description: &request.description,
        assignee_id: request.assignee_id,
        due_date: &request.due_date,
        labels: &request.labels,
    };
    let due_date = fields.check(&mut check);
    if request.priority == Patch::Clear {
        check.add("priority", "must not be null");
    }
    check.finish()?;

    let (access, first_read) = task_and_access(state, caller, channel_id, task_id).await?;
    access.require_member()?;
    let mut extra_guards = Vec::new();
    if let Patch::Set(assignee) = request.assignee_id {
        check_assignee(state, &access.channel, assignee).await?;
        extra_guards = read_guards(&access.channel, assignee);
    }
    let task = change_task(
        state,
        &access,
        task_id,
        first_read,
        extra_guards,
        |before| {
            let mut after = before.clone();
            fields.apply(due_date, after.fields());
            if let Patch::Set(priority) = request.priority {
                after.priority = priority;
            }
            Ok((after != *before).then_some(after))
        },
    )
    .await?;
    Ok(task.into())
}

/// `POST .../tasks/{tid}/complete` and `.../reopen` (channel members): idempotent; a
/// second completion keeps the first `completed_at` and `completed_by`.
pub async fn set_done(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    task_id: TaskId,
    done: bool,
) -> ApiResult<TaskView> {
    let (access, first_read) = task_and_access(state, caller, channel_id, task_id).await?;
    access.require_member()?;
    let task = change_task(state, &access, task_id, first_read, Vec::new(), |before| {
        if before.is_done() == done {
            return Ok(None);
        }
        let mut after = before.clone();
        if done {
            after.status = TaskStatus::Done;
            after.completed_at = Some(clock::now());
            after.completed_by = Some(caller);
        } else {
            after.status = TaskStatus::Open;
            after.completed_at = None;
            after.completed_by = None;
        }
        Ok(Some(after))
    })
    .await?;
    Ok(task.into())
}

/// `POST .../tasks/{tid}/move` (channel members): right before or after another task of
/// the channel. The move rewrites the task's position alone: a key between the anchor
/// and its neighbour.
pub async fn move_task(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    task_id: TaskId,
    request: MoveTaskRequest,
) -> ApiResult<TaskView> {
    let anchor = work::one_anchor(request.before_id, request.after_id, false)?
        .ok_or_else(|| ApiError::invalid("give before_id or after_id"))?;
    let (Anchor::Before(anchor_id) | Anchor::After(anchor_id)) = anchor;
    if anchor_id == task_id {
        return Err(ApiError::invalid_fields(vec![FieldError::new(
            anchor.field(),
            "a task cannot move next to itself",
        )]));
    }
    let after_anchor = matches!(anchor, Anchor::After(_));
    // The tasks, and the anchor's neighbour from where this process last saw the anchor,
    // are read alongside the access check (nothing read is shown before it passes).
    let wanted = [task_id, anchor_id];
    let remembered = state.store.memory().task_places.get(&anchor_id);
    let guess = async {
        match &remembered {
            Some(place) => state
                .store
                .task_beside(channel_id, anchor_id, place, after_anchor, task_id)
                .await
                .map(Some),
            None => Ok(None),
        }
    };
    let (access, found, guessed) = tokio::try_join!(
        todo_channel(state, caller, channel_id),
        state.store.get_tasks(channel_id, &wanted),
        guess
    )?;
    access.require_member()?;
    let guards = writer_guards(&access);
    let caller_guards = guards.len();
    let mut reads = Reread::new(found);
    let mut guessed = GuessedNeighbour::new(remembered, guessed);
    for _ in 0..WRITE_ATTEMPTS {
        let found = reads
            .next(|| state.store.get_tasks(channel_id, &wanted))
            .await?;
        let before = found
            .iter()
            .find(|t| t.id == task_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("task"))?;
        let anchor_task = found.iter().find(|t| t.id == anchor_id).ok_or_else(|| {
            ApiError::invalid_fields(vec![FieldError::new(
                anchor.field(),
                "no such task in this channel",
            )])
        })?;
        let place = anchor_task.place();
        let neighbour = match guessed.take_if_at(&place) {
            Some(neighbour) => neighbour,
            None => {
                state
                    .store
                    .task_beside(channel_id, anchor_id, &place, after_anchor, task_id)
                    .await?
            }
        };
        let neighbour = neighbour.as_ref().map(|t| t.position.as_str());
        let position = if after_anchor {
            position_between(Some(&anchor_task.position), neighbour)?
        } else {
            position_between(neighbour, Some(&anchor_task.position))?
        };
        let mut after = before.clone();
        after.position = position;
        after.revision = before.revision + 1;
        after.updated_at = clock::now();
        after.updated_by = Some(access.caller);
        let outcome = state
            .store
            .save_task(Some(&before), Some(&after), guards.clone())
            .await?;
        if written(outcome, caller_guards)?.is_some() {
            remember_places(state, [anchor_task, &after]);
            return Ok(after.into());
        }
    }
    Err(busy())
}

/// `DELETE /v1/channels/{cid}/tasks/{tid}`: the task's creator or a workspace admin.
pub async fn delete(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    task_id: TaskId,
) -> ApiResult<()> {
    let (access, first_read) = task_and_access(state, caller, channel_id, task_id).await?;
    let guards = vec![keys::workspace_member(access.channel.workspace_id, caller)];
    let mut reads = Reread::new(first_read);
    for _ in 0..WRITE_ATTEMPTS {
        let read = reads.next(|| state.store.get_task(channel_id, task_id));
        let Some(before) = read.await? else {
            return Err(ApiError::not_found("task"));
        };
        if before.created_by != caller {
            access.require_workspace_admin()?;
        }
        let outcome = state
            .store
            .delete_task(&before, guards.clone(), caller)
            .await?;
        if written(outcome, guards.len())?.is_some() {
            return Ok(());
        }
    }
    Err(busy())
}
