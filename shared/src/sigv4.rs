//! SigV4 signing for the AWS requests Huddle makes without an SDK client: the SDK's own
//! signing crate, given each service's name and settings ([`sign_request`], the file
//! bucket's S3 requests), and [`HeaderSigner`] for the requests signed by the thousand
//! (posts to WebSocket connections), with the credentials from the SDK's configuration.

use std::borrow::Cow;
use std::time::SystemTime;

use anyhow::{Context, anyhow};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a path segment or query value keeps unencoded in a signed request: RFC 3986's
/// unreserved characters (SigV4's canonical form, and the SDK's encoding of a path label).
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Signs `request` (its method, URI and headers, and `body`) for `service` in `region` at
/// `time`, with `settings`; the signature goes where `settings` say (headers or query).
pub fn sign_request<B>(
    request: &mut http::Request<B>,
    body: SignableBody<'_>,
    service: &str,
    settings: SigningSettings,
    credentials: Credentials,
    region: &str,
    time: SystemTime,
) -> anyhow::Result<()> {
    let identity: Identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .with_context(|| format!("{service} signing parameters"))?
        .into();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            value
                .to_str()
                .map(|value| (name.as_str(), value))
                .with_context(|| format!("the header {name} is not text"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(request.method().as_str(), &uri, headers.into_iter(), body)
        .context("an unsignable request")?;
    let (instructions, _signature) = sign(signable, &params)
        .with_context(|| format!("signing a {service} request"))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// Sets `request`'s `Host` header from its URI (SigV4 signs the host, so it is there
/// before signing, exactly as it will be sent).
pub fn set_host<B>(request: &mut http::Request<B>) -> anyhow::Result<()> {
    let host = request
        .uri()
        .authority()
        .ok_or_else(|| anyhow!("{} has no host", request.uri()))?
        .as_str()
        .parse::<http::HeaderValue>()
        .context("the request's host")?;
    request.headers_mut().insert(http::header::HOST, host);
    Ok(())
}

/// The current credentials from the configuration's provider (cached by the provider).
pub async fn credentials(
    provider: Option<&SharedCredentialsProvider>,
) -> anyhow::Result<Credentials> {
    provider
        .ok_or_else(|| anyhow!("no credentials in the environment"))?
        .provide_credentials()
        .await
        .map_err(|error| anyhow!("no credentials: {error}"))
}

/// The region to sign for.
pub fn region(region: Option<&str>) -> anyhow::Result<&str> {
    region.ok_or_else(|| anyhow!("no region (AWS_REGION) to sign for"))
}

/// The headers the SDK's default settings leave unsigned (they change on the way, or are
/// the signature itself).
const UNSIGNED_HEADERS: [&str; 4] = [
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "transfer-encoding",
];
const X_AMZ_DATE: &str = "x-amz-date";
const X_AMZ_SECURITY_TOKEN: &str = "x-amz-security-token";
/// What a signed path keeps unencoded the second time it is encoded: the unreserved
/// characters and `/` (the SDK's "greedy label" encoding).
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// SigV4 in headers with the SDK's default settings ([`SigningSettings::default`]: the path
/// normalized and encoded twice, no payload-hash header, the session token signed), for
/// requests signed by the thousand: the WebSocket fan-out signs one post per connection.
///
/// [`sign_request`] builds each request's canonical form from parsed parts through the
/// SDK's general signer and derives the signing key anew; a profile of a 1,000-socket
/// fan-out had that at 13-14 % of the gateway's CPU. This writes the canonical request
/// into one buffer and keeps the signing key for the day it was derived for (with the
/// region and credentials it was derived from). A request it would not sign the general
/// way without more of the general signer's rules (a query, a path to normalize, a header
/// given twice, signing headers already set, no `Host`) goes to [`sign_request`], so the
/// signature is always the general signer's, byte for byte (tested).
#[derive(Debug)]
pub struct HeaderSigner {
    service: &'static str,
    day_key: std::sync::Mutex<Option<DayKey>>,
}

/// A signing key and what it was derived from.
struct DayKey {
    day: String,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    key: ring::hmac::Key,
}

impl std::fmt::Debug for DayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DayKey")
            .field("day", &self.day)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl HeaderSigner {
    /// A signer for `service` (its signing name, e.g. `execute-api`).
    pub fn new(service: &'static str) -> Self {
        Self {
            service,
            day_key: std::sync::Mutex::new(None),
        }
    }

    /// Signs `request` (its method, path and headers, and `body`) for this service in
    /// `region` at `time`: sets `X-Amz-Date`, `X-Amz-Security-Token` (with a session
    /// token) and `Authorization`, as [`sign_request`] with [`SigningSettings::default`].
    pub fn sign<B>(
        &self,
        request: &mut http::Request<B>,
        body: &[u8],
        credentials: &Credentials,
        region: &str,
        time: SystemTime,
    ) -> anyhow::Result<()> {
        let Some(canonical) = CanonicalParts::of(request) else {
            return sign_request(
                request,
                SignableBody::Bytes(body),
                self.service,
                SigningSettings::default(),
                credentials.clone(),
                region,
                time,
            );
        };
        let time = chrono::DateTime::<chrono::Utc>::from(time);
        let day = time.format("%Y%m%d").to_string();
        let date_time = time.format("%Y%m%dT%H%M%SZ").to_string();
        let token = credentials.session_token();

        // The signed headers: the request's and the two the signature adds, in name order.
        let mut headers = canonical.headers;
        headers.push((X_AMZ_DATE, Cow::Borrowed(date_time.as_str())));
        if let Some(token) = token {
            headers.push((X_AMZ_SECURITY_TOKEN, Cow::Borrowed(token)));
        }
        headers.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut signed_headers = String::with_capacity(headers.len() * 16);
        for (index, (name, _)) in headers.iter().enumerate() {
            if index > 0 {
                signed_headers.push(';');
            }
            signed_headers.push_str(name);
        }

        let mut canonical_request = String::with_capacity(512);
        canonical_request.push_str(canonical.method);
        canonical_request.push('\n');
        canonical_request.extend(utf8_percent_encode(canonical.path, UNRESERVED_AND_SLASH));
        canonical_request.push_str("\n\n");
        for (name, value) in &headers {
            canonical_request.push_str(name);
            canonical_request.push(':');
            canonical_request.push_str(value);
            canonical_request.push('\n');
        }
        canonical_request.push('\n');
        canonical_request.push_str(&signed_headers);
        canonical_request.push('\n');
        canonical_request.push_str(&hex(
            ring::digest::digest(&ring::digest::SHA256, body).as_ref()
        ));

        let scope = format!("{day}/{region}/{}/aws4_request", self.service);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
            hex(ring::digest::digest(&ring::digest::SHA256, canonical_request.as_bytes()).as_ref())
        );
        let key = self.signing_key(&day, region, credentials)?;
        let signature = hex(ring::hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id()
        );

        let sensitive = |value: &str| {
            http::HeaderValue::from_str(value).map(|mut value| {
                value.set_sensitive(true);
                value
            })
        };
        let date_time = http::HeaderValue::from_str(&date_time).context("the signing time")?;
        let token = token
            .map(sensitive)
            .transpose()
            .context("the session token is not a header value")?;
        let authorization = sensitive(&authorization).context("the authorization header")?;
        let target = request.headers_mut();
        target.insert(X_AMZ_DATE, date_time);
        if let Some(token) = token {
            target.insert(X_AMZ_SECURITY_TOKEN, token);
        }
        target.insert(http::header::AUTHORIZATION, authorization);
        Ok(())
    }

    /// The signing key for `day` in `region` with `credentials`: the one kept, if derived
    /// from the same, else derived now (and kept).
    fn signing_key(
        &self,
        day: &str,
        region: &str,
        credentials: &Credentials,
    ) -> anyhow::Result<ring::hmac::Key> {
        let mut kept = self
            .day_key
            .lock()
            .map_err(|_| anyhow!("the signing key's lock is poisoned"))?;
        if let Some(kept) = kept.as_ref().filter(|kept| {
            kept.day == day
                && kept.region == region
                && kept.access_key_id == credentials.access_key_id()
                && kept.secret_access_key == credentials.secret_access_key()
        }) {
            return Ok(kept.key.clone());
        }
        let hmac = |key: &[u8], data: &str| {
            ring::hmac::sign(
                &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
                data.as_bytes(),
            )
        };
        let secret = format!("AWS4{}", credentials.secret_access_key());
        let key = hmac(secret.as_bytes(), day);
        let key = hmac(key.as_ref(), region);
        let key = hmac(key.as_ref(), self.service);
        let key = hmac(key.as_ref(), "aws4_request");
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_ref());
        *kept = Some(DayKey {
            day: day.to_owned(),
            region: region.to_owned(),
            access_key_id: credentials.access_key_id().to_owned(),
            secret_access_key: credentials.secret_access_key().to_owned(),
            key: key.clone(),
        });
        Ok(key)
    }
}

/// What [`HeaderSigner`] signs of a request, when it signs it the general signer's way
/// without more of its rules.
struct CanonicalParts<'a> {
    method: &'a str,
    path: &'a str,
    /// The signed headers the request carries: lowercase names, values trimmed.
    headers: Vec<(&'a str, Cow<'a, str>)>,
}

