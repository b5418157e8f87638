//! Kanban boards: the board in one call, columns (create, rename, WIP limit, move, delete
//! when empty) and cards (create in a column, edit, move within and across columns,
//! delete). Readers read, channel members write; a card's creator or a workspace admin
//! deletes it; the channel's creator or a workspace admin deletes a column. A card
//! entering a column is counted there in the same transaction, under its WIP limit.

use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::ChannelAccess;
use crate::boards::{
    Board, BoardColumn, Card, CardView, Column, ColumnCreation, ColumnDeletion, ColumnView,
};
use crate::channels::{Channel, ChannelKind};
use crate::clock;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::ids::{CardId, ChannelId, ColumnId, UserId};
use crate::keys;
use crate::patch::Patch;
use crate::positions;
use crate::state::AppState;
use crate::table::{Page, PageRequest};
use crate::validate::Validator;
use crate::work::{
    self, Anchor, FieldsPatch, GuessedNeighbour, Reread, WRITE_ATTEMPTS, WorkOutcome, add_guards,
    check_assignee, check_description, check_labels, check_title, guard_error, labels_schema,
    parse_due, position_between, read_guards, writer_guards,
};

/// Columns a board may hold.
pub const COLUMNS_MAX: u64 = 50;
/// Cards per column in `GET .../board` (the rest: the per-column page).
pub const BOARD_CARDS_PER_COLUMN: i32 = 100;
pub const COLUMN_NAME_MAX: usize = 80;
pub const WIP_LIMIT_MAX: u32 = 1000;
/// A new kanban channel's columns.
pub const FIRST_COLUMNS: [&str; 3] = ["To do", "In progress", "Done"];
/// Columns read at once for a board (all of them: at most [`COLUMNS_MAX`]).
const COLUMNS_READ: usize = 1000;
/// Columns whose first cards a board read fetches at once.
const COLUMN_READS_IN_FLIGHT: usize = 8;

/// `POST /v1/channels/{channel_id}/columns`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateColumnRequest {
    /// Trimmed; 1 to 80 characters, no control characters.
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    /// Cards the column may hold; `null` or absent: no limit.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    pub wip_limit: Option<u32>,
}

/// A PATCH of a column: absent fields stay; `null` removes the WIP limit; `null` for the
/// name is a 400.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateColumnRequest {
    /// Trimmed; 1 to 80 characters, no control characters; not `null`.
    #[serde(default)]
    #[schema(value_type = String, min_length = 1, max_length = 80)]
    pub name: Patch<String>,
    /// A limit below the current count only stops more cards coming in; `null` removes it.
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub wip_limit: Patch<u32>,
}

/// `{before_id | after_id}`: exactly one, another column of the board.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveColumnRequest {
    /// Places the column right before this one.
    #[serde(default)]
    pub before_id: Option<ColumnId>,
    /// Places the column right after this one.
    #[serde(default)]
    pub after_id: Option<ColumnId>,
}

/// `POST /v1/channels/{channel_id}/columns/{column_id}/cards`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCardRequest {
    /// Trimmed; 1 to 200 characters, no control characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Someone who can read the channel (a 400 naming `assignee_id` otherwise).
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    #[serde(default)]
    #[schema(schema_with = labels_schema)]
    pub labels: Option<Vec<String>>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Option<String>,
}

/// A PATCH of a card: as for tasks (no status, no priority). Absent fields stay; `null`
/// clears description, assignee and due date, and empties the labels; `null` for the title
/// is a 400.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCardRequest {
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
    #[serde(default)]
    #[schema(schema_with = labels_schema)]
    pub labels: Patch<Vec<String>>,
}

/// `{column_id, before_id? | after_id?}`: neither places the card last.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveCardRequest {
    /// The column the card goes to (its own, or another of the board).
    pub column_id: ColumnId,
    /// Places the card right before this card of that column.
    #[serde(default)]
    pub before_id: Option<CardId>,
    /// Places the card right after this card of that column.
    #[serde(default)]
    pub after_id: Option<CardId>,
}

