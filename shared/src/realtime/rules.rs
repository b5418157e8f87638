//! Realtime: the WebSocket routes (`$connect` with a single-use ticket, `$disconnect`,
//! `$default` frames), the stream-driven broadcaster, and presence.
//!
//! A channel's events reach only connections whose user may still read it: leaves and
//! removals end the user's subscriptions before they answer, and the broadcaster checks every
//! page of subscribers against the channel, the workspace and the memberships (one batch
//! read per page of users not yet checked, the first beside the page's own read when the
//! last delivery left a hint), dropping the subscriptions that fail.

use std::collections::{HashMap, HashSet};

use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::access;
use crate::auth::rules::redeem_ws_ticket;
use crate::channels::{Channel, ChannelKind};
use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, UserId, WorkspaceId};
use crate::realtime::events::{Audience, Outgoing, ServerEvent, events_for};
use crate::realtime::{Connection, SubscribeOutcome, Subscription, Throttle, ThrottleVerdict};
use crate::realtime::{PostOutcome, Poster};
use crate::state::AppState;
use crate::stream::{Change, ChangeKind};
use crate::table::{Page, PageRequest};

/// API Gateway closes sockets after 2 hours; records outlive that a little.
const CONNECTION_TTL_SECONDS: i64 = 2 * 3600 + 600;
/// Channels one subscribe or unsubscribe frame may name.
pub const SUBSCRIBE_MAX: usize = 50;
/// Channels one connection may be subscribed to at once, over all its frames.
pub const CONNECTION_SUBSCRIPTIONS_MAX: usize = 100;
pub const SIGNAL_PAYLOAD_MAX: usize = 16 * 1024;
/// A connection relays at most one `typing` frame per this many milliseconds.
pub const TYPING_INTERVAL_MS: i64 = 2_000;
/// A connection relays at most one `presence` frame per this many milliseconds.
pub const PRESENCE_INTERVAL_MS: i64 = 5_000;
/// Subscribers read (and checked with one batch read) in the first page of a channel's
/// audience: posting to them starts while the rest are read. Chosen by measurement (see
/// README, fan-out): a first page of 25 had its posts done long before the next, four
/// times larger, page was read, and the posts waited; with 250 they wait less and the
/// median receipt comes sooner, for a first receipt a few milliseconds later.
pub const AUDIENCE_FIRST_PAGE: i32 = 250;
/// Each further page of an audience is this many times the one before (up to
/// [`AUDIENCE_PAGE`]), so a large audience takes few reads.
const AUDIENCE_PAGE_GROWTH: i32 = 4;
/// The most subscribers read (and checked with one batch read) in one page of an audience.
const AUDIENCE_PAGE: i32 = 1000;
/// Partitions of a stream batch broadcast at once (each partition's records in order: a
/// channel's events reach its subscribers in the order they happened).
const PARTITIONS_IN_FLIGHT: usize = 16;
/// Channels whose audiences a `presence` frame gathers at once.
const PRESENCE_CHANNELS_IN_FLIGHT: usize = 8;
/// Attempts of a subscribe whose connection's channel set keeps changing meanwhile.
const SUBSCRIBE_ATTEMPTS: usize = 3;

/// A client frame.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Subscribe {
        channel_ids: Vec<ChannelId>,
    },
    Unsubscribe {
        channel_ids: Vec<ChannelId>,
    },
    Typing {
        channel_id: ChannelId,
    },
    Presence {
        status: PresenceStatus,
    },
    Signal {
        channel_id: ChannelId,
        to_user_id: UserId,
        kind: SignalKind,
        payload: Value,
    },
    Ping,
    /// Sync step 1 of a document: the client's state vector (base64 of Yjs v1).
    #[serde(rename = "doc.sync")]
    DocSync {
        channel_id: ChannelId,
        state_vector: String,
    },
    /// A document update (base64 of Yjs v1): stored, then relayed.
    #[serde(rename = "doc.update")]
    DocUpdate {
        channel_id: ChannelId,
        update: String,
    },
    /// An awareness update (base64, y-protocols awareness encoding): relayed only.
    #[serde(rename = "doc.awareness")]
    DocAwareness {
        channel_id: ChannelId,
        update: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Away,
    Dnd,
}

impl PresenceStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Dnd => "dnd",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    Offer,
    Answer,
    Ice,
}

