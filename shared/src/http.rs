//! The HTTP plumbing every function shares: JSON and path extractors whose rejections are
//! API errors, the request-id and access-log middleware, body limits and JSON fallbacks.

use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::error::{ApiError, FieldError};

/// The largest request body any route accepts (API.md: 1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A JSON body, parsed strictly: wrong content type, malformed JSON, a missing field or a
/// wrong type is a 400 naming the field; an oversize body is a 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(request.headers()) {
            return Err(ApiError::invalid(
                "expected a JSON body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(Json)
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn has_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(format!("the request body exceeds {MAX_BODY_BYTES} bytes"))
    } else {
        ApiError::invalid(format!(
            "could not read the request body: {}",
            rejection.body_text()
        ))
    }
}

/// Parses a JSON document into `T`, naming the path of the first bad field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            "the request body is empty; expected a JSON object",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::invalid(format!("malformed JSON: {inner}"))
            }
            _ => {
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::invalid_fields(vec![FieldError::new(
                    field,
                    strip_position(&inner.to_string()),
                )])
            }
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::invalid(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// serde_json appends " at line L column C"; for field errors the path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// A path parameter whose parse failure (a malformed id, say) is a 400.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| {
                ApiError::invalid(format!("invalid path: {}", rejection.body_text()))
            })
    }
}

/// A query string whose parse failure is a 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| {
                ApiError::invalid(format!("invalid query: {}", rejection.body_text()))
            })
    }
}

/// 201 with a JSON body.
pub fn created<T: serde::Serialize>(value: T) -> Response {
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

/// Adds what every function's router needs: body limit, JSON 404/405, request ids and
/// an access log. Call once on the finished router (a function's, or the local gateway's
/// merge of all of them).
pub fn finish(router: Router) -> Router {
    router
        .method_not_allowed_fallback(|| async {
            ApiError::MethodNotAllowed("this method is not allowed on this route".into())
        })
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(request_context))
}

/// A function's Lambda entry point: reads the config and builds the state once (cold
/// start), then serves API Gateway HTTP events with `router`.
pub async fn run_lambda(router: fn(crate::AppState) -> Router) -> Result<(), lambda_http::Error> {
    let state = crate::AppState::cold_start()?;
    lambda_http::run(router(state)).await
}

/// Picks the request id: Lambda's, else a sane client-supplied one, else a new ULID.
fn request_id(request: &Request) -> String {
    if let Some(context) = request.extensions().get::<lambda_http::Context>() {
        return context.request_id.clone();
    }
    request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| ulid::Ulid::new().to_string())
}

async fn request_context(request: Request, next: Next) -> Response {
    let request_id = request_id(&request);
    let method = request.method().clone();
    // The route template, not the concrete path: ids stay out of the log's cardinality.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let span = tracing::info_span!("request", request_id = %request_id, %method, %route);
    let started = Instant::now();
    let work = next.run(request).instrument(span.clone());
    let mut response = if crate::calls::enabled() {
        let (mut response, tally) = crate::calls::counted(work).await;
        if let Ok(value) = HeaderValue::from_str(&tally.header_value(started.elapsed())) {
            response.headers_mut().insert(crate::calls::HEADER, value);
        }
        response
    } else {
        work.await
    };
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request finished"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(REQUEST_ID_HEADER.clone(), value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
    }

    fn field_of(error: ApiError) -> Option<String> {
        match error {
            ApiError::InvalidRequest { details, .. } => details.first().map(|d| d.field.clone()),
            _ => None,
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        let wrong_type = parse_json::<Body>(br#"{"name":"a","count":"x"}"#).unwrap_err();
        assert_eq!(field_of(wrong_type).as_deref(), Some("count"));
        let missing = parse_json::<Body>(br#"{"name":"a"}"#).unwrap_err();
        assert!(matches!(missing, ApiError::InvalidRequest { .. }));
        let malformed = parse_json::<Body>(br#"{"name":"#).unwrap_err();
        assert!(malformed.to_string().starts_with("malformed JSON"));
        let trailing = parse_json::<Body>(br#"{"name":"a","count":1} x"#).unwrap_err();
        assert!(trailing.to_string().starts_with("malformed JSON"));
        assert!(parse_json::<Body>(b"  ").is_err());
        assert!(parse_json::<Body>(br#"{"name":"a","count":1}"#).is_ok());
    }
}

/// The address a request came from: in Lambda, API Gateway's `sourceIp` from the request
/// context; locally, the socket's peer (the gateway serves with connect info). `None` when
/// neither is known (a router driven in-process, say).
#[derive(Debug, Clone, Copy)]
pub struct SourceAddress(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for SourceAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        use lambda_http::request::RequestContext;
        let from_gateway = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(context)) => context
                .http
                .source_ip
                .as_deref()
                .and_then(|ip| ip.parse().ok()),
            _ => None,
        };
        let from_socket = || {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip())
        };
        Ok(Self(from_gateway.or_else(from_socket)))
    }
}