/// The columns a new kanban channel starts with, in order, without WIP limits.
pub fn first_columns(channel: &Channel) -> Vec<Column> {
    let mut previous: Option<String> = None;
    FIRST_COLUMNS
        .iter()
        .filter_map(|name| {
            let position = positions::key_between(previous.as_deref(), None).ok()?;
            previous = Some(position.clone());
            Some(Column {
                id: ColumnId::generate(),
                channel_id: channel.id,
                workspace_id: channel.workspace_id,
                name: (*name).to_owned(),
                position,
                wip_limit: None,
                card_count: 0,
                created_by: channel.created_by,
                created_at: channel.created_at,
                updated_at: channel.created_at,
                updated_by: None,
            })
        })
        .collect()
}

async fn kanban_channel(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
) -> ApiResult<ChannelAccess> {
    work::channel_of_kind(state, caller, channel_id, &[ChannelKind::Kanban]).await
}

fn check_column_name(check: &mut Validator, name: &str) {
    if name.trim().is_empty() {
        check.add("name", format!("must be 1 to {COLUMN_NAME_MAX} characters"));
    } else {
        check.text("name", name, 1, COLUMN_NAME_MAX);
    }
}

fn check_wip(check: &mut Validator, wip_limit: Option<u32>) {
    if let Some(limit) = wip_limit
        && !(1..=WIP_LIMIT_MAX).contains(&limit)
    {
        check.add("wip_limit", format!("must be null or 1 to {WIP_LIMIT_MAX}"));
    }
}

async fn column_of(
    state: &AppState,
    channel_id: ChannelId,
    column_id: ColumnId,
) -> ApiResult<Column> {
    state
        .store
        .get_column(channel_id, column_id)
        .await?
        .ok_or_else(|| ApiError::not_found("column"))
}

fn wip_reached(column: &Column) -> ApiError {
    ApiError::WipLimitReached(format!(
        "column \"{}\" holds its WIP limit of {} cards",
        column.name,
        column.wip_limit.unwrap_or_default()
    ))
}

fn busy() -> ApiError {
    ApiError::conflict("the card is being changed by others; try again")
}