/// `$connect`: redeems the ticket and records the connection. An error refuses the socket.
pub async fn connect(
    state: &AppState,
    connection_id: &str,
    ticket: Option<&str>,
) -> ApiResult<UserId> {
    let ticket = ticket.ok_or_else(|| ApiError::unauthorized("a ticket is required"))?;
    let user_id = redeem_ws_ticket(state, ticket).await?;
    let now = clock::now();
    // At most WEBSOCKETS_PER_USER_MAX open sockets: refused (429) before anything is stored.
    crate::limits::claim_socket(
        state,
        user_id,
        connection_id,
        now.timestamp() + CONNECTION_TTL_SECONDS,
    )
    .await?;
    state
        .store
        .put_connection(&Connection {
            connection_id: connection_id.to_owned(),
            user_id,
            connected_at: now,
            expires_at: now.timestamp() + CONNECTION_TTL_SECONDS,
            channels: Vec::new(),
        })
        .await?;
    tracing::info!(user_id = %user_id, "websocket connected");
    Ok(user_id)
}

/// `$disconnect`: forgets the connection and its subscriptions. Idempotent.
pub async fn disconnect(state: &AppState, connection_id: &str) -> ApiResult<()> {
    if let Some(connection) = state.store.get_connection(connection_id).await? {
        state
            .store
            .remove_connection(connection_id, connection.user_id)
            .await?;
    }
    Ok(())
}

/// A connection to post to, and its user.
type Target = (String, UserId);

/// The subscribers of a channel who may still read it, all at once (for callers that merge
/// several channels' audiences); see [`each_audience_page`].
async fn channel_audience(
    state: &AppState,
    channel_id: ChannelId,
    known: Option<&Channel>,
) -> ApiResult<Vec<Target>> {
    let mut all = Vec::new();
    each_audience_page(state, channel_id, known, |targets| {
        all.extend(targets);
        std::future::ready(Ok(()))
    })
    .await?;
    Ok(all)
}

