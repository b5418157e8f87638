//! Profiles: the caller's own (with email), its updates, and other users' public view.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::rules::DISPLAY_NAME_MAX;
use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::patch::Patch;
use crate::state::AppState;
use crate::table::Page;
use crate::users::{ProfileChanges, ProfileUpdate};
use crate::users::{PublicProfile, User};
use crate::validate::Validator;
use std::collections::HashMap;

pub const BIO_MAX: usize = 500;

/// `PATCH /v1/users/me`: absent fields stay as they are; `bio: null` clears the bio.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    /// A new display name (surrounding spaces are trimmed); it cannot be cleared.
    #[serde(default)]
    #[schema(value_type = String, min_length = 1, max_length = 64)]
    pub display_name: Patch<String>,
    /// A new bio; `null` or an empty one clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub bio: Patch<String>,
}

/// `GET /v1/users/me`.
pub async fn me(state: &AppState, caller: UserId) -> ApiResult<User> {
    state
        .store
        .get_user(caller)
        .await?
        // A valid token for a user who no longer exists.
        .ok_or_else(|| ApiError::unauthorized("the account no longer exists"))
}

/// `PATCH /v1/users/me`.
pub async fn update_me(
    state: &AppState,
    caller: UserId,
    request: UpdateProfileRequest,
) -> ApiResult<User> {
    let mut check = Validator::new();
    match &request.display_name {
        Patch::Absent => {}
        Patch::Clear => check.add("display_name", "cannot be null"),
        Patch::Set(name) => check.text("display_name", name, 1, DISPLAY_NAME_MAX),
    }
    if let Some(bio) = request.bio.as_set() {
        check.text("bio", bio, 0, BIO_MAX);
    }
    check.finish()?;
    if request.display_name.is_absent() && request.bio.is_absent() {
        return me(state, caller).await;
    }
    let changes = ProfileChanges {
        display_name: request
            .display_name
            .as_set()
            .map(|name| name.trim().to_owned()),
        bio: match request.bio {
            Patch::Set(bio) if bio.trim().is_empty() => Patch::Clear,
            Patch::Set(bio) => Patch::Set(bio.trim().to_owned()),
            other => other,
        },
    };
    match state
        .store
        .update_profile(caller, changes, clock::now())
        .await?
    {
        ProfileUpdate::Updated(user) => Ok(user),
        ProfileUpdate::NoUser => Err(ApiError::unauthorized("the account no longer exists")),
    }
}

/// `GET /v1/users/{user_id}`: oneself, or someone who shares a workspace with the caller
/// (to anyone else the user does not exist).
pub async fn public_profile(
    state: &AppState,
    caller: UserId,
    user_id: UserId,
) -> ApiResult<PublicProfile> {
    let not_found = || ApiError::not_found("user");
    if user_id == caller {
        return state
            .store
            .get_user(user_id)
            .await?
            .map(PublicProfile::from)
            .ok_or_else(not_found);
    }
    let (user, theirs, mine) = tokio::try_join!(
        state.store.get_user(user_id),
        state.store.all_user_workspace_memberships(user_id),
        state.store.all_user_workspace_memberships(caller)
    )?;
    let shared = theirs
        .iter()
        .any(|their| mine.iter().any(|my| my.workspace_id == their.workspace_id));
    if !shared {
        return Err(not_found());
    }
    user.map(PublicProfile::from).ok_or_else(not_found)
}

/// Joins memberships with the members' public profiles.
pub async fn with_profiles<M>(
    state: &AppState,
    members: Page<M>,
    user_of: impl Fn(&M) -> UserId,
) -> ApiResult<Page<(PublicProfile, M)>> {
    let ids: Vec<UserId> = members.items.iter().map(&user_of).collect();
    let mut profiles: HashMap<UserId, PublicProfile> = state
        .store
        .get_users(&ids)
        .await?
        .into_iter()
        .map(|user| (user.id, PublicProfile::from(user)))
        .collect();
    let items = members
        .items
        .into_iter()
        .filter_map(|member| {
            profiles
                .remove(&user_of(&member))
                .map(|profile| (profile, member))
        })
        .collect();
    Ok(Page {
        items,
        next_cursor: members.next_cursor,
    })
}
