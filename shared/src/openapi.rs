//! The API description's shared pieces: the error answers routes list in their
//! `#[utoipa::path]` (each with API.md's error body), the bearer scheme, and the assembly of
//! every function's routes into one OpenAPI 3.1 document.
//!
//! Each function lists its handlers once, in [`http_routes!`](crate::http_routes), which
//! defines both its `api()` (the routes with their description, registered with
//! `utoipa_axum::routes!`) and its `served()` (the same routes without their description,
//! what Lambda runs). Both route a handler at the path and methods its `#[utoipa::path]`
//! names, so a route cannot exist without being described.

use std::collections::BTreeMap;

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use utoipa::openapi::HttpMethod;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, LicenseBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Type,
};
use utoipa::{IntoResponses, ToSchema};

use crate::error::ErrorBody;
use crate::ids::{
    CardId, ChannelId, ColumnId, FileId, MessageId, NotificationId, TaskId, UserId, WorkspaceId,
};

/// The name of the security scheme: `Authorization: Bearer <access token>`.
pub const BEARER: &str = "bearer";

/// The tags of the document, in the order the docs page shows them, with what they cover.
const TAGS: &[(&str, &str)] = &[
    ("auth", "Accounts, sessions and WebSocket tickets"),
    ("users", "Profiles and avatars"),
    ("workspaces", "Workspaces, members, invites and presence"),
    (
        "channels",
        "Channels, DMs, channel members and read positions",
    ),
    (
        "messages",
        "Messages, threads, edits, reactions, pins and search",
    ),
    ("files", "Uploads and downloads"),
    (
        "tasks",
        "Tasks of todo channels, channel stats, my work and workload",
    ),
    ("boards", "Kanban boards: columns and cards"),
    ("documents", "Documents: contents, revisions and Yjs sync"),
    (
        "notifications",
        "Notifications, notification levels and the activity log",
    ),
    ("meta", "Health, this description and its docs page"),
];

/// Completes the merged paths and schemas of every function into the published document:
/// title, version, the bearer scheme (required unless an operation says otherwise) and tags.
pub fn describe(mut document: OpenApi) -> OpenApi {
    document.info = InfoBuilder::new()
        .title("Huddle API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Team chat and productivity: workspaces, channels, messages, files, tasks, \
             boards, documents and notifications. Every path is under `/v1`. Errors answer \
             `{\"error\": {\"code\", \"message\", \"details\"?}}`. Lists are pages with \
             `next_cursor`. The realtime half (WebSocket frames) is described in API.md.",
        ))
        .license(Some(LicenseBuilder::new().name("Apache-2.0").build()))
        .build();
    let components = document.components.get_or_insert_with(Default::default);
    // Schemas that only path parameters and error answers name: `routes!` collects the
    // schemas of bodies, not of parameters or hand-built responses.
    let mut schemas = Vec::new();
    add_schema::<ErrorBody>(&mut schemas);
    add_schema::<UserId>(&mut schemas);
    add_schema::<WorkspaceId>(&mut schemas);
    add_schema::<ChannelId>(&mut schemas);
    add_schema::<MessageId>(&mut schemas);
    add_schema::<FileId>(&mut schemas);
    add_schema::<TaskId>(&mut schemas);
    add_schema::<ColumnId>(&mut schemas);
    add_schema::<CardId>(&mut schemas);
    add_schema::<NotificationId>(&mut schemas);
    components.schemas.extend(schemas);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An access token from /v1/auth/login, /v1/auth/register or \
                     /v1/auth/refresh (or, when configured, the identity provider's).",
                ))
                .build(),
        ),
    );
    document.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    // Any bearer token may be an external identity provider's (when one is configured),
    // whose keys may be momentarily unreachable: every authenticated operation can
    // answer 503 then.
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            if operation.security.is_none() {
                for (status, response) in ServiceUnavailable::responses() {
                    operation
                        .responses
                        .responses
                        .entry(status)
                        .or_insert(response);
                }
            }
        }
    }
    document.tags = Some(
        TAGS.iter()
            .map(|(name, description)| {
                TagBuilder::new()
                    .name(*name)
                    .description(Some(*description))
                    .build()
            })
            .collect(),
    );
    document
}

/// Adds `T`'s schema and those it refers to.
fn add_schema<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

fn error_response(description: &str, retry_after: bool) -> Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Error")))
            .build(),
    );
    if retry_after {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some("Seconds until a retry may pass"))
                .build(),
        );
    }
    response.build()
}

macro_rules! error_answer {
    ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal, $retry_after:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([(
                    $status.to_owned(),
                    RefOr::T(error_response($description, $retry_after)),
                )])
            }
        }
    };
}

