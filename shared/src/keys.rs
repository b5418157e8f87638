//! The single-table schema: attribute names, GSI names, entity type names and every key
//! builder. Nothing outside this module formats a partition or sort key.
//!
//! | entity | PK | SK | GSI1 (PK / SK) |
//! |---|---|---|---|
//! | user | `USER#uid` | `PROFILE` | |
//! | credential (email marker) | `EMAIL#lower(email)` | `EMAIL` | |
//! | refresh token | `REFRESH#sha256(token)` | `TOKEN` | |
//! | refresh family | `FAMILY#fid` | `FAMILY` | |
//! | WebSocket ticket | `TICKET#sha256(ticket)` | `TICKET` | |
//! | workspace | `WS#wid` | `META` | |
//! | workspace member | `WS#wid` | `MEMBER#uid` | `USER#uid` / `WS#wid` |
//! | invite | `INVITE#code` | `INVITE` | `WS#wid` / `INVITE#code` |
//! | channel | `CH#cid` | `META` | `WS#wid` / `CHANNEL#cid` |
//! | channel name marker | `WS#wid` | `CHNAME#name` | |
//! | DM marker | `WS#wid` | `DM#sha256(sorted member ids)` | |
//! | channel member (read marker, counters) | `CH#cid` | `MEMBER#uid` | `USER#uid` / `CH#wid#cid` |
//! | message | `CH#cid` | `MSG#mid` | `TOP#cid` / `mid`, or `THREAD#cid#parent` / `mid` for replies; GSI2 `PINS#cid` / `pin id` while pinned |
//! | message version (edit history) | `CH#cid` | `HIST#mid#version id` | |
//! | send idempotency marker | `CH#cid` | `CLIENT#uid#client_id` | |
//! | search term posting | `TERM#wid#term` | `mid` | |
//! | WebSocket connection | `CONN#connid` | `META` (TTL) | `USER#uid` / `CONN#connid` |
//! | channel subscription | `CH#cid` | `SUB#connid` (TTL) | `CONN#connid` / `CH#cid`; GSI2 `SUBS#uid` / `wid#cid#connid` |
//! | presence | `USER#uid` | `PRESENCE` | |
//! | file | `FILE#fid` | `META` (TTL while pending) | |
//! | document (version, snapshot pointer, log counters) | `DOC#cid` | `META` | |
//! | document update (the log) | `DOC#cid` | `UPD#version` (20 digits) | |
//! | document revision (a snapshot: Yjs state, first part) | `DOC#cid` | `REV#version` (20 digits) | |
//! | document snapshot part (the rest of a large snapshot) | `DOC#cid` | `PART#version#n` | |

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, FamilyId, FileId, MessageId, UserId, WorkspaceId};

/// Partition key attribute.
pub const PK: &str = "PK";
/// Sort key attribute.
pub const SK: &str = "SK";
/// Overloaded GSI #1.
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
/// Overloaded GSI #2.
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
/// Epoch-seconds TTL attribute.
pub const EXPIRES_AT: &str = "expires_at";
/// Entity name carried by every item.
pub const TYPE: &str = "type";

/// Entity type names, stored in [`TYPE`].
pub mod entity {
    pub const USER: &str = "user";
    pub const CREDENTIAL: &str = "credential";
    pub const REFRESH_TOKEN: &str = "refresh_token";
    pub const REFRESH_FAMILY: &str = "refresh_family";
    pub const WS_TICKET: &str = "ws_ticket";
    pub const WORKSPACE: &str = "workspace";
    pub const WORKSPACE_MEMBER: &str = "workspace_member";
    pub const INVITE: &str = "invite";
    pub const CHANNEL: &str = "channel";
    pub const CHANNEL_NAME: &str = "channel_name";
    pub const DM_MARKER: &str = "dm_marker";
    pub const CHANNEL_MEMBER: &str = "channel_member";
    pub const MESSAGE: &str = "message";
    pub const MESSAGE_VERSION: &str = "message_version";
    pub const CLIENT_MARKER: &str = "client_marker";
    pub const SEARCH_TERM: &str = "search_term";
    pub const CONNECTION: &str = "connection";
    pub const SUBSCRIPTION: &str = "subscription";
    pub const PRESENCE: &str = "presence";
    pub const FILE: &str = "file";
    pub const DOCUMENT: &str = "document";
    pub const DOCUMENT_UPDATE: &str = "document_update";
    pub const DOCUMENT_REVISION: &str = "document_revision";
    pub const DOCUMENT_PART: &str = "document_part";
}

