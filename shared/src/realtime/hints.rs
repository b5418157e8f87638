//! Who each channel's last delivery admitted, kept per process, so the next delivery can
//! read those users' access beside its first page of subscribers instead of after it (one
//! round trip less before the first post). Only whom to read is remembered, never a
//! verdict: every delivery reads access anew, at the moment it posts.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::ids::{ChannelId, UserId, WorkspaceId};

/// The most users one hint names: their checks, with the workspace and channel records, fit
/// one BatchGetItem (2 + 2 × 48 = 98 keys of the 100 it takes).
pub const HINT_USERS_MAX: usize = 48;
/// The most channels a process keeps hints for; the oldest hint makes room for a new one.
pub const HINT_CHANNELS_MAX: usize = 1024;

/// The users to read access for before a channel's subscribers are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceHint {
    /// The channel's workspace (a channel never moves).
    pub workspace_id: WorkspaceId,
    /// Users in the order the last delivery first met them (its first page's users first).
    pub users: Vec<UserId>,
}

/// Hints by channel, at most [`HINT_CHANNELS_MAX`] of them.
#[derive(Debug, Default)]
pub struct AudienceHints {
    inner: Mutex<Hints>,
}

#[derive(Debug, Default)]
struct Hints {
    by_channel: HashMap<ChannelId, AudienceHint>,
    /// Channels in the order their hints were first kept (the oldest is dropped first).
    order: VecDeque<ChannelId>,
}

impl AudienceHints {
    /// The hint kept for a channel, if any.
    pub fn get(&self, channel_id: ChannelId) -> Option<AudienceHint> {
        let hints = self.inner.lock().ok()?;
        hints.by_channel.get(&channel_id).cloned()
    }

    /// Keeps who a delivery admitted (at most [`HINT_USERS_MAX`] of them, the first met
    /// first); nobody admitted forgets the channel's hint.
    pub fn keep(&self, channel_id: ChannelId, workspace_id: WorkspaceId, admitted: &[UserId]) {
        if admitted.is_empty() {
            self.forget(channel_id);
            return;
        }
        let Ok(mut hints) = self.inner.lock() else {
            return;
        };
        let hint = AudienceHint {
            workspace_id,
            users: admitted.iter().copied().take(HINT_USERS_MAX).collect(),
        };
        if hints.by_channel.insert(channel_id, hint).is_none() {
            hints.order.push_back(channel_id);
            while hints.order.len() > HINT_CHANNELS_MAX {
                if let Some(oldest) = hints.order.pop_front() {
                    hints.by_channel.remove(&oldest);
                }
            }
        }
    }

    /// Drops a channel's hint (it has no audience, or is gone).
    pub fn forget(&self, channel_id: ChannelId) {
        let Ok(mut hints) = self.inner.lock() else {
            return;
        };
        if hints.by_channel.remove(&channel_id).is_some() {
            hints.order.retain(|kept| *kept != channel_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(n: usize) -> Vec<UserId> {
        (0..n).map(|_| UserId::generate()).collect()
    }

    #[test]
    fn a_hint_names_the_first_users_met_up_to_the_bound() {
        let hints = AudienceHints::default();
        let channel = ChannelId::generate();
        let workspace = WorkspaceId::generate();
        let admitted = users(HINT_USERS_MAX + 5);
        hints.keep(channel, workspace, &admitted);
        let hint = hints.get(channel).expect("a hint");
        assert_eq!(hint.workspace_id, workspace);
        assert_eq!(hint.users, admitted[..HINT_USERS_MAX].to_vec());
    }

    #[test]
    fn a_delivery_that_admits_nobody_forgets_the_hint() {
        let hints = AudienceHints::default();
        let channel = ChannelId::generate();
        hints.keep(channel, WorkspaceId::generate(), &users(3));
        hints.keep(channel, WorkspaceId::generate(), &[]);
        assert_eq!(hints.get(channel), None);
        assert!(hints.inner.lock().unwrap().order.is_empty());
    }

    #[test]
    fn the_oldest_channel_makes_room_and_a_renewed_hint_keeps_its_place() {
        let hints = AudienceHints::default();
        let workspace = WorkspaceId::generate();
        let channels: Vec<ChannelId> = (0..HINT_CHANNELS_MAX)
            .map(|_| ChannelId::generate())
            .collect();
        for channel in &channels {
            hints.keep(*channel, workspace, &users(1));
        }
        // Renewing the oldest hint replaces its users without adding a place in line.
        let renewed = users(2);
        hints.keep(channels[0], workspace, &renewed);
        assert_eq!(hints.inner.lock().unwrap().order.len(), HINT_CHANNELS_MAX);
        let newcomer = ChannelId::generate();
        hints.keep(newcomer, workspace, &users(1));
        assert_eq!(hints.get(channels[0]), None, "the oldest made room");
        assert!(hints.get(channels[1]).is_some());
        assert!(hints.get(newcomer).is_some());
        let inner = hints.inner.lock().unwrap();
        assert_eq!(inner.by_channel.len(), HINT_CHANNELS_MAX);
        assert_eq!(inner.order.len(), HINT_CHANNELS_MAX);
    }
}