/// `GET /v1/channels/{cid}/board` (readers): every column in order with its first
/// [`BOARD_CARDS_PER_COLUMN`] cards and the cursor to the rest.
pub async fn board(state: &AppState, caller: UserId, channel_id: ChannelId) -> ApiResult<Board> {
    // The columns are read alongside the access check; nothing is shown before it passes.
    let (_, columns) = tokio::try_join!(
        kanban_channel(state, caller, channel_id),
        state.store.list_columns(channel_id, COLUMNS_READ)
    )?;
    let first = PageRequest {
        limit: BOARD_CARDS_PER_COLUMN,
        cursor: None,
    };
    let columns: Vec<BoardColumn> = futures::stream::iter(columns)
        .map(|column| {
            let first = first.clone();
            async move {
                let cards = state.store.column_cards(column.id, &first).await?;
                remember_places(state, &cards.items);
                Ok::<_, ApiError>(BoardColumn {
                    column: column.into(),
                    cards: cards.items.into_iter().map(CardView::from).collect(),
                    next_cursor: cards.next_cursor,
                })
            }
        })
        .buffered(COLUMN_READS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(Board { columns })
}

/// `GET /v1/channels/{cid}/columns/{col}/cards` (readers): a page of a column's cards.
pub async fn column_cards(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    column_id: ColumnId,
    page: PageRequest,
) -> ApiResult<Page<CardView>> {
    // All read at once; nothing is shown before the access check passes and the column is
    // found on this board (the access check's answer comes first, whichever ends first).
    let (access, column, cards) = tokio::join!(
        kanban_channel(state, caller, channel_id),
        state.store.get_column(channel_id, column_id),
        state.store.column_cards(column_id, &page)
    );
    access?;
    column?.ok_or_else(|| ApiError::not_found("column"))?;
    let cards = cards?;
    remember_places(state, &cards.items);
    Ok(cards.map(CardView::from))
}

/// `POST /v1/channels/{cid}/columns` (channel members): a new column, placed last.
pub async fn create_column(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    request: CreateColumnRequest,
) -> ApiResult<ColumnView> {
    let mut check = Validator::new();
    check_column_name(&mut check, &request.name);
    check_wip(&mut check, request.wip_limit);
    check.finish()?;
    let access = kanban_channel(state, caller, channel_id).await?;
    access.require_member()?;
    let columns = state.store.list_columns(channel_id, COLUMNS_READ).await?;
    let now = clock::now();
    let column = Column {
        id: ColumnId::generate(),
        channel_id,
        workspace_id: access.channel.workspace_id,
        name: request.name.trim().to_owned(),
        position: position_between(columns.last().map(|c| c.position.as_str()), None)?,
        wip_limit: request.wip_limit,
        card_count: 0,
        created_by: caller,
        created_at: now,
        updated_at: now,
        updated_by: Some(caller),
    };
    let guards = writer_guards(&access);
    match state
        .store
        .create_column(&column, &guards, COLUMNS_MAX)
        .await?
    {
        ColumnCreation::Created => Ok(column.into()),
        ColumnCreation::LimitReached => Err(ApiError::conflict(format!(
            "a board holds at most {COLUMNS_MAX} columns"
        ))),
        ColumnCreation::ChannelGone | ColumnCreation::GuardFailed(_) => {
            Err(ApiError::not_found("channel"))
        }
    }
}

/// `PATCH /v1/channels/{cid}/columns/{col}` (channel members): name and WIP limit. A
/// limit below the current count is allowed: it only stops more cards coming in.
pub async fn update_column(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    column_id: ColumnId,
    request: UpdateColumnRequest,
) -> ApiResult<ColumnView> {
    let mut check = Validator::new();
    match &request.name {
        Patch::Clear => check.add("name", "must not be null"),
        Patch::Set(name) => check_column_name(&mut check, name),
        Patch::Absent => {}
    }
    check_wip(&mut check, request.wip_limit.as_set().copied());
    check.finish()?;
    let access = kanban_channel(state, caller, channel_id).await?;
    access.require_member()?;
    let name = request.name.as_set().map(|name| name.trim());
    state
        .store
        .update_column(
            channel_id,
            column_id,
            name,
            &request.wip_limit,
            None,
            caller,
        )
        .await?
        .map(ColumnView::from)
        .ok_or_else(|| ApiError::not_found("column"))
}

/// `POST /v1/channels/{cid}/columns/{col}/move` (channel members): before or after another
/// column.
pub async fn move_column(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    column_id: ColumnId,
    request: MoveColumnRequest,
) -> ApiResult<ColumnView> {
    let anchor = work::one_anchor(request.before_id, request.after_id, false)?
        .ok_or_else(|| ApiError::invalid("give before_id or after_id"))?;
    let (Anchor::Before(anchor_id) | Anchor::After(anchor_id)) = anchor;
    if anchor_id == column_id {
        return Err(ApiError::invalid_fields(vec![FieldError::new(
            anchor.field(),
            "a column cannot move next to itself",
        )]));
    }
    let access = kanban_channel(state, caller, channel_id).await?;
    access.require_member()?;
    let mut columns = state.store.list_columns(channel_id, COLUMNS_READ).await?;
    if !columns.iter().any(|c| c.id == column_id) {
        return Err(ApiError::not_found("column"));
    }
    columns.retain(|c| c.id != column_id);
    let at = columns
        .iter()
        .position(|c| c.id == anchor_id)
        .ok_or_else(|| {
            ApiError::invalid_fields(vec![FieldError::new(
                anchor.field(),
                "no such column on this board",
            )])
        })?;
    let (lower, upper) = match anchor {
        Anchor::After(_) => (Some(&columns[at]), columns.get(at + 1)),
        Anchor::Before(_) => (at.checked_sub(1).map(|i| &columns[i]), Some(&columns[at])),
    };
    let position = position_between(
        lower.map(|c| c.position.as_str()),
        upper.map(|c| c.position.as_str()),
    )?;
    state
        .store
        .update_column(
            channel_id,
            column_id,
            None,
            &Patch::Absent,
            Some(&position),
            caller,
        )
        .await?
        .map(ColumnView::from)
        .ok_or_else(|| ApiError::not_found("column"))
}

/// `DELETE /v1/channels/{cid}/columns/{col}`: the channel's creator or a workspace admin;
/// only an empty column (409 otherwise).
pub async fn delete_column(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    column_id: ColumnId,
) -> ApiResult<()> {
    let access = kanban_channel(state, caller, channel_id).await?;
    access.require_manager()?;
    let column = column_of(state, channel_id, column_id).await?;
    match state.store.delete_column(&column, caller).await? {
        ColumnDeletion::Deleted => Ok(()),
        ColumnDeletion::NotEmpty => Err(ApiError::conflict(
            "the column still holds cards; move or delete them first",
        )),
        ColumnDeletion::Gone => Err(ApiError::not_found("column")),
    }
}

/// Maps how a card write ended; `Ok(None)` means "read again and retry".
async fn card_written(
    state: &AppState,
    outcome: WorkOutcome,
    entering: Option<&Column>,
    caller_guards: usize,
) -> ApiResult<Option<()>> {
    match outcome {
        WorkOutcome::Written => Ok(Some(())),
        WorkOutcome::Stale => Ok(None),
        WorkOutcome::ChannelGone => Err(ApiError::not_found("channel")),
        WorkOutcome::GuardFailed(index) => Err(guard_error(caller_guards, index)),
        WorkOutcome::ExtraFailed(0) if entering.is_some() => {
            let Some(column) = entering else {
                return Ok(None);
            };
            // Full, or deleted meanwhile: one read tells which.
            match state.store.get_column(column.channel_id, column.id).await? {
                Some(now) => Err(wip_reached(&now)),
                None => Err(ApiError::not_found("column")),
            }
        }
        WorkOutcome::ExtraFailed(_) => Ok(None),
    }
}

/// `POST /v1/channels/{cid}/columns/{col}/cards` (channel members): a new card, last in
/// its column; 409 `wip_limit_reached` if the column is full.
pub async fn create_card(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    column_id: ColumnId,
    request: CreateCardRequest,
) -> ApiResult<CardView> {
    let mut check = Validator::new();
    check_title(&mut check, &request.title);
    check_description(&mut check, request.description.as_ref());
    let labels = request.labels.unwrap_or_default();
    check_labels(&mut check, &labels);
    let due_date = parse_due(&mut check, request.due_date.as_ref());
    check.finish()?;
    // The column and its last card are read alongside the access check (nothing read is
    // shown before it passes).
    let (access, column, last) = tokio::try_join!(
        kanban_channel(state, caller, channel_id),
        state.store.get_column(channel_id, column_id),
        state.store.last_card(column_id, None)
    )?;
    access.require_member()?;
    let column = column.ok_or_else(|| ApiError::not_found("column"))?;
    let mut guards = writer_guards(&access);
    let caller_guards = guards.len();
    if let Some(assignee) = request.assignee_id {
        check_assignee(state, &access.channel, assignee).await?;
        add_guards(&mut guards, read_guards(&access.channel, assignee));
    }
    let now = clock::now();
    let card = Card {
        id: CardId::generate(),
        channel_id,
        workspace_id: access.channel.workspace_id,
        column_id,
        title: request.title.trim().to_owned(),
        description: request.description,
        assignee_id: request.assignee_id,
        labels,
        due_date,
        position: position_between(last.as_ref().map(|c| c.position.as_str()), None)?,
        created_by: caller,
        created_at: now,
        updated_at: now,
        updated_by: Some(caller),
        revision: 1,
    };
    let outcome = state
        .store
        .save_card(None, Some(&card), Some(&column), guards)
        .await?;
    match card_written(state, outcome, Some(&column), caller_guards).await? {
        Some(()) => {
            remember_places(state, [&card]);
            Ok(card.into())
        }
        None => Err(ApiError::internal(anyhow::anyhow!(
            "a new card id collided"
        ))),
    }
}

/// Remembers where these cards stand, for a later move next to one of them.
fn remember_places<'a>(state: &AppState, cards: impl IntoIterator<Item = &'a Card>) {
    for card in cards {
        state
            .store
            .memory()
            .card_places
            .remember(card.id, card.place());
    }
}