/// Hands `each` the subscribers of a channel who may still read it, a page at a time. The
/// first page is small ([`AUDIENCE_FIRST_PAGE`]), so a channel nobody listens to costs one
/// short read and the first subscribers hear of an event before the rest are read; each
/// next page grows ([`AUDIENCE_PAGE_GROWTH`], up to [`AUDIENCE_PAGE`]). Each
/// page is checked with one batch read (the channel record unless the caller holds it, the
/// workspace record, the users' workspace memberships and, for private channels and DMs,
/// their channel memberships) of the users no earlier page of this delivery checked (a
/// page of users already checked, such as more devices of theirs, reads nothing), then
/// handed to `each`, while the next page is read. The users the channel's last delivery
/// admitted ([`crate::realtime::hints`]) have their access read beside the first page, so
/// a steady audience's first posts wait one round trip, not two. A
/// deleted channel or workspace has no audience from the page that finds it so (their
/// subscriptions end with `channel.deleted`). Subscriptions of users who fail the check are
/// ended.
async fn each_audience_page<F, Fut>(
    state: &AppState,
    channel_id: ChannelId,
    known: Option<&Channel>,
    mut each: F,
) -> ApiResult<()>
where
    F: FnMut(Vec<Target>) -> Fut,
    Fut: std::future::Future<Output = ApiResult<()>>,
{
    let first = PageRequest {
        limit: AUDIENCE_FIRST_PAGE,
        cursor: None,
    };
    let subscribers = state.store.list_channel_audience(channel_id, &first);
    // The users the last delivery admitted have their access read beside the first page,
    // so a steady audience waits one round trip, not two, before its first posts.
    let hint = state.audience_hints.get(channel_id);
    let (mut page, early) = match &hint {
        Some(hint) => {
            let early =
                state
                    .store
                    .check_audience(channel_id, hint.workspace_id, &hint.users, known);
            let (page, early) = tokio::try_join!(subscribers, early)?;
            (page, Some(early))
        }
        None => (subscribers.await?, None),
    };
    if page.items.is_empty() && page.next_cursor.is_none() {
        state.audience_hints.forget(channel_id);
        return Ok(());
    }
    let mut channel: Option<Channel> = known.cloned();
    // Subscriptions carry their channel's workspace (those written before they did make
    // the channel record a read of its own).
    let known_workspace = channel
        .as_ref()
        .map(|c| c.workspace_id)
        .or_else(|| page.items.iter().find_map(|s| s.workspace_id))
        .or_else(|| hint.as_ref().map(|hint| hint.workspace_id));
    let workspace_id = match known_workspace {
        Some(workspace_id) => workspace_id,
        None => match state.store.get_channel(channel_id).await? {
            Some(found) => {
                let workspace_id = found.workspace_id;
                channel = Some(found);
                workspace_id
            }
            None => return Ok(()),
        },
    };
    let mut refused: Vec<(String, ChannelId)> = Vec::new();
    // Each user's verdict, from this delivery's first read that covered them.
    let mut verdicts: HashMap<UserId, bool> = HashMap::new();
    if let (Some(hint), Some(early)) = (hint, early)
        && hint.workspace_id == workspace_id
    {
        if early.channel.is_none() || !early.workspace_exists {
            state.audience_hints.forget(channel_id);
            return Ok(());
        }
        verdicts.extend(hint.users.iter().map(|user| (*user, early.admits(*user))));
        channel = early.channel;
    }
    // Users in the order this delivery met them, for the next delivery's hint.
    let mut met: Vec<UserId> = Vec::new();
    let mut met_already: HashSet<UserId> = HashSet::new();
    let mut limit = AUDIENCE_FIRST_PAGE;
    loop {
        let subscriptions = std::mem::take(&mut page.items);
        for subscription in &subscriptions {
            if met_already.insert(subscription.user_id) {
                met.push(subscription.user_id);
            }
        }
        let unchecked: Vec<UserId> = subscriptions
            .iter()
            .map(|s| s.user_id)
            .filter(|user| !verdicts.contains_key(user))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        limit = limit
            .saturating_mul(AUDIENCE_PAGE_GROWTH)
            .min(AUDIENCE_PAGE);
        let next = page.next_cursor.clone().map(|cursor| PageRequest {
            limit,
            cursor: Some(cursor),
        });
        let known_verdicts = &verdicts;
        let current = async {
            if subscriptions.is_empty() {
                return Ok(PageChecked::Empty);
            }
            let mut fresh = HashMap::new();
            let mut checked_channel = None;
            if !unchecked.is_empty() {
                let check = state
                    .store
                    .check_audience(channel_id, workspace_id, &unchecked, channel.as_ref())
                    .await?;
                if check.channel.is_none() || !check.workspace_exists {
                    return Ok(PageChecked::ChannelGone);
                }
                fresh = unchecked
                    .iter()
                    .map(|user| (*user, check.admits(*user)))
                    .collect();
                checked_channel = check.channel;
            }
            let mut allowed = Vec::new();
            let mut refused = Vec::new();
            for subscription in subscriptions {
                let user = subscription.user_id;
                let admitted = fresh.get(&user).or_else(|| known_verdicts.get(&user));
                if admitted == Some(&true) {
                    allowed.push((subscription.connection_id, user));
                } else {
                    refused.push((subscription.connection_id, channel_id));
                }
            }
            if !allowed.is_empty() {
                each(allowed).await?;
            }
            Ok(PageChecked::Handed {
                channel: checked_channel.map(Box::new),
                verdicts: fresh,
                refused,
            })
        };
        let following = async {
            match &next {
                Some(request) => state
                    .store
                    .list_channel_audience(channel_id, request)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        };
        let (checked, following) = tokio::try_join!(current, following)?;
        match checked {
            PageChecked::Empty => {}
            // A deleted channel, or a deleted workspace whose channels' deletions follow:
            // nobody hears anything more, and `channel.deleted` ends the subscriptions
            // after telling them.
            PageChecked::ChannelGone => {
                state.audience_hints.forget(channel_id);
                return Ok(());
            }
            PageChecked::Handed {
                channel: checked_channel,
                verdicts: page_verdicts,
                refused: page_refused,
            } => {
                if let Some(checked) = checked_channel {
                    channel = Some(*checked);
                }
                verdicts.extend(page_verdicts);
                refused.extend(page_refused);
            }
        }
        match following {
            Some(following) => page = following,
            None => break,
        }
    }
    let admitted: Vec<UserId> = met
        .into_iter()
        .filter(|user| verdicts.get(user) == Some(&true))
        .collect();
    state
        .audience_hints
        .keep(channel_id, workspace_id, &admitted);
    if !refused.is_empty() {
        tracing::info!(channel_id = %channel_id, count = refused.len(), "ending subscriptions without access");
        if let Err(error) = state.store.drop_subscriptions(&refused).await {
            tracing::warn!(error = %error, "ending subscriptions without access failed");
        }
    }
    Ok(())
}

/// What checking one page of a channel's audience found.
enum PageChecked {
    /// The page held no subscriptions.
    Empty,
    /// The channel or its workspace is gone.
    ChannelGone,
    /// The admitted subscribers were handed on; these were refused. `channel` and
    /// `verdicts` are what the page's check read (none if every user had a verdict).
    Handed {
        channel: Option<Box<Channel>>,
        verdicts: HashMap<UserId, bool>,
        refused: Vec<(String, ChannelId)>,
    },
}

/// Every subscription of a channel, unchecked (for `channel.deleted`).
async fn all_subscribers(state: &AppState, channel_id: ChannelId) -> ApiResult<Vec<Subscription>> {
    let mut all = Vec::new();
    let mut page = PageRequest {
        limit: AUDIENCE_PAGE,
        cursor: None,
    };
    loop {
        let subscribers: Page<Subscription> = state
            .store
            .list_channel_subscribers(channel_id, &page)
            .await?;
        all.extend(subscribers.items);
        match subscribers.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(all),
        }
    }
}