impl<'a> CanonicalParts<'a> {
    fn of<B>(request: &'a http::Request<B>) -> Option<Self> {
        let uri = request.uri();
        let path = uri.path();
        let plain_path = path.starts_with('/') && !path.contains('.') && !path.contains("//");
        let fields = request.headers();
        if uri.query().is_some()
            || !plain_path
            || fields.len() != fields.keys_len()
            || !fields.contains_key(http::header::HOST)
            || fields.contains_key(X_AMZ_DATE)
            || fields.contains_key(X_AMZ_SECURITY_TOKEN)
        {
            return None;
        }
        let mut headers = Vec::with_capacity(fields.len() + 2);
        for (name, value) in fields {
            let name = name.as_str();
            if UNSIGNED_HEADERS.contains(&name) {
                continue;
            }
            headers.push((name, trim_spaces(value.to_str().ok()?)));
        }
        Some(Self {
            method: request.method().as_str(),
            path,
            headers,
        })
    }
}

/// A header value as SigV4 signs it: without spaces at either end, and each run of spaces
/// within one space (only spaces: other whitespace stays).
fn trim_spaces(value: &str) -> Cow<'_, str> {
    let value = value.trim_matches(' ');
    if !value.contains("  ") {
        return Cow::Borrowed(value);
    }
    let mut trimmed = String::with_capacity(value.len());
    let mut after_space = false;
    for character in value.chars() {
        if character == ' ' && after_space {
            continue;
        }
        after_space = character == ' ';
        trimmed.push(character);
    }
    Cow::Owned(trimmed)
}

/// Lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use proptest::prelude::*;

    use super::*;

    const SERVICE: &str = "execute-api";

    fn credentials(token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_owned),
            None,
            "test",
        )
    }

    fn post(uri: &str, headers: &[(&str, &str)], body: &[u8]) -> http::Request<()> {
        let mut request = http::Request::post(uri)
            .header(http::header::CONTENT_TYPE, "application/octet-stream")
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(())
            .expect("a request");
        set_host(&mut request).expect("a host");
        for (name, value) in headers {
            request.headers_mut().append(
                http::HeaderName::from_bytes(name.as_bytes()).expect("a name"),
                http::HeaderValue::from_str(value).expect("a value"),
            );
        }
        request
    }

    /// The headers `signer` and the general signer give the same request, in that order.
    fn both_ways(
        signer: &HeaderSigner,
        request: &http::Request<()>,
        body: &[u8],
        credentials: &Credentials,
        region: &str,
        time: SystemTime,
    ) -> (http::HeaderMap, http::HeaderMap) {
        let mut lean = http::Request::from_parts(request.clone().into_parts().0, ());
        signer
            .sign(&mut lean, body, credentials, region, time)
            .expect("signed the lean way");
        let mut general = http::Request::from_parts(request.clone().into_parts().0, ());
        sign_request(
            &mut general,
            SignableBody::Bytes(body),
            SERVICE,
            SigningSettings::default(),
            credentials.clone(),
            region,
            time,
        )
        .expect("signed the general way");
        (lean.headers().clone(), general.headers().clone())
    }

    #[test]
    fn a_post_is_signed_as_the_general_signer_signs_it() {
        let signer = HeaderSigner::new(SERVICE);
        let request = post(
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/@connections/L0SM9cOFvHcCIhw%3D",
            &[],
            b"{}",
        );
        for token in [None, Some("a-session-token")] {
            let (lean, general) = both_ways(
                &signer,
                &request,
                b"{}",
                &credentials(token),
                "eu-west-1",
                UNIX_EPOCH + Duration::from_secs(1_764_000_000),
            );
            assert_eq!(lean, general);
            assert_eq!(lean.contains_key(X_AMZ_SECURITY_TOKEN), token.is_some());
        }
        assert!(signed_the_lean_way(&signer), "the lean way kept its key");
    }

    /// Whether `signer` has signed a request itself (it keeps a key only then).
    fn signed_the_lean_way(signer: &HeaderSigner) -> bool {
        signer.day_key.lock().expect("the lock").is_some()
    }

    #[test]
    fn a_new_day_region_or_secret_derives_a_new_key() {
        let signer = HeaderSigner::new(SERVICE);
        let request = post("http://127.0.0.1:3000/@connections/abc%3D", &[], b"x");
        let day = UNIX_EPOCH + Duration::from_secs(1_764_000_000);
        let next_day = day + Duration::from_secs(86_400);
        let other_secret = Credentials::new("AKIDEXAMPLE", "another", None, None, "test");
        for (credentials, region, time) in [
            (credentials(None), "eu-west-1", day),
            (
                credentials(None),
                "eu-west-1",
                day + Duration::from_secs(60),
            ),
            (credentials(None), "eu-west-1", next_day),
            (credentials(None), "us-east-1", next_day),
            (other_secret, "us-east-1", next_day),
            (credentials(None), "eu-west-1", day),
        ] {
            let (lean, general) = both_ways(&signer, &request, b"x", &credentials, region, time);
            assert_eq!(lean, general, "{region} {time:?}");
        }
    }

    /// Signs a post to `uri` with `headers` both ways and checks they agree; whether a
    /// fresh signer signed it the lean way.
    fn signs_as_the_general_signer(uri: &str, headers: &[(&str, &str)]) -> bool {
        let signer = HeaderSigner::new(SERVICE);
        let time = UNIX_EPOCH + Duration::from_secs(1_764_000_000);
        let credentials = credentials(Some("t"));
        let request = post(uri, headers, b"body");
        let (lean, general) =
            both_ways(&signer, &request, b"body", &credentials, "eu-west-1", time);
        assert_eq!(lean, general, "{uri} {headers:?}");
        signed_the_lean_way(&signer)
    }

    #[test]
    fn requests_beyond_the_lean_shape_are_signed_the_general_way_and_the_rest_the_lean_way() {
        for (uri, headers) in [
            ("http://h/a/./b/../c", &[][..]),
            ("http://h/a//b", &[]),
            ("http://h/a?x=1&y=2", &[]),
            ("http://h/a", &[("x-custom", "one"), ("x-custom", "two")]),
            ("http://h/a", &[("x-amz-date", "20200101T000000Z")]),
            ("http://h/a", &[("x-amz-security-token", "set before")]),
        ] {
            assert!(
                !signs_as_the_general_signer(uri, headers),
                "{uri} {headers:?}"
            );
        }
        // Unsigned and spaced headers are within the lean shape.
        for headers in [
            &[("user-agent", "excluded"), ("x-amzn-trace-id", "too")][..],
            &[("x-spaced", "  a   b  c ")],
        ] {
            assert!(
                signs_as_the_general_signer("http://h/a", headers),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn header_values_lose_outer_spaces_and_runs_of_spaces_only() {
        assert_eq!(trim_spaces("  a   b c  "), "a b c");
        assert_eq!(trim_spaces("a\t\tb"), "a\t\tb");
        assert_eq!(trim_spaces("plain"), "plain");
        assert_eq!(hex(&[0x00, 0x7f, 0xab, 0xff]), "007fabff");
    }

    proptest! {
        #[test]
        fn any_connection_id_body_token_and_moment_sign_as_the_general_signer(
            id in "\\PC{1,40}",
            body in proptest::collection::vec(any::<u8>(), 0..300),
            token in proptest::option::of("[A-Za-z0-9+/=]{1,60}"),
            seconds in 0u64..4_000_000_000,
            stage in "(|/prod|/my-stage)",
        ) {
            let signer = HeaderSigner::new(SERVICE);
            let uri = format!(
                "https://abc.execute-api.eu-west-1.amazonaws.com{stage}/@connections/{}",
                utf8_percent_encode(&id, UNRESERVED)
            );
            let request = post(&uri, &[], &body);
            let credentials = credentials(token.as_deref());
            let time = UNIX_EPOCH + Duration::from_secs(seconds);
            let (lean, general) = both_ways(&signer, &request, &body, &credentials, "eu-west-1", time);
            prop_assert_eq!(lean, general);
            // Ids with a `.` take the general way (the path could need normalizing).
            prop_assert_eq!(signed_the_lean_way(&signer), !id.contains('.'));
        }
    }
}
