//! The provider's signing keys: fetched on first need (never at cold start), kept in the
//! process, and fetched again when a token names a key the set does not hold, at most once
//! per refetch interval (a provider publishes a new key before it signs with it, so a
//! rotation costs one fetch, and a flood of made-up key ids costs no more than one fetch
//! per interval). Only RSA and P-256 signing keys are kept (RS256, ES256).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// After a failed fetch, the next may come this soon (or after the refetch interval, if
/// that is shorter): a provider that was briefly unreachable is not shut out for long.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// Where the key set (a JWKS document) comes from.
pub trait KeySource: Send + Sync {
    fn fetch(&self) -> impl Future<Output = anyhow::Result<Value>> + Send;
}

/// A key that checks signatures of one algorithm.
pub struct SigningKey {
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

/// What a look-up by key id found.
pub enum KeyLookup {
    Found(Arc<SigningKey>),
    /// Not in the set, even after fetching it again (or too soon to fetch it again).
    Unknown,
    /// The set could not be fetched.
    Unavailable,
}

struct LastFetch {
    at: Instant,
    succeeded: bool,
}

/// The cached key set of one provider.
pub struct KeySet<S> {
    source: S,
    refetch_interval: Duration,
    keys: RwLock<HashMap<String, Arc<SigningKey>>>,
    /// Held while fetching, so concurrent misses wait for one fetch instead of each making
    /// their own.
    last_fetch: tokio::sync::Mutex<Option<LastFetch>>,
}

impl<S: KeySource> KeySet<S> {
    pub fn new(source: S, refetch_interval: Duration) -> Self {
        Self {
            source,
            refetch_interval,
            keys: RwLock::new(HashMap::new()),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    fn cached(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(kid)
            .cloned()
    }

    /// The key named `kid`: from the cache, else from a fresh fetch when one is due.
    pub async fn key(&self, kid: &str) -> KeyLookup {
        self.key_at(kid, Instant::now).await
    }

    /// [`KeySet::key`] with the clock given (tests move it on).
    async fn key_at(&self, kid: &str, now: impl Fn() -> Instant) -> KeyLookup {
        if let Some(key) = self.cached(kid) {
            return KeyLookup::Found(key);
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Someone may have fetched while this call waited.
        if let Some(key) = self.cached(kid) {
            return KeyLookup::Found(key);
        }
        if let Some(last) = last_fetch.as_ref() {
            let wait = if last.succeeded {
                self.refetch_interval
            } else {
                RETRY_AFTER_FAILURE.min(self.refetch_interval)
            };
            if now().saturating_duration_since(last.at) < wait {
                return if last.succeeded {
                    KeyLookup::Unknown
                } else {
                    KeyLookup::Unavailable
                };
            }
        }
        let fetched = self
            .source
            .fetch()
            .await
            .and_then(|document| parse_key_set(&document));
        let succeeded = fetched.is_ok();
        *last_fetch = Some(LastFetch {
            at: now(),
            succeeded,
        });
        match fetched {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "identity provider keys fetched");
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = keys;
                self.cached(kid)
                    .map_or(KeyLookup::Unknown, KeyLookup::Found)
            }
            Err(error) => {
                tracing::warn!(error = %error, "identity provider keys could not be fetched");
                KeyLookup::Unavailable
            }
        }
    }
}

/// The usable keys of a JWKS document by key id. Keys of other types, curves or uses, and
/// keys without an id, are left out; a document that is not a key set is an error.
pub fn parse_key_set(document: &Value) -> anyhow::Result<HashMap<String, Arc<SigningKey>>> {
    let entries = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow::anyhow!("the key set has no `keys` list"))?;
    Ok(entries
        .iter()
        .filter_map(|entry| serde_json::from_value::<Jwk>(entry.clone()).ok())
        .filter_map(|jwk| usable_key(&jwk))
        .collect())
}

fn usable_key(jwk: &Jwk) -> Option<(String, Arc<SigningKey>)> {
    let kid = jwk.common.key_id.clone()?;
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    let (algorithm, named) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(params) if params.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        _ => return None,
    };
    // A key published for another algorithm (RS384, PS256 ...) is not used for this one.
    if jwk.common.key_algorithm.is_some_and(|alg| alg != named) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, Arc::new(SigningKey { algorithm, key })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A clock the test moves on.
    struct Clock {
        start: Instant,
        offset: Mutex<Duration>,
    }

    impl Default for Clock {
        fn default() -> Self {
            Self {
                start: Instant::now(),
                offset: Mutex::new(Duration::ZERO),
            }
        }
    }

    impl Clock {
        fn now(&self) -> Instant {
            self.start + *self.offset.lock().unwrap()
        }

        fn advance(&self, by: Duration) {
            *self.offset.lock().unwrap() += by;
        }
    }

    /// A key source serving whatever the test sets, counting fetches.
    #[derive(Default)]
    struct Published {
        document: Mutex<Option<Value>>,
        fetches: AtomicUsize,
    }

    impl KeySource for Arc<Published> {
        fn fetch(&self) -> impl Future<Output = anyhow::Result<Value>> + Send {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            let document = self.document.lock().unwrap().clone();
            async move { document.ok_or_else(|| anyhow::anyhow!("unreachable")) }
        }
    }

