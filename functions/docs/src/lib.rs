//! The docs function: the committed OpenAPI description at `GET /v1/openapi.json` and an
//! interactive Swagger UI page over it at `GET /docs`. The page's assets are embedded at
//! build time from the crate registry (utoipa-swagger-ui's `vendored` Swagger UI), so the
//! page works with no internet access: nothing comes from a CDN.

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use huddle_shared::ApiError;
use huddle_shared::http::{Path, finish};
use huddle_shared::openapi::NotFound;
use utoipa_swagger_ui::Config;

/// The description as committed at the repository's root; a test keeps it equal to what the
/// code generates (`huddle-local`'s `openapi` module).
pub const OPENAPI_JSON: &str = include_str!("../../../openapi.json");

/// Where the page finds the description.
const OPENAPI_URL: &str = "/v1/openapi.json";

/// The page and its assets are the same for every request; they may be cached briefly.
const CACHE_FOR: HeaderValue = HeaderValue::from_static("public, max-age=300");

static SWAGGER_CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::from(OPENAPI_URL)
            .try_it_out_enabled(true)
            .persist_authorization(true),
    )
});

/// Every route this function serves, with the shared layers applied (what Lambda runs).
pub fn router() -> Router {
    finish(routes())
}

/// The bare routes, for the local gateway to merge with the other functions'.
pub fn routes() -> Router {
    served()
}

// Every route of this function, each group the handlers of one path: defines `api()`
// (with the description) and `served()` (without it).
huddle_shared::http_routes!(() =>
    [openapi_json],
    [docs_page],
    [docs_asset],
);

/// The OpenAPI 3.1 description of every route (this document).
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "meta",
    operation_id = "get_openapi",
    security(()),
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object),
    )
)]
async fn openapi_json() -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (CACHE_CONTROL, CACHE_FOR),
        ],
        OPENAPI_JSON,
    )
        .into_response()
}

/// The interactive docs page (Swagger UI) over the description.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "meta",
    operation_id = "get_docs_page",
    security(()),
    responses(
        (status = 200, description = "The docs page", content_type = "text/html", body = String),
    )
)]
async fn docs_page() -> Result<Response, ApiError> {
    let index = swagger_file("index.html")?;
    // The page's links are relative (`./swagger-ui.css`); served at `/docs` rather than
    // `/docs/`, they must resolve under `/docs/`.
    let html = String::from_utf8_lossy(&index.0).replacen(
        "<head>",
        "<head>\n    <base href=\"/docs/\">",
        1,
    );
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CACHE_CONTROL, CACHE_FOR),
        ],
        html,
    )
        .into_response())
}

/// One asset of the docs page (scripts, styles, icons).
#[utoipa::path(
    get,
    path = "/docs/{file}",
    tag = "meta",
    operation_id = "get_docs_asset",
    security(()),
    params(("file" = String, Path, description = "The asset's file name, as `swagger-ui.css`")),
    responses(
        (status = 200, description = "The asset", content_type = "*/*", body = String),
        NotFound,
    )
)]
async fn docs_asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (bytes, content_type) = swagger_file(&file)?;
    let content_type = HeaderValue::from_str(&content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, CACHE_FOR)],
        bytes,
    )
        .into_response())
}

/// An embedded Swagger UI file with its content type; `index.html` for an empty name.
fn swagger_file(name: &str) -> Result<(Vec<u8>, String), ApiError> {
    match utoipa_swagger_ui::serve(name, SWAGGER_CONFIG.clone()) {
        Ok(Some(file)) => Ok((file.bytes.into_owned(), file.content_type)),
        Ok(None) => Err(ApiError::not_found("docs asset")),
        Err(error) => Err(ApiError::internal(std::io::Error::other(error.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_description_is_json_with_our_paths() {
        let document: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        assert!(document["paths"]["/v1/openapi.json"]["get"].is_object());
    }

    #[test]
    fn the_page_and_its_assets_are_embedded() {
        let (index, content_type) = swagger_file("index.html").unwrap();
        assert!(content_type.starts_with("text/html"));
        let index = String::from_utf8_lossy(&index);
        assert!(index.contains("swagger-ui"));
        assert!(
            !index.contains("//"),
            "the page must load nothing from elsewhere"
        );
        let (script, _) = swagger_file("swagger-initializer.js").unwrap();
        assert!(String::from_utf8_lossy(&script).contains(OPENAPI_URL));
        assert!(swagger_file("swagger-ui-bundle.js").is_ok());
        assert!(matches!(
            swagger_file("nope.js"),
            Err(ApiError::NotFound(_))
        ));
    }
}
