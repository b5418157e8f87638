//! The documents function: the document of a doc channel (get, save with a base version),
//! its revisions (list, get, restore) and HTTP sync (any size). Live editing goes over the
//! WebSocket function. Handlers parse, call one rule, and map the result.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use huddle_shared::auth::AuthUser;
use huddle_shared::documents::{
    self, Document, RevisionSummary, RevisionView, SaveDocumentRequest, SaveOutcome, SyncAnswer,
    SyncRequest,
};
use huddle_shared::http::{Json, Path, Query, finish};
use huddle_shared::ids::ChannelId;
use huddle_shared::pagination::PageQuery;
use huddle_shared::table::Page;
use huddle_shared::{ApiError, ApiResult, AppState};

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router(state: AppState) -> Router {
    finish(routes(state))
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(
            "/v1/channels/{channel_id}/document",
            get(get_document).put(save),
        )
        .route(
            "/v1/channels/{channel_id}/document/revisions",
            get(list_revisions),
        )
        .route(
            "/v1/channels/{channel_id}/document/revisions/{version}",
            get(get_revision),
        )
        .route(
            "/v1/channels/{channel_id}/document/revisions/{version}/restore",
            post(restore),
        )
        .route("/v1/channels/{channel_id}/document/sync", post(sync))
        .with_state(state)
}

type RevisionPath = Path<(ChannelId, u64)>;

async fn get_document(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
) -> ApiResult<Json<Document>> {
    documents::get(&state, caller.user_id, channel_id)
        .await
        .map(Json)
}

/// A stale save is a 409 whose body carries the current document beside the error.
fn stale(current: Document) -> Response {
    let error = ApiError::conflict("base_version is not the current version");
    let body = serde_json::json!({
        "error": {"code": error.code(), "message": error.to_string()},
        "current": current,
    });
    (StatusCode::CONFLICT, axum::Json(body)).into_response()
}

async fn save(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Json(request): Json<SaveDocumentRequest>,
) -> ApiResult<Response> {
    Ok(
        match documents::save(&state, caller.user_id, channel_id, request).await? {
            SaveOutcome::Saved(document) => axum::Json(document).into_response(),
            SaveOutcome::Stale(current) => stale(current),
        },
    )
}

async fn list_revisions(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<RevisionSummary>>> {
    documents::list_revisions(&state, caller.user_id, channel_id, page.validate()?)
        .await
        .map(Json)
}

async fn get_revision(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, version)): RevisionPath,
) -> ApiResult<Json<RevisionView>> {
    documents::get_revision(&state, caller.user_id, channel_id, version)
        .await
        .map(Json)
}

async fn restore(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((channel_id, version)): RevisionPath,
) -> ApiResult<Json<Document>> {
    documents::restore(&state, caller.user_id, channel_id, version)
        .await
        .map(Json)
}

async fn sync(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(channel_id): Path<ChannelId>,
    Json(request): Json<SyncRequest>,
) -> ApiResult<Json<SyncAnswer>> {
    documents::sync(&state, caller.user_id, channel_id, request)
        .await
        .map(Json)
}