    fn rsa_jwk(kid: &str) -> Value {
        // A 2048-bit modulus is not needed to parse; any RSA components make a key.
        json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
               "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
               "e": "AQAB"})
    }

    fn ec_jwk(kid: &str) -> Value {
        json!({"kty": "EC", "kid": kid, "crv": "P-256",
               "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
               "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})
    }

    fn publish(published: &Published, keys: Vec<Value>) {
        *published.document.lock().unwrap() = Some(json!({ "keys": keys }));
    }

    #[test]
    fn only_rsa_and_p256_signing_keys_with_ids_are_kept() {
        let mut encryption = rsa_jwk("enc");
        encryption["use"] = json!("enc");
        let mut other_alg = rsa_jwk("rs384");
        other_alg["alg"] = json!("RS384");
        let mut no_id = rsa_jwk("x");
        no_id.as_object_mut().unwrap().remove("kid");
        let keys = parse_key_set(&json!({"keys": [
            rsa_jwk("rsa"),
            ec_jwk("ec"),
            encryption,
            other_alg,
            no_id,
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"something": "else"},
        ]}))
        .unwrap();
        let mut kept: Vec<(&str, Algorithm)> = keys
            .iter()
            .map(|(kid, key)| (kid.as_str(), key.algorithm))
            .collect();
        kept.sort_by_key(|(kid, _)| *kid);
        assert_eq!(kept, [("ec", Algorithm::ES256), ("rsa", Algorithm::RS256)]);
        assert!(parse_key_set(&json!({"no": "keys"})).is_err());
    }

    #[tokio::test]
    async fn unknown_key_ids_refetch_at_most_once_per_interval() {
        let published = Arc::new(Published::default());
        publish(&published, vec![rsa_jwk("one")]);
        let set = KeySet::new(published.clone(), Duration::from_secs(60));
        let fetches = || published.fetches.load(Ordering::SeqCst);
        let clock = Clock::default();
        // Nothing is fetched until a key is needed.
        assert_eq!(fetches(), 0);
        assert!(matches!(
            set.key_at("one", || clock.now()).await,
            KeyLookup::Found(_)
        ));
        assert!(matches!(
            set.key_at("one", || clock.now()).await,
            KeyLookup::Found(_)
        ));
        assert_eq!(fetches(), 1);
        // A new key appears; within the interval it is not looked for.
        publish(&published, vec![rsa_jwk("one"), ec_jwk("two")]);
        for _ in 0..20 {
            assert!(matches!(
                set.key_at("two", || clock.now()).await,
                KeyLookup::Unknown
            ));
        }
        assert_eq!(fetches(), 1);
        clock.advance(Duration::from_secs(61));
        assert!(matches!(
            set.key_at("two", || clock.now()).await,
            KeyLookup::Found(_)
        ));
        assert_eq!(fetches(), 2);
        // A made-up id right after costs nothing; after the interval, one fetch.
        assert!(matches!(
            set.key_at("made-up", || clock.now()).await,
            KeyLookup::Unknown
        ));
        assert_eq!(fetches(), 2);
        clock.advance(Duration::from_secs(61));
        assert!(matches!(
            set.key_at("made-up", || clock.now()).await,
            KeyLookup::Unknown
        ));
        assert!(matches!(
            set.key_at("made-up-2", || clock.now()).await,
            KeyLookup::Unknown
        ));
        assert_eq!(fetches(), 3);
        // A key the provider withdrew stops working once the set is fetched again.
        publish(&published, vec![ec_jwk("two")]);
        clock.advance(Duration::from_secs(61));
        assert!(matches!(
            set.key_at("made-up", || clock.now()).await,
            KeyLookup::Unknown
        ));
        assert!(matches!(
            set.key_at("one", || clock.now()).await,
            KeyLookup::Unknown
        ));
        assert!(matches!(
            set.key_at("two", || clock.now()).await,
            KeyLookup::Found(_)
        ));
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_fetch() {
        let published = Arc::new(Published::default());
        publish(&published, vec![rsa_jwk("one")]);
        let set = KeySet::new(published.clone(), Duration::from_secs(60));
        let lookups = futures::future::join_all((0..10).map(|_| set.key("one"))).await;
        assert!(lookups.iter().all(|l| matches!(l, KeyLookup::Found(_))));
        assert_eq!(published.fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_fetch_is_retried_soon() {
        let published = Arc::new(Published::default());
        let set = KeySet::new(published.clone(), Duration::from_secs(60));
        let clock = Clock::default();
        assert!(matches!(
            set.key_at("one", || clock.now()).await,
            KeyLookup::Unavailable
        ));
        assert!(matches!(
            set.key_at("one", || clock.now()).await,
            KeyLookup::Unavailable
        ));
        assert_eq!(published.fetches.load(Ordering::SeqCst), 1);
        publish(&published, vec![rsa_jwk("one")]);
        clock.advance(RETRY_AFTER_FAILURE);
        assert!(matches!(
            set.key_at("one", || clock.now()).await,
            KeyLookup::Found(_)
        ));
        assert_eq!(published.fetches.load(Ordering::SeqCst), 2);
    }
}
