//! ULID-backed id newtypes. A ULID sorts by creation time, so keys on ids are time-ordered.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Ulid);

        impl $name {
            /// A fresh id for a new entity.
            pub fn generate() -> Self {
                Self(Ulid::new())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ulid::DecodeError;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ulid::from_string(value).map(Self)
            }
        }
    };
}

ulid_id!(
    /// A user.
    UserId
);
ulid_id!(
    /// A workspace.
    WorkspaceId
);
ulid_id!(
    /// A channel (chat, voice, todo, doc, kanban or DM).
    ChannelId
);
ulid_id!(
    /// A message; ids sort by send time.
    MessageId
);
ulid_id!(
    /// An uploaded file.
    FileId
);
ulid_id!(
    /// A refresh-token family (one login and its rotations).
    FamilyId
);
ulid_id!(
    /// A task of a todo channel.
    TaskId
);
ulid_id!(
    /// A column of a kanban board.
    ColumnId
);
ulid_id!(
    /// A card of a kanban board.
    CardId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_as_strings() {
        let id = UserId::generate();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(id.to_string().parse::<UserId>().unwrap(), id);
        assert!("not-a-ulid".parse::<UserId>().is_err());
    }
}
