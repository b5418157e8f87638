//! The documents function: the document of a doc channel (get, save with a base version),
//! its revisions (list, get, restore) and HTTP sync (any size). Live editing goes over the
//! WebSocket function. Handlers parse, call one rule, and map the result; each one's
//! `#[utoipa::path]` is both its route and its entry in the API description.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use huddle_shared::auth::AuthUser;
use huddle_shared::documents::{
    self, Document, DocumentConflict, RevisionPath, RevisionSummary, RevisionView,
    SaveDocumentRequest, SaveOutcome, SyncAnswer, SyncRequest,
};
use huddle_shared::http::{Json, Path, Query, finish};
use huddle_shared::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized,
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
    [get_document, save],
    [list_revisions],
    [get_revision],
    [restore],
    [sync],
);

/// The document's text and version (an empty document at version 0 until someone writes).
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/document",
    tag = "documents",
    operation_id = "get_document",
    params(ChannelPath),
    responses(
        (status = 200, description = "The document", body = Document),
        BadRequest, Unauthorized, NotFound, Conflict,
    )
)]
async fn get_document(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
) -> ApiResult<Json<Document>> {
    documents::get(&state, caller.user_id, channel_id)
        .await
        .map(Json)
}

/// Saves the whole text as a new version and revision (channel members), applied as a text
/// diff so live edits elsewhere survive; a stale `base_version` is a 409 carrying the
/// current document.
#[utoipa::path(
    put,
    path = "/v1/channels/{channel_id}/document",
    tag = "documents",
    operation_id = "save_document",
    params(ChannelPath),
    request_body = SaveDocumentRequest,
    responses(
        (status = 200, description = "The document as saved (unchanged, at its version, when the text was already this)", body = Document),
        BadRequest, Unauthorized, Forbidden, NotFound,
        (status = 409, description = "`base_version` is stale (`conflict`, with `current`: the document now), or the channel is not a doc channel (`conflict` alone)", body = DocumentConflict),
        PayloadTooLarge, ServiceUnavailable,
    )
)]
async fn save(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Json(request): Json<SaveDocumentRequest>,
) -> ApiResult<Response> {
    Ok(
        match documents::save(&state, caller.user_id, channel_id, request).await? {
            SaveOutcome::Saved(document) => axum::Json(document).into_response(),
            SaveOutcome::Stale(current) => (
                StatusCode::CONFLICT,
                axum::Json(DocumentConflict::stale(current)),
            )
                .into_response(),
        },
    )
}

/// The document's revisions, newest first (the latest 50 are kept).
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/document/revisions",
    tag = "documents",
    operation_id = "list_document_revisions",
    params(ChannelPath, PageQuery),
    responses(
        (status = 200, description = "A page of revisions", body = Page<RevisionSummary>),
        BadRequest, Unauthorized, NotFound, Conflict,
    )
)]
async fn list_revisions(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<RevisionSummary>>> {
    documents::list_revisions(&state, caller.user_id, channel_id, page.validate()?)
        .await
        .map(Json)
}

/// One revision with its text.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel_id}/document/revisions/{version}",
    tag = "documents",
    operation_id = "get_document_revision",
    params(RevisionPath),
    responses(
        (status = 200, description = "The revision", body = RevisionView),
        BadRequest, Unauthorized, NotFound, Conflict,
    )
)]
async fn get_revision(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(RevisionPath {
        channel_id,
        version,
    }): Path<RevisionPath>,
) -> ApiResult<Json<RevisionView>> {
    documents::get_revision(&state, caller.user_id, channel_id, version)
        .await
        .map(Json)
}

/// Writes a revision's text as a new version (channel members), as a diff like a save.
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/document/revisions/{version}/restore",
    tag = "documents",
    operation_id = "restore_document_revision",
    params(RevisionPath),
    responses(
        (status = 200, description = "The document with the revision's text", body = Document),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, ServiceUnavailable,
    )
)]
async fn restore(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(RevisionPath {
        channel_id,
        version,
    }): Path<RevisionPath>,
) -> ApiResult<Json<Document>> {
    documents::restore(&state, caller.user_id, channel_id, version)
        .await
        .map(Json)
}

/// What a client with this state vector lacks, and the server's state vector: the way to
/// load a document of any size (readers).
#[utoipa::path(
    post,
    path = "/v1/channels/{channel_id}/document/sync",
    tag = "documents",
    operation_id = "sync_document",
    params(ChannelPath),
    request_body = SyncRequest,
    responses(
        (status = 200, description = "The update the client lacks and the server's state vector", body = SyncAnswer),
        BadRequest, Unauthorized, NotFound, Conflict, PayloadTooLarge,
    )
)]
async fn sync(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(ChannelPath { channel_id }): Path<ChannelPath>,
    Json(request): Json<SyncRequest>,
) -> ApiResult<Json<SyncAnswer>> {
    documents::sync(&state, caller.user_id, channel_id, request)
        .await
        .map(Json)
}
