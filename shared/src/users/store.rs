//! Users and their credentials: registration, profile reads and profile updates.

use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::store::RefreshToken;
use crate::auth::store::{family_put, token_put};
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys::{self, Key};
use crate::patch::Patch;
use crate::table::{
    Store, TransactOutcome, conditional, from_attributes, item_exists, put_new, to_attribute,
    to_attributes,
};
use crate::users::User;

/// The user item: the profile plus its key and type.
#[derive(Serialize, Deserialize)]
struct UserItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    user: User,
    /// The S3 key of the current avatar (the profile shows a stable URL instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    avatar_key: Option<String>,
    /// The S3 key of the current avatar's 256 px square version, once the thumbnails
    /// function made it (what `avatar_url` serves then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    avatar_thumbnail_key: Option<String>,
}

/// The credential item: the email's uniqueness marker, holding what login needs.
#[derive(Serialize, Deserialize)]
struct CredentialItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    user_id: UserId,
    /// Absent for a user who signs in through an identity provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_hash: Option<String>,
    created_at: DateTime<Utc>,
}

/// What login reads for an email.
#[derive(Debug, Clone)]
pub struct Credential {
    pub user_id: UserId,
    /// `None`: the user signs in through an identity provider, never with a password.
    pub password_hash: Option<String>,
}

/// The Put that creates a user item, for a transaction.
pub(crate) fn user_put(table: &str, user: &User) -> ApiResult<TransactWriteItem> {
    let item = UserItem {
        key: keys::user(user.id),
        entity: keys::entity::USER.into(),
        user: user.clone(),
        avatar_key: None,
        avatar_thumbnail_key: None,
    };
    put_new(table, &item)
}

/// The Put that claims an email for `user_id` (its uniqueness marker), for a transaction.
pub(crate) fn credential_put(
    table: &str,
    normalized_email: &str,
    user_id: UserId,
    password_hash: Option<String>,
    created_at: DateTime<Utc>,
) -> ApiResult<TransactWriteItem> {
    let item = CredentialItem {
        key: keys::credential(normalized_email),
        entity: keys::entity::CREDENTIAL.into(),
        user_id,
        password_hash,
        created_at,
    };
    put_new(table, &item)
}

/// Everything registration writes, in one transaction.
#[derive(Debug)]
pub struct NewAccount {
    pub user: User,
    pub normalized_email: String,
    pub password_hash: String,
    /// The first refresh token of the first session.
    pub refresh: RefreshToken,
}

/// A profile update; absent fields stay as they are.
#[derive(Debug, Default)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub bio: Patch<String>,
}

/// How creating an account ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountCreation {
    Created,
    /// The email is already registered; nothing was written.
    EmailTaken,
}

/// How a profile update ended.
#[derive(Debug, Clone)]
pub enum ProfileUpdate {
    Updated(User),
    /// There is no such user.
    NoUser,
}

impl Store {
    /// Creates the user, the email marker and the first session atomically (nothing is
    /// written when the email is already registered).
    pub async fn create_account(&self, account: NewAccount) -> ApiResult<AccountCreation> {
        let NewAccount {
            user,
            normalized_email,
            password_hash,
            refresh,
        } = account;
        const CREDENTIAL_INDEX: usize = 1;
        let outcome = self
            .transact(vec![
                user_put(self.table(), &user)?,
                credential_put(
                    self.table(),
                    &normalized_email,
                    user.id,
                    Some(password_hash),
                    user.created_at,
                )?,
                family_put(self.table(), &refresh)?,
                token_put(self.table(), &refresh)?,
            ])
            .await?;
        match outcome {
            TransactOutcome::Committed => Ok(AccountCreation::Created),
            _ if outcome.failed_at(CREDENTIAL_INDEX) => Ok(AccountCreation::EmailTaken),
            TransactOutcome::ConditionFailed(codes) => {
                Err(TransactOutcome::cancelled("account creation", &codes))
            }
        }
    }

    pub async fn get_credential(&self, normalized_email: &str) -> ApiResult<Option<Credential>> {
        let item: Option<CredentialItem> = self.get(keys::credential(normalized_email)).await?;
        Ok(item.map(|item| Credential {
            user_id: item.user_id,
            password_hash: item.password_hash,
        }))
    }

    pub async fn get_user(&self, user_id: UserId) -> ApiResult<Option<User>> {
        let item: Option<UserItem> = self.get(keys::user(user_id)).await?;
        Ok(item.map(|item| item.user))
    }

