//! Messages: send (idempotent with `client_id`), list with before/after cursors, threads,
//! edits with history, soft deletes, reactions, pins and mentions.

use std::collections::HashSet;

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::access::{self, ChannelAccess};
use crate::clock;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::files;
use crate::ids::{ChannelId, FileId, MessageId, UserId, WorkspaceId};
use crate::messages::{EditOutcome, PinChange, ReactionOutcome};
use crate::messages::{Message, MessageVersion, MessageView};
use crate::messages::{NewMessage, SendOutcome, StoredMessage};
use crate::state::AppState;
use crate::table::{Page, PageRequest};
use crate::validate::Validator;

pub const CONTENT_MAX: usize = 4000;
pub const CLIENT_ID_MAX: usize = 64;
pub const MENTIONS_MAX: usize = 50;
pub const EMOJI_MAX: usize = 32;
pub const EMOJI_KINDS_MAX: usize = 50;

/// `POST /v1/channels/{channel_id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// The text; `<@user_id>` mentions a member.
    #[schema(min_length = 1, max_length = 4000)]
    pub content: String,
    /// Sends a reply in this message's thread.
    #[serde(default)]
    pub parent_id: Option<MessageId>,
    /// Ready files of this channel to attach (at most 10).
    #[serde(default)]
    #[schema(max_items = 10)]
    pub attachment_ids: Vec<FileId>,
    /// Makes the send idempotent: a retry with the same id answers the first message.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub client_id: Option<String>,
}

/// `PATCH /v1/channels/{channel_id}/messages/{message_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessageRequest {
    #[schema(min_length = 1, max_length = 4000)]
    pub content: String,
}

/// `?limit&cursor&before&after` of the message list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageListQuery {
    /// Items per page (default 50).
    #[serde(default)]
    #[param(value_type = Option<i32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Only messages older than this message id.
    #[serde(default)]
    #[param(value_type = Option<MessageId>)]
    pub before: Option<String>,
    /// Only messages newer than this message id (oldest first).
    #[serde(default)]
    #[param(value_type = Option<MessageId>)]
    pub after: Option<String>,
}

/// The user ids written as `<@user_id>` in `content`, in order of first appearance.
pub fn parse_mentions(content: &str) -> Vec<UserId> {
    let mut found = Vec::new();
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('>') else { break };
        if let Ok(id) = rest[..end].parse::<UserId>()
            && !found.contains(&id)
        {
            found.push(id);
        }
        rest = &rest[end + 1..];
    }
    found
}

/// An emoji is a short name (`thumbsup`, `+1`, `white_check_mark`) or one emoji character
/// (with its modifiers and joiners), 1 to 32 characters.
pub fn is_valid_emoji(emoji: &str) -> bool {
    let count = emoji.chars().count();
    if count == 0 || count > EMOJI_MAX {
        return false;
    }
    let short_name = emoji
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'+' | b'-'));
    let pictographic = |c: char| {
        matches!(c as u32,
            0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x21AA
            | 0x231A..=0x23FF | 0x24C2 | 0x25AA..=0x27BF | 0x2934 | 0x2935 | 0x2B05..=0x2B55
            | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x1F000..=0x1FAFF)
    };
    let modifier = |c: char| {
        matches!(
            c as u32,
            0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F
        ) || c.is_ascii_digit()
            || c == '#'
            || c == '*'
    };
    let keycap = emoji.ends_with('\u{20E3}') && emoji.chars().count() <= 3;
    let one_emoji = (emoji.chars().any(pictographic) || keycap)
        && emoji.chars().all(|c| pictographic(c) || modifier(c))
        && emoji.chars().filter(|c| pictographic(*c)).count() <= 8;
    short_name || one_emoji
}

fn check_content(check: &mut Validator, content: &str) {
    if content.trim().is_empty() {
        check.add("content", format!("must be 1 to {CONTENT_MAX} characters"));
    } else {
        check.length("content", content, 1, CONTENT_MAX);
    }
}

/// The API view of a message, with fresh download and thumbnail URLs for its attachments.
async fn view(
    state: &AppState,
    mut stored: StoredMessage,
    viewer: UserId,
) -> ApiResult<MessageView> {
    if !stored.message.deleted {
        files::settle_thumbnails(state, stored.message.attachments.iter_mut()).await?;
    }
    present(state, stored, viewer).await
}

