//! Who each channel's last delivery admitted, kept per process, so the next delivery can
//! read those users' access beside its first page of subscribers instead of after it (one
//! round trip less before the first post). Only whom to read is remembered, never a
//! verdict: every delivery reads access anew, at the moment it posts.

use crate::ids::{ChannelId, UserId, WorkspaceId};
use crate::table::remembered::Remembered;

/// The most users one hint names: their checks, with the workspace and channel records, fit
/// one BatchGetItem (2 + 2 × 48 = 98 keys of the 100 it takes).
pub const HINT_USERS_MAX: usize = 48;
/// The most channels a process keeps hints for (then it starts over, as every
/// [`Remembered`] map does).
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
#[derive(Debug)]
pub struct AudienceHints(Remembered<ChannelId, AudienceHint>);

impl Default for AudienceHints {
    fn default() -> Self {
        Self(Remembered::bounded(HINT_CHANNELS_MAX))
    }
}

impl AudienceHints {
    /// The hint kept for a channel, if any.
    pub fn get(&self, channel_id: ChannelId) -> Option<AudienceHint> {
        self.0.get(&channel_id)
    }

    /// Keeps who a delivery admitted (at most [`HINT_USERS_MAX`] of them, the first met
    /// first); nobody admitted forgets the channel's hint.
    pub fn keep(&self, channel_id: ChannelId, workspace_id: WorkspaceId, admitted: &[UserId]) {
        if admitted.is_empty() {
            self.forget(channel_id);
            return;
        }
        let users = admitted.iter().copied().take(HINT_USERS_MAX).collect();
        self.0.remember(
            channel_id,
            AudienceHint {
                workspace_id,
                users,
            },
        );
    }

    /// Drops a channel's hint (it has no audience, or is gone).
    pub fn forget(&self, channel_id: ChannelId) {
        self.0.forget(&channel_id);
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
    }

    #[test]
    fn hints_are_kept_for_at_most_the_bound_of_channels() {
        let hints = AudienceHints::default();
        let workspace = WorkspaceId::generate();
        for _ in 0..HINT_CHANNELS_MAX {
            hints.keep(ChannelId::generate(), workspace, &users(1));
        }
        assert_eq!(hints.0.len(), HINT_CHANNELS_MAX);
        let newcomer = ChannelId::generate();
        hints.keep(newcomer, workspace, &users(1));
        assert_eq!(hints.0.len(), 1, "full: the map started over");
        assert!(hints.get(newcomer).is_some());
    }
}