/// The primary key of an item; entity items embed it with `#[serde(flatten)]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
}

/// A GSI2 key pair; items in the second index embed it with `#[serde(flatten)]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gsi2Key {
    #[serde(rename = "GSI2PK")]
    pub gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    pub gsi2sk: String,
}

/// A GSI1 key pair; indexed entity items embed it with `#[serde(flatten)]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gsi1Key {
    #[serde(rename = "GSI1PK")]
    pub gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    pub gsi1sk: String,
}

/// Which sort keys of a partition a Query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortRange {
    /// Every sort key.
    All,
    /// Sort keys that start with this prefix.
    Prefix(String),
    /// Sort keys strictly below this one.
    Below(String),
    /// Sort keys strictly above this one.
    Above(String),
}

impl SortRange {
    pub fn contains(&self, sort_key: &str) -> bool {
        match self {
            Self::All => true,
            Self::Prefix(prefix) => sort_key.starts_with(prefix.as_str()),
            Self::Below(bound) => sort_key < bound.as_str(),
            Self::Above(bound) => sort_key > bound.as_str(),
        }
    }
}

/// A Query on one partition of the table or of an index, over a range of sort keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// `None` for the table, else the index name.
    pub index: Option<&'static str>,
    /// The partition key attribute (`PK` or the index's).
    pub pk_attribute: &'static str,
    pub sk_attribute: &'static str,
    pub pk: String,
    pub range: SortRange,
}

impl Partition {
    fn table(pk: String, sk_prefix: &str) -> Self {
        Self {
            index: None,
            pk_attribute: PK,
            sk_attribute: SK,
            pk,
            range: SortRange::Prefix(sk_prefix.to_owned()),
        }
    }

    fn gsi1(pk: String, sk_prefix: String) -> Self {
        Self {
            index: Some(GSI1),
            pk_attribute: GSI1PK,
            sk_attribute: GSI1SK,
            pk,
            range: SortRange::Prefix(sk_prefix),
        }
    }

    fn gsi2(pk: String, sk_prefix: String) -> Self {
        Self {
            index: Some(GSI2),
            pk_attribute: GSI2PK,
            sk_attribute: GSI2SK,
            pk,
            range: SortRange::Prefix(sk_prefix),
        }
    }

    fn index_all(
        index: &'static str,
        pk_attribute: &'static str,
        sk_attribute: &'static str,
        pk: String,
    ) -> Self {
        Self {
            index: Some(index),
            pk_attribute,
            sk_attribute,
            pk,
            range: SortRange::All,
        }
    }

    /// Narrows an id-sorted partition to the ids before `id` (older).
    pub fn before(mut self, id: &str) -> Self {
        self.range = SortRange::Below(id.to_owned());
        self
    }

    /// Narrows an id-sorted partition to the ids after `id` (newer).
    pub fn after(mut self, id: &str) -> Self {
        self.range = SortRange::Above(id.to_owned());
        self
    }
}

impl Key {
    fn new(pk: String, sk: &str) -> Self {
        Self {
            pk,
            sk: sk.to_owned(),
        }
    }
}

/// A user's profile item.
pub fn user(user_id: UserId) -> Key {
    Key::new(format!("USER#{user_id}"), "PROFILE")
}