/// [`view`] once the attachments' thumbnails are settled.
async fn present(
    state: &AppState,
    stored: StoredMessage,
    viewer: UserId,
) -> ApiResult<MessageView> {
    let attachments = stored.message.attachments.clone();
    let mut view = MessageView::new(stored.message, &stored.reactions, Some(viewer));
    if !view.attachments.is_empty() {
        for (slot, file) in view.attachments.iter_mut().zip(&attachments) {
            *slot = files::file_view(state, file).await?;
        }
    }
    Ok(view)
}

pub(crate) async fn views(
    state: &AppState,
    mut page: Page<StoredMessage>,
    viewer: UserId,
) -> ApiResult<Page<MessageView>> {
    let copies = page
        .items
        .iter_mut()
        .filter(|stored| !stored.message.deleted)
        .flat_map(|stored| stored.message.attachments.iter_mut());
    files::settle_thumbnails(state, copies).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for stored in page.items {
        items.push(present(state, stored, viewer).await?);
    }
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// The mentioned users who are workspace members, and which of them are channel members.
async fn resolve_mentions(
    state: &AppState,
    channel_id: ChannelId,
    workspace_id: WorkspaceId,
    author: UserId,
    content: &str,
) -> ApiResult<(Vec<UserId>, Vec<UserId>)> {
    let mut mentioned = parse_mentions(content);
    mentioned.truncate(MENTIONS_MAX);
    if mentioned.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let pairs: Vec<(ChannelId, UserId)> =
        mentioned.iter().map(|user| (channel_id, *user)).collect();
    let (in_workspace, in_channel) = tokio::try_join!(
        state.store.get_workspace_members(workspace_id, &mentioned),
        state.store.get_channel_memberships(&pairs)
    )?;
    let workspace: HashSet<UserId> = in_workspace.iter().map(|m| m.user_id).collect();
    let channel: HashSet<UserId> = in_channel.iter().map(|m| m.user_id).collect();
    mentioned.retain(|id| workspace.contains(id));
    let counted = mentioned
        .iter()
        .filter(|id| channel.contains(id) && **id != author)
        .copied()
        .collect();
    Ok((mentioned, counted))
}

/// `POST /v1/channels/{cid}/messages`: channel members. A repeated `client_id` from the
/// same user in the same channel returns the first message.
pub async fn send(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    request: SendMessageRequest,
) -> ApiResult<MessageView> {
    let mut check = Validator::new();
    check_content(&mut check, &request.content);
    if let Some(client_id) = &request.client_id {
        let valid = !client_id.is_empty()
            && client_id.len() <= CLIENT_ID_MAX
            && client_id.bytes().all(|b| b.is_ascii_graphic());
        if !valid {
            check.add(
                "client_id",
                format!("must be 1 to {CLIENT_ID_MAX} printable ASCII characters"),
            );
        }
    }
    check.finish()?;

    // The transaction's conditions check access at the moment of the write. Access is
    // read before it only where the write needs what the read gives: the channel's
    // workspace, when this process has not met the channel yet, and a member's view of
    // the attachments (whose errors must not reach a non-member).
    let known_home = state.store.memory().channel_homes.get(&channel_id);
    let (workspace_id, checked) = match known_home {
        Some(workspace_id) if request.attachment_ids.is_empty() => (workspace_id, false),
        _ => {
            let access = access::channel(state, channel_id, caller).await?;
            access.require_member()?;
            (access.channel.workspace_id, true)
        }
    };
    let rate = crate::limits::send(state, caller);
    let ((mentions, mentioned_members), attachments) = tokio::try_join!(
        resolve_mentions(state, channel_id, workspace_id, caller, &request.content),
        files::resolve_attachments(state, caller, channel_id, &request.attachment_ids)
    )?;
    let message = Message {
        id: MessageId::generate(),
        channel_id,
        workspace_id,
        author_id: caller,
        content: request.content,
        parent_id: request.parent_id,
        reply_count: 0,
        last_reply_at: None,
        mentions,
        pinned: false,
        edited_at: None,
        deleted: false,
        created_at: clock::now(),
        version: 0,
        attachments,
    };
    let new = NewMessage {
        message,
        client_id: request.client_id,
        mentioned_members,
    };
    let outcome = state.store.send_message(&new, &rate.bucket).await?;
    if outcome != SendOutcome::Sent && !checked {
        // Explain the refusal as a read would have: 404 to whoever may not see the
        // channel, 403 to a workspace member outside a public one.
        access::channel(state, channel_id, caller)
            .await?
            .require_member()?;
    }
    match outcome {
        SendOutcome::Sent => {
            view(
                state,
                StoredMessage {
                    message: new.message,
                    reactions: Default::default(),
                },
                caller,
            )
            .await
        }
        SendOutcome::Duplicate(first) => {
            let stored = state
                .store
                .get_message(channel_id, first)
                .await?
                .ok_or_else(|| ApiError::Unavailable("the message is being sent; retry".into()))?;
            view(state, stored, caller).await
        }
        SendOutcome::ParentUnavailable => Err(ApiError::invalid_fields(vec![FieldError::new(
            "parent_id",
            "no such top-level message in this channel",
        )])),
        SendOutcome::NotAllowed => Err(ApiError::Forbidden("join the channel first".into())),
        SendOutcome::NotInWorkspace => Err(ApiError::not_found("channel")),
        SendOutcome::RateLimited => Err(rate.refused()),
    }
}

fn parse_bound(field: &str, value: Option<String>) -> ApiResult<Option<MessageId>> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| {
            ApiError::invalid_fields(vec![FieldError::new(field, "must be a message id")])
        }),
    }
}

