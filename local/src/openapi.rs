//! The OpenAPI 3.1 description of every HTTP route, assembled from each function's `api()`
//! (the same routers the gateway and Lambda serve). `huddle-local --openapi` prints it; the
//! committed `openapi.json` at the repository's root is what the docs function serves, and
//! the test below fails when the code and that file differ.

use axum::Router;
use huddle_shared::AppState;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Defines [`functions`] and [`served`] from one list of the function crates with HTTP
/// routes.
macro_rules! http_functions {
    ($($function:ident),+ $(,)?) => {
        /// Every function's HTTP routes with their description: what the document describes.
        pub fn functions() -> OpenApiRouter<AppState> {
            OpenApiRouter::<AppState>::new()
                $( .merge($function::api()) )+
        }

        /// The same routes as each function serves them in Lambda: what the gateway serves.
        pub fn served(state: &AppState) -> Router {
            Router::new()
                $( .merge($function::routes(state.clone())) )+
        }
    };
}

// A new function area with HTTP routes adds its crate here.
http_functions!(
    huddle_auth,
    huddle_workspaces,
    huddle_channels,
    huddle_messages,
    huddle_files,
    huddle_tasks,
    huddle_boards,
    huddle_notifications,
    huddle_documents,
);

/// The published document: every function's routes and the docs function's.
pub fn document() -> OpenApi {
    let mut document = functions().into_openapi();
    document.merge(huddle_docs::api().into_openapi());
    huddle_shared::openapi::describe(document)
}

/// The document as committed: pretty JSON with a final newline.
pub fn json() -> anyhow::Result<String> {
    Ok(document().to_pretty_json()? + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `HUDDLE_WRITE_OPENAPI=1 cargo test -p huddle-local openapi` rewrites the file.
    #[test]
    fn the_committed_openapi_json_is_what_the_code_describes() {
        // Where cargo runs the test, not where it compiled it (a shared target directory
        // may hold this binary from another checkout of the same code).
        let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
        let path = crate_dir.join("../openapi.json");
        let generated = json().unwrap();
        if std::env::var_os("HUDDLE_WRITE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "openapi.json is out of date with the code: run \
             `HUDDLE_WRITE_OPENAPI=1 cargo test -p huddle-local openapi` (or \
             `cargo run -p huddle-local -- --openapi > openapi.json`) and commit it"
        );
    }

    /// Every `$ref` names a schema the document holds.
    #[test]
    fn every_reference_resolves() {
        fn walk(value: &serde_json::Value, schemas: &serde_json::Value, at: &str) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                        let name = target.trim_start_matches("#/components/schemas/");
                        assert!(
                            schemas.get(name).is_some(),
                            "{at} refers to missing {target}"
                        );
                    }
                    for (key, inner) in map {
                        walk(inner, schemas, &format!("{at}/{key}"));
                    }
                }
                serde_json::Value::Array(items) => {
                    for inner in items {
                        walk(inner, schemas, at);
                    }
                }
                _ => {}
            }
        }
        let document: serde_json::Value = serde_json::from_str(&json().unwrap()).unwrap();
        walk(&document, &document["components"]["schemas"], "");
    }

    #[test]
    fn every_operation_is_tagged_named_and_answers_errors_in_the_error_body() {
        let document = document();
        let mut names = std::collections::HashSet::new();
        for (path, item) in &document.paths.paths {
            assert!(
                path.starts_with("/v1/") || path.starts_with("/docs"),
                "{path}"
            );
            let operations = [&item.get, &item.put, &item.post, &item.delete, &item.patch];
            for operation in operations.into_iter().flatten() {
                let name = operation.operation_id.clone().unwrap_or_default();
                assert!(!name.is_empty(), "{path} has an operation without an id");
                assert!(
                    names.insert(name.clone()),
                    "operation id {name} is used twice"
                );
                assert!(
                    operation.tags.as_ref().is_some_and(|tags| !tags.is_empty()),
                    "{name} has no tag"
                );
                assert!(
                    operation
                        .responses
                        .responses
                        .keys()
                        .any(|code| code.starts_with('2') || code.starts_with('3')),
                    "{name} documents no success (nor redirect)"
                );
            }
        }
    }
}