/// The caller's access to a kanban channel and one of its cards, read at once (nothing
/// read is shown before the access check passes).
async fn card_and_access(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    card_id: CardId,
) -> ApiResult<(ChannelAccess, Option<Card>)> {
    tokio::try_join!(
        kanban_channel(state, caller, channel_id),
        state.store.get_card(channel_id, card_id)
    )
}

/// `GET /v1/channels/{cid}/cards/{card}` (readers).
pub async fn get_card(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    card_id: CardId,
) -> ApiResult<CardView> {
    let (_, card) = card_and_access(state, caller, channel_id, card_id).await?;
    card.map(CardView::from)
        .ok_or_else(|| ApiError::not_found("card"))
}

/// `PATCH /v1/channels/{cid}/cards/{card}` (channel members): only the fields given.
pub async fn update_card(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    card_id: CardId,
    request: UpdateCardRequest,
) -> ApiResult<CardView> {
    let mut check = Validator::new();
    let fields = FieldsPatch {
        title: &request.title,
        description: &request.description,
        assignee_id: request.assignee_id,
        due_date: &request.due_date,
        labels: &request.labels,
    };
    let due_date = fields.check(&mut check);
    check.finish()?;
    let (access, first_read) = card_and_access(state, caller, channel_id, card_id).await?;
    access.require_member()?;
    let mut guards = writer_guards(&access);
    let caller_guards = guards.len();
    if let Patch::Set(assignee) = request.assignee_id {
        check_assignee(state, &access.channel, assignee).await?;
        add_guards(&mut guards, read_guards(&access.channel, assignee));
    }
    let mut reads = Reread::new(first_read);
    for _ in 0..WRITE_ATTEMPTS {
        let before = reads
            .next(|| state.store.get_card(channel_id, card_id))
            .await?
            .ok_or_else(|| ApiError::not_found("card"))?;
        let mut after = before.clone();
        fields.apply(due_date, after.fields());
        if after == before {
            return Ok(before.into());
        }
        after.revision = before.revision + 1;
        after.updated_at = clock::now();
        after.updated_by = Some(access.caller);
        let outcome = state
            .store
            .save_card(Some(&before), Some(&after), None, guards.clone())
            .await?;
        if card_written(state, outcome, None, caller_guards)
            .await?
            .is_some()
        {
            return Ok(after.into());
        }
    }
    Err(busy())
}

