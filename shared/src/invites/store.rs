//! Invites: created and revoked by admins, listed by workspace, accepted once per use
//! (the use counter's condition and the new membership in one transaction).

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, UserId, WorkspaceId};
use crate::invites::Invite;
use crate::keys::{self, Gsi1Key, Key};
use crate::table::{
    Page, PageRequest, Store, TransactOutcome, conditional, item_exists, put_new, to_attribute,
    to_attributes,
};
use crate::workspaces::WorkspaceMember;
use crate::workspaces::store::{WorkspaceMemberItem, general_membership_writes};

#[derive(Serialize, Deserialize)]
struct InviteItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    by_workspace: Gsi1Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    invite: Invite,
    /// The expiry in epoch seconds, for the accept condition.
    expires_epoch: i64,
    /// Kept out of the item when unlimited, so the condition can test its absence.
    #[serde(skip_serializing_if = "Option::is_none")]
    use_limit: Option<u32>,
}

/// How accepting an invite ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteAcceptance {
    Joined,
    AlreadyMember,
    /// Unknown, expired, used up or revoked.
    Unusable,
}

/// How revoking an invite ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteRevocation {
    Revoked,
    /// No such invite in this workspace.
    NotFound,
}

/// Positions in the acceptance transaction.
const USE_ONCE: usize = 0;
const NEW_MEMBER: usize = 1;

impl Store {
    pub async fn create_invite(&self, invite: &Invite) -> ApiResult<()> {
        let code = invite.code.as_str();
        let item = InviteItem {
            key: keys::invite(code),
            by_workspace: keys::invite_by_workspace(invite.workspace_id, code),
            entity: keys::entity::INVITE.into(),
            invite: invite.clone(),
            expires_epoch: invite.expires_at.timestamp(),
            use_limit: invite.max_uses,
        };
        self.put_new_item(&item).await
    }

    pub async fn get_invite(&self, code: &str) -> ApiResult<Option<Invite>> {
        let item: Option<InviteItem> = self.get(keys::invite(code)).await?;
        Ok(item.map(|item| item.invite))
    }

    pub async fn list_invites(
        &self,
        workspace_id: WorkspaceId,
        page: &PageRequest,
    ) -> ApiResult<Page<Invite>> {
        let page: Page<InviteItem> = self
            .query_page(&keys::workspace_invites(workspace_id), page, true)
            .await?;
        Ok(page.map(|item| item.invite))
    }

    /// Revokes (deletes) an invite of this workspace.
    pub async fn delete_invite(
        &self,
        workspace_id: WorkspaceId,
        code: &str,
        actor: UserId,
    ) -> ApiResult<InviteRevocation> {
        let key = keys::invite(code);
        // For the activity log: who revoked it.
        self.note_deletion(&key, actor).await?;
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::invite(code))?))
            .condition_expression(format!("{} AND workspace_id = :wid", item_exists()))
            .expression_attribute_values(":wid", to_attribute(&workspace_id)?)
            .send()
            .await;
        Ok(match conditional("DeleteItem", result)? {
            Some(_) => InviteRevocation::Revoked,
            None => {
                self.forget_deletion(&key).await?;
                InviteRevocation::NotFound
            }
        })
    }

    /// Uses the invite once and adds the member (and joins them to general), atomically:
    /// the use counter's condition admits exactly `max_uses` acceptances.
    pub async fn accept_invite(
        &self,
        code: &str,
        member: &WorkspaceMember,
        general_channel_id: ChannelId,
    ) -> ApiResult<InviteAcceptance> {
        let table = self.table();
        let use_once = Update::builder()
            .table_name(table)
            .set_key(Some(to_attributes(&keys::invite(code))?))
            .update_expression("ADD uses :one")
            .condition_expression(format!(
                "{} AND workspace_id = :wid AND expires_epoch > :now \
                 AND (attribute_not_exists(use_limit) OR uses < use_limit)",
                item_exists()
            ))
            .expression_attribute_values(":one", to_attribute(&1)?)
            .expression_attribute_values(":wid", to_attribute(&member.workspace_id)?)
            .expression_attribute_values(":now", to_attribute(&member.joined_at.timestamp())?)
            .build()
            .map_err(ApiError::internal)?;
        // In the order of USE_ONCE and NEW_MEMBER.
        let mut items = vec![
            TransactWriteItem::builder().update(use_once).build(),
            put_new(table, &WorkspaceMemberItem::new(member))?,
        ];
        items.extend(general_membership_writes(
            table,
            member,
            general_channel_id,
            member.joined_at,
        )?);
        let outcome = self.transact(items).await?;
        Ok(match outcome {
            TransactOutcome::Committed => InviteAcceptance::Joined,
            _ if outcome.failed_at(NEW_MEMBER) => InviteAcceptance::AlreadyMember,
            _ if outcome.failed_at(USE_ONCE) => InviteAcceptance::Unusable,
            TransactOutcome::ConditionFailed(codes) => {
                return Err(TransactOutcome::cancelled("invite acceptance", &codes));
            }
        })
    }
}
