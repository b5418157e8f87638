//! Sign-in with an external identity provider, end to end: this test is the provider. It
//! serves a discovery document and a key set (RSA and P-256 keys generated here) on the
//! address `OIDC_ISSUER` names (`scripts/lib.sh` gives the test stack's gateway that
//! issuer), signs tokens, and sends them to the gateway, which fetches the keys from it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use axum::Json;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::join_all;
use huddle_shared::keys;
use huddle_tests::{Api, RawTable, Reply, app_state, typed, unique_email};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A signing key of the test provider.
enum SigningKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

struct TestKey {
    kid: String,
    key: SigningKey,
}

impl TestKey {
    fn rsa(kid: &str) -> Self {
        Self {
            kid: kid.into(),
            key: SigningKey::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).unwrap()),
        }
    }

    fn ec(kid: &str) -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        Self {
            kid: kid.into(),
            key: SigningKey::Ec(pair),
        }
    }

    fn alg(&self) -> &'static str {
        match self.key {
            SigningKey::Rsa(_) => "RS256",
            SigningKey::Ec(_) => "ES256",
        }
    }

    /// The public key as the provider publishes it.
    fn jwk(&self) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        match &self.key {
            SigningKey::Rsa(pair) => {
                let public = pair.public_key();
                json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                       "n": b64(public.modulus().big_endian_without_leading_zero()),
                       "e": b64(public.exponent().big_endian_without_leading_zero())})
            }
            SigningKey::Ec(pair) => {
                let point = pair.public_key().as_ref();
                json!({"kty": "EC", "use": "sig", "crv": "P-256", "kid": self.kid,
                       "x": b64(&point[1..33]), "y": b64(&point[33..65])})
            }
        }
    }

    /// The public key's raw bytes: what the HS256 confusion attack uses as a secret.
    fn public_bytes(&self) -> Vec<u8> {
        match &self.key {
            SigningKey::Rsa(pair) => pair.public_key().as_ref().to_vec(),
            SigningKey::Ec(pair) => pair.public_key().as_ref().to_vec(),
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let random = SystemRandom::new();
        match &self.key {
            SigningKey::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &random, message, &mut signature)
                    .unwrap();
                signature
            }
            SigningKey::Ec(pair) => pair.sign(&random, message).unwrap().as_ref().to_vec(),
        }
    }

    /// A token signed with this key, with its own algorithm and key id.
    fn token(&self, claims: &Value) -> String {
        let header = json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"});
        let signing_input = signing_input(&header, claims);
        let signature = self.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// HS256 over `header.claims` with `secret`.
fn hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let signing_input = signing_input(header, claims);
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// The provider this test plays: its keys, what it publishes, and how often it was asked.
struct Provider {
    issuer: String,
    audience: String,
    refetch_interval: Duration,
    rsa: TestKey,
    ec: TestKey,
    /// Generated now, published only by the rotation test.
    rotated: TestKey,
    published: Arc<Mutex<Vec<Value>>>,
    jwks_fetches: Arc<AtomicUsize>,
}

/// The one provider of this test binary, serving on its own thread (each test has its own
/// runtime; the gateway keeps the keys it fetched across tests, so the server must live
/// as long as the binary).
fn provider() -> &'static Provider {
    static PROVIDER: OnceLock<Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let issuer = std::env::var("OIDC_ISSUER")
            .expect("OIDC_ISSUER is not set: run the tests through scripts/test");
        let audience = std::env::var("OIDC_AUDIENCE").expect("OIDC_AUDIENCE");
        let refetch_interval = Duration::from_secs(
            std::env::var("OIDC_JWKS_REFETCH_SECONDS")
                .map(|s| s.parse().expect("a number of seconds"))
                .unwrap_or(60),
        );
        let address = issuer
            .strip_prefix("http://")
            .expect("the test provider serves plain http on 127.0.0.1")
            .trim_end_matches('/')
            .to_owned();
        // Key ids of this run only: a gateway that served an earlier run still holds that
        // run's keys under their ids.
        let run = ulid::Ulid::new().to_string().to_lowercase();
        let (rsa, ec, rotated) = (
            TestKey::rsa(&format!("rsa-1-{run}")),
            TestKey::ec(&format!("ec-1-{run}")),
            TestKey::rsa(&format!("rsa-2-{run}")),
        );
        let published = Arc::new(Mutex::new(vec![rsa.jwk(), ec.jwk()]));
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let listener = std::net::TcpListener::bind(&address)
            .unwrap_or_else(|e| panic!("binding the test provider on {address}: {e}"));
        listener.set_nonblocking(true).unwrap();
        let discovery = json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/jwks.json"),
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        });
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { Json(discovery) }),
            )
            .route(
                "/jwks.json",
                get({
                    let (published, fetches) = (published.clone(), jwks_fetches.clone());
                    move || async move {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        Json(json!({ "keys": *published.lock().unwrap() }))
                    }
                }),
            );
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        Provider {
            issuer,
            audience,
            refetch_interval,
            rsa,
            ec,
            rotated,
            published,
            jwks_fetches,
        }
    })
}