error_answer!(
    /// 400 `invalid_request`: a malformed id, query, or body, or a field that breaks a rule.
    BadRequest,
    "400",
    "The request is malformed or breaks a rule (`invalid_request`, with `details` naming fields)",
    false
);
error_answer!(
    /// 401 `unauthorized`: no token, a bad or expired one, or wrong credentials.
    Unauthorized,
    "401",
    "No valid credentials (`unauthorized`)",
    false
);
error_answer!(
    /// 403 `forbidden`: the caller can see the resource but may not do this to it.
    Forbidden,
    "403",
    "The caller's role does not allow this (`forbidden`)",
    false
);
error_answer!(
    /// 404 `not_found`: no such resource, or one the caller may not see.
    NotFound,
    "404",
    "No such resource, or one the caller may not see (`not_found`)",
    false
);
error_answer!(
    /// 409 `conflict` (or `wip_limit_reached`): the state does not allow this now.
    Conflict,
    "409",
    "The current state does not allow this (`conflict`, or `wip_limit_reached` for a full column)",
    false
);
error_answer!(
    /// 413 `too_large`: the body is over 1 MiB (or a document over its limit).
    PayloadTooLarge,
    "413",
    "The body is too large (`too_large`)",
    false
);
error_answer!(
    /// 429 `rate_limited`, with `Retry-After`.
    TooManyRequests,
    "429",
    "A rate limit holds (`rate_limited`); retry after `Retry-After` seconds",
    true
);
error_answer!(
    /// 503 `unavailable`, with `Retry-After`: a momentary refusal (password hashing busy).
    ServiceUnavailable,
    "503",
    "Momentarily busy (`unavailable`); retry after `Retry-After` seconds",
    true
);

/// Defines a function's two views of one list of handlers, each `[..]` group being the
/// handlers of one path (as `utoipa_axum::routes!` takes them):
///
/// - `pub fn api() -> OpenApiRouter<S>`: the routes with their description, which the local
///   gateway merges into the published document;
/// - `pub fn served() -> Router<S>`: the same routes served without building their
///   description (what Lambda runs): no schema is built at cold start, and since nothing
///   reaches the description's code, the release build leaves it out of the binary.
///
/// The calling crate depends on `axum`, `utoipa` and `utoipa-axum` (as `routes!` requires).
#[macro_export]
macro_rules! http_routes {
    ($state:ty => $( [ $($handler:ident),+ $(,)? ] ),+ $(,)?) => {
        /// The routes with their description (the API description is assembled from these).
        pub fn api() -> ::utoipa_axum::router::OpenApiRouter<$state> {
            ::utoipa_axum::router::OpenApiRouter::new()
                $( .routes(::utoipa_axum::routes!($($handler),+)) )+
        }

        /// The same routes, served without building their description.
        pub fn served() -> ::axum::Router<$state> {
            let router = ::axum::Router::new();
            $( $( let router = $crate::__paste! {
                $crate::openapi::serve::<[<__path_ $handler>], _, _, $state>(router, $handler)
            }; )+ )+
            router
        }
    };
}

/// Routes `handler` at the path and methods its `#[utoipa::path]` attribute names
/// (`Described`, the struct that attribute generates), without building its description.
pub fn serve<Described, H, T, S>(router: Router<S>, handler: H) -> Router<S>
where
    Described: utoipa::Path,
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    let methods = Described::methods()
        .into_iter()
        .fold(MethodRouter::new(), |methods, method| {
            methods.on(method_filter(method), handler.clone())
        });
    router.route(&Described::path(), methods)
}

/// The axum filter of a described method.
fn method_filter(method: HttpMethod) -> MethodFilter {
    match method {
        HttpMethod::Get => MethodFilter::GET,
        HttpMethod::Put => MethodFilter::PUT,
        HttpMethod::Post => MethodFilter::POST,
        HttpMethod::Head => MethodFilter::HEAD,
        HttpMethod::Patch => MethodFilter::PATCH,
        HttpMethod::Trace => MethodFilter::TRACE,
        HttpMethod::Delete => MethodFilter::DELETE,
        HttpMethod::Options => MethodFilter::OPTIONS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_carry_the_error_body_and_retry_hints() {
        let limited = TooManyRequests::responses();
        let RefOr::T(response) = &limited["429"] else {
            panic!("inline response expected");
        };
        assert!(response.headers.contains_key("Retry-After"));
        assert!(response.content.contains_key("application/json"));
        let RefOr::T(missing) = &NotFound::responses()["404"] else {
            panic!("inline response expected");
        };
        assert!(missing.headers.is_empty());
    }

    #[test]
    fn the_document_requires_the_bearer_scheme_by_default() {
        let document = describe(OpenApi::default());
        let schemes = &document.components.as_ref().map(|c| &c.security_schemes);
        assert!(schemes.is_some_and(|schemes| schemes.contains_key(BEARER)));
        assert_eq!(document.security.as_ref().map(Vec::len), Some(1));
        assert_eq!(document.tags.as_ref().map(Vec::len), Some(TAGS.len()));
        let schemas = &document.components.as_ref().map(|c| &c.schemas);
        for name in [
            "Error",
            "ErrorDetail",
            "ErrorCode",
            "FieldError",
            "ChannelId",
        ] {
            assert!(
                schemas.is_some_and(|schemas| schemas.contains_key(name)),
                "{name}"
            );
        }
    }
}
