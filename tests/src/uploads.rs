//! File uploads for the tests: upload instructions, presigned PUTs and completion.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{Api, Reply, TestUser};

/// An HTTP client that does not follow redirects (for presigned URLs and downloads).
pub fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// PUTs `body` to upload instructions, sending the signed headers except the length (the
/// client sets that from the body) and with `content_type` in place of the signed one.
pub async fn put_upload(upload: &Value, body: Vec<u8>, content_type: Option<&str>) -> StatusCode {
    let mut request = raw_client().put(upload["url"].as_str().unwrap());
    for (name, value) in upload["headers"].as_object().unwrap() {
        if name == "content-length" || (name == "content-type" && content_type.is_some()) {
            continue;
        }
        request = request.header(name, value.as_str().unwrap());
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.body(body).send().await.unwrap().status()
}

/// Asks for upload instructions for a channel attachment.
pub async fn request_upload(
    api: &Api,
    user: &TestUser,
    channel: &str,
    filename: &str,
    content_type: &str,
    size: usize,
) -> Reply {
    api.post(
        &format!("/v1/channels/{channel}/uploads"),
        user.token(),
        json!({"filename": filename, "content_type": content_type, "size": size}),
    )
    .await
}

/// Asks for avatar upload instructions (201); returns them (`file_id`, `upload`, ...).
pub async fn request_avatar(api: &Api, user: &TestUser, content_type: &str, size: usize) -> Value {
    let body = json!({"content_type": content_type, "size": size});
    api.must_post("/v1/users/me/avatar", user, body, StatusCode::CREATED)
        .await
}

/// Asks for a PNG avatar upload and PUTs `png`; returns the file id, not yet completed.
pub async fn stage_avatar(api: &Api, user: &TestUser, png: &[u8]) -> String {
    stage_typed_avatar(api, user, "image/png", png).await
}

/// Asks for an avatar upload of `content_type` and PUTs `body`; returns the file id, not
/// yet completed.
pub async fn stage_typed_avatar(
    api: &Api,
    user: &TestUser,
    content_type: &str,
    body: &[u8],
) -> String {
    let ticket = request_avatar(api, user, content_type, body.len()).await;
    assert_eq!(
        put_upload(&ticket["upload"], body.to_vec(), None).await,
        StatusCode::OK
    );
    ticket["file_id"].as_str().unwrap().to_owned()
}

/// Completes an upload as `user` (200); returns the file.
pub async fn complete_upload(api: &Api, user: &TestUser, file_id: &str) -> Value {
    let path = format!("/v1/files/{file_id}/complete");
    api.must_post(&path, user, json!({}), StatusCode::OK).await
}

/// Uploads and completes a text file; returns its view.
pub async fn upload_file(
    api: &Api,
    user: &TestUser,
    channel: &str,
    filename: &str,
    body: &[u8],
) -> Value {
    upload_typed(api, user, channel, filename, "text/plain", body).await
}

/// Uploads and completes a file declared as `content_type`; returns its view.
pub async fn upload_typed(
    api: &Api,
    user: &TestUser,
    channel: &str,
    filename: &str,
    content_type: &str,
    body: &[u8],
) -> Value {
    let ticket = request_upload(api, user, channel, filename, content_type, body.len()).await;
    assert_eq!(ticket.status, StatusCode::CREATED, "{:?}", ticket.body);
    assert_eq!(
        put_upload(&ticket.body["upload"], body.to_vec(), None).await,
        StatusCode::OK
    );
    complete_upload(api, user, ticket.body["file_id"].as_str().unwrap()).await
}
