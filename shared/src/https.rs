//! Huddle's HTTPS client: hyper over rustls on ring with the system's trust roots, HTTP/1.1.
//! Huddle's own requests (an identity provider's key set, the file bucket's S3 requests,
//! posts to WebSocket connections) use it directly, and the AWS SDK's clients through
//! [`sdk::sdk_client`]. Each owner builds its own on first use and keeps its pool: a pooled
//! connection's task lives on the runtime that opened it, so a pool is not shared across
//! runtimes. Plain http is allowed too, for this machine's local stack; callers decide which
//! URLs they accept.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::sync::OnceCell;

/// The connect timeout the SDK's clients use too (`aws_config::defaults`' value).
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// How long an idle pooled connection is kept (the SDK's client's value).
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The client's type. Every caller sends `Full` bodies (an empty one for a GET), so the
/// client's code is in each binary once.
pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A pooled HTTP/1.1 client, built on first use and then shared by every clone: building
/// reads the trust roots, which never happens at cold start this way.
#[derive(Debug, Clone)]
pub struct LazyClient {
    connect_timeout: Duration,
    client: Arc<OnceCell<HttpsClient>>,
}

impl Default for LazyClient {
    fn default() -> Self {
        Self::with_connect_timeout(CONNECT_TIMEOUT)
    }
}

impl LazyClient {
    /// A client whose connections give up connecting after `connect_timeout`.
    pub fn with_connect_timeout(connect_timeout: Duration) -> Self {
        Self {
            connect_timeout,
            client: Arc::default(),
        }
    }

    /// The client, built now if this is the first call.
    pub async fn get(&self) -> anyhow::Result<&HttpsClient> {
        self.client
            .get_or_try_init(|| async { client_with(self.connect_timeout) })
            .await
    }
}

/// A pooled HTTP/1.1 client with this connect timeout.
fn client_with(connect_timeout: Duration) -> anyhow::Result<HttpsClient> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
        .context("loading the system's trust roots")?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    // As the SDK's own client: a pool timer, and idle connections kept for 90 s.
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build(connector))
}

/// The AWS SDK's HTTP client ([`sdk_client`]): a [`LazyClient`] behind the SDK's `HttpClient`
/// interface, so the SDK's calls and Huddle's own requests share one hyper and rustls
/// build, HTTP/1.1 only. The SDK's own client (`aws-smithy-http-client`) always links
/// HTTP/2 (hyper's and the h2 crate), which DynamoDB's HTTP/1.1 calls never use: about a
/// tenth of each function's code.
pub mod sdk {
    use std::collections::HashMap;
    use std::sync::{Mutex, PoisonError};
    use std::time::Duration;

    use super::{CONNECT_TIMEOUT, LazyClient};
    use aws_smithy_runtime_api::box_error::BoxError;
    use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
        SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::retry::ErrorKind;
    use bytes::Bytes;
    use http_body_util::Full;

    /// The client to give the SDK's configuration. Its connections are opened on the first
    /// call (the trust roots are read then), never at cold start.
    pub fn sdk_client() -> SharedHttpClient {
        SharedHttpClient::new(SdkHttpClient::default())
    }

    /// One connector per pair of timeouts the SDK asks for (in practice one: the
    /// configuration's), kept, since the SDK asks for a connector on every attempt.
    #[derive(Debug, Default)]
    struct SdkHttpClient {
        connectors: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
    }

    /// The connect and read timeouts of the SDK's connector settings.
    type Timeouts = (Option<Duration>, Option<Duration>);

    impl HttpClient for SdkHttpClient {
        fn http_connector(
            &self,
            settings: &HttpConnectorSettings,
            _components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            let timeouts = (settings.connect_timeout(), settings.read_timeout());
            let mut connectors = self
                .connectors
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            connectors
                .entry(timeouts)
                .or_insert_with(|| {
                    SharedHttpConnector::new(Connector {
                        read_timeout: timeouts.1,
                        client: LazyClient::with_connect_timeout(
                            timeouts.0.unwrap_or(CONNECT_TIMEOUT),
                        ),
                    })
                })
                .clone()
        }