/// Sends one event to every connection of an audience, except `skip`.
async fn deliver<P: Poster>(
    state: &AppState,
    poster: &P,
    audience: &Audience,
    event: &ServerEvent,
    skip: Option<&str>,
) -> ApiResult<()> {
    match audience {
        Audience::Channel(channel_id) => {
            post_to_audience(state, poster, *channel_id, None, event, skip).await
        }
        Audience::DeletedChannel(channel_id) => {
            // The channel's record is gone, so nothing else of it is delivered any more;
            // its subscribers hear of the deletion, then their subscriptions end.
            let subscriptions = all_subscribers(state, *channel_id).await?;
            let targets = subscriptions
                .iter()
                .map(|s| (s.connection_id.clone(), s.user_id));
            let targets = futures::stream::iter(targets).boxed();
            post_to(state, poster, targets, event, skip).await?;
            let ended: Vec<(String, ChannelId)> = subscriptions
                .into_iter()
                .map(|s| (s.connection_id, s.channel_id))
                .collect();
            // Best effort (a retried record would post again); the TTL is the fallback.
            if let Err(error) = state.store.drop_subscriptions(&ended).await {
                tracing::warn!(error = %error, "ending a deleted channel's subscriptions failed");
            }
            Ok(())
        }
        Audience::User(user_id) => {
            let connections = state.store.list_user_connections(*user_id).await?;
            let targets = connections
                .into_iter()
                .map(|c| (c.connection_id, c.user_id));
            let targets = futures::stream::iter(targets).boxed();
            post_to(state, poster, targets, event, skip).await
        }
    }
}

/// Posts one event to a channel's audience as [`each_audience_page`] reads and checks it:
/// each checked page joins one stream of posts, so the posts run
/// `WEBSOCKET_POST_CONCURRENCY` at a time across pages and no page waits for the last posts
/// of the one before (nor its check for them).
async fn post_to_audience<P: Poster>(
    state: &AppState,
    poster: &P,
    channel_id: ChannelId,
    known: Option<&Channel>,
    event: &ServerEvent,
    skip: Option<&str>,
) -> ApiResult<()> {
    let (checked, pages) = tokio::sync::mpsc::unbounded_channel::<Vec<Target>>();
    let read = each_audience_page(state, channel_id, known, move |targets| {
        // The receiving end lives until the last post is done, so a page always reaches
        // it; the stream of posts ends when this closure (the sender) is dropped.
        let _ = checked.send(targets);
        std::future::ready(Ok(()))
    });
    let targets = futures::stream::unfold(pages, |mut pages| async move {
        let page = pages.recv().await?;
        Some((futures::stream::iter(page), pages))
    })
    .flatten()
    .boxed();
    let (read, posted) = tokio::join!(read, post_to(state, poster, targets, event, skip));
    read.and(posted)
}

/// Relays a frame's live event (`typing`, `doc.update`, `doc.awareness`) to the other
/// subscribers of a channel the sender has just been checked to read.
async fn relay<P: Poster>(
    state: &AppState,
    poster: &P,
    channel: &Channel,
    kind: &str,
    data: serde_json::Value,
    from_connection: &str,
) -> ApiResult<()> {
    let event = ServerEvent::new(kind, Some(channel.id), data);
    let skip = Some(from_connection);
    post_to_audience(state, poster, channel.id, Some(channel), &event, skip).await
}