/// `POST /v1/channels/{cid}/cards/{card}/move` (channel members): into a column (the same
/// or another), before or after one of its cards, or last. Entering another column counts
/// the card there under its WIP limit; reordering inside a full column is allowed.
pub async fn move_card(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    card_id: CardId,
    request: MoveCardRequest,
) -> ApiResult<CardView> {
    let anchor = work::one_anchor(request.before_id, request.after_id, true)?;
    if let Some(Anchor::Before(id) | Anchor::After(id)) = anchor
        && id == card_id
    {
        let field = anchor.map(|a| a.field()).unwrap_or("before_id");
        return Err(ApiError::invalid_fields(vec![FieldError::new(
            field,
            "a card cannot move next to itself",
        )]));
    }
    let mut wanted = vec![card_id];
    if let Some(Anchor::Before(id) | Anchor::After(id)) = anchor {
        wanted.push(id);
    }
    // Read alongside the access check (nothing read is shown before it passes): the
    // column, the cards, and the card the moved one will follow: the column's last card
    // without an anchor, or the anchor's neighbour from where this process last saw the
    // anchor.
    let remembered = match anchor {
        Some(Anchor::Before(id) | Anchor::After(id)) => state.store.memory().card_places.get(&id),
        None => None,
    };
    let after_anchor = matches!(anchor, Some(Anchor::After(_)));
    let last = async {
        match anchor {
            None => state
                .store
                .last_card(request.column_id, Some(card_id))
                .await
                .map(Some),
            Some(_) => Ok(None),
        }
    };
    let guess = async {
        match (anchor, &remembered) {
            (Some(Anchor::Before(id) | Anchor::After(id)), Some(place)) => state
                .store
                .card_beside(id, place, after_anchor, card_id)
                .await
                .map(Some),
            _ => Ok(None),
        }
    };
    let (access, target, found, mut first_last, guessed) = tokio::try_join!(
        kanban_channel(state, caller, channel_id),
        state.store.get_column(channel_id, request.column_id),
        state.store.get_cards(channel_id, &wanted),
        last,
        guess
    )?;
    access.require_member()?;
    let guards = writer_guards(&access);
    let caller_guards = guards.len();
    let target = target.ok_or_else(|| {
        ApiError::invalid_fields(vec![FieldError::new(
            "column_id",
            "no such column on this board",
        )])
    })?;
    let mut reads = Reread::new(found);
    let mut guessed = GuessedNeighbour::new(remembered, guessed);
    for _ in 0..WRITE_ATTEMPTS {
        let found = reads
            .next(|| state.store.get_cards(channel_id, &wanted))
            .await?;
        let before = found
            .iter()
            .find(|c| c.id == card_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("card"))?;
        let position = match anchor {
            None => {
                let last = match first_last.take() {
                    Some(last) => last,
                    None => state.store.last_card(target.id, Some(card_id)).await?,
                };
                position_between(last.as_ref().map(|c| c.position.as_str()), None)?
            }
            Some(anchor @ (Anchor::Before(anchor_id) | Anchor::After(anchor_id))) => {
                let anchor_card = found
                    .iter()
                    .find(|c| c.id == anchor_id && c.column_id == target.id)
                    .ok_or_else(|| {
                        ApiError::invalid_fields(vec![FieldError::new(
                            anchor.field(),
                            "no such card in that column",
                        )])
                    })?;
                let place = anchor_card.place();
                let neighbour = match guessed.take_if_at(&place) {
                    Some(neighbour) => neighbour,
                    None => {
                        state
                            .store
                            .card_beside(anchor_id, &place, after_anchor, card_id)
                            .await?
                    }
                };
                let neighbour = neighbour.as_ref().map(|c| c.position.as_str());
                if after_anchor {
                    position_between(Some(&anchor_card.position), neighbour)?
                } else {
                    position_between(neighbour, Some(&anchor_card.position))?
                }
            }
        };
        let entering = (before.column_id != target.id).then_some(&target);
        let mut after = before.clone();
        after.column_id = target.id;
        after.position = position;
        after.revision = before.revision + 1;
        after.updated_at = clock::now();
        after.updated_by = Some(access.caller);
        let outcome = state
            .store
            .save_card(Some(&before), Some(&after), entering, guards.clone())
            .await?;
        if card_written(state, outcome, entering, caller_guards)
            .await?
            .is_some()
        {
            remember_places(state, found.iter().chain([&after]));
            return Ok(after.into());
        }
    }
    Err(busy())
}

/// `DELETE /v1/channels/{cid}/cards/{card}`: the card's creator or a workspace admin.
pub async fn delete_card(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    card_id: CardId,
) -> ApiResult<()> {
    let (access, first_read) = card_and_access(state, caller, channel_id, card_id).await?;
    let guards = vec![keys::workspace_member(access.channel.workspace_id, caller)];
    let mut reads = Reread::new(first_read);
    for _ in 0..WRITE_ATTEMPTS {
        let read = reads.next(|| state.store.get_card(channel_id, card_id));
        let Some(before) = read.await? else {
            return Err(ApiError::not_found("card"));
        };
        if before.created_by != caller {
            access.require_workspace_admin()?;
        }
        let outcome = state
            .store
            .delete_card(&before, guards.clone(), caller)
            .await?;
        if card_written(state, outcome, None, guards.len())
            .await?
            .is_some()
        {
            return Ok(());
        }
    }
    Err(busy())
}
