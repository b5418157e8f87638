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
//! | external identity (link to its user) | `IDENTITY#sha256(issuer, subject)` | `IDENTITY` | |
//! | workspace | `WS#wid` | `META` | |
//! | workspace member | `WS#wid` | `MEMBER#uid` | `USER#uid` / `WS#wid` |
//! | invite | `INVITE#code` | `INVITE` | `WS#wid` / `INVITE#code` |
//! | channel | `CH#cid` | `META` | `WS#wid` / `CHANNEL#cid` |
//! | channel name marker | `WS#wid` | `CHNAME#name` | |
//! | DM marker | `WS#wid` | `DM#sha256(sorted member ids)` | |
//! | channel member (read marker, counters) | `CH#cid` | `MEMBER#uid` | `USER#uid` / `CH#wid#cid` |
//! | message | `CH#cid` | `MSG#mid` | `TOP#cid` / `mid`, or `THREAD#cid#parent` / `mid` for replies; GSI2 `PINS#cid` / `pin id` while pinned |
//! | thread participant | `CH#cid` | `THREADP#parent#uid` (first reply id) | |
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
//! | task | `CH#cid` | `TASK#tid` | `TASKS#cid#open\|done` / `position#tid`; GSI2 `WORK#wid#uid` / `0\|1#due#tid` (open/done) while assigned |
//! | kanban column | `CH#cid` | `BOARD#COLUMN#colid` | |
//! | kanban card | `CH#cid` | `CARD#cardid` | `COL#colid` / `position#cardid`; GSI2 `WORK#wid#uid` / `0#due#cardid` while assigned |
//! | channel work totals | `CH#cid` | `BOARD#TOTALS` | |
//! | channel work per assignee | `CH#cid` | `BOARD#ASSIGNEE#uid` | |
//! | workspace workload per user | `WS#wid` | `LOAD#uid` | |
//! | notification | `USER#uid` | `NOTIF#nid` (TTL 90 d) | GSI2 `UNREAD#uid` / `nid` while unread |
//! | notification counter | `USER#uid` | `NOTIFCOUNT` | |
//! | notification expiry marker | `USER#uid` | `EXPIRED#nid` (TTL) | |
//! | channel member with level `all` | (the channel member item) | | GSI2 `NOTIFYALL#cid` / `uid` |
//! | activity | `ACT#wid` | `aid` (TTL 365 d) | `ACT#wid#actor` / `aid` |
//! | rate-limit bucket | `RL#scope#subject` | `window start (epoch s)` (TTL) | |
//! | WebSocket slots of a user | `USER#uid` | `SOCKETS` | |
//! | deletion note | `NOTE#<PK of the deleted item>#<SK>` | `NOTE` (TTL 1 d) | |
//! | due marker (open, dated task or card) | `CH#cid` | `DUE#yyyy-mm-dd#id` | `DUE#wid` / `yyyy-mm-dd#id` |

use serde::{Deserialize, Serialize};

use crate::ids::{
    ActivityId, CardId, ChannelId, ColumnId, FamilyId, FileId, MessageId, NotificationId, TaskId,
    UserId, WorkspaceId,
};

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
    pub const EXTERNAL_IDENTITY: &str = "external_identity";
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
    pub const THREAD_PARTICIPANT: &str = "thread_participant";
    pub const SEARCH_TERM: &str = "search_term";
    pub const CONNECTION: &str = "connection";
    pub const SUBSCRIPTION: &str = "subscription";
    pub const PRESENCE: &str = "presence";
    pub const FILE: &str = "file";
    pub const DOCUMENT: &str = "document";
    pub const DOCUMENT_UPDATE: &str = "document_update";
    pub const DOCUMENT_REVISION: &str = "document_revision";
    pub const DOCUMENT_PART: &str = "document_part";
    pub const TASK: &str = "task";
    pub const COLUMN: &str = "column";
    pub const CARD: &str = "card";
    pub const WORK_TOTALS: &str = "work_totals";
    pub const WORK_ASSIGNEE: &str = "work_assignee";
    pub const WORKLOAD: &str = "workload";
    pub const DUE_MARKER: &str = "due_marker";
    pub const NOTIFICATION: &str = "notification";
    pub const NOTIFICATION_COUNTER: &str = "notification_counter";
    pub const EXPIRY_MARKER: &str = "expiry_marker";
    pub const ACTIVITY: &str = "activity";
    pub const DELETION_NOTE: &str = "deletion_note";
    pub const RATE_BUCKET: &str = "rate_bucket";
    pub const SOCKET_SLOTS: &str = "socket_slots";
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
    /// Sort keys from the first to the second, both included.
    Between(String, String),
}

