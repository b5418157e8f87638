//! External identities: the marker that links an identity (issuer + subject) to its one
//! user, written in the same transaction as the user, so concurrent first calls make one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::ids::UserId;
use crate::keys::{self, Key};
use crate::table::{Store, TransactOutcome, put_new};
use crate::users::User;
use crate::users::store::{credential_put, user_put};
use crate::validate::normalize_email;

/// The identity marker item.
#[derive(Serialize, Deserialize)]
struct IdentityItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    issuer: String,
    subject: String,
    user_id: UserId,
    created_at: DateTime<Utc>,
}

/// How linking an identity to a new user ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Linking {
    /// The user was created as given, or without the email when another account held it.
    Created(User),
    /// The identity was already linked (a concurrent first call won); nothing was written.
    AlreadyLinked,
}

impl Store {
    /// The user an external identity is linked to.
    pub async fn linked_user(&self, issuer: &str, subject: &str) -> ApiResult<Option<UserId>> {
        let item: Option<IdentityItem> = self.get(keys::external_identity(issuer, subject)).await?;
        Ok(item.map(|item| item.user_id))
    }

    /// Creates `user` and links the identity to it in one transaction. The user's email,
    /// if any, is claimed with its marker (a credential without a password); when another
    /// account already holds that email the user is created without one: accounts are
    /// never merged by email.
    pub async fn link_new_user(
        &self,
        issuer: &str,
        subject: &str,
        mut user: User,
    ) -> ApiResult<Linking> {
        match self.try_link(issuer, subject, &user).await? {
            TransactOutcome::Committed => return Ok(Linking::Created(user)),
            outcome if outcome.failed_at(IDENTITY_INDEX) => return Ok(Linking::AlreadyLinked),
            outcome if user.email.is_some() && outcome.failed_at(EMAIL_INDEX) => {
                tracing::info!(user_id = %user.id, "external user created without its email: another account holds it");
                user.email = None;
            }
            TransactOutcome::ConditionFailed(codes) => {
                return Err(TransactOutcome::cancelled("external user creation", &codes));
            }
        }
        match self.try_link(issuer, subject, &user).await? {
            TransactOutcome::Committed => Ok(Linking::Created(user)),
            outcome if outcome.failed_at(IDENTITY_INDEX) => Ok(Linking::AlreadyLinked),
            TransactOutcome::ConditionFailed(codes) => {
                Err(TransactOutcome::cancelled("external user creation", &codes))
            }
        }
    }

    async fn try_link(
        &self,
        issuer: &str,
        subject: &str,
        user: &User,
    ) -> ApiResult<TransactOutcome> {
        let marker = IdentityItem {
            key: keys::external_identity(issuer, subject),
            entity: keys::entity::EXTERNAL_IDENTITY.into(),
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            user_id: user.id,
            created_at: user.created_at,
        };
        let mut items = vec![
            user_put(self.table(), user)?,
            put_new(self.table(), &marker)?,
        ];
        if let Some(email) = &user.email {
            items.push(credential_put(
                self.table(),
                &normalize_email(email),
                user.id,
                None,
                user.created_at,
            )?);
        }
        self.transact(items).await
    }
}

/// Positions in the linking transaction.
const IDENTITY_INDEX: usize = 1;
const EMAIL_INDEX: usize = 2;