/// The credential item for an email: the uniqueness marker, and what login reads.
/// Emails are compared case-insensitively, so the key uses the normalised form.
pub fn credential(normalized_email: &str) -> Key {
    Key::new(format!("EMAIL#{normalized_email}"), "EMAIL")
}

/// A refresh token, addressed by the hash of its secret (the secret is never stored).
pub fn refresh_token(token_hash: &str) -> Key {
    Key::new(format!("REFRESH#{token_hash}"), "TOKEN")
}

/// A refresh-token family: one login's chain of rotations, revoked as a whole.
pub fn refresh_family(family_id: FamilyId) -> Key {
    Key::new(format!("FAMILY#{family_id}"), "FAMILY")
}

/// A single-use WebSocket ticket, addressed by the hash of its secret.
pub fn ws_ticket(ticket_hash: &str) -> Key {
    Key::new(format!("TICKET#{ticket_hash}"), "TICKET")
}

const MEMBER_PREFIX: &str = "MEMBER#";

/// A workspace's record.
pub fn workspace(workspace_id: WorkspaceId) -> Key {
    Key::new(format!("WS#{workspace_id}"), "META")
}

/// A user's membership (and role) in a workspace.
pub fn workspace_member(workspace_id: WorkspaceId, user_id: UserId) -> Key {
    Key::new(
        format!("WS#{workspace_id}"),
        &format!("{MEMBER_PREFIX}{user_id}"),
    )
}

/// Indexes a workspace membership under its user ("my workspaces").
pub fn workspace_member_by_user(workspace_id: WorkspaceId, user_id: UserId) -> Gsi1Key {
    Gsi1Key {
        gsi1pk: format!("USER#{user_id}"),
        gsi1sk: format!("WS#{workspace_id}"),
    }
}

/// Everything stored under a workspace's partition (record, members, name and DM markers).
pub fn workspace_partition(workspace_id: WorkspaceId) -> Partition {
    Partition {
        index: None,
        pk_attribute: PK,
        sk_attribute: SK,
        pk: format!("WS#{workspace_id}"),
        range: SortRange::All,
    }
}

/// Everything stored under a channel's partition (record, members, messages, history,
/// idempotency markers, subscriptions).
pub fn channel_partition(channel_id: ChannelId) -> Partition {
    Partition {
        index: None,
        pk_attribute: PK,
        sk_attribute: SK,
        pk: format!("CH#{channel_id}"),
        range: SortRange::All,
    }
}

/// A workspace's members, in user-id order.
pub fn workspace_members(workspace_id: WorkspaceId) -> Partition {
    Partition::table(format!("WS#{workspace_id}"), MEMBER_PREFIX)
}

/// The workspaces a user belongs to.
pub fn user_workspaces(user_id: UserId) -> Partition {
    Partition::gsi1(format!("USER#{user_id}"), "WS#".to_owned())
}

/// An invite, addressed by its code.
pub fn invite(code: &str) -> Key {
    Key::new(format!("INVITE#{code}"), "INVITE")
}

/// Indexes an invite under its workspace.
pub fn invite_by_workspace(workspace_id: WorkspaceId, code: &str) -> Gsi1Key {
    Gsi1Key {
        gsi1pk: format!("WS#{workspace_id}"),
        gsi1sk: format!("INVITE#{code}"),
    }
}

/// A workspace's invites.
pub fn workspace_invites(workspace_id: WorkspaceId) -> Partition {
    Partition::gsi1(format!("WS#{workspace_id}"), "INVITE#".to_owned())
}

/// A channel's record (and its message counters).
pub fn channel(channel_id: ChannelId) -> Key {
    Key::new(format!("CH#{channel_id}"), "META")
}

/// Indexes a channel under its workspace.
pub fn channel_by_workspace(workspace_id: WorkspaceId, channel_id: ChannelId) -> Gsi1Key {
    Gsi1Key {
        gsi1pk: format!("WS#{workspace_id}"),
        gsi1sk: format!("CHANNEL#{channel_id}"),
    }
}

