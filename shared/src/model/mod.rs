//! Typed entities and the id types the API and the store share.

pub mod channel;
pub mod file;
pub mod ids;
pub mod message;
pub mod user;
pub mod workspace;

pub use channel::{Channel, ChannelKind, ChannelMember, ChannelView};
pub use file::{FilePurpose, FileStatus, FileView, StoredFile};
pub use ids::{ChannelId, FileId, MessageId, UserId, WorkspaceId};
pub use message::{Message, MessageVersion, MessageView, ReactionSummary};
pub use user::{PublicProfile, User};
pub use workspace::{Invite, MemberView, Role, Workspace, WorkspaceMember, WorkspaceView};

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Deserializer};

/// The current time at millisecond precision: what every stored and returned timestamp
/// uses, so RFC 3339 strings stay short and sort as they compare.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// A field of a PATCH body: absent (leave as is), `null` (clear), or a new value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    pub fn as_set(&self) -> Option<&T> {
        match self {
            Self::Set(value) => Some(value),
            _ => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only called when the field is present; `#[serde(default)]` covers absence.
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Self::Set(value),
            None => Self::Clear,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        bio: Patch<String>,
    }

    #[test]
    fn patch_distinguishes_absent_null_and_value() {
        let absent: Body = serde_json::from_str("{}").unwrap();
        let null: Body = serde_json::from_str(r#"{"bio":null}"#).unwrap();
        let set: Body = serde_json::from_str(r#"{"bio":"hi"}"#).unwrap();
        assert_eq!(absent.bio, Patch::Absent);
        assert_eq!(null.bio, Patch::Clear);
        assert_eq!(set.bio, Patch::Set("hi".to_owned()));
    }
}
