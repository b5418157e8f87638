//! The `Authorization: Bearer <access token>` extractor: a handler that takes an
//! [`AuthUser`] only runs for a valid token, Huddle's own or (when one is configured) the
//! identity provider's.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::ids::UserId;
use crate::state::AppState;

/// The signed-in caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub user_id: UserId,
}

impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization header"))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(ApiError::unauthorized("expected a Bearer token")),
        };
        if token.is_empty() {
            return Err(ApiError::unauthorized("expected a Bearer token"));
        }
        let app = AppState::from_ref(state);
        let user_id = match &app.identity_provider {
            Some(provider) if provider.claims_to_issue(token) => {
                provider.user_for(&app.store, token).await?
            }
            _ => app.jwt.verify(token)?,
        };
        Ok(Self { user_id })
    }
}