/// A workspace's channels, in creation order.
pub fn workspace_channels(workspace_id: WorkspaceId) -> Partition {
    Partition::gsi1(format!("WS#{workspace_id}"), "CHANNEL#".to_owned())
}

/// The marker that makes a channel name unique in its workspace.
pub fn channel_name(workspace_id: WorkspaceId, name: &str) -> Key {
    Key::new(format!("WS#{workspace_id}"), &format!("CHNAME#{name}"))
}

/// The marker that makes a DM member set map to one channel. `member_set_digest` is a
/// digest of the sorted member ids.
pub fn dm_marker(workspace_id: WorkspaceId, member_set_digest: &str) -> Key {
    Key::new(
        format!("WS#{workspace_id}"),
        &format!("DM#{member_set_digest}"),
    )
}

/// A user's membership of a channel, with the read marker and counters.
pub fn channel_member(channel_id: ChannelId, user_id: UserId) -> Key {
    Key::new(
        format!("CH#{channel_id}"),
        &format!("{MEMBER_PREFIX}{user_id}"),
    )
}

/// Indexes a channel membership under its user and workspace.
pub fn channel_member_by_user(
    workspace_id: WorkspaceId,
    channel_id: ChannelId,
    user_id: UserId,
) -> Gsi1Key {
    Gsi1Key {
        gsi1pk: format!("USER#{user_id}"),
        gsi1sk: format!("CH#{workspace_id}#{channel_id}"),
    }
}

/// A channel's members, in user-id order.
pub fn channel_members(channel_id: ChannelId) -> Partition {
    Partition::table(format!("CH#{channel_id}"), MEMBER_PREFIX)
}

/// The channels of one workspace a user belongs to.
pub fn user_channels_in_workspace(user_id: UserId, workspace_id: WorkspaceId) -> Partition {
    Partition::gsi1(format!("USER#{user_id}"), format!("CH#{workspace_id}#"))
}

/// A message (top-level or reply), addressed within its channel.
pub fn message(channel_id: ChannelId, message_id: MessageId) -> Key {
    Key::new(format!("CH#{channel_id}"), &format!("MSG#{message_id}"))
}

/// Indexes a message: top-level messages under their channel, replies under their thread.
pub fn message_listing(
    channel_id: ChannelId,
    parent_id: Option<MessageId>,
    message_id: MessageId,
) -> Gsi1Key {
    Gsi1Key {
        gsi1pk: match parent_id {
            None => format!("TOP#{channel_id}"),
            Some(parent) => format!("THREAD#{channel_id}#{parent}"),
        },
        gsi1sk: message_id.to_string(),
    }
}

/// A channel's top-level messages, in id (time) order.
pub fn channel_messages(channel_id: ChannelId) -> Partition {
    Partition::index_all(GSI1, GSI1PK, GSI1SK, format!("TOP#{channel_id}"))
}

/// A thread's replies, in id (time) order.
pub fn thread_replies(channel_id: ChannelId, parent_id: MessageId) -> Partition {
    Partition::index_all(
        GSI1,
        GSI1PK,
        GSI1SK,
        format!("THREAD#{channel_id}#{parent_id}"),
    )
}

/// Indexes a pinned message under its channel's pins (removed when unpinned).
pub fn pinned_message(channel_id: ChannelId, pin_id: &str) -> Gsi2Key {
    Gsi2Key {
        gsi2pk: format!("PINS#{channel_id}"),
        gsi2sk: pin_id.to_owned(),
    }
}

/// A channel's pinned messages, in pin order.
pub fn channel_pins(channel_id: ChannelId) -> Partition {
    Partition::index_all(GSI2, GSI2PK, GSI2SK, format!("PINS#{channel_id}"))
}

/// An earlier version of an edited message.
pub fn message_version(channel_id: ChannelId, message_id: MessageId, version_id: &str) -> Key {
    Key::new(
        format!("CH#{channel_id}"),
        &format!("HIST#{message_id}#{version_id}"),
    )
}

