//! Sign-in with an external identity provider (OpenID Connect: Cognito, Auth0, Google,
//! Keycloak): when `OIDC_ISSUER` is configured, the provider's tokens are accepted as
//! `Bearer` beside Huddle's own, and the first call of an identity provisions its user.
//!
//! A token is the provider's when its (unverified) `iss` is the configured issuer; it is
//! then verified strictly: RS256 or ES256 only, by the key its `kid` names in the
//! provider's key set ([`signing_keys`]), and the claims ([`claims`]). The identity
//! (`iss` + `sub`) maps to a user through a marker item ([`store`]); the mapping never
//! changes, so each process keeps the ones it has seen.

pub mod claims;
pub mod fetch;
pub mod signing_keys;
pub mod store;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;

use crate::auth::oidc::claims::{ExternalClaims, check, validation};
use crate::auth::oidc::fetch::HttpKeySource;
use crate::auth::oidc::signing_keys::{KeyLookup, KeySet, KeySource};
use crate::auth::oidc::store::Linking;
use crate::clock;
use crate::config::OidcConfig;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::table::Store;
use crate::users::User;

/// Identities whose user this process remembers; past it, the memory starts again (each
/// identity then costs one GetItem more).
pub const LINKS_REMEMBERED_MAX: usize = 10_000;

/// The longest token looked at (real ones are one or two KiB).
const TOKEN_MAX_BYTES: usize = 16 * 1024;

const REFUSED: &str = "invalid or expired access token";

/// The configured provider: its key set and the identities this process has linked.
pub struct IdentityProvider<S = HttpKeySource> {
    config: OidcConfig,
    keys: KeySet<S>,
    /// Identity marker key → user.
    links: Mutex<HashMap<String, UserId>>,
}

impl<S> std::fmt::Debug for IdentityProvider<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl IdentityProvider {
    /// The provider of `config`; nothing is fetched until a token needs its keys.
    pub fn new(config: OidcConfig) -> Self {
        let source = HttpKeySource::new(&config);
        Self::with_source(config, source)
    }
}

