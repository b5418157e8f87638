//! The boards function: kanban boards (the board in one call, columns and cards). Handlers
//! parse, call one rule, and map the result; each one's `#[utoipa::path]` is both its
//! route and its entry in the API description.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use huddle_shared::auth::AuthUser;
use huddle_shared::boards::{self, Board, CardPath, CardView, ColumnPath, ColumnView};
use huddle_shared::boards::{
    CreateCardRequest, CreateColumnRequest, MoveCardRequest, MoveColumnRequest, UpdateCardRequest,
    UpdateColumnRequest,
};
use huddle_shared::http::{Json, Path, Query, created, finish};
use huddle_shared::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized,
};
use huddle_shared::pagination::PageQuery;
use huddle_shared::params::ChannelPath;
use huddle_shared::table::Page;
use huddle_shared::{ApiResult, AppState};

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router(state: AppState) -> Router {
    finish(routes(state))
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes(state: AppState) -> Router {
    served().with_state(state)
}

// Every route of this function, each group the handlers of one path: defines `api()`
// (with the description) and `served()` (without it).
huddle_shared::http_routes!(AppState =>
    [board],
    [create_column],
    [update_column, delete_column],
    [move_column],
    [column_cards, create_card],
    [get_card, update_card, delete_card],
    [move_card],
);

/// The board: every column in order with its first 100 cards and the cursor to the rest.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/board",
    tag = "boards",
    operation_id = "get_board",
    params(ChannelPath),
    responses(
        (status = 200, description = "The board", body = Board),
        BadRequest, Unauthorized, NotFound, Conflict,
    )
)]
async fn board(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
) -> ApiResult<Json<Board>> {
    boards::board(&state, caller.user_id, channel_id)
        .await
        .map(Json)
}

/// Adds a column, placed last (channel members; a board holds at most 50).
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/columns",
    tag = "boards",
    operation_id = "create_column",
    params(ChannelPath),
    request_body = CreateColumnRequest,
    responses(
        (status = 201, description = "The column as stored", body = ColumnView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn create_column(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Json(request): Json<CreateColumnRequest>,
) -> ApiResult<Response> {
    Ok(created(
        boards::create_column(&state, caller.user_id, channel_id, request).await?,
    ))
}

/// Renames a column or changes its WIP limit (channel members).
#[utoipa::path(
    patch,
    path = "/v1/channels/{channel_id}/columns/{column_id}",
    tag = "boards",
    operation_id = "update_column",
    params(ColumnPath),
    request_body = UpdateColumnRequest,
    responses(
        (status = 200, description = "The column as changed", body = ColumnView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn update_column(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ColumnPath {
        channel_id,
        column_id,
    }): Path<ColumnPath>,
    Json(request): Json<UpdateColumnRequest>,
) -> ApiResult<Json<ColumnView>> {
    boards::update_column(&state, caller.user_id, channel_id, column_id, request)
        .await
        .map(Json)
}

/// Deletes an empty column (the channel's creator or a workspace admin; 409 while it holds
/// cards).
#[utoipa::path(
    delete,
    path = "/v1/channels/{channel_id}/columns/{column_id}",
    tag = "boards",
    operation_id = "delete_column",
    params(ColumnPath),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn delete_column(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ColumnPath {
        channel_id,
        column_id,
    }): Path<ColumnPath>,
) -> ApiResult<StatusCode> {
    boards::delete_column(&state, caller.user_id, channel_id, column_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a column right before or right after another column (channel members).
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/columns/{column_id}/move",
    tag = "boards",
    operation_id = "move_column",
    params(ColumnPath),
    request_body = MoveColumnRequest,
    responses(
        (status = 200, description = "The column at its new place", body = ColumnView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn move_column(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ColumnPath {
        channel_id,
        column_id,
    }): Path<ColumnPath>,
    Json(request): Json<MoveColumnRequest>,
) -> ApiResult<Json<ColumnView>> {
    boards::move_column(&state, caller.user_id, channel_id, column_id, request)
        .await
        .map(Json)
}

/// A page of a column's cards, in order (the rest of what the board shows).
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/columns/{column_id}/cards",
    tag = "boards",
    operation_id = "list_column_cards",
    params(ColumnPath, PageQuery),
    responses(
        (status = 200, description = "A page of cards", body = Page<CardView>),
        BadRequest, Unauthorized, NotFound, Conflict,
    )
)]
async fn column_cards(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ColumnPath {
        channel_id,
        column_id,
    }): Path<ColumnPath>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<CardView>>> {
    boards::column_cards(
        &state,
        caller.user_id,
        channel_id,
        column_id,
        page.validate()?,
    )
    .await
    .map(Json)
}

/// Adds a card, last in its column (channel members); 409 `wip_limit_reached` if the column
/// is full.
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/columns/{column_id}/cards",
    tag = "boards",
    operation_id = "create_card",
    params(ColumnPath),
    request_body = CreateCardRequest,
    responses(
        (status = 201, description = "The card as stored", body = CardView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn create_card(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ColumnPath {
        channel_id,
        column_id,
    }): Path<ColumnPath>,
    Json(request): Json<CreateCardRequest>,
) -> ApiResult<Response> {
    Ok(created(
        boards::create_card(&state, caller.user_id, channel_id, column_id, request).await?,
    ))
}

/// One card.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/cards/{card_id}",
    tag = "boards",
    operation_id = "get_card",
    params(CardPath),
    responses(
        (status = 200, description = "The card", body = CardView),
        BadRequest, Unauthorized, NotFound, Conflict,
    )
)]
async fn get_card(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(CardPath {
        channel_id,
        card_id,
    }): Path<CardPath>,
) -> ApiResult<Json<CardView>> {
    boards::get_card(&state, caller.user_id, channel_id, card_id)
        .await
        .map(Json)
}

/// Changes the fields given (channel members): `null` clears description, assignee and due
/// date, and empties the labels.
#[utoipa::path(
    patch,
    path = "/v1/channels/{channel_id}/cards/{card_id}",
    tag = "boards",
    operation_id = "update_card",
    params(CardPath),
    request_body = UpdateCardRequest,
    responses(
        (status = 200, description = "The card as changed", body = CardView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn update_card(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(CardPath {
        channel_id,
        card_id,
    }): Path<CardPath>,
    Json(request): Json<UpdateCardRequest>,
) -> ApiResult<Json<CardView>> {
    boards::update_card(&state, caller.user_id, channel_id, card_id, request)
        .await
        .map(Json)
}

/// Deletes a card (its creator, or a workspace admin).
#[utoipa::path(
    delete,
    path = "/v1/channels/{channel_id}/cards/{card_id}",
    tag = "boards",
    operation_id = "delete_card",
    params(CardPath),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
async fn delete_card(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(CardPath {
        channel_id,
        card_id,
    }): Path<CardPath>,
) -> ApiResult<StatusCode> {
    boards::delete_card(&state, caller.user_id, channel_id, card_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a card within its column or into another, before or after one of its cards, or
/// last (channel members); entering a full column is 409 `wip_limit_reached`.
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/cards/{card_id}/move",
    tag = "boards",
    operation_id = "move_card",
    params(CardPath),
    request_body = MoveCardRequest,
    responses(
        (status = 200, description = "The card at its new place", body = CardView),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn move_card(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(CardPath {
        channel_id,
        card_id,
    }): Path<CardPath>,
    Json(request): Json<MoveCardRequest>,
) -> ApiResult<Json<CardView>> {
    boards::move_card(&state, caller.user_id, channel_id, card_id, request)
        .await
        .map(Json)
}