/// `GET /v1/channels/{cid}/messages`: readers. Newest first, or with `after`, oldest first
/// from there; cursors continue in the same direction.
pub async fn list(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    query: MessageListQuery,
) -> ApiResult<Page<MessageView>> {
    let before = parse_bound("before", query.before)?;
    let after = parse_bound("after", query.after)?;
    if before.is_some() && after.is_some() {
        return Err(ApiError::invalid("give before or after, not both"));
    }
    let page = crate::pagination::PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .validate()?;
    let (_, messages) = tokio::try_join!(
        access::channel(state, channel_id, caller),
        state
            .store
            .list_channel_messages(channel_id, before, after, &page)
    )?;
    views(state, messages, caller).await
}

async fn readable_message(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    message_id: MessageId,
) -> ApiResult<(ChannelAccess, StoredMessage)> {
    let (access, stored) = tokio::try_join!(
        access::channel(state, channel_id, caller),
        state.store.get_message(channel_id, message_id)
    )?;
    let stored = stored.ok_or_else(|| ApiError::not_found("message"))?;
    Ok((access, stored))
}

/// `GET /v1/channels/{cid}/messages/{mid}`: readers.
pub async fn get(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    message_id: MessageId,
) -> ApiResult<MessageView> {
    let (_, stored) = readable_message(state, caller, channel_id, message_id).await?;
    view(state, stored, caller).await
}

/// `PATCH /v1/channels/{cid}/messages/{mid}`: the author only; the old content is kept.
pub async fn edit(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    message_id: MessageId,
    request: EditMessageRequest,
) -> ApiResult<MessageView> {
    let mut check = Validator::new();
    check_content(&mut check, &request.content);
    check.finish()?;
    let (access, stored) = readable_message(state, caller, channel_id, message_id).await?;
    if stored.message.author_id != caller {
        return Err(ApiError::Forbidden(
            "only the author may edit a message".into(),
        ));
    }
    if stored.message.deleted {
        return Err(ApiError::conflict("the message was deleted"));
    }
    let (mentions, _) = resolve_mentions(
        state,
        channel_id,
        access.channel.workspace_id,
        caller,
        &request.content,
    )
    .await?;
    let now = clock::now();
    let version_id = ulid::Ulid::new().to_string();
    if state
        .store
        .edit_message(
            &stored.message,
            &request.content,
            &mentions,
            now,
            &version_id,
        )
        .await?
        == EditOutcome::Stale
    {
        return Err(ApiError::conflict(
            "the message changed meanwhile; read it and retry",
        ));
    }
    let mut message = stored.message;
    message.content = request.content;
    message.mentions = mentions;
    message.edited_at = Some(now);
    message.version += 1;
    view(
        state,
        StoredMessage {
            message,
            reactions: stored.reactions,
        },
        caller,
    )
    .await
}

/// `GET /v1/channels/{cid}/messages/{mid}/history`: readers; earlier versions, oldest first.
pub async fn history(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    message_id: MessageId,
    page: PageRequest,
) -> ApiResult<Page<MessageVersion>> {
    let ((_, stored), versions) = tokio::try_join!(
        readable_message(state, caller, channel_id, message_id),
        state
            .store
            .list_message_versions(channel_id, message_id, &page)
    )?;
    if stored.message.deleted {
        return Ok(Page {
            items: Vec::new(),
            next_cursor: None,
        });
    }
    Ok(versions)
}