        fn connector_metadata(&self) -> Option<ConnectorMetadata> {
            Some(ConnectorMetadata::new("hyper", Some("1.x".into())))
        }
    }

    /// Sends the SDK's requests over one pooled client, built on the first call.
    #[derive(Debug, Clone)]
    struct Connector {
        /// The most a response's head may take, when the configuration sets it.
        read_timeout: Option<Duration>,
        client: LazyClient,
    }

    impl HttpConnector for Connector {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let request = match buffered(request) {
                Ok(request) => request,
                Err(error) => return HttpConnectorFuture::ready(Err(ConnectorError::user(error))),
            };
            let connector = self.clone();
            HttpConnectorFuture::new(async move {
                let client = connector
                    .client
                    .get()
                    .await
                    .map_err(|error| ConnectorError::other(error.into(), None))?;
                let response = client.request(request);
                let response = match connector.read_timeout {
                    Some(limit) => tokio::time::timeout(limit, response)
                        .await
                        .map_err(|elapsed| ConnectorError::timeout(elapsed.into()))?,
                    None => response.await,
                }
                .map_err(classified)?;
                HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|error| ConnectorError::other(error.into(), None))
            })
        }
    }

    /// The SDK's request with its body in one buffer, as every DynamoDB request's is (a
    /// streaming body is refused, not read).
    fn buffered(request: HttpRequest) -> Result<http::Request<Full<Bytes>>, BoxError> {
        let (parts, body) = request.try_into_http1x()?.into_parts();
        let bytes = body
            .bytes()
            .ok_or("this client sends only request bodies held in memory")?;
        Ok(http::Request::from_parts(
            parts,
            Full::new(Bytes::copy_from_slice(bytes)),
        ))
    }

    /// The SDK's kind of a failed exchange, as its own hyper client classifies them, so its
    /// retry strategy decides the same: a failed connection, a closed or cancelled one, or
    /// any I/O error is transient I/O; an incomplete answer is transient; a timeout is a
    /// timeout.
    fn classified(error: hyper_util::client::legacy::Error) -> ConnectorError {
        if error.is_connect() || source::<std::io::Error>(&error).is_some() {
            return ConnectorError::io(error.into());
        }
        if let Some(hyper) = source::<hyper::Error>(&error) {
            if hyper.is_timeout() {
                return ConnectorError::timeout(error.into());
            }
            if hyper.is_user() {
                return ConnectorError::user(error.into());
            }
            if hyper.is_closed() || hyper.is_canceled() {
                return ConnectorError::io(error.into());
            }
            if hyper.is_incomplete_message() {
                return ConnectorError::other(error.into(), Some(ErrorKind::TransientError));
            }
        }
        ConnectorError::other(error.into(), None)
    }

    /// The first error of type `E` in `error`'s chain of sources, itself included.
    fn source<'a, E: std::error::Error + 'static>(
        error: &'a (dyn std::error::Error + 'static),
    ) -> Option<&'a E> {
        let mut next = Some(error);
        while let Some(error) = next {
            if let Some(found) = error.downcast_ref::<E>() {
                return Some(found);
            }
            next = error.source();
        }
        None
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio::net::TcpListener;

        fn connector(read_timeout: Option<Duration>) -> Connector {
            Connector {
                read_timeout,
                client: LazyClient::default(),
            }
        }

        fn post(url: &str, body: SdkBody) -> HttpRequest {
            let request = http::Request::post(url)
                .header("x-amz-target", "DynamoDB_20120810.GetItem")
                .body(body)
                .expect("a request");
            HttpRequest::try_from(request).expect("an SDK request")
        }

        /// A server that takes one connection, reads one request and hands it and the
        /// socket to `then`.
        async fn one_exchange<F, Fut>(then: F) -> String
        where
            F: FnOnce(String, tokio::net::TcpStream) -> Fut + Send + 'static,
            Fut: std::future::Future<Output = ()> + Send,
        {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
            let address = listener.local_addr().expect("an address");
            tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.expect("a connection");
                let mut read = Vec::new();
                let mut buffer = [0u8; 4096];
                // The request's head, then its 12-byte body.
                while !String::from_utf8_lossy(&read).contains("\r\n\r\n{\"a\":\"one\"}") {
                    let n = socket.read(&mut buffer).await.expect("a read");
                    if n == 0 {
                        break;
                    }
                    read.extend_from_slice(&buffer[..n]);
                }
                then(String::from_utf8_lossy(&read).into_owned(), socket).await;
            });
            format!("http://{address}/")
        }

        #[tokio::test]
        async fn a_request_and_its_answer_pass_through_whole() {
            let (seen, heard) = tokio::sync::oneshot::channel();
            let url = one_exchange(|request, mut socket| async move {
                let _ = seen.send(request);
                let answer = "HTTP/1.1 200 OK\r\ncontent-length: 9\r\nx-amzn-requestid: r1\r\n\r\n{\"b\":\"2\"}";
                socket.write_all(answer.as_bytes()).await.expect("a write");
            })
            .await;
            let response = connector(None)
                .call(post(&url, SdkBody::from("{\"a\":\"one\"}")))
                .await
                .expect("an answer");
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(response.headers().get("x-amzn-requestid"), Some("r1"));
            assert_eq!(response.body().bytes(), None, "the body streams");
            let body = http_body_util::BodyExt::collect(response.into_body())
                .await
                .expect("the body")
                .to_bytes();
            assert_eq!(&body[..], b"{\"b\":\"2\"}");
            let request = heard.await.expect("the request");
            assert!(request.starts_with("POST / HTTP/1.1\r\n"), "{request}");
            assert!(
                request.contains("x-amz-target: DynamoDB_20120810.GetItem\r\n"),
                "{request}"
            );
            assert!(request.ends_with("\r\n\r\n{\"a\":\"one\"}"), "{request}");
        }

        #[tokio::test]
        async fn a_refused_connection_is_transient_io() {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
            let address = listener.local_addr().expect("an address");
            drop(listener);
            let error = connector(None)
                .call(post(&format!("http://{address}/"), SdkBody::from("{}")))
                .await
                .expect_err("nobody listens");
            assert!(error.is_io(), "{error:?}");
        }

        #[tokio::test]
        async fn a_connection_closed_before_the_answer_is_transient() {
            let url = one_exchange(|_, socket| async move { drop(socket) }).await;
            let error = connector(None)
                .call(post(&url, SdkBody::from("{\"a\":\"one\"}")))
                .await
                .expect_err("no answer");
            assert!(
                error.is_io() || error.as_other() == Some(ErrorKind::TransientError),
                "{error:?}"
            );
        }

        #[tokio::test]
        async fn an_answer_later_than_the_read_timeout_is_a_timeout() {
            let url = one_exchange(|_, socket| async move {
                tokio::time::sleep(Duration::from_secs(30)).await;
                drop(socket);
            })
            .await;
            let error = connector(Some(Duration::from_millis(50)))
                .call(post(&url, SdkBody::from("{\"a\":\"one\"}")))
                .await
                .expect_err("no answer in time");
            assert!(error.is_timeout(), "{error:?}");
        }

        #[tokio::test]
        async fn a_streaming_body_is_refused_unread() {
            let stream =
                SdkBody::from_body_1_x(http_body_util::Full::new(Bytes::from_static(b"{}")));
            let error = connector(None)
                .call(post("http://127.0.0.1:9/", stream))
                .await
                .expect_err("refused");
            assert!(error.is_user(), "{error:?}");
        }
    }
}
