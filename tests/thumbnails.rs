//! Thumbnails through the real stream and s3s-fs: images made here in every accepted
//! format are uploaded through presigned PUTs and completed, the gateway's stream poller
//! feeds the thumbnails function, and the thumbnails that come back through
//! `thumbnail_url` and `avatar_url` are decoded and measured. Bombs, corrupt and
//! mislabelled images end `failed` with the original untouched; other files get none; a
//! redelivered record changes nothing, and an image that never finishes is given up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use huddle_shared::files::storage::thumbnail_object_key;
use huddle_shared::files::thumbnails::ATTEMPTS_MAX;
use huddle_shared::ids::FileId;
use huddle_shared::keys;
use huddle_shared::stream::ChangeKind;
use huddle_tests::uploads::{
    complete_upload, raw_client, stage_typed_avatar, upload_file, upload_typed,
};
use huddle_tests::{Api, RawTable, TestUser, app_state, eventually, stream_change, typed};
use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A picture with some structure (gradients), opaque.
fn picture(width: u32, height: u32) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| {
        Rgba([(x * 255 / width) as u8, (y * 255 / height) as u8, 90, 255])
    })
}

/// `image` encoded as `format` (JPEG without its alpha channel).
fn encoded(image: &RgbaImage, format: ImageFormat) -> Vec<u8> {
    let image = DynamicImage::ImageRgba8(image.clone());
    let image = match format {
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(image.to_rgb8()),
        _ => image,
    };
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// A 1 × 1 PNG whose header then claims `width` × `height` (with a valid CRC): a few dozen
/// bytes that would decode to gigabytes.
fn bomb_png(width: u32, height: u32) -> Vec<u8> {
    let mut png = encoded(&picture(1, 1), ImageFormat::Png);
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// GETs a presigned URL: its status, content type and body.
async fn fetch(url: &str) -> (StatusCode, String, Vec<u8>) {
    let response = raw_client().get(url).send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// The dimensions of a JPEG thumbnail (it must be one).
fn jpeg_dimensions(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(image::guess_format(bytes).unwrap(), ImageFormat::Jpeg);
    let image = image::load_from_memory_with_format(bytes, ImageFormat::Jpeg).unwrap();
    (image.width(), image.height())
}

async fn file_view(api: &Api, user: &TestUser, file_id: &str) -> Value {
    let reply = api.get(&format!("/v1/files/{file_id}"), user.token()).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body
}

/// Waits until the file's thumbnail is no longer pending; returns the file then.
async fn settled(api: &Api, user: &TestUser, file_id: &str) -> Value {
    eventually(&format!("the thumbnail of {file_id} settling"), || async {
        file_view(api, user, file_id).await["thumbnail"] != "pending"
    })
    .await;
    file_view(api, user, file_id).await
}

/// The original behind `download_url` is what was uploaded.
async fn assert_original(file: &Value, uploaded: &[u8]) {
    let (status, _, body) = fetch(file["download_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == uploaded, "the original changed");
}

#[tokio::test]
async fn every_image_format_gets_a_jpeg_thumbnail_at_most_400_px_long() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let user = &team.member;
    for (format, content_type, (width, height), expected) in [
        (ImageFormat::Png, "image/png", (1200, 600), (400, 200)),
        (ImageFormat::Jpeg, "image/jpeg", (900, 1800), (200, 400)),
        (ImageFormat::Gif, "image/gif", (640, 480), (400, 300)),
        (ImageFormat::WebP, "image/webp", (800, 800), (400, 400)),
        // Smaller than a thumbnail: kept at its size, re-encoded.
        (ImageFormat::Png, "image/png", (300, 120), (300, 120)),
    ] {
        let bytes = encoded(&picture(width, height), format);
        let completed = upload_typed(
            &api,
            user,
            &team.general_id,
            "picture",
            content_type,
            &bytes,
        )
        .await;
        // Completion answers at once: the thumbnail follows from the stream.
        assert_eq!(completed["thumbnail"], "pending", "{content_type}");
        assert_eq!(completed["thumbnail_url"], Value::Null);
        let file_id = completed["id"].as_str().unwrap();

        let file = settled(&api, user, file_id).await;
        assert_eq!(file["thumbnail"], "ready", "{content_type}: {file}");
        let (status, served_as, thumbnail) = fetch(file["thumbnail_url"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(served_as, "image/jpeg");
        assert_eq!(
            jpeg_dimensions(&thumbnail),
            expected,
            "{content_type} {width} × {height}"
        );
        assert_original(&file, &bytes).await;
        // Any reader of the channel sees it too.
        let seen = file_view(&api, &team.admin, file_id).await;
        assert!(seen["thumbnail_url"].is_string());
    }
}

#[tokio::test]
async fn a_decompression_bomb_fails_without_being_decoded_and_stays_untouched() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let user = &team.member;
    let bomb = bomb_png(100_000, 100_000);
    assert!(bomb.len() < 100, "a tiny file: {} bytes", bomb.len());
    let completed =
        upload_typed(&api, user, &team.general_id, "bomb.png", "image/png", &bomb).await;
    let file_id = completed["id"].as_str().unwrap();
    let file = settled(&api, user, file_id).await;
    assert_eq!(file["thumbnail"], "failed");
    assert_eq!(file["thumbnail_url"], Value::Null);
    assert_original(&file, &bomb).await;

    // Within the sides' limit but over the pixel limit: refused from the header as well.
    let wide = bomb_png(9_000, 9_000);
    let completed =
        upload_typed(&api, user, &team.general_id, "wide.png", "image/png", &wide).await;
    let file = settled(&api, user, completed["id"].as_str().unwrap()).await;
    assert_eq!(file["thumbnail"], "failed");
    assert_original(&file, &wide).await;

    // No thumbnail object was written, and the attempt left nothing on the item.
    let state = app_state().await;
    let storage = state.storage().unwrap();
    let object_key = huddle_shared::files::storage::attachment_object_key(
        &team.workspace_id,
        &team.general_id,
        file_id,
    );
    assert_eq!(
        storage
            .head(&thumbnail_object_key(&object_key))
            .await
            .unwrap(),
        None
    );
    let item = RawTable::new()
        .await
        .item(&keys::file(typed(file_id)))
        .await
        .unwrap();
    assert_eq!(item["thumbnail"], json!({"S": "failed"}));
    assert!(item.get("thumbnail_attempts").is_none(), "{item}");
    assert!(item.get("thumbnail_key").is_none(), "{item}");
}

#[tokio::test]
async fn corrupt_and_mislabelled_images_fail_and_stay_untouched() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let user = &team.member;
    let png = encoded(&picture(500, 500), ImageFormat::Png);
    let jpeg = encoded(&picture(500, 500), ImageFormat::Jpeg);
    let cases: [(&str, &str, Vec<u8>); 4] = [
        // A real PNG cut in half: its header is fine, its pixels are not there.
        ("truncated", "image/png", png[..png.len() / 2].to_vec()),
        (
            "noise",
            "image/png",
            b"these bytes are no picture at all".to_vec(),
        ),
        ("a jpeg", "image/png", jpeg.clone()),
        ("a png", "image/webp", png.clone()),
    ];
    for (what, content_type, bytes) in cases {
        let completed =
            upload_typed(&api, user, &team.general_id, what, content_type, &bytes).await;
        let file = settled(&api, user, completed["id"].as_str().unwrap()).await;
        assert_eq!(file["thumbnail"], "failed", "{what} as {content_type}");
        assert_eq!(file["thumbnail_url"], Value::Null);
        assert_original(&file, &bytes).await;
    }
}

#[tokio::test]
async fn other_files_have_no_thumbnail() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let user = &team.member;
    let text = upload_file(&api, user, &team.general_id, "notes.txt", b"just words").await;
    assert_eq!(text["thumbnail"], Value::Null);
    assert_eq!(text["thumbnail_url"], Value::Null);
    // An image completed after it is thumbnailed: the stream has passed the text file by.
    let bytes = encoded(&picture(50, 50), ImageFormat::Png);
    let image = upload_typed(&api, user, &team.general_id, "dot.png", "image/png", &bytes).await;
    assert_eq!(
        settled(&api, user, image["id"].as_str().unwrap()).await["thumbnail"],
        "ready"
    );
    let text_id = text["id"].as_str().unwrap();
    let text = file_view(&api, user, text_id).await;
    assert_eq!(text["thumbnail"], Value::Null);
    assert_eq!(text["thumbnail_url"], Value::Null);
    let item = RawTable::new()
        .await
        .item(&keys::file(typed(text_id)))
        .await
        .unwrap();
    assert!(item.get("thumbnail").is_none(), "{item}");
}

/// Follows `avatar_url` (a redirect) to the image it serves.
async fn avatar_served(api: &Api, user: &TestUser) -> Vec<u8> {
    let profile = api.get("/v1/users/me", user.token()).await;
    let avatar_url = profile.body["avatar_url"].as_str().unwrap();
    let redirect = raw_client().get(api.url(avatar_url)).send().await.unwrap();
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let (status, _, body) = fetch(&location).await;
    assert_eq!(status, StatusCode::OK);
    body
}

#[tokio::test]
async fn an_avatar_gets_a_256_px_square_that_avatar_url_serves() {
    let api = Api::new();
    let user = api.register_user().await;
    let photo = encoded(&picture(900, 600), ImageFormat::Jpeg);
    let file_id = stage_typed_avatar(&api, &user, "image/jpeg", &photo).await;
    let completed = complete_upload(&api, &user, &file_id).await;
    assert_eq!(completed["thumbnail"], "pending");

    let file = settled(&api, &user, &file_id).await;
    assert_eq!(file["thumbnail"], "ready");
    let (_, _, square) = fetch(file["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(jpeg_dimensions(&square), (256, 256));
    let served = avatar_served(&api, &user).await;
    assert_eq!(served, square, "avatar_url serves the square version");
    assert_original(&file, &photo).await;

    // A new avatar that cannot be read: avatar_url serves it as uploaded, never the last
    // one's square.
    let broken = b"GIF89a, and then nothing".to_vec();
    let second = stage_typed_avatar(&api, &user, "image/gif", &broken).await;
    complete_upload(&api, &user, &second).await;
    assert_eq!(avatar_served(&api, &user).await, broken);
    assert_eq!(settled(&api, &user, &second).await["thumbnail"], "failed");
    assert_eq!(avatar_served(&api, &user).await, broken);

    // And a readable one gets its own square.
    let png = encoded(&picture(100, 300), ImageFormat::Png);
    let third = stage_typed_avatar(&api, &user, "image/png", &png).await;
    complete_upload(&api, &user, &third).await;
    let file = settled(&api, &user, &third).await;
    let (_, _, square) = fetch(file["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(jpeg_dimensions(&square), (256, 256));
    assert_eq!(avatar_served(&api, &user).await, square);
}

#[tokio::test]
async fn message_attachments_show_their_thumbnail() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let user = &team.member;
    let bytes = encoded(&picture(1000, 700), ImageFormat::Png);
    let image = upload_typed(
        &api,
        user,
        &team.general_id,
        "plan.png",
        "image/png",
        &bytes,
    )
    .await;
    let text = upload_file(&api, user, &team.general_id, "plan.txt", b"the plan").await;
    // Sent at once: the message's copy of the attachment is taken before the thumbnail.
    let sent = api
        .send_message(
            user,
            &team.general_id,
            json!({"content": "the plan", "attachment_ids": [image["id"], text["id"]]}),
        )
        .await;
    let message_path = format!(
        "/v1/channels/{}/messages/{}",
        team.general_id,
        sent["id"].as_str().unwrap()
    );
    let attachment = |message: &Value, index: usize| message["attachments"][index].clone();
    eventually("the attachment's thumbnail", || async {
        let message = api.get(&message_path, team.admin.token()).await.body;
        attachment(&message, 0)["thumbnail"] == "ready"
    })
    .await;
    let message = api.get(&message_path, team.admin.token()).await.body;
    let (status, _, thumbnail) =
        fetch(attachment(&message, 0)["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jpeg_dimensions(&thumbnail), (400, 280));
    assert_eq!(attachment(&message, 1)["thumbnail"], Value::Null);
    assert_eq!(attachment(&message, 1)["thumbnail_url"], Value::Null);

    // Lists show it as well.
    let listed = api
        .get(
            &format!("/v1/channels/{}/messages", team.general_id),
            team.admin.token(),
        )
        .await;
    let listed = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|message| message["id"] == sent["id"])
        .unwrap()
        .clone();
    assert_eq!(attachment(&listed, 0)["thumbnail"], "ready");
    assert!(attachment(&listed, 0)["thumbnail_url"].is_string());
}

#[tokio::test]
async fn deleting_an_image_removes_its_thumbnail() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let user = &team.member;
    let bytes = encoded(&picture(600, 600), ImageFormat::WebP);
    let image = upload_typed(
        &api,
        user,
        &team.general_id,
        "gone.webp",
        "image/webp",
        &bytes,
    )
    .await;
    let file_id = image["id"].as_str().unwrap();
    let file = settled(&api, user, file_id).await;
    let thumbnail_url = file["thumbnail_url"].as_str().unwrap().to_owned();
    assert_eq!(fetch(&thumbnail_url).await.0, StatusCode::OK);
    api.must_delete(&format!("/v1/files/{file_id}"), user).await;
    assert_eq!(fetch(&thumbnail_url).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_redelivered_record_changes_nothing_and_a_stuck_image_is_given_up() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let user = &team.member;
    let raw = RawTable::new().await;
    let state = app_state().await;
    let bytes = encoded(&picture(800, 400), ImageFormat::Png);
    let image = upload_typed(
        &api,
        user,
        &team.general_id,
        "again.png",
        "image/png",
        &bytes,
    )
    .await;
    let file_id = image["id"].as_str().unwrap();
    settled(&api, user, file_id).await;
    let key = keys::file(typed::<FileId>(file_id));
    let ready = raw.item(&key).await.unwrap();
    assert_eq!(ready["thumbnail"], json!({"S": "ready"}));

    // The record that asked for the thumbnail, delivered again: the file is settled.
    let record = |id: &str, new: serde_dynamo::Item| {
        let mut old = new.clone();
        old.insert(
            "status".into(),
            serde_dynamo::AttributeValue::S("pending".into()),
        );
        stream_change(id, ChangeKind::Modify, Some(old), Some(new), false)
    };
    let mut asked = raw.image(&key).await.unwrap();
    asked.insert(
        "thumbnail".into(),
        serde_dynamo::AttributeValue::S("pending".into()),
    );
    asked.remove("thumbnail_key");
    let failed = huddle_thumbnails::consume(&state, &[record("again", asked.clone())]).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(raw.item(&key).await.unwrap(), ready);

    // An image whose attempts never finished (the function was killed each time): the next
    // delivery marks it failed without decoding, and reports success.
    state
        .store
        .client()
        .update_item()
        .table_name(state.store.table())
        .set_key(Some(serde_dynamo::to_item(&key).unwrap()))
        .update_expression(
            "SET thumbnail = :pending, thumbnail_attempts = :attempts REMOVE thumbnail_key",
        )
        .expression_attribute_values(
            ":pending",
            aws_sdk_dynamodb::types::AttributeValue::S("pending".into()),
        )
        .expression_attribute_values(
            ":attempts",
            aws_sdk_dynamodb::types::AttributeValue::N(ATTEMPTS_MAX.to_string()),
        )
        .send()
        .await
        .unwrap();
    let failed = huddle_thumbnails::consume(&state, &[record("stuck", asked)]).await;
    assert!(failed.is_empty(), "{failed:?}");
    let given_up = raw.item(&key).await.unwrap();
    assert_eq!(given_up["thumbnail"], json!({"S": "failed"}));
    assert!(given_up.get("thumbnail_attempts").is_none(), "{given_up}");
    assert_eq!(
        file_view(&api, user, file_id).await["thumbnail_url"],
        Value::Null
    );
}
