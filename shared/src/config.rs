//! Typed configuration, read once from the environment at cold start.

use std::time::Duration;

/// Everything a function needs to know about its deployment.
#[derive(Clone)]
pub struct Config {
    /// The single DynamoDB table.
    pub table_name: String,
    /// HMAC secret for access tokens (HS256). At least 32 bytes.
    pub jwt_secret: Vec<u8>,
    /// `iss` claim written into and required from access tokens.
    pub jwt_issuer: String,
    /// `aud` claim written into and required from access tokens.
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub ws_ticket_ttl: Duration,
    /// Emit logs as JSON (Lambda) or human-readable text (local).
    pub log_json: bool,
    /// The WebSocket API's management endpoint (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`,
    /// or the local gateway's URL); needed by the functions that post to connections.
    pub websocket_endpoint: Option<String>,
    /// The bucket for uploaded files; needed by the functions that touch files.
    pub bucket_name: Option<String>,
    /// Address buckets by path (local S3 servers) rather than by virtual host.
    pub s3_force_path_style: bool,
    /// `COUNT_AWS_CALLS=1`: count each request's AWS calls (`x-huddle-aws-calls`).
    pub count_aws_calls: bool,
    /// Largest upload, in bytes (default 25 MiB).
    pub upload_max_bytes: u64,
    /// Largest avatar, in bytes (default 5 MiB).
    pub avatar_max_bytes: u64,
    /// Content types an upload may have.
    pub upload_content_types: Vec<String>,
    /// Lifetime of upload URLs (default 15 min) and download URLs (default 5 min).
    pub upload_url_ttl: Duration,
    pub download_url_ttl: Duration,
    /// Most channels a workspace may hold (DMs aside), enforced in the create transaction.
    pub channels_per_workspace_max: u64,
    /// Password hashes (19 MiB and a thread each) that may run at once (default: the
    /// number of cores).
    pub password_hash_concurrency: usize,
    /// Callers that may wait for a hashing slot; beyond them, 503 (default: 32 per slot).
    pub password_hash_queue: usize,
    /// Days the workspace activity log keeps an entry (TTL; default 365).
    pub activity_retention_days: u32,
    /// Posts to WebSocket connections in flight at once per process, over every event and
    /// stream partition (`post_to_connection`; default [`DEFAULT_WEBSOCKET_POST_CONCURRENCY`]).
    pub websocket_post_concurrency: usize,
    /// Rate limits (429 with `Retry-After`).
    pub limits: Limits,
    /// Sign-in with an external identity provider; `None` when `OIDC_ISSUER` is unset.
    pub oidc: Option<OidcConfig>,
}

/// An external identity provider whose access tokens are accepted beside Huddle's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// The `iss` the provider writes, exactly (Auth0's ends with `/`, Cognito's does not).
    pub issuer: String,
    /// What `aud` must contain; or, in a Cognito access token (no `aud`), its `client_id`.
    pub audience: String,
    /// Where the signing keys are; `None`: the `jwks_uri` of the issuer's discovery
    /// document (`{issuer}/.well-known/openid-configuration`).
    pub jwks_url: Option<String>,
    /// Least time between two fetches of the key set when a token names an unknown key
    /// (default 60 s).
    pub jwks_refetch_interval: Duration,
}

/// The rate limits, each a count per fixed window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Failed logins per email per window; then even a correct password is refused until
    /// the window passes (default 10 per 15 minutes).
    pub login_failures: u64,
    pub login_window: Duration,
    /// Auth calls (register, login, refresh) per source address per hour; 0 turns the
    /// limit off (default 300).
    pub address_per_hour: u64,
    /// Message sends per user per window (default 30 per 10 s).
    pub sends: u64,
    pub send_window: Duration,
    /// Upload requests (files and avatars) per user per minute (default 30).
    pub uploads_per_minute: u64,
    /// Open WebSockets per user (default 10).
    pub sockets_per_user: u64,
}

/// Waiting callers per hashing slot unless `PASSWORD_HASH_QUEUE` says otherwise: at tens
/// of milliseconds a hash, about a second or two of work.
pub const PASSWORD_HASH_QUEUE_PER_SLOT: usize = 32;

