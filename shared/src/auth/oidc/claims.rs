//! The claims of an external provider's token and the checks they pass beyond the
//! signature (issuer, audience or Cognito's `client_id`, expiry, not-before, subject), and
//! what a new user takes from them: a verified email and a display name.

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::rules::DISPLAY_NAME_MAX;
use crate::config::OidcConfig;
use crate::validate::Validator;

/// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
pub const CLOCK_SKEW_SECONDS: u64 = 60;
/// Longest subject accepted (OpenID Connect caps it at 255 ASCII characters).
pub const SUBJECT_MAX: usize = 255;
/// The display name of a user whose token names nobody; they can change it.
pub const DEFAULT_DISPLAY_NAME: &str = "New member";

/// The claims Huddle reads. Beside `iss` and `sub`, everything is read leniently (a claim
/// of an unexpected type counts as absent) and checked in [`check`].
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalClaims {
    pub iss: String,
    pub sub: String,
    #[serde(default)]
    pub aud: Option<Value>,
    #[serde(default)]
    pub exp: Option<Value>,
    #[serde(default)]
    pub nbf: Option<Value>,
    #[serde(default)]
    pub iat: Option<Value>,
    /// Cognito access tokens: the app client the token was issued to (they have no `aud`).
    #[serde(default)]
    pub client_id: Option<Value>,
    /// Cognito: `access` or `id`.
    #[serde(default)]
    pub token_use: Option<Value>,
    #[serde(default)]
    pub email: Option<Value>,
    #[serde(default)]
    pub email_verified: Option<Value>,
    #[serde(default)]
    pub name: Option<Value>,
    #[serde(default)]
    pub preferred_username: Option<Value>,
    #[serde(default)]
    pub nickname: Option<Value>,
    /// Cognito access tokens carry the user's name here.
    #[serde(default)]
    pub username: Option<Value>,
}

/// Why a token's claims were refused (for the log; the caller only sees 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    WrongIssuer,
    BadSubject,
    /// Neither an `aud` naming the audience nor (Cognito) an access token for that client.
    WrongAudience,
    Expired,
    /// `nbf` (or, without it, `iat`) is in the future, or neither is there.
    NotYetValid,
}

/// The signature and registered-claim checks the JWT library makes for an algorithm
/// ([`check`] makes them again, and the ones the library cannot).
pub fn validation(algorithm: Algorithm, config: &OidcConfig) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[config.issuer.as_str()]);
    // Checked when `aud` is there; Cognito access tokens have none (see `check`).
    validation.set_audience(&[config.audience.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    validation.leeway = CLOCK_SKEW_SECONDS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation
}

fn text(value: &Option<Value>) -> Option<&str> {
    value.as_ref().and_then(Value::as_str)
}

/// A NumericDate: whole or fractional seconds since the epoch.
fn seconds(value: &Option<Value>) -> Option<i64> {
    let number = value.as_ref()?.as_number()?;
    number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|seconds| seconds.is_finite() && seconds.abs() < 1e15)
            .map(|seconds| seconds.floor() as i64)
    })
}

/// Checks issuer, subject, audience, expiry and not-before at `now` (epoch seconds).
///
/// Audience: `aud` (a string or a list) must name the configured audience. A token with
/// no `aud` passes only as a Cognito access token: `token_use` is `access` and
/// `client_id` is the configured audience (the app client id).
///
/// Not-before: `nbf` when the token has it; most providers' access tokens do not
/// (Cognito, Auth0), so then `iat` is required and is the not-before. Either may be at
/// most [`CLOCK_SKEW_SECONDS`] in the future; `exp` at most that far in the past.
pub fn check(claims: &ExternalClaims, config: &OidcConfig, now: i64) -> Result<(), ClaimRefusal> {
    let skew = CLOCK_SKEW_SECONDS as i64;
    if claims.iss != config.issuer {
        return Err(ClaimRefusal::WrongIssuer);
    }
    if claims.sub.is_empty()
        || claims.sub.len() > SUBJECT_MAX
        || claims.sub.chars().any(char::is_control)
    {
        return Err(ClaimRefusal::BadSubject);
    }
    let audience = config.audience.as_str();
    let audience_ok = match &claims.aud {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
        None | Some(Value::Null) => {
            text(&claims.token_use) == Some("access") && text(&claims.client_id) == Some(audience)
        }
        Some(_) => false,
    };
    if !audience_ok {
        return Err(ClaimRefusal::WrongAudience);
    }
    match seconds(&claims.exp) {
        Some(exp) if exp.saturating_add(skew) >= now => {}
        _ => return Err(ClaimRefusal::Expired),
    }
    let not_before = if claims.nbf.is_some() {
        seconds(&claims.nbf)
    } else {
        seconds(&claims.iat)
    };
    match not_before {
        Some(not_before) if not_before <= now.saturating_add(skew) => Ok(()),
        _ => Err(ClaimRefusal::NotYetValid),
    }
}