impl SortRange {
    pub fn contains(&self, sort_key: &str) -> bool {
        match self {
            Self::All => true,
            Self::Prefix(prefix) => sort_key.starts_with(prefix.as_str()),
            Self::Below(bound) => sort_key < bound.as_str(),
            Self::Above(bound) => sort_key > bound.as_str(),
            Self::Between(low, high) => low.as_str() <= sort_key && sort_key <= high.as_str(),
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

/// The marker that links an identity of an external provider (its `iss` and `sub`) to
/// its one Huddle user. Both parts go into a digest, each prefixed by its length, so no
/// issuer and subject run together into another pair's key, and the key stays short
/// whatever the provider's identifiers are.
pub fn external_identity(issuer: &str, subject: &str) -> Key {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    for part in [issuer, subject] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part.as_bytes());
    }
    let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.finalize());
    Key::new(format!("IDENTITY#{digest}"), "IDENTITY")
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

/// A user's part in a thread: their first reply (whom later replies notify).
pub fn thread_participant(channel_id: ChannelId, parent_id: MessageId, user_id: UserId) -> Key {
    Key::new(
        format!("CH#{channel_id}"),
        &format!("THREADP#{parent_id}#{user_id}"),
    )
}

/// The people who replied in a thread, by user id.
pub fn thread_participants(channel_id: ChannelId, parent_id: MessageId) -> Partition {
    Partition::table(format!("CH#{channel_id}"), &format!("THREADP#{parent_id}#"))
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

/// A task of a todo channel.
pub fn task(channel_id: ChannelId, task_id: TaskId) -> Key {
    Key::new(format!("CH#{channel_id}"), &format!("TASK#{task_id}"))
}

/// Places a task in its channel's open or done list, in board order (position, then id).
pub fn task_order(channel_id: ChannelId, done: bool, position: &str, task_id: TaskId) -> Gsi1Key {
    Gsi1Key {
        gsi1pk: format!("TASKS#{channel_id}#{}", status_part(done)),
        gsi1sk: format!("{position}#{task_id}"),
    }
}

/// A todo channel's open (or done) tasks, in board order.
pub fn channel_tasks(channel_id: ChannelId, done: bool) -> Partition {
    Partition::index_all(
        GSI1,
        GSI1PK,
        GSI1SK,
        format!("TASKS#{channel_id}#{}", status_part(done)),
    )
}

fn status_part(done: bool) -> &'static str {
    if done { "done" } else { "open" }
}

const COLUMN_PREFIX: &str = "BOARD#COLUMN#";

/// A column of a kanban channel, with its card count and WIP limit.
pub fn column(channel_id: ChannelId, column_id: ColumnId) -> Key {
    Key::new(
        format!("CH#{channel_id}"),
        &format!("{COLUMN_PREFIX}{column_id}"),
    )
}

/// A kanban channel's columns (few; ordered by position after reading).
pub fn board_columns(channel_id: ChannelId) -> Partition {
    Partition::table(format!("CH#{channel_id}"), COLUMN_PREFIX)
}

/// A card of a kanban channel.
pub fn card(channel_id: ChannelId, card_id: CardId) -> Key {
    Key::new(format!("CH#{channel_id}"), &format!("CARD#{card_id}"))
}

/// Places a card in its column, in board order (position, then id).
pub fn card_order(column_id: ColumnId, position: &str, card_id: CardId) -> Gsi1Key {
    Gsi1Key {
        gsi1pk: format!("COL#{column_id}"),
        gsi1sk: format!("{position}#{card_id}"),
    }
}

/// A column's cards, in board order.
pub fn column_cards(column_id: ColumnId) -> Partition {
    Partition::index_all(GSI1, GSI1PK, GSI1SK, format!("COL#{column_id}"))
}

const BOARD_PREFIX: &str = "BOARD#";

/// A todo or kanban channel's totals (total, open, done, open per priority).
pub fn work_totals(channel_id: ChannelId) -> Key {
    Key::new(format!("CH#{channel_id}"), &format!("{BOARD_PREFIX}TOTALS"))
}

/// One assignee's open and done counts in a channel.
pub fn work_assignee(channel_id: ChannelId, user_id: UserId) -> Key {
    Key::new(
        format!("CH#{channel_id}"),
        &format!("{BOARD_PREFIX}ASSIGNEE#{user_id}"),
    )
}

/// Everything a channel's stats read: the totals, the per-assignee counts and (kanban)
/// the columns with their card counts. One Query.
pub fn channel_counters(channel_id: ChannelId) -> Partition {
    Partition::table(format!("CH#{channel_id}"), BOARD_PREFIX)
}

/// One user's open and done counts across a workspace.
pub fn workload(workspace_id: WorkspaceId, user_id: UserId) -> Key {
    Key::new(format!("WS#{workspace_id}"), &format!("LOAD#{user_id}"))
}

/// A workspace's per-user workload counters.
pub fn workspace_workload(workspace_id: WorkspaceId) -> Partition {
    Partition::table(format!("WS#{workspace_id}"), "LOAD#")
}

/// The marker of an open task or card with a due date (`date` is `YYYY-MM-DD`; `item_id`
/// the task's or card's id): what overdue counts read.
pub fn due_marker(channel_id: ChannelId, date: &str, item_id: &str) -> Key {
    Key::new(format!("CH#{channel_id}"), &format!("DUE#{date}#{item_id}"))
}

/// Indexes a due marker under its workspace, by date.
pub fn due_marker_by_workspace(workspace_id: WorkspaceId, date: &str, item_id: &str) -> Gsi1Key {
    Gsi1Key {
        gsi1pk: format!("DUE#{workspace_id}"),
        gsi1sk: format!("{date}#{item_id}"),
    }
}

/// A channel's due markers dated before `today`: its overdue items.
pub fn channel_overdue(channel_id: ChannelId, today: &str) -> Partition {
    Partition {
        index: None,
        pk_attribute: PK,
        sk_attribute: SK,
        pk: format!("CH#{channel_id}"),
        range: SortRange::Between("DUE#".to_owned(), format!("DUE#{today}")),
    }
}

/// A workspace's due markers dated before `today`: its overdue items.
pub fn workspace_overdue(workspace_id: WorkspaceId, today: &str) -> Partition {
    Partition::index_all(GSI1, GSI1PK, GSI1SK, format!("DUE#{workspace_id}")).before(today)
}

/// Sorts after every date, so undated work comes last.
const UNDATED: &str = "~";

/// Indexes a task or card under its assignee ("my work"): open items (`0#`) before done
/// ones (`1#`), each soonest due first, undated last, then by id.
pub fn assigned_work(
    workspace_id: WorkspaceId,
    user_id: UserId,
    done: bool,
    due: Option<&str>,
    item_id: &str,
) -> Gsi2Key {
    let status = if done { "1" } else { "0" };
    Gsi2Key {
        gsi2pk: format!("WORK#{workspace_id}#{user_id}"),
        gsi2sk: format!("{status}#{}#{item_id}", due.unwrap_or(UNDATED)),
    }
}

/// The work assigned to a user in a workspace: open (`Some(false)`), done (`Some(true)`)
/// or both, open first (`None`).
pub fn my_work(workspace_id: WorkspaceId, user_id: UserId, done: Option<bool>) -> Partition {
    let pk = format!("WORK#{workspace_id}#{user_id}");
    match done {
        Some(done) => Partition::gsi2(pk, if done { "1#" } else { "0#" }.to_owned()),
        None => Partition::index_all(GSI2, GSI2PK, GSI2SK, pk),
    }
}

/// A notification of a user.
pub fn notification(user_id: UserId, notification_id: NotificationId) -> Key {
    Key::new(
        format!("USER#{user_id}"),
        &format!("NOTIF#{notification_id}"),
    )
}

/// A user's notifications, in id (time) order.
pub fn user_notifications(user_id: UserId) -> Partition {
    Partition::table(format!("USER#{user_id}"), "NOTIF#")
}

/// Indexes a notification while it is unread (a sparse index).
pub fn unread_notification(user_id: UserId, notification_id: NotificationId) -> Gsi2Key {
    Gsi2Key {
        gsi2pk: format!("UNREAD#{user_id}"),
        gsi2sk: notification_id.to_string(),
    }
}

/// A user's unread notifications, in id (time) order.
pub fn user_unread_notifications(user_id: UserId) -> Partition {
    Partition::index_all(GSI2, GSI2PK, GSI2SK, format!("UNREAD#{user_id}"))
}

/// A user's unread-notification counter.
pub fn notification_counter(user_id: UserId) -> Key {
    Key::new(format!("USER#{user_id}"), "NOTIFCOUNT")
}

/// The marker that an expired notification's unread count was given back (once).
pub fn expiry_marker(user_id: UserId, notification_id: NotificationId) -> Key {
    Key::new(
        format!("USER#{user_id}"),
        &format!("EXPIRED#{notification_id}"),
    )
}

/// Indexes a channel membership whose notification level is `all` (a sparse index).
pub fn level_all_member(channel_id: ChannelId, user_id: UserId) -> Gsi2Key {
    Gsi2Key {
        gsi2pk: format!("NOTIFYALL#{channel_id}"),
        gsi2sk: user_id.to_string(),
    }
}

/// The members of a channel whose notification level is `all`.
pub fn level_all_members(channel_id: ChannelId) -> Partition {
    Partition::index_all(GSI2, GSI2PK, GSI2SK, format!("NOTIFYALL#{channel_id}"))
}

/// An entry of a workspace's activity log.
pub fn activity(workspace_id: WorkspaceId, activity_id: ActivityId) -> Key {
    Key::new(format!("ACT#{workspace_id}"), &activity_id.to_string())
}

/// Indexes an activity entry under its actor.
pub fn activity_by_actor(
    workspace_id: WorkspaceId,
    actor_id: UserId,
    activity_id: ActivityId,
) -> Gsi1Key {
    Gsi1Key {
        gsi1pk: format!("ACT#{workspace_id}#{actor_id}"),
        gsi1sk: activity_id.to_string(),
    }
}

/// A workspace's activity, in time order.
pub fn workspace_activity(workspace_id: WorkspaceId) -> Partition {
    Partition {
        index: None,
        pk_attribute: PK,
        sk_attribute: SK,
        pk: format!("ACT#{workspace_id}"),
        range: SortRange::All,
    }
}

/// One actor's activity in a workspace, in time order.
pub fn actor_activity(workspace_id: WorkspaceId, actor_id: UserId) -> Partition {
    Partition::index_all(
        GSI1,
        GSI1PK,
        GSI1SK,
        format!("ACT#{workspace_id}#{actor_id}"),
    )
}

/// A rate-limit bucket: the calls of `subject` (a user id, an address, a digest of an
/// email) under `scope` in the fixed window starting at `window_start` (epoch seconds).
pub fn rate_bucket(scope: &str, subject: &str, window_start: i64) -> Key {
    Key::new(format!("RL#{scope}#{subject}"), &window_start.to_string())
}

/// A user's open WebSockets (what the per-user cap counts).
pub fn socket_slots(user_id: UserId) -> Key {
    Key::new(format!("USER#{user_id}"), "SOCKETS")
}

/// Who is deleting the item with `key`: written just before the delete, read by the
/// activity log from the delete's stream record.
pub fn deletion_note(key: &Key) -> Key {
    Key::new(format!("NOTE#{}#{}", key.pk, key.sk), "NOTE")
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
        let participant = thread_participant(c, p, u);
        assert!(thread_participants(c, p).range.contains(&participant.sk));
        assert!(!thread_participants(c, m).range.contains(&participant.sk));
        assert!(!channel_members(c).range.contains(&participant.sk));
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
            external_identity("x", "x").pk,
            workspace(w).pk,
            invite("x").pk,
            channel(ChannelId::generate()).pk,
            activity(w, ActivityId::generate()).pk,
            deletion_note(&user(x)).pk,
            rate_bucket("login", "x", 0).pk,
            search_posting(w, "y", MessageId::generate()).pk,
            file(FileId::generate()).pk,
            document(ChannelId::generate()).pk,
        ];
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
    }

    #[test]
    fn external_identities_do_not_collide() {
        let issuer = "https://idp.example.com/";
        let key = external_identity(issuer, "user-1");
        assert_eq!(key, external_identity(issuer, "user-1"));
        assert_ne!(key, external_identity(issuer, "user-2"));
        assert_ne!(
            key,
            external_identity("https://other.example.com/", "user-1")
        );
        // The boundary between issuer and subject is part of the key.
        assert_ne!(external_identity("a#b", "c"), external_identity("a", "b#c"));
        assert_ne!(external_identity("ab", ""), external_identity("a", "b"));
        // Long identifiers still make a short key.
        let long = "s".repeat(10_000);
        assert!(external_identity(&long, &long).pk.len() < 64);
        assert!(key.pk.starts_with("IDENTITY#"));
    }

    #[test]
    fn work_keys_stay_in_their_lists() {
        let (w, u, c) = (
            WorkspaceId::generate(),
            UserId::generate(),
            ChannelId::generate(),
        );
        let (t, col, card_id) = (TaskId::generate(), ColumnId::generate(), CardId::generate());
        // Everything of a channel's board shares its partition without sharing a prefix.
        let sort_keys = [
            task(c, t).sk,
            column(c, col).sk,
            card(c, card_id).sk,
            work_totals(c).sk,
            work_assignee(c, u).sk,
            due_marker(c, "2026-01-01", &t.to_string()).sk,
            message(c, MessageId::generate()).sk,
            channel_member(c, u).sk,
            channel(c).sk,
        ];
        let unique: std::collections::HashSet<_> = sort_keys.iter().collect();
        assert_eq!(unique.len(), sort_keys.len());
        assert_eq!(task(c, t).pk, channel_partition(c).pk);
        // The stats Query reads the columns and counters, and nothing else.
        let counters = channel_counters(c);
        for (sk, counted) in [
            (column(c, col).sk, true),
            (work_totals(c).sk, true),
            (work_assignee(c, u).sk, true),
            (task(c, t).sk, false),
            (card(c, card_id).sk, false),
            (due_marker(c, "2026-01-01", "x").sk, false),
            (channel_member(c, u).sk, false),
        ] {
            assert_eq!(counters.range.contains(&sk), counted, "{sk}");
        }
        assert!(board_columns(c).range.contains(&column(c, col).sk));
        assert!(!board_columns(c).range.contains(&work_totals(c).sk));
        // Open and done tasks are separate lists; positions order before ids.
        let open = task_order(c, false, "a0", t);
        assert_eq!(open.gsi1pk, channel_tasks(c, false).pk);
        assert_ne!(open.gsi1pk, channel_tasks(c, true).pk);
        assert!(
            task_order(c, false, "a0", TaskId::generate()).gsi1sk
                < task_order(c, false, "a0V", t).gsi1sk
        );
        assert_eq!(card_order(col, "a0", card_id).gsi1pk, column_cards(col).pk);
        // Overdue: before today only.
        let overdue = channel_overdue(c, "2026-03-10");
        assert!(overdue.range.contains(&due_marker(c, "2026-03-09", "x").sk));
        assert!(!overdue.range.contains(&due_marker(c, "2026-03-10", "x").sk));
        assert!(!overdue.range.contains(&due_marker(c, "2026-03-11", "x").sk));
        assert!(!overdue.range.contains(&task(c, t).sk));
        let by_workspace = workspace_overdue(w, "2026-03-10");
        assert!(
            by_workspace
                .range
                .contains(&due_marker_by_workspace(w, "2026-03-09", "x").gsi1sk)
        );
        assert!(
            !by_workspace
                .range
                .contains(&due_marker_by_workspace(w, "2026-03-10", "x").gsi1sk)
        );
        // My work: open before done, soonest due first, undated last.
        let soon = assigned_work(w, u, false, Some("2026-01-01"), "x").gsi2sk;
        let later = assigned_work(w, u, false, Some("2026-02-01"), "x").gsi2sk;
        let undated = assigned_work(w, u, false, None, "x").gsi2sk;
        let done = assigned_work(w, u, true, Some("2025-01-01"), "x").gsi2sk;
        assert!(soon < later && later < undated);
        // With both (status=all), open work comes first.
        assert!(undated < done);
        assert!(my_work(w, u, Some(false)).range.contains(&undated));
        assert!(!my_work(w, u, Some(false)).range.contains(&done));
        assert!(my_work(w, u, Some(true)).range.contains(&done));
        assert!(my_work(w, u, None).range.contains(&done));
        assert_ne!(
            my_work(w, u, None).pk,
            my_work(w, UserId::generate(), None).pk
        );
        assert!(workspace_workload(w).range.contains(&workload(w, u).sk));
        assert!(!workspace_members(w).range.contains(&workload(w, u).sk));
    }

    #[test]
    fn notification_keys_stay_in_their_lists() {
        let (u, c, w) = (
            UserId::generate(),
            ChannelId::generate(),
            WorkspaceId::generate(),
        );
        let n = NotificationId::generate();
        let notes = user_notifications(u);
        assert_eq!(notes.pk, notification(u, n).pk);
        assert!(notes.range.contains(&notification(u, n).sk));
        for other in [
            user(u).sk,
            presence(u).sk,
            notification_counter(u).sk,
            expiry_marker(u, n).sk,
            socket_slots(u).sk,
        ] {
            assert!(!notes.range.contains(&other), "{other}");
        }
        assert_eq!(
            user_unread_notifications(u).pk,
            unread_notification(u, n).gsi2pk
        );
        assert_eq!(level_all_members(c).pk, level_all_member(c, u).gsi2pk);
        assert_ne!(level_all_members(c).pk, channel_pins(c).pk);
        let a = ActivityId::generate();
        assert_eq!(workspace_activity(w).pk, activity(w, a).pk);
        assert_eq!(actor_activity(w, u).pk, activity_by_actor(w, u, a).gsi1pk);
        assert_ne!(
            deletion_note(&channel(c)).pk,
            deletion_note(&channel_member(c, u)).pk
        );
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
