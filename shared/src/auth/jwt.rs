//! Access tokens: HS256 JWTs with the algorithm pinned and `exp`, `iss`, `aud` and `sub`
//! required on verification.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;

const ALGORITHM: Algorithm = Algorithm::HS256;

/// The claims Huddle writes into and requires from an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// Keys and rules for access tokens, built once at cold start.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// A freshly issued access token.
#[derive(Debug, Clone)]
pub struct IssuedAccessToken {
    pub token: String,
    pub expires_in: u64,
}

impl JwtKeys {
    pub fn new(config: &Config) -> Self {
        super::jwt_crypto::install();
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[config.jwt_issuer.as_str()]);
        validation.set_audience(&[config.jwt_audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        validation.validate_exp = true;
        Self {
            encoding: EncodingKey::from_secret(&config.jwt_secret),
            decoding: DecodingKey::from_secret(&config.jwt_secret),
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl: config.access_token_ttl,
        }
    }

    /// Signs an access token for `user_id`.
    pub fn issue(&self, user_id: UserId) -> ApiResult<IssuedAccessToken> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = AccessClaims {
            sub: user_id.to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now.saturating_add(ttl),
        };
        let token = jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("signing access token: {e}")))?;
        Ok(IssuedAccessToken {
            token,
            expires_in: self.ttl.as_secs(),
        })
    }

    /// Verifies signature, algorithm, expiry, issuer and audience; returns the user.
    pub fn verify(&self, token: &str) -> ApiResult<UserId> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                tracing::debug!(reason = %e, "access token rejected");
                ApiError::unauthorized("invalid or expired access token")
            })?;
        data.claims
            .sub
            .parse()
            .map_err(|_| ApiError::unauthorized("invalid or expired access token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn config() -> Config {
        Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".into()),
            "JWT_SECRET" => Some("k".repeat(40)),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn issued_tokens_verify() {
        let keys = JwtKeys::new(&config());
        let user = UserId::generate();
        let issued = keys.issue(user).unwrap();
        assert_eq!(issued.expires_in, 1800);
        assert_eq!(keys.verify(&issued.token).unwrap(), user);
    }

    #[test]
    fn alg_none_and_tampering_are_refused() {
        let keys = JwtKeys::new(&config());
        let issued = keys.issue(UserId::generate()).unwrap();
        let parts: Vec<&str> = issued.token.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert!(keys.verify(&unsigned).is_err());
        let other_user = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"sub": UserId::generate().to_string(), "iss": "huddle",
                "aud": "huddle-api", "iat": 0, "exp": i64::MAX / 4})
            .to_string(),
        );
        let tampered = format!("{}.{other_user}.{}", parts[0], parts[2]);
        assert!(keys.verify(&tampered).is_err());
    }
}