    /// Applies a profile update and returns the updated user.
    pub async fn update_profile(
        &self,
        user_id: UserId,
        changes: ProfileChanges,
        now: DateTime<Utc>,
    ) -> ApiResult<ProfileUpdate> {
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::user(user_id))?))
            .condition_expression(item_exists())
            .return_values(ReturnValue::AllNew)
            .expression_attribute_values(":updated_at", to_attribute(&now)?);
        let mut set = vec!["updated_at = :updated_at"];
        let mut remove = Vec::new();
        if let Some(display_name) = &changes.display_name {
            set.push("display_name = :display_name");
            request =
                request.expression_attribute_values(":display_name", to_attribute(display_name)?);
        }
        match &changes.bio {
            Patch::Absent => {}
            Patch::Clear => remove.push("bio"),
            Patch::Set(bio) => {
                set.push("bio = :bio");
                request = request.expression_attribute_values(":bio", to_attribute(bio)?);
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let result = request.update_expression(expression).send().await;
        match conditional("UpdateItem", result)?.and_then(|output| output.attributes) {
            Some(item) => Ok(ProfileUpdate::Updated(
                from_attributes::<UserItem>(item)?.user,
            )),
            None => Ok(ProfileUpdate::NoUser),
        }
    }
}

impl Store {
    /// Reads many users at once (one BatchGetItem per 100); missing ones are left out.
    pub async fn get_users(&self, user_ids: &[UserId]) -> ApiResult<Vec<User>> {
        let keys: Vec<Key> = user_ids.iter().map(|id| keys::user(*id)).collect();
        let mut users = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let items: Vec<UserItem> = self.batch_get(chunk).await?;
            users.extend(items.into_iter().map(|item| item.user));
        }
        Ok(users)
    }
}

impl Store {
    /// Clears the avatar if it is still `avatar_key`.
    pub async fn clear_avatar(&self, user_id: UserId, avatar_key: &str) -> ApiResult<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::user(user_id))?))
            .update_expression("REMOVE avatar_url, avatar_key, avatar_thumbnail_key")
            .condition_expression(format!("{} AND avatar_key = :key", item_exists()))
            .expression_attribute_values(":key", to_attribute(&avatar_key)?)
            .send()
            .await;
        conditional("UpdateItem", result).map(|_| ())
    }

    /// The S3 key `avatar_url` serves: the current avatar's square version once it is
    /// made, else the avatar as uploaded.
    pub async fn get_avatar_key(&self, user_id: UserId) -> ApiResult<Option<String>> {
        let item: Option<UserItem> = self.get(keys::user(user_id)).await?;
        Ok(item.and_then(|item| item.avatar_thumbnail_key.or(item.avatar_key)))
    }

    /// Points the profile at its avatar's square version, if `avatar_key` is still its
    /// avatar (a later avatar, or none, leaves the profile as it is). Idempotent.
    pub async fn set_avatar_thumbnail(
        &self,
        user_id: UserId,
        avatar_key: &str,
        thumbnail_key: &str,
    ) -> ApiResult<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::user(user_id))?))
            .update_expression("SET avatar_thumbnail_key = :thumbnail")
            .condition_expression(format!("{} AND avatar_key = :key", item_exists()))
            .expression_attribute_values(":key", to_attribute(&avatar_key)?)
            .expression_attribute_values(":thumbnail", to_attribute(&thumbnail_key)?)
            .send()
            .await;
        conditional("UpdateItem", result).map(|_| ())
    }
}

/// The update that points a profile at a new avatar object (the user must exist; the last
/// avatar's square version is dropped), for the transaction that makes the avatar's file
/// ready.
pub(crate) fn set_avatar(
    table: &str,
    user_id: UserId,
    avatar_url: &str,
    avatar_key: &str,
    now: DateTime<Utc>,
) -> ApiResult<aws_sdk_dynamodb::types::TransactWriteItem> {
    let update = aws_sdk_dynamodb::types::Update::builder()
        .table_name(table)
        .set_key(Some(to_attributes(&keys::user(user_id))?))
        .update_expression(
            "SET avatar_url = :url, avatar_key = :key, updated_at = :now \
             REMOVE avatar_thumbnail_key",
        )
        .condition_expression(item_exists())
        .expression_attribute_values(":url", to_attribute(&avatar_url)?)
        .expression_attribute_values(":key", to_attribute(&avatar_key)?)
        .expression_attribute_values(":now", to_attribute(&now)?)
        .build()
        .map_err(ApiError::internal)?;
    Ok(aws_sdk_dynamodb::types::TransactWriteItem::builder()
        .update(update)
        .build())
}
