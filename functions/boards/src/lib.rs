//! The boards function: kanban boards (the board in one call, columns and cards). Handlers
//! parse, call one rule, and map the result.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, patch, post};
use huddle_shared::auth::AuthUser;
use huddle_shared::boards::{self, Board, CardView, ColumnView};
use huddle_shared::http::{Json, Path, Query, created, finish};
use huddle_shared::ids::{CardId, ChannelId, ColumnId};
use huddle_shared::pagination::PageQuery;
use huddle_shared::table::Page;
use huddle_shared::{ApiResult, AppState};

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router(state: AppState) -> Router {
    finish(routes(state))
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/v1/channels/{channel_id}/board", get(board))
        .route("/v1/channels/{channel_id}/columns", post(create_column))
        .route(
            "/v1/channels/{channel_id}/columns/{column_id}",
            patch(update_column).delete(delete_column),
        )
        .route(
            "/v1/channels/{channel_id}/columns/{column_id}/move",
            post(move_column),
        )
        .route(
            "/v1/channels/{channel_id}/columns/{column_id}/cards",
            get(column_cards).post(create_card),
        )
        .route(
            "/v1/channels/{channel_id}/cards/{card_id}",
            get(get_card).patch(update_card).delete(delete_card),
        )
        .route(
            "/v1/channels/{channel_id}/cards/{card_id}/move",
            post(move_card),
        )
        .with_state(state)
}

type ColumnPath = Path<(ChannelId, ColumnId)>;
type CardPath = Path<(ChannelId, CardId)>;

async fn board(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<Json<Board>> {
    boards::board(&state, caller.user_id, channel_id)
        .await
        .map(Json)
}

async fn create_column(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Json(request): Json<boards::CreateColumnRequest>,
) -> ApiResult<Response> {
    Ok(created(
        boards::create_column(&state, caller.user_id, channel_id, request).await?,
    ))
}

async fn update_column(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, column_id)): ColumnPath,
    Json(request): Json<boards::UpdateColumnRequest>,
) -> ApiResult<Json<ColumnView>> {
    boards::update_column(&state, caller.user_id, channel_id, column_id, request)
        .await
        .map(Json)
}

async fn delete_column(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, column_id)): ColumnPath,
) -> ApiResult<StatusCode> {
    boards::delete_column(&state, caller.user_id, channel_id, column_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn move_column(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, column_id)): ColumnPath,
    Json(request): Json<boards::MoveColumnRequest>,
) -> ApiResult<Json<ColumnView>> {
    boards::move_column(&state, caller.user_id, channel_id, column_id, request)
        .await
        .map(Json)
}

async fn column_cards(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, column_id)): ColumnPath,
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

async fn create_card(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, column_id)): ColumnPath,
    Json(request): Json<boards::CreateCardRequest>,
) -> ApiResult<Response> {
    Ok(created(
        boards::create_card(&state, caller.user_id, channel_id, column_id, request).await?,
    ))
}

async fn get_card(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, card_id)): CardPath,
) -> ApiResult<Json<CardView>> {
    boards::get_card(&state, caller.user_id, channel_id, card_id)
        .await
        .map(Json)
}

async fn update_card(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, card_id)): CardPath,
    Json(request): Json<boards::UpdateCardRequest>,
) -> ApiResult<Json<CardView>> {
    boards::update_card(&state, caller.user_id, channel_id, card_id, request)
        .await
        .map(Json)
}

async fn delete_card(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, card_id)): CardPath,
) -> ApiResult<StatusCode> {
    boards::delete_card(&state, caller.user_id, channel_id, card_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn move_card(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, card_id)): CardPath,
    Json(request): Json<boards::MoveCardRequest>,
) -> ApiResult<Json<CardView>> {
    boards::move_card(&state, caller.user_id, channel_id, card_id, request)
        .await
        .map(Json)
}
