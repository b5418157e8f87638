//! The file bucket's own S3 requests (`files::storage::s3`) against a scripted HTTP server
//! of the test's own rather than s3s-fs (the file tests cover that one): they retry what
//! the SDK's standard mode retries and nothing else, give up after three attempts, read
//! S3's ways of saying "no such object" (404, and a copy's 200 with an error inside), stop
//! reading at the size limit, and sign every attempt, with the session token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use huddle_shared::aws::sdk_config_from;
use huddle_shared::files::storage::s3::S3Storage;
use huddle_shared::files::storage::{ObjectInfo, ObjectRead, ObjectStore};

/// A request as the server received it.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
}

/// One scripted answer.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn answer(status: u16) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

#[derive(Default)]
struct Script {
    answers: VecDeque<Answer>,
    received: Vec<Received>,
}

type Shared = Arc<Mutex<Script>>;

async fn scripted(State(script): State<Shared>, request: Request) -> Response {
    let mut script = script.lock().unwrap();
    script.received.push(Received {
        method: request.method().clone(),
        path: request.uri().path().to_owned(),
        headers: request.headers().clone(),
    });
    let answer = script.answers.pop_front().unwrap_or_else(|| answer(599));
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap(),
        Bytes::from(answer.body),
    )
        .into_response();
    for (name, value) in answer.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// A server on 127.0.0.1 answering with `answers` in turn, and a bucket on it.
async fn bucket_on(answers: Vec<Answer>) -> (S3Storage, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        answers: answers.into(),
        received: Vec::new(),
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(scripted).with_state(script.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let sdk_config = sdk_config_from([
        ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "AKIDTEST".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "secret".to_owned()),
        ("AWS_SESSION_TOKEN".to_owned(), "session-token".to_owned()),
        ("AWS_ENDPOINT_URL_S3".to_owned(), endpoint),
    ]);
    let storage = S3Storage::for_bucket(&sdk_config, "files".to_owned(), true, false).unwrap();
    (storage, script)
}

fn received(script: &Shared) -> Vec<Received> {
    script.lock().unwrap().received.clone()
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_and_every_attempt_is_signed() {
    let found = Answer {
        status: 200,
        headers: vec![
            ("content-length", "0".to_owned()),
            ("content-type", "image/png".to_owned()),
        ],
        body: Vec::new(),
    };
    let (bucket, script) = bucket_on(vec![answer(503), answer(429), found]).await;
    // A HEAD's answer has no body: the length S3 declares is the object's.
    let info = bucket.head("pending/F1").await.unwrap().unwrap();
    assert_eq!(
        info,
        ObjectInfo {
            size: 0,
            content_type: Some("image/png".into())
        }
    );
    let requests = received(&script);
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(request.method, Method::HEAD);
        assert_eq!(request.path, "/files/pending/F1");
        let authorization = request.headers["authorization"].to_str().unwrap();
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
                && authorization.contains("/eu-west-1/s3/aws4_request"),
            "{authorization}"
        );
        assert_eq!(request.headers["x-amz-security-token"], "session-token");
        assert!(request.headers.contains_key("x-amz-content-sha256"));
    }
}

#[tokio::test]
async fn three_failed_attempts_are_an_error_and_refusals_are_not_retried() {
    let (bucket, script) = bucket_on(vec![answer(500), answer(502), answer(503)]).await;
    assert!(bucket.head("k").await.is_err());
    assert_eq!(received(&script).len(), 3, "three attempts, no more");

    let (bucket, script) = bucket_on(vec![answer(403)]).await;
    assert!(bucket.delete("k").await.is_err());
    assert_eq!(received(&script).len(), 1, "a refusal is final");
}

#[tokio::test]
async fn missing_objects_are_read_as_missing() {
    let (bucket, _) = bucket_on(vec![answer(404), answer(404), answer(404)]).await;
    assert_eq!(bucket.head("k").await.unwrap(), None);
    assert_eq!(
        bucket.read_limited("k", 10).await.unwrap(),
        ObjectRead::Missing
    );
    bucket.delete("k").await.unwrap();

    // A copy may answer 200 with S3's error inside.
    let gone = Answer {
        status: 200,
        headers: vec![("content-type", "application/xml".to_owned())],
        body: b"<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>".to_vec(),
    };
    let (bucket, script) = bucket_on(vec![gone, answer(200)]).await;
    assert!(!bucket.copy("pending/F1", "avatars/U1/F1").await.unwrap());
    assert!(bucket.copy("pending/F1", "avatars/U1/F1").await.unwrap());
    let requests = received(&script);
    assert_eq!(requests[0].method, Method::PUT);
    assert_eq!(requests[0].path, "/files/avatars/U1/F1");
    assert_eq!(requests[0].headers["x-amz-copy-source"], "files/pending/F1");
}

#[tokio::test]
async fn reads_stop_at_the_limit_and_writes_carry_their_type() {
    let object = |body: &[u8]| Answer {
        status: 200,
        headers: Vec::new(),
        body: body.to_vec(),
    };
    let (bucket, script) =
        bucket_on(vec![object(b"0123456789"), object(b"01234"), answer(200)]).await;
    assert_eq!(
        bucket.read_limited("k", 9).await.unwrap(),
        ObjectRead::TooLarge
    );
    assert_eq!(
        bucket.read_limited("k", 9).await.unwrap(),
        ObjectRead::Found(b"01234".to_vec())
    );
    bucket
        .put("k.thumbnail.jpg", vec![1, 2, 3], "image/jpeg")
        .await
        .unwrap();
    let put = received(&script).pop().unwrap();
    assert_eq!(put.method, Method::PUT);
    assert_eq!(put.headers["content-type"], "image/jpeg");
    assert_eq!(put.headers["content-disposition"], "inline");
    assert_eq!(put.headers["content-length"], "3");
    // The payload's hash is signed (SHA-256 of 01 02 03).
    assert_eq!(
        put.headers["x-amz-content-sha256"],
        "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81"
    );
}

#[tokio::test]
async fn presigned_urls_need_no_request() {
    let (bucket, script) = bucket_on(Vec::new()).await;
    let upload = bucket
        .presign_upload(
            "pending/F1",
            "text/plain",
            11,
            "attachment; filename=\"a b.txt\"",
            std::time::Duration::from_secs(900),
        )
        .await
        .unwrap();
    assert_eq!(upload.method, "PUT");
    assert!(upload.url.contains("/files/pending/F1?"), "{}", upload.url);
    assert!(
        upload.url.contains(
            "X-Amz-SignedHeaders=content-disposition%3Bcontent-length%3Bcontent-type%3Bhost"
        ),
        "{}",
        upload.url
    );
    assert!(upload.url.contains("X-Amz-Expires=900"));
    assert_eq!(upload.headers["content-length"], "11");
    let download = bucket
        .presign_download("pending/F1", "inline", std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert!(download.contains("response-content-disposition=inline&"));
    assert!(received(&script).is_empty());
}
