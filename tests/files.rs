//! Files against the real local stack and s3s-fs, which enforces presigned signatures:
//! S3 itself refuses uploads that differ from what was declared; the API refuses what it
//! must, and attachments, downloads, deletes and avatars work end to end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use huddle_tests::uploads::{
    complete_upload, put_upload, raw_client, request_upload, stage_avatar, upload_file,
};
use huddle_tests::{Api, TestUser, app_state};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-not-really-a-picture-";

#[tokio::test]
async fn an_upload_is_presigned_put_completed_and_downloaded() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let body = b"hello, file".to_vec();
    let ticket = request_upload(
        &api,
        &team.member,
        &team.general_id,
        "notes é.txt",
        "text/plain; charset=utf-8",
        body.len(),
    )
    .await;
    assert_eq!(ticket.status, StatusCode::CREATED, "{:?}", ticket.body);
    let upload = &ticket.body["upload"];
    assert_eq!(upload["method"], "PUT");
    let url = upload["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Signature="));
    let signed = url
        .split("X-Amz-SignedHeaders=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert!(
        signed.contains("content-length") && signed.contains("content-type"),
        "{signed}"
    );
    assert!(
        !url.contains("notes"),
        "object keys never carry the client's filename"
    );
    assert!(ticket.body["expires_at"].is_string());

    let file_id = ticket.body["file_id"].as_str().unwrap();
    let pending = api
        .get(&format!("/v1/files/{file_id}"), team.member.token())
        .await;
    assert_eq!(pending.body["status"], "pending");
    assert_eq!(pending.body["download_url"], Value::Null);
    let early = api
        .post(
            &format!("/v1/files/{file_id}/complete"),
            team.member.token(),
            json!({}),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "nothing uploaded yet");

    assert_eq!(put_upload(upload, body.clone(), None).await, StatusCode::OK);
    let completed = complete_upload(&api, &team.member, file_id).await;
    assert_eq!(completed["status"], "ready");
    assert_eq!(completed["size"], body.len());
    assert_eq!(completed["content_type"], "text/plain");
    assert_eq!(completed["filename"], "notes é.txt");
    assert_eq!(completed["channel_id"], team.general_id.as_str());
    // Completing again is harmless.
    complete_upload(&api, &team.member, file_id).await;

    let seen = api
        .get(&format!("/v1/files/{file_id}"), team.admin.token())
        .await;
    let download = seen.body["download_url"].as_str().unwrap();
    assert!(download.contains("response-content-disposition"));
    let fetched = raw_client().get(download).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), body);
    assert_eq!(
        api.get(&format!("/v1/files/{file_id}"), team.outsider.token())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn s3_refuses_uploads_that_differ_from_the_signature() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let declared = b"0123456789".to_vec();
    let ticket = request_upload(
        &api,
        &team.member,
        &team.general_id,
        "a.txt",
        "text/plain",
        declared.len(),
    )
    .await;
    let upload = &ticket.body["upload"];

    assert_eq!(
        put_upload(upload, b"0123456789X".to_vec(), None).await,
        StatusCode::FORBIDDEN,
        "longer"
    );
    assert_eq!(
        put_upload(upload, b"012345678".to_vec(), None).await,
        StatusCode::FORBIDDEN,
        "shorter"
    );
    assert_eq!(
        put_upload(upload, declared.clone(), Some("application/pdf")).await,
        StatusCode::FORBIDDEN,
        "another type"
    );
    let mut tampered = upload.clone();
    let url = upload["url"].as_str().unwrap();
    let signature_at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let flipped = if &url[signature_at..signature_at + 1] == "0" {
        "1"
    } else {
        "0"
    };
    tampered["url"] = json!(format!(
        "{}{flipped}{}",
        &url[..signature_at],
        &url[signature_at + 1..]
    ));
    assert_eq!(
        put_upload(&tampered, declared.clone(), None).await,
        StatusCode::FORBIDDEN,
        "tampered"
    );
    // Nothing got through, so there is nothing to complete.
    let file_id = ticket.body["file_id"].as_str().unwrap();
    let complete = api
        .post(
            &format!("/v1/files/{file_id}/complete"),
            team.member.token(),
            json!({}),
        )
        .await;
    assert_eq!(complete.status, StatusCode::CONFLICT);
    // The genuine request still works.
    assert_eq!(put_upload(upload, declared, None).await, StatusCode::OK);

    // An expired URL: the same presigner with a one-second lifetime.
    let state = app_state().await;
    let storage = state
        .storage
        .as_ref()
        .expect("the stack configures a bucket");
    let short = storage
        .presign_upload(
            "pending/expiry-test",
            "text/plain",
            3,
            "attachment",
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let expired = json!({"url": short.url, "headers": short.headers});
    assert_eq!(
        put_upload(&expired, b"abc".to_vec(), None).await,
        StatusCode::FORBIDDEN,
        "expired"
    );
}

#[tokio::test]
async fn the_api_refuses_bad_uploads_and_bad_completions() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let general = &team.general_id;
    let oversize = request_upload(
        &api,
        &team.member,
        general,
        "big.bin",
        "application/zip",
        25 * 1024 * 1024 + 1,
    )
    .await;
    assert_eq!(oversize.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(oversize.error_code(), "too_large");
    let exact = request_upload(
        &api,
        &team.member,
        general,
        "max.zip",
        "application/zip",
        25 * 1024 * 1024,
    )
    .await;
    assert_eq!(exact.status, StatusCode::CREATED);
    for (filename, content_type, size, field) in [
        ("x.exe", "application/x-msdownload", 10, "content_type"),
        ("", "text/plain", 10, "filename"),
        ("x.txt", "text/plain", 0, "size"),
    ] {
        let reply = request_upload(&api, &team.member, general, filename, content_type, size).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{field}");
        assert_eq!(reply.error_fields(), [field]);
    }
    let negative = api
        .post(
            &format!("/v1/channels/{general}/uploads"),
            team.member.token(),
            json!({"filename": "x", "content_type": "text/plain", "size": -1}),
        )
        .await;
    assert_eq!(negative.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        request_upload(&api, &team.outsider, general, "x.txt", "text/plain", 3)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        request_upload(
            &api,
            &team.member,
            &team.public_id,
            "x.txt",
            "text/plain",
            3
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        request_upload(
            &api,
            &team.admin,
            &team.private_id,
            "x.txt",
            "text/plain",
            3
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        request_upload(&api, &team.member, general, "x.txt", "text/plain", 3)
            .await
            .status,
        StatusCode::CREATED
    );
    let anonymous = api
        .post(
            &format!("/v1/channels/{general}/uploads"),
            None,
            json!({"filename": "x", "content_type": "text/plain", "size": 3}),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // An object that differs from the declaration (written here with a second presigned
    // URL for the same key) is refused at completion.
    let ticket = request_upload(&api, &team.member, general, "d.txt", "text/plain", 5).await;
    let file_id = ticket.body["file_id"].as_str().unwrap();
    let state = app_state().await;
    let storage = state.storage.as_ref().unwrap();
    let other = storage
        .presign_upload(
            &format!("pending/{file_id}"),
            "text/plain",
            6,
            "attachment",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(
        put_upload(
            &json!({"url": other.url, "headers": other.headers}),
            b"sixsix".to_vec(),
            None
        )
        .await,
        StatusCode::OK
    );
    let refused = api
        .post(
            &format!("/v1/files/{file_id}/complete"),
            team.member.token(),
            json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let by_other = api
        .post(
            &format!("/v1/files/{file_id}/complete"),
            team.admin.token(),
            json!({}),
        )
        .await;
    assert_eq!(
        by_other.status,
        StatusCode::NOT_FOUND,
        "a pending file is its uploader's only"
    );
    let unknown = api
        .post(
            "/v1/files/01J00000000000000000000000/complete",
            team.member.token(),
            json!({}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn messages_carry_only_the_senders_ready_files_of_the_channel() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let mine = upload_file(&api, &team.member, &team.general_id, "mine.txt", b"mine").await;
    let theirs = upload_file(&api, &team.admin, &team.general_id, "theirs.txt", b"theirs").await;
    api.join(&team.member, &team.public_id).await;
    let elsewhere = upload_file(&api, &team.member, &team.public_id, "else.txt", b"else").await;
    let pending = request_upload(
        &api,
        &team.member,
        &team.general_id,
        "p.txt",
        "text/plain",
        1,
    )
    .await
    .body["file_id"]
        .clone();
    let messages = format!("/v1/channels/{}/messages", team.general_id);

    let sent = api
        .post(
            &messages,
            team.member.token(),
            json!({"content": "see attached", "attachment_ids": [mine["id"]]}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    let attachment = &sent.body["attachments"][0];
    assert_eq!(attachment["id"], mine["id"]);
    assert_eq!(attachment["filename"], "mine.txt");
    let fetched = raw_client()
        .get(attachment["download_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"mine");
    let listed = api.get(&messages, team.admin.token()).await;
    assert_eq!(listed.body["items"][0]["attachments"][0]["id"], mine["id"]);

    for (ids, why) in [
        (json!([theirs["id"]]), "someone else's file"),
        (json!([elsewhere["id"]]), "another channel's file"),
        (json!([pending]), "a pending file"),
        (json!(["01J00000000000000000000000"]), "an unknown file"),
        (json!(["nope"]), "not an id"),
    ] {
        let reply = api
            .post(
                &messages,
                team.member.token(),
                json!({"content": "x", "attachment_ids": ids}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{why}");
    }
}

#[tokio::test]
async fn files_are_deleted_by_their_uploader_or_an_admin() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let file = upload_file(&api, &team.owner, &team.general_id, "o.txt", b"owner's").await;
    let path = format!("/v1/files/{}", file["id"].as_str().unwrap());
    let download = file["download_url"].as_str().unwrap().to_owned();
    assert_eq!(
        api.delete(&path, team.member.token()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.delete(&path, team.outsider.token()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.delete(&path, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    api.must_delete(&path, &team.admin).await;
    assert_eq!(
        api.get(&path, team.owner.token()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        raw_client().get(&download).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    let own = upload_file(&api, &team.member, &team.general_id, "m.txt", b"member's").await;
    let own_path = format!("/v1/files/{}", own["id"].as_str().unwrap());
    api.must_delete(&own_path, &team.member).await;
}

#[tokio::test]
async fn avatars_are_images_and_become_the_profile_picture() {
    let api = Api::new();
    let user = api.register_user().await;
    let other = api.register_user().await;
    let bad_type = api
        .post(
            "/v1/users/me/avatar",
            user.token(),
            json!({"content_type": "application/pdf", "size": 10}),
        )
        .await;
    assert_eq!(bad_type.status, StatusCode::BAD_REQUEST);
    let too_big = api
        .post(
            "/v1/users/me/avatar",
            user.token(),
            json!({"content_type": "image/png", "size": 5 * 1024 * 1024 + 1}),
        )
        .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        api.get(&format!("/v1/users/{}/avatar", user.id), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let file_id = stage_avatar(&api, &user, PNG).await;
    let file_id = file_id.as_str();
    let not_yours = api
        .post(
            &format!("/v1/files/{file_id}/complete"),
            other.token(),
            json!({}),
        )
        .await;
    assert_eq!(not_yours.status, StatusCode::NOT_FOUND);
    complete_upload(&api, &user, file_id).await;

    let profile = api.get("/v1/users/me", user.token()).await;
    let avatar_url = profile.body["avatar_url"].as_str().unwrap().to_owned();
    assert!(
        avatar_url.starts_with(&format!("/v1/users/{}/avatar", user.id)),
        "{avatar_url}"
    );
    let redirect = raw_client().get(api.url(&avatar_url)).send().await.unwrap();
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let image = raw_client().get(&location).send().await.unwrap();
    assert_eq!(image.bytes().await.unwrap().as_ref(), PNG);

    assert_eq!(
        api.delete(&format!("/v1/files/{file_id}"), other.token())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    api.must_delete(&format!("/v1/files/{file_id}"), &user)
        .await;
    let cleared = api.get("/v1/users/me", user.token()).await;
    assert_eq!(cleared.body["avatar_url"], Value::Null);
}

/// Completes `file_id` with `callers` concurrent calls by `user`; returns every reply.
async fn complete_concurrently(
    api: &Api,
    user: &TestUser,
    file_id: &str,
    callers: usize,
) -> Vec<huddle_tests::Reply> {
    let path = format!("/v1/files/{file_id}/complete");
    futures::future::join_all((0..callers).map(|_| api.post(&path, user.token(), json!({})))).await
}

#[tokio::test]
async fn concurrent_completes_of_one_upload_all_answer_the_ready_file() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let state = app_state().await;
    let storage = state.storage().unwrap();
    // Several uploads, each completed by eight calls at once: the calls race through the
    // object check, the copy and the record update.
    for round in 0..4 {
        let body = format!("racing completes, round {round}").into_bytes();
        let ticket = request_upload(
            &api,
            &team.member,
            &team.general_id,
            "race.txt",
            "text/plain",
            body.len(),
        )
        .await;
        assert_eq!(ticket.status, StatusCode::CREATED, "{:?}", ticket.body);
        assert_eq!(
            put_upload(&ticket.body["upload"], body.clone(), None).await,
            StatusCode::OK
        );
        let file_id = ticket.body["file_id"].as_str().unwrap();
        let replies = complete_concurrently(&api, &team.member, file_id, 8).await;
        let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
        assert!(
            statuses.iter().all(|s| *s == StatusCode::OK),
            "round {round}: {statuses:?} {:?}",
            replies.iter().map(|r| &r.body).collect::<Vec<_>>()
        );
        for reply in &replies {
            assert_eq!(reply.body["id"], file_id);
            assert_eq!(reply.body["status"], "ready");
            assert_eq!(reply.body["size"], body.len());
            assert!(reply.body["download_url"].is_string());
        }

        // The object is at its final key with the uploaded bytes; the pending one is gone.
        let final_key = huddle_shared::files::storage::attachment_object_key(
            &team.workspace_id,
            &team.general_id,
            file_id,
        );
        let stored = storage.head(&final_key).await.unwrap();
        assert_eq!(stored.map(|object| object.size), Some(body.len() as u64));
        let pending = huddle_shared::files::storage::pending_object_key(file_id);
        assert_eq!(storage.head(&pending).await.unwrap(), None);
        let seen = api
            .get(&format!("/v1/files/{file_id}"), team.admin.token())
            .await;
        let download = seen.body["download_url"].as_str().unwrap();
        let fetched = raw_client().get(download).send().await.unwrap();
        assert_eq!(fetched.bytes().await.unwrap().to_vec(), body);
    }
}

#[tokio::test]
async fn a_completion_interrupted_after_any_step_completes_on_retry() {
    let api = Api::new();
    let user = api.register_user().await;
    let state = app_state().await;
    let storage = state.storage().unwrap();
    let upload_avatar = || stage_avatar(&api, &user, PNG);
    let avatar_of = |file_id: &str| {
        let user_id = user.id.clone();
        let file_id = file_id.to_owned();
        let api = api.clone();
        let token = user.access_token.clone();
        async move {
            let profile = api.get("/v1/users/me", Some(&token)).await;
            assert_eq!(
                profile.body["avatar_url"],
                format!("/v1/users/{user_id}/avatar?v={file_id}")
            );
        }
    };

    // Stopped after the copy: the pending object is still there, the record still pending.
    let file_id = upload_avatar().await;
    let pending = huddle_shared::files::storage::pending_object_key(&file_id);
    let final_key = huddle_shared::files::storage::avatar_object_key(&user.id, &file_id);
    assert!(storage.copy(&pending, &final_key).await.unwrap());
    let replies = complete_concurrently(&api, &user, &file_id, 4).await;
    assert!(
        replies
            .iter()
            .all(|r| r.status == StatusCode::OK && r.body["status"] == "ready")
    );
    assert_eq!(storage.head(&pending).await.unwrap(), None);
    avatar_of(&file_id).await;

    // Stopped after the record was made ready (with the profile, in the same write), before
    // the pending object was deleted: a retry answers the ready file.
    let second = upload_avatar().await;
    let file = state
        .store
        .get_file(second.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let pending = huddle_shared::files::storage::pending_object_key(&second);
    assert!(storage.copy(&pending, &file.object_key).await.unwrap());
    let url = format!("/v1/users/{}/avatar?v={second}", user.id);
    let change = huddle_shared::files::AvatarChange {
        url: &url,
        at: huddle_shared::clock::now(),
    };
    assert_eq!(
        state
            .store
            .mark_file_ready(&file, Some(change))
            .await
            .unwrap(),
        huddle_shared::files::FileCompletion::Ready
    );
    let replies = complete_concurrently(&api, &user, &second, 4).await;
    assert!(
        replies
            .iter()
            .all(|r| r.status == StatusCode::OK && r.body["id"] == second.as_str()),
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, &r.body))
            .collect::<Vec<_>>()
    );
    avatar_of(&second).await;
    let image = storage.head(&file.object_key).await.unwrap();
    assert_eq!(image.map(|object| object.size), Some(PNG.len() as u64));
}