/// A message's earlier versions, in edit order.
pub fn message_versions(channel_id: ChannelId, message_id: MessageId) -> Partition {
    Partition::table(format!("CH#{channel_id}"), &format!("HIST#{message_id}#"))
}

/// The marker that makes a send with a `client_id` idempotent per user and channel.
pub fn client_marker(channel_id: ChannelId, user_id: UserId, client_id: &str) -> Key {
    Key::new(
        format!("CH#{channel_id}"),
        &format!("CLIENT#{user_id}#{client_id}"),
    )
}

/// A search posting: `term` occurs in message `message_id` of the workspace.
pub fn search_posting(workspace_id: WorkspaceId, term: &str, message_id: MessageId) -> Key {
    Key::new(
        format!("TERM#{workspace_id}#{term}"),
        &message_id.to_string(),
    )
}

/// The postings of a term in a workspace, in message-id order.
pub fn search_term(workspace_id: WorkspaceId, term: &str) -> Partition {
    Partition {
        index: None,
        pk_attribute: PK,
        sk_attribute: SK,
        pk: format!("TERM#{workspace_id}#{term}"),
        range: SortRange::All,
    }
}

/// A WebSocket connection.
pub fn connection(connection_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), "META")
}

/// Indexes a connection under its user.
pub fn connection_by_user(user_id: UserId, connection_id: &str) -> Gsi1Key {
    Gsi1Key {
        gsi1pk: format!("USER#{user_id}"),
        gsi1sk: format!("CONN#{connection_id}"),
    }
}

/// A user's open connections.
pub fn user_connections(user_id: UserId) -> Partition {
    Partition::gsi1(format!("USER#{user_id}"), "CONN#".to_owned())
}

/// A connection's subscription to a channel's events.
pub fn subscription(channel_id: ChannelId, connection_id: &str) -> Key {
    Key::new(format!("CH#{channel_id}"), &format!("SUB#{connection_id}"))
}

/// Indexes a subscription under its connection (for clean-up on disconnect).
pub fn subscription_by_connection(connection_id: &str, channel_id: ChannelId) -> Gsi1Key {
    Gsi1Key {
        gsi1pk: format!("CONN#{connection_id}"),
        gsi1sk: format!("CH#{channel_id}"),
    }
}

/// The connections subscribed to a channel: a broadcast's audience.
pub fn channel_subscribers(channel_id: ChannelId) -> Partition {
    Partition::table(format!("CH#{channel_id}"), "SUB#")
}

/// The channels one connection is subscribed to.
pub fn connection_subscriptions(connection_id: &str) -> Partition {
    Partition::gsi1(format!("CONN#{connection_id}"), "CH#".to_owned())
}

/// Indexes a subscription under its user, by workspace and channel (to end a user's
/// subscriptions, on every connection, when their access ends).
pub fn subscription_by_user(
    user_id: UserId,
    workspace_id: WorkspaceId,
    channel_id: ChannelId,
    connection_id: &str,
) -> Gsi2Key {
    Gsi2Key {
        gsi2pk: format!("SUBS#{user_id}"),
        gsi2sk: format!("{workspace_id}#{channel_id}#{connection_id}"),
    }
}

/// A user's subscriptions to the channels of one workspace, on every connection.
pub fn user_workspace_subscriptions(user_id: UserId, workspace_id: WorkspaceId) -> Partition {
    Partition::gsi2(format!("SUBS#{user_id}"), format!("{workspace_id}#"))
}

/// A user's subscriptions to one channel, on every connection.
pub fn user_channel_subscriptions(
    user_id: UserId,
    workspace_id: WorkspaceId,
    channel_id: ChannelId,
) -> Partition {
    Partition::gsi2(
        format!("SUBS#{user_id}"),
        format!("{workspace_id}#{channel_id}#"),
    )
}

/// A user's presence: their open connections and chosen status.
pub fn presence(user_id: UserId) -> Key {
    Key::new(format!("USER#{user_id}"), "PRESENCE")
}