/// What uploads may be unless `UPLOAD_CONTENT_TYPES` says otherwise.
pub const DEFAULT_UPLOAD_CONTENT_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/markdown",
    "text/csv",
    "application/json",
    "application/zip",
    "audio/mpeg",
    "audio/ogg",
    "video/mp4",
    "video/webm",
];

/// Posts in flight at once per process unless `WEBSOCKET_POST_CONCURRENCY` says otherwise:
/// the best p99 from send to every receipt of the 16/32/64/128 measured at 1,000 sockets
/// (tests/bench-results.md, "Fan-out").
pub const DEFAULT_WEBSOCKET_POST_CONCURRENCY: usize = 128;

/// Channels a workspace may hold unless `CHANNELS_PER_WORKSPACE_MAX` says otherwise.
pub const DEFAULT_CHANNELS_PER_WORKSPACE_MAX: u64 = 1000;
pub const DEFAULT_ACTIVITY_RETENTION_DAYS: u64 = 365;

/// Avatars are always images of these types.
pub const AVATAR_CONTENT_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the signing secret.
        f.debug_struct("Config")
            .field("table_name", &self.table_name)
            .field("jwt_secret", &"<redacted>")
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("ws_ticket_ttl", &self.ws_ticket_ttl)
            .field("log_json", &self.log_json)
            .field("websocket_endpoint", &self.websocket_endpoint)
            .field("bucket_name", &self.bucket_name)
            .field("upload_max_bytes", &self.upload_max_bytes)
            .field(
                "channels_per_workspace_max",
                &self.channels_per_workspace_max,
            )
            .field("password_hash_concurrency", &self.password_hash_concurrency)
            .field("password_hash_queue", &self.password_hash_queue)
            .field("activity_retention_days", &self.activity_retention_days)
            .field(
                "websocket_post_concurrency",
                &self.websocket_post_concurrency,
            )
            .field("limits", &self.limits)
            .field("oidc", &self.oidc)
            .finish_non_exhaustive()
    }
}

/// A missing or malformed environment variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Whether `url` may be fetched for signing keys: `https`, or plain `http` to this machine
/// only (a provider served by a test or a local development server).
pub fn is_acceptable_key_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    match uri.scheme_str() {
        Some("https") => true,
        Some("http") => matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1"),
        _ => false,
    }
}

