//! The one error type of the API: each variant maps to an HTTP status and the
//! `{"error": {code, message, details?}}` body of API.md. Server-side failures are
//! logged with their cause and answered without internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's path in the request, as `title` or `items[2].name`; `body` for the
    /// whole body.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every failure a route can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    InvalidRequest {
        message: String,
        details: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A 409 for a column at its WIP limit (`wip_limit_reached`).
    #[error("{0}")]
    WipLimitReached(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A 429 whose `Retry-After` says when the limit lifts (seconds).
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// A server-side failure. The cause is logged, never returned.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `Retry-After` (seconds) on every 503: each one is a momentary refusal (busy hashing,
/// throttling, a write still settling) that a prompt retry may pass.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u32 = 1;

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// A validation failure naming the offending fields.
    pub fn invalid_fields(details: Vec<FieldError>) -> Self {
        let message = match details.as_slice() {
            [only] => format!("{}: {}", only.field, only.message),
            _ => "the request has invalid fields".to_owned(),
        };
        Self::InvalidRequest { message, details }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(message.into())
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    /// A 429: a limit holds for `retry_after` more seconds.
    pub fn rate_limited(message: impl Into<String>, retry_after: u64) -> Self {
        Self::RateLimited {
            message: message.into(),
            retry_after,
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::WipLimitReached(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidRequest { .. } => ErrorCode::InvalidRequest,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::WipLimitReached(_) => ErrorCode::WipLimitReached,
            Self::TooLarge(_) => ErrorCode::TooLarge,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// The machine-readable kind of an error (`error.code` of every error body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    WipLimitReached,
    TooLarge,
    MethodNotAllowed,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::WipLimitReached => "wip_limit_reached",
            Self::TooLarge => "too_large",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

/// The body of every error answer (API.md): `{"error": {code, message, details?}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// A human-readable explanation; not for matching on.
    pub message: String,
    /// The fields at fault, on some `invalid_request` answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FieldError>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                "an internal error occurred"
            }
            Self::Unavailable(reason) => {
                tracing::warn!(reason = reason.as_str(), "service unavailable");
                reason.as_str()
            }
            Self::InvalidRequest { message, .. }
            | Self::Unauthorized(message)
            | Self::Forbidden(message)
            | Self::NotFound(message)
            | Self::Conflict(message)
            | Self::WipLimitReached(message)
            | Self::TooLarge(message)
            | Self::MethodNotAllowed(message)
            | Self::RateLimited { message, .. } => message.as_str(),
        };
        let details = match &self {
            Self::InvalidRequest { details, .. } if !details.is_empty() => Some(details.clone()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: message.to_owned(),
                details,
            },
        };
        let mut response = (status, Json(body)).into_response();
        let retry_after = match &self {
            Self::RateLimited { retry_after, .. } => Some((*retry_after).max(1)),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                Some(u64::from(UNAVAILABLE_RETRY_AFTER_SECONDS))
            }
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        assert_eq!(
            response
                .headers()
                .contains_key(axum::http::header::RETRY_AFTER),
            status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS
        );
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let (status, body) = body_of(ApiError::internal(anyhow::anyhow!(
            "table secret-table exploded"
        )))
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "internal");
        assert!(!body.to_string().contains("secret-table"));
    }

    #[tokio::test]
    async fn unavailable_says_when_to_retry() {
        let response = ApiError::Unavailable("busy".into()).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "1");
        let (_, body) = body_of(ApiError::Unavailable("busy".into())).await;
        assert_eq!(body["error"]["code"], "unavailable");
        assert_eq!(body["error"]["message"], "busy");
    }

    #[tokio::test]
    async fn validation_errors_name_their_fields() {
        let (status, body) = body_of(ApiError::invalid_fields(vec![
            FieldError::new("email", "is not an email address"),
            FieldError::new("password", "must be 8 to 128 characters"),
        ]))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "invalid_request");
        assert_eq!(body["error"]["details"][1]["field"], "password");
    }
}