/// The provider, once the gateway accepts its keys: a gateway that fetched the key set of
/// an earlier run moments ago waits for its refetch interval before it looks again.
async fn ready_provider() -> &'static Provider {
    static READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let provider = provider();
    READY
        .get_or_init(|| async {
            let api = Api::new();
            let deadline = Instant::now() + provider.refetch_interval + Duration::from_secs(10);
            loop {
                let token = provider.rsa.token(&claims("readiness", json!({})));
                let reply = me(&api, &token).await;
                if reply.status == StatusCode::OK {
                    break;
                }
                assert_refused(&reply, "the first token of this run");
                assert!(
                    Instant::now() < deadline,
                    "the gateway never took this run's keys"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
        .await;
    provider
}

/// Tests that count key-set fetches, or cause them, run one at a time.
static KEY_SET_FETCHES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Valid claims for a new identity; `extra` adds or (with null) removes claims.
fn claims(sub: &str, extra: Value) -> Value {
    let provider = provider();
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": provider.issuer,
        "sub": sub,
        "aud": provider.audience,
        "iat": now,
        "exp": now + 300,
        "scope": "openid profile",
    });
    for (name, value) in extra.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

fn fresh_subject() -> String {
    format!("subject-{}", ulid::Ulid::new())
}

async fn me(api: &Api, token: &str) -> Reply {
    api.get("/v1/users/me", Some(token)).await
}

fn assert_refused(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {:?}",
        reply.body
    );
    assert_eq!(reply.error_code(), "unauthorized", "{what}");
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: {:?}",
        reply.body
    );
}

