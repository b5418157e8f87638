//! The docs function: the committed OpenAPI description at `GET /v1/openapi.json` and an
//! interactive Swagger UI page over it at `GET /docs`. The page (`assets/`) and the Swagger
//! UI files it loads are embedded at build time (`build.rs` takes them from the crate
//! registry's vendored Swagger UI), so the page works with no internet access: nothing comes
//! from a CDN.

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use huddle_shared::ApiError;
use huddle_shared::http::{Path, finish};
use huddle_shared::openapi::NotFound;

/// The description as committed at the repository's root; a test keeps it equal to what the
/// code generates (`huddle-local`'s `openapi` module).
pub const OPENAPI_JSON: &str = include_str!("../../../openapi.json");

/// Where the page finds the description (named in `assets/swagger-initializer.js`).
#[cfg(test)]
const OPENAPI_URL: &str = "/v1/openapi.json";

/// The page and its assets are the same for every request; they may be cached briefly.
const CACHE_FOR: HeaderValue = HeaderValue::from_static("public, max-age=300");

/// One embedded file of the docs page: its name under `/docs/`, type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// A file of the Swagger UI distribution, as `build.rs` took it out.
macro_rules! swagger_ui_file {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!(env!("OUT_DIR"), "/", $name)),
        }
    };
}

/// The page (`index.html`, also served at `/docs`) and every file it loads.
const ASSETS: [Asset; 7] = [
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!("../assets/index.html"),
    },
    Asset {
        name: "swagger-initializer.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/swagger-initializer.js"),
    },
    swagger_ui_file!("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    swagger_ui_file!("swagger-ui.css", "text/css; charset=utf-8"),
    swagger_ui_file!("index.css", "text/css; charset=utf-8"),
    swagger_ui_file!("favicon-32x32.png", "image/png"),
    swagger_ui_file!("favicon-16x16.png", "image/png"),
];

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
    asset_response("index.html")
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
    asset_response(&file)
}

/// The embedded file `name`, as an answer.
fn asset_response(name: &str) -> Result<Response, ApiError> {
    let asset = ASSETS
        .iter()
        .find(|asset| asset.name == name)
        .ok_or_else(|| ApiError::not_found("docs asset"))?;
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (CACHE_CONTROL, CACHE_FOR),
        ],
        asset.bytes,
    )
        .into_response())
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
    fn the_page_loads_only_embedded_files() {
        let page = std::str::from_utf8(ASSETS[0].bytes).unwrap();
        assert!(page.contains("<base href=\"/docs/\">"));
        assert!(
            !page.contains("//"),
            "the page must load nothing from elsewhere"
        );
        let loaded: Vec<&str> = page
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|value| value.contains('.') && !value.contains(' '))
            .collect();
        assert!(loaded.len() >= 6, "{loaded:?}");
        for file in loaded {
            let asset = ASSETS.iter().find(|asset| asset.name == file);
            assert!(asset.is_some_and(|asset| !asset.bytes.is_empty()), "{file}");
        }
        let initializer = std::str::from_utf8(ASSETS[1].bytes).unwrap();
        assert!(initializer.contains(OPENAPI_URL));
        assert!(asset_response("swagger-ui-bundle.js").is_ok());
        assert!(matches!(
            asset_response("nope.js"),
            Err(ApiError::NotFound(_))
        ));
    }
}