impl<S: KeySource> IdentityProvider<S> {
    pub fn with_source(config: OidcConfig, source: S) -> Self {
        crate::auth::jwt_crypto::install();
        let keys = KeySet::new(source, config.jwks_refetch_interval);
        Self {
            config,
            keys,
            links: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `token` says it comes from this provider. Unverified: it only decides which
    /// verification the token gets.
    pub fn claims_to_issue(&self, token: &str) -> bool {
        unverified_issuer(token).as_deref() == Some(self.config.issuer.as_str())
    }

    /// Verifies a token of this provider: algorithm, signature, issuer, audience, expiry,
    /// not-before. Any refusal is a 401; keys that cannot be fetched are a 503.
    pub async fn verify(&self, token: &str) -> ApiResult<ExternalClaims> {
        let refuse = |reason: &dyn std::fmt::Display| {
            tracing::debug!(%reason, "external token refused");
            ApiError::unauthorized(REFUSED)
        };
        if token.len() > TOKEN_MAX_BYTES {
            return Err(refuse(&"too long"));
        }
        // `none`, HS256 (a public key used as an HMAC secret) and every other algorithm
        // stop here, before any key is looked at.
        let header = jsonwebtoken::decode_header(token).map_err(|e| refuse(&e))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(refuse(&format_args!("algorithm {:?}", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| refuse(&"no key id"))?;
        let key = match self.keys.key(&kid).await {
            KeyLookup::Found(key) => key,
            KeyLookup::Unknown => return Err(refuse(&format_args!("unknown key {kid}"))),
            KeyLookup::Unavailable => {
                return Err(ApiError::Unavailable(
                    "the identity provider's signing keys could not be fetched".into(),
                ));
            }
        };
        if key.algorithm != header.alg {
            return Err(refuse(&format_args!(
                "key {kid} is for {:?}, not {:?}",
                key.algorithm, header.alg
            )));
        }
        let data = jsonwebtoken::decode::<ExternalClaims>(
            token,
            &key.key,
            &validation(header.alg, &self.config),
        )
        .map_err(|e| refuse(&e))?;
        check(&data.claims, &self.config, clock::now().timestamp())
            .map_err(|reason| refuse(&format_args!("{reason:?}")))?;
        Ok(data.claims)
    }

    /// The user of a token of this provider: remembered, else the identity's marker, else
    /// a new user (the first call of an identity).
    pub async fn user_for(&self, store: &Store, token: &str) -> ApiResult<UserId> {
        let claims = self.verify(token).await?;
        let link = keys::external_identity(&claims.iss, &claims.sub).pk;
        if let Some(user_id) = self.remembered(&link) {
            return Ok(user_id);
        }
        let user_id = match store.linked_user(&claims.iss, &claims.sub).await? {
            Some(user_id) => user_id,
            None => provision(store, &claims).await?,
        };
        self.remember(link, user_id);
        Ok(user_id)
    }

    fn remembered(&self, link: &str) -> Option<UserId> {
        self.links
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(link)
            .copied()
    }

    fn remember(&self, link: String, user_id: UserId) {
        let mut links = self.links.lock().unwrap_or_else(PoisonError::into_inner);
        if links.len() >= LINKS_REMEMBERED_MAX {
            links.clear();
        }
        links.insert(link, user_id);
    }
}

/// Creates the user of an identity's first call, with the verified email and the name
/// its claims give. A concurrent first call that won makes this one read its user.
async fn provision(store: &Store, claims: &ExternalClaims) -> ApiResult<UserId> {
    let now = clock::now();
    let user = User {
        id: UserId::generate(),
        email: claims.verified_email(),
        display_name: claims.display_name(),
        bio: None,
        avatar_url: None,
        created_at: now,
        updated_at: now,
    };
    match store.link_new_user(&claims.iss, &claims.sub, user).await? {
        Linking::Created(user) => {
            tracing::info!(user_id = %user.id, with_email = user.email.is_some(), "user provisioned from the identity provider");
            Ok(user.id)
        }
        Linking::AlreadyLinked => store
            .linked_user(&claims.iss, &claims.sub)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("identity link vanished"))),
    }
}

/// The `iss` of a token's payload, read without verifying anything.
fn unverified_issuer(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Issuer {
        iss: String,
    }
    if token.len() > TOKEN_MAX_BYTES {
        return None;
    }
    let mut parts = token.split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Issuer>(&payload)
        .ok()
        .map(|claims| claims.iss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{EncodingKey, Header};
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::{Value, json};
    use std::future::Future;
    use std::time::Duration;

    const ISSUER: &str = "https://idp.example.com/";

    struct Fixed(Value);

    impl KeySource for Fixed {
        fn fetch(&self) -> impl Future<Output = anyhow::Result<Value>> + Send {
            let document = self.0.clone();
            async move { Ok(document) }
        }
    }

    /// A P-256 key pair: the signing key and its public JWK named `kid`.
    fn ec_key(kid: &str) -> (EncodingKey, Value, Vec<u8>) {
        crate::auth::jwt_crypto::install();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let public = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &SystemRandom::new(),
        )
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
        let key = EncodingKey::from_ec_der(pkcs8.as_ref());
        let mut jwk =
            serde_json::to_value(Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap()).unwrap();
        jwk["kid"] = json!(kid);
        (key, jwk, public)
    }

    fn provider(jwks: Vec<Value>) -> IdentityProvider<Fixed> {
        IdentityProvider::with_source(
            OidcConfig {
                issuer: ISSUER.into(),
                audience: "huddle-api".into(),
                jwks_url: None,
                jwks_refetch_interval: Duration::from_secs(60),
            },
            Fixed(json!({ "keys": jwks })),
        )
    }

    fn claims() -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"iss": ISSUER, "sub": "user-1", "aud": "huddle-api", "iat": now, "exp": now + 300})
    }

    fn header(alg: Algorithm, kid: &str) -> Header {
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        header
    }

    fn unsigned(header: Value, claims: &Value) -> String {
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[tokio::test]
    async fn a_signed_token_verifies_and_tampering_does_not() {
        let (key, jwk, _) = ec_key("ec-1");
        let provider = provider(vec![jwk]);
        let token =
            jsonwebtoken::encode(&header(Algorithm::ES256, "ec-1"), &claims(), &key).unwrap();
        assert!(provider.claims_to_issue(&token));
        let verified = provider.verify(&token).await.unwrap();
        assert_eq!(
            (verified.iss.as_str(), verified.sub.as_str()),
            (ISSUER, "user-1")
        );

        let mut other = claims();
        other["sub"] = json!("user-2");
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(other.to_string()),
            parts[2]
        );
        assert!(provider.verify(&tampered).await.is_err());
        // Signed by a key the provider does not publish under that id.
        let (stranger, _, _) = ec_key("ec-1");
        let forged =
            jsonwebtoken::encode(&header(Algorithm::ES256, "ec-1"), &claims(), &stranger).unwrap();
        assert!(provider.verify(&forged).await.is_err());
    }

    #[tokio::test]
    async fn algorithm_confusion_is_refused() {
        let (key, jwk, public) = ec_key("ec-1");
        let provider = provider(vec![jwk]);
        let refused = |error: ApiError| matches!(error, ApiError::Unauthorized(_));
        // alg: none, with and without a key id.
        for none in [
            json!({"alg": "none"}),
            json!({"alg": "none", "kid": "ec-1"}),
        ] {
            let token = unsigned(none, &claims());
            assert!(provider.claims_to_issue(&token));
            assert!(refused(provider.verify(&token).await.unwrap_err()));
        }
        // HS256 with the public key as the secret (the classic confusion).
        let hmac = jsonwebtoken::encode(
            &header(Algorithm::HS256, "ec-1"),
            &claims(),
            &EncodingKey::from_secret(&public),
        )
        .unwrap();
        assert!(refused(provider.verify(&hmac).await.unwrap_err()));
        // An RS256 header naming an EC key.
        let es = jsonwebtoken::encode(&header(Algorithm::ES256, "ec-1"), &claims(), &key).unwrap();
        let signature = es.rsplit('.').next().unwrap();
        let crossed = format!(
            "{}{signature}",
            unsigned(json!({"alg": "RS256", "kid": "ec-1"}), &claims())
        );
        assert!(refused(provider.verify(&crossed).await.unwrap_err()));
        // No key id, or one the set does not hold.
        let no_kid = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims(), &key).unwrap();
        assert!(refused(provider.verify(&no_kid).await.unwrap_err()));
        let unknown =
            jsonwebtoken::encode(&header(Algorithm::ES256, "other"), &claims(), &key).unwrap();
        assert!(refused(provider.verify(&unknown).await.unwrap_err()));
    }

    #[tokio::test]
    async fn claims_are_checked_after_the_signature() {
        let (key, jwk, _) = ec_key("ec-1");
        let provider = provider(vec![jwk]);
        let now = chrono::Utc::now().timestamp();
        for (name, value) in [
            ("aud", json!("other-api")),
            ("exp", json!(now - 3600)),
            ("nbf", json!(now + 3600)),
            ("sub", json!("")),
        ] {
            let mut claims = claims();
            claims[name] = value;
            let token =
                jsonwebtoken::encode(&header(Algorithm::ES256, "ec-1"), &claims, &key).unwrap();
            assert!(provider.verify(&token).await.is_err(), "{name}");
        }
        // A Cognito access token: no aud, the client in client_id.
        let mut cognito = claims();
        cognito.as_object_mut().unwrap().remove("aud");
        cognito["client_id"] = json!("huddle-api");
        cognito["token_use"] = json!("access");
        let token =
            jsonwebtoken::encode(&header(Algorithm::ES256, "ec-1"), &cognito, &key).unwrap();
        assert!(provider.verify(&token).await.is_ok());
    }

    #[test]
    fn only_the_issuer_picks_the_provider() {
        let provider = provider(vec![]);
        let mut huddle = claims();
        huddle["iss"] = json!("huddle");
        assert!(!provider.claims_to_issue(&unsigned(json!({"alg": "HS256"}), &huddle)));
        assert!(provider.claims_to_issue(&unsigned(json!({"alg": "HS256"}), &claims())));
        for garbage in ["", "a", "a.b.c", "a.!!!.c", "a.e30.c"] {
            assert!(!provider.claims_to_issue(garbage), "{garbage}");
        }
    }
}