/// Posts one event to connections, `WEBSOCKET_POST_CONCURRENCY` at a time (read once at
/// cold start; the deployed poster also holds every event's posts together to it), except
/// `skip`; connections that answer 410 are forgotten. The targets come as a boxed stream:
/// with a generic one, rustc could not prove the futures that hold it `Send`.
async fn post_to<P: Poster>(
    state: &AppState,
    poster: &P,
    targets: futures::stream::BoxStream<'_, Target>,
    event: &ServerEvent,
    skip: Option<&str>,
) -> ApiResult<()> {
    let payload = event.to_bytes();
    let gone: Vec<Target> = targets
        .map(|(connection, user)| {
            let payload = payload.clone();
            async move {
                if Some(connection.as_str()) == skip {
                    return None;
                }
                match poster.post(&connection, payload).await {
                    PostOutcome::Delivered => None,
                    PostOutcome::Gone => Some((connection, user)),
                    PostOutcome::Failed(reason) => {
                        tracing::warn!(connection = %connection, reason = %reason, "post to connection failed");
                        None
                    }
                }
            }
        })
        .buffer_unordered(state.config.websocket_post_concurrency)
        .filter_map(|gone| async move { gone })
        .collect()
        .await;
    for (connection, user) in gone {
        state.store.remove_connection(&connection, user).await?;
    }
    Ok(())
}

/// Ends a user's subscriptions to a channel they left or were removed from, on every
/// connection; called before the request answers.
pub async fn end_channel_subscriptions(
    state: &AppState,
    channel: &Channel,
    user_id: UserId,
) -> ApiResult<()> {
    state
        .store
        .end_user_subscriptions(user_id, channel.workspace_id, Some(channel.id))
        .await
}

/// Ends a user's subscriptions to every channel of a workspace they left or were removed
/// from (public channels they never joined included), on every connection; called before
/// the request answers.
pub async fn end_workspace_subscriptions(
    state: &AppState,
    workspace_id: WorkspaceId,
    user_id: UserId,
) -> ApiResult<()> {
    state
        .store
        .end_user_subscriptions(user_id, workspace_id, None)
        .await
}

/// The error of a frame refused by a per-connection throttle.
fn throttled(what: &str, interval_ms: i64) -> ApiError {
    ApiError::rate_limited(
        format!(
            "at most one {what} frame per {interval_ms} ms per connection; nothing was relayed"
        ),
        1,
    )
}

async fn reply<P: Poster>(poster: &P, connection_id: &str, event: ServerEvent) {
    if let PostOutcome::Failed(reason) = poster.post(connection_id, event.to_bytes()).await {
        tracing::warn!(reason = %reason, "reply to connection failed");
    }
}