/// An uploaded (or pending) file.
pub fn file(file_id: FileId) -> Key {
    Key::new(format!("FILE#{file_id}"), "META")
}

/// A document's record: its version, the revision that is its snapshot, and its log's
/// counters.
pub fn document(channel_id: ChannelId) -> Key {
    Key::new(format!("DOC#{channel_id}"), "META")
}

/// One stored update of a document's log, by the version it made (zero-padded, so the
/// log sorts in version order).
pub fn document_update(channel_id: ChannelId, version: u64) -> Key {
    Key::new(format!("DOC#{channel_id}"), &format!("UPD#{version:020}"))
}

/// A document's update log, in version order.
pub fn document_updates(channel_id: ChannelId) -> Partition {
    Partition::table(format!("DOC#{channel_id}"), "UPD#")
}

/// A revision of a document: a snapshot of its Yjs state at `version` (its first part).
pub fn document_revision(channel_id: ChannelId, version: u64) -> Key {
    Key::new(format!("DOC#{channel_id}"), &format!("REV#{version:020}"))
}

/// A document's revisions, in version order.
pub fn document_revisions(channel_id: ChannelId) -> Partition {
    Partition::table(format!("DOC#{channel_id}"), "REV#")
}

/// Part `part` (from 1) of the snapshot of revision `version`, when it needs more than one
/// item.
pub fn document_part(channel_id: ChannelId, version: u64, part: u32) -> Key {
    Key::new(
        format!("DOC#{channel_id}"),
        &format!("PART#{version:020}#{part:04}"),
    )
}