impl ExternalClaims {
    /// The email a new user takes: only one the provider says it verified (`email_verified`
    /// true, or `"true"` as some providers write it) and that looks like an address.
    pub fn verified_email(&self) -> Option<String> {
        let verified = match &self.email_verified {
            Some(Value::Bool(verified)) => *verified,
            Some(Value::String(verified)) => verified.eq_ignore_ascii_case("true"),
            _ => false,
        };
        let email = text(&self.email)?.trim();
        let mut check = Validator::new();
        check.email("email", email);
        (verified && check.finish().is_ok()).then(|| email.to_owned())
    }

    /// The display name a new user starts with: `name`, else `preferred_username`,
    /// `nickname` or `username`, without control characters and cut to the display-name
    /// limit; [`DEFAULT_DISPLAY_NAME`] when none is usable.
    pub fn display_name(&self) -> String {
        [
            &self.name,
            &self.preferred_username,
            &self.nickname,
            &self.username,
        ]
        .into_iter()
        .filter_map(text)
        .map(|name| {
            let cleaned: String = name.chars().filter(|c| !c.is_control()).collect();
            let cut: String = cleaned.trim().chars().take(DISPLAY_NAME_MAX).collect();
            cut.trim_end().to_owned()
        })
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| DEFAULT_DISPLAY_NAME.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    const NOW: i64 = 1_800_000_000;

    fn config() -> OidcConfig {
        OidcConfig {
            issuer: "https://idp.example.com/".into(),
            audience: "huddle-api".into(),
            jwks_url: None,
            jwks_refetch_interval: Duration::from_secs(60),
        }
    }

    fn claims(extra: Value) -> ExternalClaims {
        let mut base = json!({
            "iss": "https://idp.example.com/",
            "sub": "user-1",
            "aud": "huddle-api",
            "iat": NOW - 10,
            "exp": NOW + 600,
        });
        for (name, value) in extra.as_object().unwrap() {
            if value.is_null() {
                base.as_object_mut().unwrap().remove(name);
            } else {
                base[name] = value.clone();
            }
        }
        serde_json::from_value(base).unwrap()
    }

    fn checked(extra: Value) -> Result<(), ClaimRefusal> {
        check(&claims(extra), &config(), NOW)
    }

    #[test]
    fn a_plain_access_token_passes() {
        assert_eq!(checked(json!({})), Ok(()));
        assert_eq!(
            checked(json!({"aud": ["https://idp.example.com/userinfo", "huddle-api"]})),
            Ok(())
        );
        assert_eq!(checked(json!({"nbf": NOW - 5})), Ok(()));
        assert_eq!(checked(json!({"exp": (NOW + 600) as f64 + 0.5})), Ok(()));
    }

    #[test]
    fn issuer_and_subject_must_be_right() {
        assert_eq!(
            checked(json!({"iss": "https://idp.example.com"})),
            Err(ClaimRefusal::WrongIssuer)
        );
        assert_eq!(checked(json!({"sub": ""})), Err(ClaimRefusal::BadSubject));
        assert_eq!(
            checked(json!({"sub": "x".repeat(256)})),
            Err(ClaimRefusal::BadSubject)
        );
        assert_eq!(
            checked(json!({"sub": "a\u{0}b"})),
            Err(ClaimRefusal::BadSubject)
        );
    }

    #[test]
    fn the_audience_must_be_named() {
        for aud in [
            json!("other-api"),
            json!(["other-api"]),
            json!([]),
            json!(7),
        ] {
            assert_eq!(
                checked(json!({ "aud": aud })),
                Err(ClaimRefusal::WrongAudience),
                "{aud}"
            );
        }
        assert_eq!(
            checked(json!({"aud": null})),
            Err(ClaimRefusal::WrongAudience)
        );
    }

    #[test]
    fn a_cognito_access_token_is_checked_by_client_id() {
        let cognito = |client_id: &str, token_use: &str| {
            checked(json!({"aud": null, "client_id": client_id, "token_use": token_use}))
        };
        assert_eq!(cognito("huddle-api", "access"), Ok(()));
        assert_eq!(
            cognito("other-client", "access"),
            Err(ClaimRefusal::WrongAudience)
        );
        // An ID token has an `aud`; without one it is not accepted by client_id.
        assert_eq!(
            cognito("huddle-api", "id"),
            Err(ClaimRefusal::WrongAudience)
        );
        // A client_id does not stand in for a wrong aud.
        assert_eq!(
            checked(json!({"aud": "other", "client_id": "huddle-api", "token_use": "access"})),
            Err(ClaimRefusal::WrongAudience)
        );
    }

    #[test]
    fn expiry_and_not_before_allow_a_bounded_skew() {
        let skew = CLOCK_SKEW_SECONDS as i64;
        assert_eq!(checked(json!({"exp": NOW - skew})), Ok(()));
        assert_eq!(
            checked(json!({"exp": NOW - skew - 1})),
            Err(ClaimRefusal::Expired)
        );
        assert_eq!(checked(json!({"exp": null})), Err(ClaimRefusal::Expired));
        assert_eq!(checked(json!({"exp": "soon"})), Err(ClaimRefusal::Expired));
        assert_eq!(checked(json!({"nbf": NOW + skew})), Ok(()));
        assert_eq!(
            checked(json!({"nbf": NOW + skew + 1})),
            Err(ClaimRefusal::NotYetValid)
        );
        // Without nbf, iat is the not-before, and one of them is required.
        assert_eq!(
            checked(json!({"iat": NOW + skew + 1})),
            Err(ClaimRefusal::NotYetValid)
        );
        assert_eq!(
            checked(json!({"iat": null})),
            Err(ClaimRefusal::NotYetValid)
        );
        assert_eq!(checked(json!({"iat": null, "nbf": NOW})), Ok(()));
        // A malformed nbf is not replaced by iat.
        assert_eq!(
            checked(json!({"nbf": "now"})),
            Err(ClaimRefusal::NotYetValid)
        );
    }

    #[test]
    fn only_a_verified_email_is_taken() {
        let email = |extra: Value| claims(extra).verified_email();
        assert_eq!(
            email(json!({"email": " Ann@Example.com ", "email_verified": true})),
            Some("Ann@Example.com".into())
        );
        assert_eq!(
            email(json!({"email": "ann@example.com", "email_verified": "true"})),
            Some("ann@example.com".into())
        );
        assert_eq!(
            email(json!({"email": "ann@example.com", "email_verified": false})),
            None
        );
        assert_eq!(email(json!({"email": "ann@example.com"})), None);
        assert_eq!(
            email(json!({"email": "not an email", "email_verified": true})),
            None
        );
        assert_eq!(email(json!({"email": 5, "email_verified": true})), None);
    }

    #[test]
    fn the_display_name_comes_from_the_claims_within_limits() {
        let name = |extra: Value| claims(extra).display_name();
        assert_eq!(
            name(json!({"name": "Ann Lee", "preferred_username": "ann"})),
            "Ann Lee"
        );
        assert_eq!(name(json!({"preferred_username": "ann"})), "ann");
        assert_eq!(name(json!({"username": "cognito-user"})), "cognito-user");
        assert_eq!(
            name(json!({"name": "  \u{7}  ", "nickname": "annie"})),
            "annie"
        );
        assert_eq!(name(json!({"name": 12})), DEFAULT_DISPLAY_NAME);
        assert_eq!(name(json!({})), DEFAULT_DISPLAY_NAME);
        let long = name(json!({"name": "é".repeat(100)}));
        assert_eq!(long.chars().count(), DISPLAY_NAME_MAX);
        let mut check = Validator::new();
        check.text("display_name", &long, 1, DISPLAY_NAME_MAX);
        assert!(check.finish().is_ok());
    }
}