/// `$default`: one client frame. Problems are answered on the socket as `error` frames.
pub async fn handle_frame<P: Poster>(
    state: &AppState,
    poster: &P,
    connection_id: &str,
    body: &str,
) -> ApiResult<()> {
    let Some(connection) = state.store.get_connection(connection_id).await? else {
        return Err(ApiError::unauthorized("unknown connection"));
    };
    let frame: ClientFrame = match serde_json::from_str(body) {
        Ok(frame) => frame,
        Err(error) => {
            reply(
                poster,
                connection_id,
                ServerEvent::error("invalid_request", &format!("bad frame: {error}")),
            )
            .await;
            return Ok(());
        }
    };
    let user = connection.user_id;
    // Errors of the frame go back on the socket, so they are collected, not returned.
    let result: ApiResult<()> = async {
        match frame {
            ClientFrame::Ping => {
                reply(
                    poster,
                    connection_id,
                    ServerEvent::new("pong", None, json!({})),
                )
                .await;
                Ok(())
            }
            ClientFrame::Subscribe { channel_ids } => {
                subscribe(state, poster, &connection, channel_ids).await
            }
            ClientFrame::Unsubscribe { channel_ids } => {
                if channel_ids.len() > SUBSCRIBE_MAX {
                    return Err(ApiError::invalid(format!(
                        "channel_ids must name at most {SUBSCRIBE_MAX} channels"
                    )));
                }
                state.store.unsubscribe(connection_id, &channel_ids).await?;
                send_subscriptions(state, poster, connection_id).await
            }
            ClientFrame::Typing { channel_id } => {
                // The check and the throttle are independent: one round trip.
                let (channel, allowed) = tokio::try_join!(
                    access::channel(state, channel_id, user),
                    state.store.throttle_connection(
                        connection_id,
                        Throttle::Typing,
                        clock::now().timestamp_millis(),
                        TYPING_INTERVAL_MS
                    )
                )?;
                channel.require_member()?;
                if allowed == ThrottleVerdict::Throttled {
                    return Err(throttled("typing", TYPING_INTERVAL_MS));
                }
                let typing = json!({"channel_id": channel_id, "user_id": user});
                relay(
                    state,
                    poster,
                    &channel.channel,
                    "typing",
                    typing,
                    connection_id,
                )
                .await
            }
            ClientFrame::Presence { status } => {
                let allowed = state
                    .store
                    .throttle_connection(
                        connection_id,
                        Throttle::Presence,
                        clock::now().timestamp_millis(),
                        PRESENCE_INTERVAL_MS,
                    )
                    .await?;
                if allowed == ThrottleVerdict::Throttled {
                    return Err(throttled("presence", PRESENCE_INTERVAL_MS));
                }
                state
                    .store
                    .set_presence_status(user, status.as_str())
                    .await?;
                let event =
                    ServerEvent::new("presence", None, json!({"user_id": user, "status": status}));
                presence_fan_out(state, poster, &connection, &event).await
            }
            ClientFrame::Signal {
                channel_id,
                to_user_id,
                kind,
                payload,
            } => signal(state, poster, user, channel_id, to_user_id, kind, payload).await,
            ClientFrame::DocSync {
                channel_id,
                state_vector,
            } => {
                doc_sync(
                    state,
                    poster,
                    user,
                    connection_id,
                    channel_id,
                    &state_vector,
                )
                .await
            }
            ClientFrame::DocUpdate { channel_id, update } => {
                doc_update(state, poster, user, connection_id, channel_id, update).await
            }
            ClientFrame::DocAwareness { channel_id, update } => {
                doc_awareness(state, poster, user, connection_id, channel_id, update).await
            }
        }
    }
    .await;
    if let Err(error) = result {
        let message = match &error {
            ApiError::Internal(_) => "an internal error occurred".to_owned(),
            other => other.to_string(),
        };
        if let ApiError::Internal(cause) = &error {
            tracing::error!(error = format!("{cause:#}"), "websocket frame failed");
        }
        reply(
            poster,
            connection_id,
            ServerEvent::error(error.code().as_str(), &message),
        )
        .await;
    }
    Ok(())
}

/// Relays a `presence` event once to every connection subscribed to any of the channels
/// this connection is subscribed to (as read at the frame's start), the audiences
/// gathered a few channels at a time and de-duplicated.
async fn presence_fan_out<P: Poster>(
    state: &AppState,
    poster: &P,
    connection: &Connection,
    event: &ServerEvent,
) -> ApiResult<()> {
    let audiences: Vec<Vec<Target>> = futures::stream::iter(connection.channels.iter().copied())
        .map(|channel_id| channel_audience(state, channel_id, None))
        .buffer_unordered(PRESENCE_CHANNELS_IN_FLIGHT)
        .try_collect()
        .await?;
    let targets: HashMap<String, UserId> = audiences.into_iter().flatten().collect();
    post_to(
        state,
        poster,
        futures::stream::iter(targets).boxed(),
        event,
        Some(&connection.connection_id),
    )
    .await
}

/// Answers `subscribed` with the connection's channel set.
async fn send_subscriptions<P: Poster>(
    state: &AppState,
    poster: &P,
    connection_id: &str,
) -> ApiResult<()> {
    let mut current: Vec<ChannelId> = state
        .store
        .get_connection(connection_id)
        .await?
        .map(|connection| connection.channels)
        .unwrap_or_default();
    current.sort();
    reply(
        poster,
        connection_id,
        ServerEvent::new("subscribed", None, json!({"channel_ids": current})),
    )
    .await;
    Ok(())
}