#[tokio::test]
async fn rs256_and_es256_tokens_reach_the_api_and_provision_one_user() {
    let api = Api::new();
    let provider = ready_provider().await;
    let state = app_state().await;
    for key in [&provider.rsa, &provider.ec] {
        let sub = fresh_subject();
        let email = unique_email();
        let extra =
            json!({"email": email, "email_verified": true, "name": format!("Ann {}", key.alg())});
        let first = me(&api, &key.token(&claims(&sub, extra.clone()))).await;
        assert_eq!(
            first.status,
            StatusCode::OK,
            "{}: {:?}",
            key.alg(),
            first.body
        );
        assert_eq!(first.body["email"], email.as_str());
        assert_eq!(first.body["display_name"], format!("Ann {}", key.alg()));
        let user_id = first.body["id"].as_str().unwrap().to_owned();

        // Later calls, with other tokens of the same identity, are the same user.
        let mut later = claims(&sub, extra);
        later["iat"] = json!(chrono::Utc::now().timestamp() - 5);
        later["exp"] = json!(chrono::Utc::now().timestamp() + 900);
        let token = key.token(&later);
        let again = me(&api, &token).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.body["id"], user_id.as_str());

        // The link is stored, and every route takes the token.
        let linked = state
            .store
            .linked_user(&provider.issuer, &sub)
            .await
            .unwrap();
        assert_eq!(linked.map(|id| id.to_string()), Some(user_id.clone()));
        let workspace = api
            .post("/v1/workspaces", Some(&token), json!({"name": "external"}))
            .await;
        assert_eq!(
            workspace.status,
            StatusCode::CREATED,
            "{:?}",
            workspace.body
        );
        assert_eq!(workspace.body["my_role"], "owner");
        let profile = api.get(&format!("/v1/users/{user_id}"), Some(&token)).await;
        assert_eq!(profile.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn wrong_issuer_audience_expired_and_premature_tokens_are_refused() {
    let api = Api::new();
    let provider = ready_provider().await;
    let now = chrono::Utc::now().timestamp();
    for (what, extra) in [
        ("wrong issuer", json!({"iss": "http://127.0.0.1:9/other"})),
        (
            "issuer without its exact spelling",
            json!({"iss": format!("{}/", provider.issuer)}),
        ),
        ("wrong audience", json!({"aud": "someone-else"})),
        ("audience list without ours", json!({"aud": ["a", "b"]})),
        ("no audience", json!({"aud": null})),
        ("expired", json!({"iat": now - 900, "exp": now - 300})),
        ("no expiry", json!({"exp": null})),
        ("nbf in the future", json!({"nbf": now + 600})),
        (
            "iat in the future, no nbf",
            json!({"iat": now + 600, "exp": now + 900}),
        ),
        ("no subject", json!({"sub": null})),
    ] {
        for key in [&provider.rsa, &provider.ec] {
            let token = key.token(&claims(&fresh_subject(), extra.clone()));
            assert_refused(&me(&api, &token).await, &format!("{what} ({})", key.alg()));
        }
    }
}

#[tokio::test]
async fn unsigned_confused_and_unknown_key_tokens_are_refused() {
    let _one_at_a_time = KEY_SET_FETCHES.lock().await;
    let api = Api::new();
    let provider = ready_provider().await;
    let claims = claims(&fresh_subject(), json!({}));
    // The gateway knows the keys already (or fetches them now).
    assert_eq!(
        me(&api, &provider.rsa.token(&claims)).await.status,
        StatusCode::OK
    );

    let none = |header: Value| format!("{}.", signing_input(&header, &claims));
    assert_refused(&me(&api, &none(json!({"alg": "none"}))).await, "alg none");
    assert_refused(
        &me(&api, &none(json!({"alg": "none", "kid": provider.rsa.kid}))).await,
        "alg none with a key id",
    );
    // The classic confusion: HS256 "signed" with the provider's public key.
    for key in [&provider.rsa, &provider.ec] {
        let header = json!({"alg": "HS256", "kid": key.kid, "typ": "JWT"});
        let token = hs256(&header, &claims, &key.public_bytes());
        assert_refused(
            &me(&api, &token).await,
            &format!("HS256 with the {} public key", key.alg()),
        );
        let jwk_secret = key.jwk().to_string();
        let token = hs256(&header, &claims, jwk_secret.as_bytes());
        assert_refused(&me(&api, &token).await, "HS256 with the JWK as secret");
    }
    // A valid RSA signature under the EC key's id, and the other way round.
    let rsa_signed = provider.rsa.token(&claims);
    let (_, rest) = rsa_signed.split_once('.').unwrap();
    let header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": provider.ec.kid}).to_string());
    assert_refused(
        &me(&api, &format!("{header}.{rest}")).await,
        "RS256 under an EC key id",
    );
    // A token from a key the provider never published, under a new id and under a known one.
    let stranger = TestKey::ec("never-published");
    assert_refused(&me(&api, &stranger.token(&claims)).await, "unknown kid");
    let impostor = TestKey::ec(&provider.ec.kid);
    assert_refused(
        &me(&api, &impostor.token(&claims)).await,
        "someone else's key, known kid",
    );
    // A tampered payload under a real signature.
    let (header, rest) = rsa_signed.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let mut other = claims.clone();
    other["sub"] = json!(fresh_subject());
    let payload = URL_SAFE_NO_PAD.encode(other.to_string());
    assert_refused(
        &me(&api, &format!("{header}.{payload}.{signature}")).await,
        "tampered",
    );
}

#[tokio::test]
async fn a_rotated_key_is_accepted_after_a_refetch_and_unknown_ids_do_not_flood_the_provider() {
    let _one_at_a_time = KEY_SET_FETCHES.lock().await;
    let api = Api::new();
    let provider = ready_provider().await;
    let sub = fresh_subject();
    let before = me(&api, &provider.rsa.token(&claims(&sub, json!({})))).await;
    assert_eq!(before.status, StatusCode::OK, "{:?}", before.body);

    // A burst of made-up key ids: every one refused, and at most one fetch of the key set
    // per refetch interval.
    let fetches_before = provider.jwks_fetches.load(Ordering::SeqCst);
    let started = Instant::now();
    let burst = join_all((0..20).map(|n| {
        let token = TestKey::ec(&format!("made-up-{n}")).token(&claims(&sub, json!({})));
        let api = api.clone();
        async move { me(&api, &token).await }
    }))
    .await;
    let elapsed = started.elapsed();
    for reply in &burst {
        assert_refused(reply, "made-up key id");
    }
    let fetched = provider.jwks_fetches.load(Ordering::SeqCst) - fetches_before;
    let allowed = 1 + (elapsed.as_secs_f64() / provider.refetch_interval.as_secs_f64()) as usize;
    assert!(fetched <= allowed, "{fetched} fetches in {elapsed:?}");

    // The provider rotates: a token of its new key is refused until the key is published,
    // then accepted once the gateway fetches the set again (within one interval).
    let rotated = provider.rotated.token(&claims(&sub, json!({})));
    assert_refused(&me(&api, &rotated).await, "a key not yet published");
    provider
        .published
        .lock()
        .unwrap()
        .push(provider.rotated.jwk());
    let deadline = Instant::now() + provider.refetch_interval + Duration::from_secs(10);
    loop {
        let reply = me(&api, &rotated).await;
        if reply.status == StatusCode::OK {
            assert_eq!(reply.body["id"], before.body["id"]);
            break;
        }
        assert_refused(&reply, "the new key, before the refetch");
        assert!(
            Instant::now() < deadline,
            "the rotated key was never accepted"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The old key still works while the provider publishes it.
    assert_eq!(
        me(&api, &provider.rsa.token(&claims(&sub, json!({}))))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn concurrent_first_calls_make_one_user() {
    let api = Api::new();
    let provider = ready_provider().await;
    for key in [&provider.rsa, &provider.ec] {
        let sub = fresh_subject();
        let replies = join_all((0..10).map(|_| {
            let token = key.token(&claims(&sub, json!({"preferred_username": "racer"})));
            let api = api.clone();
            async move { me(&api, &token).await }
        }))
        .await;
        let ids: std::collections::HashSet<&str> = replies
            .iter()
            .map(|reply| {
                assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
                reply.body["id"].as_str().unwrap()
            })
            .collect();
        assert_eq!(ids.len(), 1, "{ids:?}");
        let linked = app_state()
            .await
            .store
            .linked_user(&provider.issuer, &sub)
            .await
            .unwrap()
            .unwrap();
        assert!(ids.contains(linked.to_string().as_str()));
    }
}

#[tokio::test]
async fn a_cognito_access_token_is_accepted_by_its_client_id() {
    let api = Api::new();
    let provider = ready_provider().await;
    let cognito = |sub: &str, client_id: &str, token_use: &str| {
        claims(
            sub,
            json!({"aud": null, "client_id": client_id, "token_use": token_use,
                   "username": "cognito-user", "scope": "aws.cognito.signin.user.admin"}),
        )
    };
    let sub = fresh_subject();
    let reply = me(
        &api,
        &provider
            .rsa
            .token(&cognito(&sub, &provider.audience, "access")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["display_name"], "cognito-user");
    // Cognito access tokens carry no email: the user has none.
    assert!(reply.body["email"].is_null(), "{:?}", reply.body);
    for (what, token) in [
        (
            "another app client",
            cognito(&sub, "other-client", "access"),
        ),
        (
            "an id token without aud",
            cognito(&sub, &provider.audience, "id"),
        ),
    ] {
        assert_refused(&me(&api, &provider.rsa.token(&token)).await, what);
    }
}

#[tokio::test]
async fn an_email_that_has_an_account_is_never_merged() {
    let api = Api::new();
    let provider = ready_provider().await;
    let key = &provider.ec;

    // A password account holds the email: the external user is a different user, without it.
    let password_user = api.register_user().await;
    let verified = |email: &str| json!({"email": email, "email_verified": true});
    let external = me(
        &api,
        &key.token(&claims(
            &fresh_subject(),
            verified(&password_user.email.to_uppercase()),
        )),
    )
    .await;
    assert_eq!(external.status, StatusCode::OK, "{:?}", external.body);
    assert_ne!(external.body["id"], password_user.id.as_str());
    assert!(external.body["email"].is_null(), "{:?}", external.body);
    let login = api
        .post(
            "/v1/auth/login",
            None,
            json!({"email": password_user.email, "password": password_user.password}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["user"]["id"], password_user.id.as_str());

    // A free verified email becomes the external user's: nobody can register it, it has no
    // password to log in with, and an admin can add its user by it.
    let email = unique_email();
    let owner = me(
        &api,
        &key.token(&claims(&fresh_subject(), verified(&email))),
    )
    .await;
    assert_eq!(owner.body["email"], email.as_str());
    let external_id = owner.body["id"].as_str().unwrap();
    let register = api
        .post(
            "/v1/auth/register",
            None,
            json!({"email": email, "password": "correct horse battery", "display_name": "Thief"}),
        )
        .await;
    assert_eq!(register.status, StatusCode::CONFLICT, "{:?}", register.body);
    let login = api
        .post(
            "/v1/auth/login",
            None,
            json!({"email": email, "password": "correct horse battery"}),
        )
        .await;
    assert_refused(&login, "a password login to an external user's email");
    let workspace = api
        .post(
            "/v1/workspaces",
            password_user.token(),
            json!({"name": "by email"}),
        )
        .await;
    let added = api
        .post(
            &format!(
                "/v1/workspaces/{}/members",
                workspace.body["id"].as_str().unwrap()
            ),
            password_user.token(),
            json!({"email": email}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!(added.body["user"]["id"], external_id);

    // The same email again, from another identity: a separate user without it.
    let second = me(
        &api,
        &key.token(&claims(&fresh_subject(), verified(&email))),
    )
    .await;
    assert_ne!(second.body["id"], external_id);
    assert!(second.body["email"].is_null(), "{:?}", second.body);

    // An email the provider did not verify is not taken at all.
    let unverified = unique_email();
    let reply = me(
        &api,
        &key.token(&claims(
            &fresh_subject(),
            json!({"email": unverified, "email_verified": false}),
        )),
    )
    .await;
    assert!(reply.body["email"].is_null(), "{:?}", reply.body);
    let register = api
        .post(
            "/v1/auth/register",
            None,
            json!({"email": unverified, "password": "correct horse battery", "display_name": "Owner"}),
        )
        .await;
    assert_eq!(register.status, StatusCode::CREATED);
}

#[tokio::test]
async fn huddle_tokens_keep_working_beside_the_providers() {
    let api = Api::new();
    let user = api.register_user().await;
    let reply = api.get("/v1/users/me", user.token()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["id"], user.id.as_str());
    // A Huddle token re-labelled with the provider's issuer goes to the provider's checks,
    // and fails them.
    let (header, rest) = user.access_token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["iss"] = json!(provider().issuer);
    let relabelled = format!(
        "{header}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert_refused(
        &api.get("/v1/users/me", Some(&relabelled)).await,
        "relabelled Huddle token",
    );
}

/// The attribute names of a raw item, sorted.
fn attribute_names(item: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names
}

#[tokio::test]
async fn the_user_identity_marker_and_email_items_are_exact() {
    let api = Api::new();
    let provider = ready_provider().await;
    let raw = RawTable::new().await;
    let sub = fresh_subject();
    let email = format!("Ext.{}@Example.TEST", ulid::Ulid::new());
    let token = provider.rsa.token(&claims(
        &sub,
        json!({"email": email, "email_verified": true, "name": "Ext Item"}),
    ));
    let reply = me(&api, &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let uid = reply.body["id"].as_str().unwrap();

    let marker_key = keys::external_identity(&provider.issuer, &sub);
    let marker = raw.item(&marker_key).await.expect("the identity marker");
    assert_eq!(
        attribute_names(&marker),
        [
            "PK",
            "SK",
            "created_at",
            "issuer",
            "subject",
            "type",
            "user_id"
        ]
    );
    assert_eq!(marker["PK"], json!({"S": marker_key.pk}));
    assert_eq!(marker["SK"], json!({"S": "IDENTITY"}));
    assert_eq!(marker["type"], json!({"S": "external_identity"}));
    assert_eq!(marker["issuer"], json!({"S": provider.issuer}));
    assert_eq!(marker["subject"], json!({"S": sub}));
    assert_eq!(marker["user_id"], json!({"S": uid}));

    let profile = raw.item(&keys::user(typed(uid))).await.expect("the user");
    assert_eq!(
        attribute_names(&profile),
        [
            "PK",
            "SK",
            "avatar_url",
            "bio",
            "created_at",
            "display_name",
            "email",
            "id",
            "type",
            "updated_at"
        ]
    );
    assert_eq!(profile["email"], json!({"S": email}));
    assert_eq!(profile["display_name"], json!({"S": "Ext Item"}));
    assert_eq!(profile["bio"], json!({"NULL": true}));
    assert_eq!(profile["created_at"], marker["created_at"]);

    // The email's marker holds no password.
    let credential = raw
        .item(&keys::credential(&email.to_lowercase()))
        .await
        .expect("the email marker");
    assert_eq!(
        attribute_names(&credential),
        ["PK", "SK", "created_at", "type", "user_id"]
    );
    assert_eq!(credential["type"], json!({"S": "credential"}));
    assert_eq!(credential["user_id"], json!({"S": uid}));

    // Without an email, the profile stores null and no marker is written.
    let bare = me(
        &api,
        &provider.ec.token(&claims(&fresh_subject(), json!({}))),
    )
    .await;
    let bare_profile = raw
        .item(&keys::user(typed(bare.body["id"].as_str().unwrap())))
        .await
        .expect("the user");
    assert_eq!(bare_profile["email"], json!({"NULL": true}));
    assert_eq!(bare_profile["display_name"], json!({"S": "New member"}));
}