/// Everything stored for a channel's document (record, log, revisions, parts): what a
/// deleted channel leaves behind. Not under `CH#cid`, so the log can grow without
/// crowding the channel's partition.
pub fn document_partition(channel_id: ChannelId) -> Partition {
    Partition {
        index: None,
        pk_attribute: PK,
        sk_attribute: SK,
        pk: format!("DOC#{channel_id}"),
        range: SortRange::All,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_attribute_names_match_the_constants() {
        let (w, u) = (WorkspaceId::generate(), UserId::generate());
        let value = serde_json::to_value(user(u)).unwrap_or_default();
        assert_eq!(value[PK], ["USER", &u.to_string()].join("#"));
        assert_eq!(value[SK], "PROFILE");
        let gsi = serde_json::to_value(workspace_member_by_user(w, u)).unwrap_or_default();
        assert_eq!(gsi[GSI1PK], ["USER", &u.to_string()].join("#"));
        assert_eq!(gsi[GSI1SK], ["WS", &w.to_string()].join("#"));
    }

    #[test]
    fn partitions_match_the_keys_they_list() {
        let (w, u) = (WorkspaceId::generate(), UserId::generate());
        let (c, m, m2, p) = (
            ChannelId::generate(),
            MessageId::generate(),
            MessageId::generate(),
            MessageId::generate(),
        );
        let member = workspace_member(w, u);
        let members = workspace_members(w);
        assert_eq!(member.pk, members.pk);
        assert!(members.range.contains(&member.sk));
        let by_user = channel_member_by_user(w, c, u);
        let listed = user_channels_in_workspace(u, w);
        assert_eq!(by_user.gsi1pk, listed.pk);
        assert!(listed.range.contains(&by_user.gsi1sk));
        // A user's workspaces and channels share a GSI1 partition but never a prefix.
        assert!(!user_workspaces(u).range.contains(&by_user.gsi1sk));
        let channel_entry = channel_by_workspace(w, c);
        assert!(workspace_channels(w).range.contains(&channel_entry.gsi1sk));
        let top = message_listing(c, None, m);
        assert_eq!(top.gsi1pk, channel_messages(c).pk);
        let reply = message_listing(c, Some(p), m);
        assert_eq!(reply.gsi1pk, thread_replies(c, p).pk);
        assert_ne!(top.gsi1pk, reply.gsi1pk);
        let version = message_version(c, m, "V");
        assert!(message_versions(c, m).range.contains(&version.sk));
        assert!(!message_versions(c, m2).range.contains(&version.sk));
        let sub = subscription(c, "X");
        assert!(channel_subscribers(c).range.contains(&sub.sk));
        assert!(!channel_members(c).range.contains(&sub.sk));
        let by_conn = subscription_by_connection("X", c);
        assert!(
            connection_subscriptions("X")
                .range
                .contains(&by_conn.gsi1sk)
        );
        let (uid, wid, cid) = (
            UserId::generate(),
            WorkspaceId::generate(),
            ChannelId::generate(),
        );
        let by_user = subscription_by_user(uid, wid, cid, "X");
        assert!(
            user_channel_subscriptions(uid, wid, cid)
                .range
                .contains(&by_user.gsi2sk)
        );
        assert!(
            user_workspace_subscriptions(uid, wid)
                .range
                .contains(&by_user.gsi2sk)
        );
        assert_eq!(user_workspace_subscriptions(uid, wid).pk, by_user.gsi2pk);
        assert!(
            !user_workspace_subscriptions(uid, WorkspaceId::generate())
                .range
                .contains(&by_user.gsi2sk)
        );
        assert!(
            !user_channel_subscriptions(uid, wid, ChannelId::generate())
                .range
                .contains(&by_user.gsi2sk)
        );
        assert_ne!(by_user.gsi2pk, channel_pins(cid).pk);
        let conn = connection_by_user(u, "X");
        assert!(user_connections(u).range.contains(&conn.gsi1sk));
        assert!(!user_workspaces(u).range.contains(&conn.gsi1sk));
        assert_eq!(workspace_partition(w).pk, workspace(w).pk);
        assert_eq!(channel_partition(c).pk, channel(c).pk);
        assert_eq!(channel_partition(c).pk, message(c, m).pk);
        let invite_entry = invite_by_workspace(w, "I");
        assert!(workspace_invites(w).range.contains(&invite_entry.gsi1sk));
    }

    #[test]
    fn entities_do_not_share_partitions() {
        let (x, w) = (UserId::generate(), WorkspaceId::generate());
        let keys = [
            user(x).pk,
            credential("x").pk,
            refresh_token("x").pk,
            refresh_family(FamilyId::generate()).pk,
            ws_ticket("x").pk,
            workspace(w).pk,
            invite("x").pk,
            channel(ChannelId::generate()).pk,
            search_posting(w, "y", MessageId::generate()).pk,
            file(FileId::generate()).pk,
            document(ChannelId::generate()).pk,
        ];
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
    }

    #[test]
    fn document_keys_stay_in_their_partition_and_lists() {
        let c = ChannelId::generate();
        let partition = document_partition(c);
        let (meta, update, revision, part) = (
            document(c),
            document_update(c, 7),
            document_revision(c, 7),
            document_part(c, 7, 1),
        );
        for key in [&meta, &update, &revision, &part] {
            assert_eq!(key.pk, partition.pk);
            assert!(partition.range.contains(&key.sk));
        }
        assert_ne!(partition.pk, channel_partition(c).pk);
        assert_ne!(partition.pk, document_partition(ChannelId::generate()).pk);
        assert!(document_updates(c).range.contains(&update.sk));
        assert!(!document_updates(c).range.contains(&revision.sk));
        assert!(document_revisions(c).range.contains(&revision.sk));
        assert!(!document_revisions(c).range.contains(&part.sk));
        assert!(!document_revisions(c).range.contains(&meta.sk));
        // Versions sort numerically: 9 before 10.
        assert!(document_update(c, 9).sk < document_update(c, 10).sk);
        assert!(document_revision(c, 9).sk < document_revision(c, 10).sk);
        assert!(document_part(c, 7, 2).sk > part.sk);
        assert_ne!(document_part(c, 7, 1), document_part(c, 70, 1));
    }
}