/// Subscribes to every channel asked for, or (if any may not be read, or the connection
/// would pass its cap) to none.
async fn subscribe<P: Poster>(
    state: &AppState,
    poster: &P,
    connection: &Connection,
    channel_ids: Vec<ChannelId>,
) -> ApiResult<()> {
    let unique: Vec<ChannelId> = channel_ids
        .into_iter()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if unique.is_empty() || unique.len() > SUBSCRIBE_MAX {
        return Err(ApiError::invalid(format!(
            "channel_ids must name 1 to {SUBSCRIBE_MAX} channels"
        )));
    }
    let over_cap = || {
        ApiError::conflict(format!(
            "a connection subscribes to at most {CONNECTION_SUBSCRIPTIONS_MAX} channels; nothing was subscribed"
        ))
    };
    let mut after: HashSet<ChannelId> = connection.channels.iter().copied().collect();
    after.extend(unique.iter().copied());
    if after.len() > CONNECTION_SUBSCRIPTIONS_MAX {
        return Err(over_cap());
    }
    let checks = unique
        .iter()
        .map(|id| access::channel(state, *id, connection.user_id));
    let readable = futures::future::try_join_all(checks)
        .await
        .map_err(|error| match error {
            ApiError::NotFound(_) => {
                ApiError::NotFound("a channel was not found; nothing was subscribed".into())
            }
            other => other,
        })?;
    let channels: Vec<(WorkspaceId, ChannelId)> = readable
        .iter()
        .map(|access| (access.channel.workspace_id, access.channel.id))
        .collect();
    // The cap is a condition of the write; a refusal means the set changed meanwhile (or
    // the cap would be passed): re-read it and decide again.
    let mut current = connection.clone();
    for _ in 0..SUBSCRIBE_ATTEMPTS {
        if state
            .store
            .subscribe(&current, &channels, CONNECTION_SUBSCRIPTIONS_MAX)
            .await?
            == SubscribeOutcome::Subscribed
        {
            return send_subscriptions(state, poster, &connection.connection_id).await;
        }
        current = state
            .store
            .get_connection(&connection.connection_id)
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown connection"))?;
        let mut after: HashSet<ChannelId> = current.channels.iter().copied().collect();
        after.extend(unique.iter().copied());
        if after.len() > CONNECTION_SUBSCRIPTIONS_MAX {
            return Err(over_cap());
        }
    }
    Err(ApiError::Unavailable(
        "the subscriptions kept changing; retry".into(),
    ))
}

/// Relays WebRTC signalling to one member of a voice channel (never stored).
async fn signal<P: Poster>(
    state: &AppState,
    poster: &P,
    from: UserId,
    channel_id: ChannelId,
    to: UserId,
    kind: SignalKind,
    payload: Value,
) -> ApiResult<()> {
    if payload.to_string().len() > SIGNAL_PAYLOAD_MAX {
        return Err(ApiError::TooLarge(format!(
            "signal payloads are at most {SIGNAL_PAYLOAD_MAX} bytes"
        )));
    }
    let (channel, target) = tokio::try_join!(
        access::channel(state, channel_id, from),
        state.store.get_channel_member(channel_id, to)
    )?;
    channel.require_member()?;
    if channel.channel.kind != ChannelKind::Voice {
        return Err(ApiError::invalid("signalling is for voice channels"));
    }
    if target.is_none() {
        return Err(ApiError::not_found("that user in this channel"));
    }
    let event = ServerEvent::new(
        "signal",
        Some(channel_id),
        json!({"channel_id": channel_id, "from_user_id": from, "kind": kind, "payload": payload}),
    );
    deliver(state, poster, &Audience::User(to), &event, None).await
}

// ---- documents: doc.sync, doc.update, doc.awareness ----------------------------------

/// The error of a document frame where this build has no documents (the `documents`
/// feature is off).
#[cfg(not(feature = "documents"))]
fn documents_not_served() -> ApiError {
    ApiError::Unavailable("documents are not served by this function".into())
}

/// `doc.sync`: answers this connection with what it lacks and the server's state vector,
/// or `fetch` when that would not fit a WebSocket message.
async fn doc_sync<P: Poster>(
    state: &AppState,
    poster: &P,
    user: UserId,
    connection_id: &str,
    channel_id: ChannelId,
    state_vector: &str,
) -> ApiResult<()> {
    #[cfg(feature = "documents")]
    {
        let data = crate::documents::live_sync(state, user, channel_id, state_vector).await?;
        reply(
            poster,
            connection_id,
            ServerEvent::new("doc.sync", Some(channel_id), data),
        )
        .await;
        Ok(())
    }
    #[cfg(not(feature = "documents"))]
    {
        let _ = (state, poster, user, connection_id, channel_id, state_vector);
        Err(documents_not_served())
    }
}

