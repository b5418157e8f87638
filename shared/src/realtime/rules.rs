//! Realtime: the WebSocket routes (`$connect` with a single-use ticket, `$disconnect`,
//! `$default` frames), the stream-driven broadcaster, and presence.

use std::collections::HashSet;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::access;
use crate::auth::rules::redeem_ws_ticket;
use crate::channels::ChannelKind;
use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, UserId, WorkspaceId};
use crate::realtime::events::{Audience, Outgoing, ServerEvent, events_for};
use crate::realtime::{Connection, Subscription};
use crate::realtime::{PostOutcome, Poster};
use crate::state::AppState;
use crate::stream::{Change, ChangeKind};
use crate::table::{Page, PageRequest};

/// API Gateway closes sockets after 2 hours; records outlive that a little.
const CONNECTION_TTL_SECONDS: i64 = 2 * 3600 + 600;
pub const SUBSCRIBE_MAX: usize = 50;
pub const SIGNAL_PAYLOAD_MAX: usize = 16 * 1024;
/// Posts in flight at once per broadcast.
const FAN_OUT: usize = 32;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    state
        .store
        .put_connection(&Connection {
            connection_id: connection_id.to_owned(),
            user_id,
            connected_at: now,
            expires_at: now.timestamp() + CONNECTION_TTL_SECONDS,
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

/// Sends one event to every connection of an audience, `FAN_OUT` at a time, except
/// `skip`; connections that answer 410 are forgotten.
async fn deliver<P: Poster>(
    state: &AppState,
    poster: &P,
    audience: &Audience,
    event: &ServerEvent,
    skip: Option<&str>,
) -> ApiResult<()> {
    let payload = event.to_bytes();
    let mut targets: Vec<(String, UserId)> = Vec::new();
    match audience {
        Audience::Channel(channel_id) => {
            let mut page = PageRequest {
                limit: 1000,
                cursor: None,
            };
            loop {
                let subscribers: Page<Subscription> = state
                    .store
                    .list_channel_subscribers(*channel_id, &page)
                    .await?;
                targets.extend(
                    subscribers
                        .items
                        .into_iter()
                        .map(|s| (s.connection_id, s.user_id)),
                );
                match subscribers.next_cursor {
                    Some(cursor) => page.cursor = Some(cursor),
                    None => break,
                }
            }
        }
        Audience::User(user_id) => {
            let connections = state.store.list_user_connections(*user_id).await?;
            targets.extend(
                connections
                    .into_iter()
                    .map(|c| (c.connection_id, c.user_id)),
            );
        }
    }
    targets.retain(|(connection, _)| Some(connection.as_str()) != skip);
    let gone: Vec<(String, UserId)> = futures::stream::iter(targets)
        .map(|(connection, user)| {
            let payload = payload.clone();
            async move {
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
        .buffer_unordered(FAN_OUT)
        .filter_map(|gone| async move { gone })
        .collect()
        .await;
    for (connection, user) in gone {
        state.store.remove_connection(&connection, user).await?;
    }
    Ok(())
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
                state
                    .store
                    .delete_subscriptions(connection_id, &channel_ids)
                    .await?;
                send_subscriptions(state, poster, connection_id).await
            }
            ClientFrame::Typing { channel_id } => {
                let channel = access::channel(state, channel_id, user).await?;
                channel.require_member()?;
                let event = ServerEvent::new(
                    "typing",
                    Some(channel_id),
                    json!({"channel_id": channel_id, "user_id": user}),
                );
                deliver(
                    state,
                    poster,
                    &Audience::Channel(channel_id),
                    &event,
                    Some(connection_id),
                )
                .await
            }
            ClientFrame::Presence { status } => {
                state
                    .store
                    .set_presence_status(user, status.as_str())
                    .await?;
                let event =
                    ServerEvent::new("presence", None, json!({"user_id": user, "status": status}));
                let subscriptions = state
                    .store
                    .list_connection_subscriptions(connection_id)
                    .await?;
                for subscription in subscriptions {
                    deliver(
                        state,
                        poster,
                        &Audience::Channel(subscription.channel_id),
                        &event,
                        Some(connection_id),
                    )
                    .await?;
                }
                Ok(())
            }
            ClientFrame::Signal {
                channel_id,
                to_user_id,
                kind,
                payload,
            } => signal(state, poster, user, channel_id, to_user_id, kind, payload).await,
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
            ServerEvent::error(error.code(), &message),
        )
        .await;
    }
    Ok(())
}

async fn send_subscriptions<P: Poster>(
    state: &AppState,
    poster: &P,
    connection_id: &str,
) -> ApiResult<()> {
    let current: Vec<ChannelId> = state
        .store
        .list_connection_subscriptions(connection_id)
        .await?
        .into_iter()
        .map(|s| s.channel_id)
        .collect();
    reply(
        poster,
        connection_id,
        ServerEvent::new("subscribed", None, json!({"channel_ids": current})),
    )
    .await;
    Ok(())
}

/// Subscribes to every channel asked for, or (if any may not be read) to none.
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
    let checks = unique
        .iter()
        .map(|id| access::channel(state, *id, connection.user_id));
    futures::future::try_join_all(checks)
        .await
        .map_err(|error| match error {
            ApiError::NotFound(_) => {
                ApiError::NotFound("a channel was not found; nothing was subscribed".into())
            }
            other => other,
        })?;
    let subscriptions: Vec<Subscription> = unique
        .iter()
        .map(|channel_id| Subscription {
            connection_id: connection.connection_id.clone(),
            channel_id: *channel_id,
            user_id: connection.user_id,
            expires_at: connection.expires_at,
        })
        .collect();
    state.store.put_subscriptions(&subscriptions).await?;
    send_subscriptions(state, poster, &connection.connection_id).await
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

/// The stream consumer: maps each change to events and delivers them; returns the ids of
/// the records that failed (for `ReportBatchItemFailures`). TTL expiries of connections
/// clean up presence and deliver nothing.
pub async fn broadcast_changes<P: Poster>(
    state: &AppState,
    poster: &P,
    changes: &[Change],
) -> Vec<String> {
    let mut failed = Vec::new();
    for change in changes {
        let result = async {
            if change.kind == ChangeKind::Remove
                && change.entity() == Some(crate::keys::entity::CONNECTION)
            {
                if change.by_ttl
                    && let Some(old) = change.old.clone()
                {
                    let connection: Connection = serde_dynamo::from_item(old).map_err(|e| {
                        ApiError::internal(anyhow::anyhow!("reading a connection image: {e}"))
                    })?;
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
            Ok::<(), ApiError>(())
        }
        .await;
        if let Err(error) = result {
            tracing::error!(record = %change.id, error = %error, "broadcasting a stream record failed");
            failed.push(change.id.clone());
        }
    }
    failed
}

/// An online member, as `GET /v1/workspaces/{wid}/presence` lists them.
#[derive(Debug, Clone, Serialize)]
pub struct OnlineMember {
    pub user_id: UserId,
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