/// `DELETE /v1/channels/{cid}/messages/{mid}`: the author or a workspace admin; soft.
pub async fn delete(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    message_id: MessageId,
) -> ApiResult<()> {
    let (access, stored) = readable_message(state, caller, channel_id, message_id).await?;
    if stored.message.author_id != caller {
        access.require_workspace_admin()?;
    }
    if stored.message.deleted {
        return Ok(());
    }
    state.store.delete_message(&stored.message, caller).await
}

/// `GET /v1/channels/{cid}/messages/{mid}/replies`: readers; the thread, oldest first.
pub async fn replies(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    message_id: MessageId,
    page: PageRequest,
) -> ApiResult<Page<MessageView>> {
    let ((_, parent), replies) = tokio::try_join!(
        readable_message(state, caller, channel_id, message_id),
        state
            .store
            .list_thread_replies(channel_id, message_id, &page)
    )?;
    if parent.message.parent_id.is_some() {
        return Err(ApiError::invalid(
            "replies have no replies: ask for the thread's first message",
        ));
    }
    views(state, replies, caller).await
}

/// `PUT|DELETE /v1/channels/{cid}/messages/{mid}/reactions/{emoji}`: channel members;
/// idempotent.
pub async fn react(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    message_id: MessageId,
    emoji: &str,
    present: bool,
) -> ApiResult<()> {
    if !is_valid_emoji(emoji) {
        return Err(ApiError::invalid_fields(vec![FieldError::new(
            "emoji",
            "must be a short name such as thumbsup, or one emoji",
        )]));
    }
    let (access, stored) = readable_message(state, caller, channel_id, message_id).await?;
    access.require_member()?;
    if stored.message.deleted {
        return Err(ApiError::conflict("the message was deleted"));
    }
    match state
        .store
        .set_reaction(&stored, emoji, caller, present, EMOJI_KINDS_MAX)
        .await?
    {
        ReactionOutcome::Applied => Ok(()),
        ReactionOutcome::MessageUnavailable => Err(ApiError::conflict("the message was deleted")),
        ReactionOutcome::TooManyKinds => Err(ApiError::conflict(format!(
            "a message takes at most {EMOJI_KINDS_MAX} different emoji"
        ))),
    }
}

/// `PUT|DELETE /v1/channels/{cid}/pins/{mid}`: channel members; idempotent.
pub async fn pin(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    message_id: MessageId,
    pinned: bool,
) -> ApiResult<()> {
    let (access, stored) = readable_message(state, caller, channel_id, message_id).await?;
    access.require_member()?;
    if stored.message.deleted {
        return Err(ApiError::conflict("the message was deleted"));
    }
    let pin_id = ulid::Ulid::new().to_string();
    if state
        .store
        .set_pinned(&stored.message, pinned, &pin_id)
        .await?
        == PinChange::MessageUnavailable
    {
        return Err(ApiError::conflict("the message was deleted"));
    }
    Ok(())
}

/// `GET /v1/channels/{cid}/pins`: readers; in pin order.
pub async fn list_pins(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    page: PageRequest,
) -> ApiResult<Page<MessageView>> {
    let (_, pins) = tokio::try_join!(
        access::channel(state, channel_id, caller),
        state.store.list_pinned_messages(channel_id, &page)
    )?;
    views(state, pins, caller).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_parsed_once_each() {
        let (a, b) = (UserId::generate(), UserId::generate());
        let content = format!("hi <@{a}> and <@{b}>, <@{a}> again; <@nope> <@{b}");
        assert_eq!(parse_mentions(&content), vec![a, b]);
        assert!(parse_mentions("no mentions <@").is_empty());
    }

    #[test]
    fn emoji_are_short_names_or_one_emoji() {
        for good in [
            "thumbsup",
            "+1",
            "white_check_mark",
            "👍",
            "👍🏽",
            "❤️",
            "👨‍👩‍👧",
            "🇫🇷",
            "1️⃣",
        ] {
            assert!(is_valid_emoji(good), "{good}");
        }
        for bad in [
            "",
            "Thumbs Up",
            "a b",
            "<script>",
            &"a".repeat(33),
            "x👍",
            "👍 ",
            "\u{7}",
        ] {
            assert!(!is_valid_emoji(bad), "{bad}");
        }
    }
}