/// `doc.update`: stored first (durable), then posted straight to the channel's other
/// subscribers from here (the fastest path: no stream hop), then the log is compacted if
/// it is due.
async fn doc_update<P: Poster>(
    state: &AppState,
    poster: &P,
    user: UserId,
    connection_id: &str,
    channel_id: ChannelId,
    update: String,
) -> ApiResult<()> {
    #[cfg(feature = "documents")]
    {
        let Some((channel, stored)) =
            crate::documents::live_update(state, user, channel_id, &update).await?
        else {
            return Ok(()); // nothing new: neither stored nor relayed
        };
        let relayed = json!({"update": update, "user_id": user});
        relay(
            state,
            poster,
            &channel.channel,
            "doc.update",
            relayed,
            connection_id,
        )
        .await?;
        crate::documents::compact_if_due(state, channel_id, stored).await
    }
    #[cfg(not(feature = "documents"))]
    {
        let _ = (state, poster, user, connection_id, channel_id, update);
        Err(documents_not_served())
    }
}

/// `doc.awareness`: relayed to the channel's other subscribers, never stored.
async fn doc_awareness<P: Poster>(
    state: &AppState,
    poster: &P,
    user: UserId,
    connection_id: &str,
    channel_id: ChannelId,
    update: String,
) -> ApiResult<()> {
    #[cfg(feature = "documents")]
    {
        let channel = crate::documents::live_awareness(state, user, channel_id, &update).await?;
        let relayed = json!({"update": update, "user_id": user});
        relay(
            state,
            poster,
            &channel.channel,
            "doc.awareness",
            relayed,
            connection_id,
        )
        .await
    }
    #[cfg(not(feature = "documents"))]
    {
        let _ = (state, poster, user, connection_id, channel_id, update);
        Err(documents_not_served())
    }
}

/// The stream consumer: maps each change to events and delivers them; returns the ids of
/// the records that failed (for `ReportBatchItemFailures`). TTL expiries of connections
/// clean up presence and deliver nothing.
pub async fn broadcast_changes<P: Poster>(
    state: &AppState,
    poster: &P,
    changes: &[Change],
) -> Vec<String> {
    crate::stream::each_change_in_partition_order(
        changes,
        "broadcasting a stream record",
        PARTITIONS_IN_FLIGHT,
        |change| broadcast_change(state, poster, change),
    )
    .await
}

async fn broadcast_change<P: Poster>(
    state: &AppState,
    poster: &P,
    change: &Change,
) -> ApiResult<()> {
    if change.kind == ChangeKind::Remove && change.entity() == Some(crate::keys::entity::CONNECTION)
    {
        if change.by_ttl
            && let Some(connection) = change.old_as::<Connection>()?
        {
            state
                .store
                .forget_presence(&connection.connection_id, connection.user_id)
                .await?;
        }
        return Ok(());
    }
    for Outgoing { audience, event } in events_for(change)? {
        deliver(state, poster, &audience, &event, None).await?;
    }
    Ok(())
}

/// An online member, as `GET /v1/workspaces/{wid}/presence` lists them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnlineMember {
    pub user_id: UserId,
    #[schema(value_type = PresenceStatus)]
    pub status: String,
}

/// `GET /v1/workspaces/{wid}/presence`: members; the online members of the workspace, a
/// page at a time in user-id order (offline members are left out before the page is cut).
pub async fn online_members(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    page: PageRequest,
) -> ApiResult<Page<OnlineMember>> {
    let online = move |members: Vec<crate::workspaces::WorkspaceMember>| async move {
        let ids: Vec<UserId> = members.iter().map(|m| m.user_id).collect();
        let mut presences: std::collections::HashMap<UserId, crate::realtime::Presence> = state
            .store
            .get_presences(&ids)
            .await?
            .into_iter()
            .map(|p| (p.user_id, p))
            .collect();
        Ok::<_, ApiError>(
            members
                .iter()
                .map(|member| {
                    presences
                        .remove(&member.user_id)
                        .filter(|p| !p.connections.is_empty())
                        .map(|p| OnlineMember {
                            user_id: p.user_id,
                            status: p.status.unwrap_or_else(|| "online".into()),
                        })
                })
                .collect(),
        )
    };
    let (_, members) = tokio::try_join!(
        access::workspace(state, workspace_id, caller),
        state
            .store
            .list_workspace_members_where(workspace_id, &page, online)
    )?;
    Ok(members)
}