/// Reads the `OIDC_*` variables: both of issuer and audience, or neither (an empty value
/// is unset, as the template passes them).
fn oidc_config(
    lookup: &impl Fn(&str) -> Option<String>,
    jwt_issuer: &str,
    refetch_interval: Duration,
) -> Result<Option<OidcConfig>, ConfigError> {
    let set = |name: &str| {
        lookup(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let (issuer, audience) = match (set("OIDC_ISSUER"), set("OIDC_AUDIENCE")) {
        (None, None) => return Ok(None),
        (Some(issuer), Some(audience)) => (issuer, audience),
        (Some(_), None) => return Err(ConfigError::Missing("OIDC_AUDIENCE")),
        (None, Some(_)) => return Err(ConfigError::Missing("OIDC_ISSUER")),
    };
    let not_a_key_url = |name: &'static str| ConfigError::Invalid {
        name,
        reason: "expected an https URL (plain http only to 127.0.0.1 or localhost)".into(),
    };
    if !is_acceptable_key_url(&issuer) {
        return Err(not_a_key_url("OIDC_ISSUER"));
    }
    if issuer == jwt_issuer {
        return Err(ConfigError::Invalid {
            name: "OIDC_ISSUER",
            reason: "must differ from JWT_ISSUER (the two kinds of token are told apart by it)"
                .into(),
        });
    }
    let jwks_url = set("OIDC_JWKS_URL");
    if jwks_url
        .as_deref()
        .is_some_and(|url| !is_acceptable_key_url(url))
    {
        return Err(not_a_key_url("OIDC_JWKS_URL"));
    }
    Ok(Some(OidcConfig {
        issuer,
        audience,
        jwks_url,
        jwks_refetch_interval: refetch_interval,
    }))
}

impl Config {
    /// The bucket, or a clear error for functions that need it.
    pub fn require_bucket(&self) -> Result<&str, ConfigError> {
        self.bucket_name
            .as_deref()
            .ok_or(ConfigError::Missing("BUCKET_NAME"))
    }

    /// The management endpoint, or a clear error for functions that need it.
    pub fn require_websocket_endpoint(&self) -> Result<&str, ConfigError> {
        self.websocket_endpoint
            .as_deref()
            .ok_or(ConfigError::Missing("WEBSOCKET_MANAGEMENT_ENDPOINT"))
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|value| !value.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let seconds = |name: &'static str, default: u64| -> Result<Duration, ConfigError> {
            match lookup(name) {
                None => Ok(Duration::from_secs(default)),
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(value) if value > 0 => Ok(Duration::from_secs(value)),
                    _ => Err(ConfigError::Invalid {
                        name,
                        reason: "expected a positive number of seconds".into(),
                    }),
                },
            }
        };

        let bytes = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(value) if value > 0 => Ok(value),
                    _ => Err(ConfigError::Invalid {
                        name,
                        reason: "expected a positive number of bytes".into(),
                    }),
                },
            }
        };
        let count = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(value) if value > 0 => Ok(value),
                    _ => Err(ConfigError::Invalid {
                        name,
                        reason: "expected a positive number".into(),
                    }),
                },
            }
        };
        let at_least = |name: &'static str, minimum: usize| -> Result<Option<usize>, ConfigError> {
            match lookup(name) {
                None => Ok(None),
                Some(raw) => match raw.trim().parse::<usize>() {
                    Ok(value) if value >= minimum => Ok(Some(value)),
                    _ => Err(ConfigError::Invalid {
                        name,
                        reason: format!("expected a whole number of at least {minimum}"),
                    }),
                },
            }
        };
        let password_hash_concurrency =
            at_least("PASSWORD_HASH_CONCURRENCY", 1)?.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|cores| cores.get())
                    .unwrap_or(1)
            });
        let password_hash_queue = at_least("PASSWORD_HASH_QUEUE", 0)?
            .unwrap_or(password_hash_concurrency.saturating_mul(PASSWORD_HASH_QUEUE_PER_SLOT));
        let jwt_secret = required("JWT_SECRET")?.into_bytes();
        if jwt_secret.len() < MIN_JWT_SECRET_BYTES {
            return Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                reason: format!("must be at least {MIN_JWT_SECRET_BYTES} bytes"),
            });
        }
        let jwt_issuer = lookup("JWT_ISSUER").unwrap_or_else(|| "huddle".into());
        let oidc = oidc_config(
            &lookup,
            &jwt_issuer,
            seconds("OIDC_JWKS_REFETCH_SECONDS", 60)?,
        )?;
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            jwt_secret,
            jwt_issuer,
            jwt_audience: lookup("JWT_AUDIENCE").unwrap_or_else(|| "huddle-api".into()),
            access_token_ttl: seconds("ACCESS_TOKEN_TTL_SECONDS", 30 * 60)?,
            refresh_token_ttl: seconds("REFRESH_TOKEN_TTL_SECONDS", 7 * 24 * 3600)?,
            ws_ticket_ttl: seconds("WS_TICKET_TTL_SECONDS", 60)?,
            log_json: match lookup("LOG_FORMAT").as_deref() {
                Some("text") => false,
                Some("json") => true,
                // Lambda sets this variable; anywhere else, default to readable text.
                _ => lookup("AWS_LAMBDA_FUNCTION_NAME").is_some(),
            },
            websocket_endpoint: lookup("WEBSOCKET_MANAGEMENT_ENDPOINT").filter(|v| !v.is_empty()),
            bucket_name: lookup("BUCKET_NAME").filter(|v| !v.is_empty()),
            s3_force_path_style: lookup("S3_FORCE_PATH_STYLE").as_deref() == Some("true"),
            count_aws_calls: lookup("COUNT_AWS_CALLS").as_deref() == Some("1"),
            upload_max_bytes: bytes("UPLOAD_MAX_BYTES", 25 * 1024 * 1024)?,
            avatar_max_bytes: bytes("AVATAR_MAX_BYTES", 5 * 1024 * 1024)?,
            upload_content_types: match lookup("UPLOAD_CONTENT_TYPES") {
                Some(list) => list
                    .split(',')
                    .map(|t| t.trim().to_ascii_lowercase())
                    .filter(|t| !t.is_empty())
                    .collect(),
                None => DEFAULT_UPLOAD_CONTENT_TYPES
                    .iter()
                    .map(|t| (*t).to_owned())
                    .collect(),
            },
            upload_url_ttl: seconds("UPLOAD_URL_TTL_SECONDS", 15 * 60)?,
            download_url_ttl: seconds("DOWNLOAD_URL_TTL_SECONDS", 5 * 60)?,
            channels_per_workspace_max: count(
                "CHANNELS_PER_WORKSPACE_MAX",
                DEFAULT_CHANNELS_PER_WORKSPACE_MAX,
            )?,
            password_hash_concurrency,
            password_hash_queue,
            activity_retention_days: u32::try_from(count(
                "ACTIVITY_RETENTION_DAYS",
                DEFAULT_ACTIVITY_RETENTION_DAYS,
            )?)
            .unwrap_or(u32::MAX),
            websocket_post_concurrency: at_least("WEBSOCKET_POST_CONCURRENCY", 1)?
                .unwrap_or(DEFAULT_WEBSOCKET_POST_CONCURRENCY),
            limits: Limits {
                login_failures: count("RATE_LIMIT_LOGIN_FAILURES", 10)?,
                login_window: seconds("RATE_LIMIT_LOGIN_WINDOW_SECONDS", 15 * 60)?,
                address_per_hour: match lookup("RATE_LIMIT_ADDRESS_PER_HOUR") {
                    None => 300,
                    Some(raw) => raw
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| ConfigError::Invalid {
                            name: "RATE_LIMIT_ADDRESS_PER_HOUR",
                            reason: "expected a whole number (0 turns the limit off)".into(),
                        })?,
                },
                sends: count("RATE_LIMIT_SENDS", 30)?,
                send_window: seconds("RATE_LIMIT_SEND_WINDOW_SECONDS", 10)?,
                uploads_per_minute: count("RATE_LIMIT_UPLOADS_PER_MINUTE", 30)?,
                sockets_per_user: count("WEBSOCKETS_PER_USER_MAX", 10)?,
            },
            oidc,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_apply() {
        let config = Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET)]));
        let config = config.map_err(|e| e.to_string());
        let config = config.as_ref().map_err(String::as_str);
        assert!(config.is_ok(), "{config:?}");
        if let Ok(config) = config {
            assert_eq!(config.access_token_ttl, Duration::from_secs(1800));
            assert_eq!(config.refresh_token_ttl, Duration::from_secs(604_800));
            assert_eq!(config.ws_ticket_ttl, Duration::from_secs(60));
            assert!(!config.log_json);
            assert_eq!(
                config.channels_per_workspace_max,
                DEFAULT_CHANNELS_PER_WORKSPACE_MAX
            );
            assert!(config.password_hash_concurrency >= 1);
            assert_eq!(
                config.password_hash_queue,
                config.password_hash_concurrency * PASSWORD_HASH_QUEUE_PER_SLOT
            );
            assert_eq!(
                config.websocket_post_concurrency,
                DEFAULT_WEBSOCKET_POST_CONCURRENCY
            );
        }
    }

    #[test]
    fn the_post_concurrency_is_configurable() {
        let with = |value: &str| {
            Config::from_lookup(lookup(&[
                ("TABLE_NAME", "t"),
                ("JWT_SECRET", SECRET),
                ("WEBSOCKET_POST_CONCURRENCY", value),
            ]))
            .map(|c| c.websocket_post_concurrency)
        };
        assert!(matches!(with("128"), Ok(128)));
        for bad in ["0", "-3", "all"] {
            assert!(
                matches!(
                    with(bad),
                    Err(ConfigError::Invalid {
                        name: "WEBSOCKET_POST_CONCURRENCY",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_hashing_bound_is_configurable() {
        let config = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("PASSWORD_HASH_CONCURRENCY", "3"),
            ("PASSWORD_HASH_QUEUE", "0"),
        ]));
        let bound = config.map(|c| (c.password_hash_concurrency, c.password_hash_queue));
        assert!(matches!(bound, Ok((3, 0))), "{bound:?}");
        for (name, value) in [
            ("PASSWORD_HASH_CONCURRENCY", "0"),
            ("PASSWORD_HASH_CONCURRENCY", "many"),
            ("PASSWORD_HASH_QUEUE", "-1"),
        ] {
            let refused = Config::from_lookup(lookup(&[
                ("TABLE_NAME", "t"),
                ("JWT_SECRET", SECRET),
                (name, value),
            ]));
            assert!(
                matches!(refused, Err(ConfigError::Invalid { name: n, .. }) if n == name),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn short_secret_and_missing_table_are_refused() {
        let short = Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("JWT_SECRET", "short")]));
        assert!(matches!(
            short,
            Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                ..
            })
        ));
        let missing = Config::from_lookup(lookup(&[("JWT_SECRET", SECRET)]));
        assert!(matches!(missing, Err(ConfigError::Missing("TABLE_NAME"))));
        let bad_ttl = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("ACCESS_TOKEN_TTL_SECONDS", "soon"),
        ]));
        assert!(matches!(bad_ttl, Err(ConfigError::Invalid { .. })));
        for bad in ["0", "-1", "many"] {
            let bad_limit = Config::from_lookup(lookup(&[
                ("TABLE_NAME", "t"),
                ("JWT_SECRET", SECRET),
                ("CHANNELS_PER_WORKSPACE_MAX", bad),
            ]));
            assert!(
                matches!(
                    bad_limit,
                    Err(ConfigError::Invalid {
                        name: "CHANNELS_PER_WORKSPACE_MAX",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_identity_provider_needs_issuer_and_audience() {
        let base = [("TABLE_NAME", "t"), ("JWT_SECRET", SECRET)];
        let with = |extra: &[(&str, &str)]| {
            let pairs: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
            Config::from_lookup(lookup(&pairs)).map(|config| config.oidc)
        };
        assert!(matches!(with(&[]), Ok(None)));
        // The template passes empty values when the feature is off.
        assert!(matches!(
            with(&[
                ("OIDC_ISSUER", ""),
                ("OIDC_AUDIENCE", ""),
                ("OIDC_JWKS_URL", "")
            ]),
            Ok(None)
        ));
        let cognito = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc";
        let oidc = with(&[("OIDC_ISSUER", cognito), ("OIDC_AUDIENCE", "client")])
            .unwrap()
            .unwrap();
        assert_eq!(oidc.issuer, cognito);
        assert_eq!(oidc.audience, "client");
        assert_eq!(oidc.jwks_url, None);
        assert_eq!(oidc.jwks_refetch_interval, Duration::from_secs(60));
        assert!(matches!(
            with(&[("OIDC_ISSUER", cognito)]),
            Err(ConfigError::Missing("OIDC_AUDIENCE"))
        ));
        assert!(matches!(
            with(&[("OIDC_AUDIENCE", "client")]),
            Err(ConfigError::Missing("OIDC_ISSUER"))
        ));
        for (name, issuer, jwks) in [
            ("OIDC_ISSUER", "http://idp.example.com", ""),
            ("OIDC_ISSUER", "not a url", ""),
            ("OIDC_ISSUER", "huddle", ""),
            ("OIDC_JWKS_URL", cognito, "http://idp.example.com/jwks.json"),
            ("OIDC_JWKS_URL", cognito, "file:///etc/keys"),
        ] {
            let refused = with(&[
                ("OIDC_ISSUER", issuer),
                ("OIDC_AUDIENCE", "client"),
                ("OIDC_JWKS_URL", jwks),
            ]);
            assert!(
                matches!(refused, Err(ConfigError::Invalid { name: n, .. }) if n == name),
                "{issuer} {jwks}: {refused:?}"
            );
        }
        let local = with(&[
            ("OIDC_ISSUER", "http://127.0.0.1:4444"),
            ("OIDC_AUDIENCE", "api"),
            ("OIDC_JWKS_URL", "http://localhost:4444/keys"),
            ("OIDC_JWKS_REFETCH_SECONDS", "2"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            local.jwks_url.as_deref(),
            Some("http://localhost:4444/keys")
        );
        assert_eq!(local.jwks_refetch_interval, Duration::from_secs(2));
    }

    #[test]
    fn debug_redacts_the_secret() {
        let config = Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET)]));
        let printed = format!("{config:?}");
        assert!(!printed.contains(SECRET));
    }
}
