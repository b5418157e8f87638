//! Profiles against the real local stack: reading and editing my own, and other users'
//! public view.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_shared::ids::UserId;
use huddle_tests::Api;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn me_includes_the_email_and_patch_edits_the_profile() {
    let api = Api::new();
    let user = api.register_user().await;

    let me = api.get("/v1/users/me", user.token()).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], user.email.as_str());
    assert_eq!(me.body["bio"], serde_json::Value::Null);

    let patched = api
        .patch(
            "/v1/users/me",
            user.token(),
            json!({"display_name": " Grace ", "bio": "Compilers."}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["display_name"], "Grace");
    assert_eq!(patched.body["bio"], "Compilers.");
    assert_eq!(patched.body["email"], user.email.as_str());
    assert!(patched.body["updated_at"].as_str() >= me.body["updated_at"].as_str());

    // Absent fields stay; null clears.
    let only_bio = api
        .patch("/v1/users/me", user.token(), json!({"bio": null}))
        .await;
    assert_eq!(only_bio.status, StatusCode::OK);
    assert_eq!(only_bio.body["display_name"], "Grace");
    assert_eq!(only_bio.body["bio"], serde_json::Value::Null);

    let read_back = api.get("/v1/users/me", user.token()).await;
    assert_eq!(read_back.body["display_name"], "Grace");
    assert_eq!(read_back.body["bio"], serde_json::Value::Null);

    let empty = api.patch("/v1/users/me", user.token(), json!({})).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["display_name"], "Grace");
}

#[tokio::test]
async fn profile_updates_are_validated_and_change_nothing_when_refused() {
    let api = Api::new();
    let user = api.register_user().await;
    let cases = [
        (json!({"display_name": ""}), "display_name"),
        (json!({"display_name": "   "}), "display_name"),
        (json!({"display_name": "x".repeat(65)}), "display_name"),
        (json!({"display_name": null}), "display_name"),
        (json!({"display_name": "bell\u{7}"}), "display_name"),
        (json!({"bio": "b".repeat(501)}), "bio"),
        (json!({"bio": 7}), "bio"),
    ];
    for (body, field) in cases {
        let reply = api.patch("/v1/users/me", user.token(), body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.error_fields(), [field], "{body}: {:?}", reply.body);
    }
    let unknown = api
        .patch("/v1/users/me", user.token(), json!({"email": "x@y.io"}))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);

    let me = api.get("/v1/users/me", user.token()).await;
    assert_eq!(me.body["display_name"], "Test User");
    assert_eq!(me.body["email"], user.email.as_str());

    let anonymous = api.patch("/v1/users/me", None, json!({"bio": "hi"})).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn public_profiles_hide_the_email() {
    let api = Api::new();
    let viewer = api.register_user().await;
    let subject = api.register_user().await;
    let stranger = api.register_user().await;
    // Profiles are visible to oneself and to people one shares a workspace with.
    let stranger_view = api
        .get(&format!("/v1/users/{}", subject.id), stranger.token())
        .await;
    assert_eq!(stranger_view.status, StatusCode::NOT_FOUND);
    let own = api
        .get(&format!("/v1/users/{}", stranger.id), stranger.token())
        .await;
    assert_eq!(own.status, StatusCode::OK);
    let workspace = api.create_workspace(&viewer, "Shared").await;
    api.add_to_workspace(
        &viewer,
        workspace["id"].as_str().unwrap(),
        &subject,
        "member",
    )
    .await;
    api.patch("/v1/users/me", subject.token(), json!({"bio": "Hello"}))
        .await;

    let profile = api
        .get(&format!("/v1/users/{}", subject.id), viewer.token())
        .await;
    assert_eq!(profile.status, StatusCode::OK);
    let mut fields: Vec<_> = profile.body.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(
        fields,
        ["avatar_url", "bio", "created_at", "display_name", "id"]
    );
    assert_eq!(profile.body["bio"], "Hello");

    let anonymous = api.get(&format!("/v1/users/{}", subject.id), None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let unknown = api
        .get(&format!("/v1/users/{}", UserId::generate()), viewer.token())
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.error_code(), "not_found");

    let malformed = api.get("/v1/users/not-an-id", viewer.token()).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.error_code(), "invalid_request");
}
