//! ULID-backed id newtypes. A ULID sorts by creation time, so keys on ids are time-ordered.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[derive(utoipa::ToSchema)]
        #[schema(value_type = String, pattern = "^[0-7][0-9A-HJKMNP-TV-Z]{25}$", example = "01JDZ6B5D3Q4X8V9W2T7N1M0KC")]
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

ulid_id!(
    /// A notification; derived from its source event (see [`NotificationId::derived`]).
    NotificationId
);
ulid_id!(
    /// An activity log entry; derived from its stream record.
    ActivityId
);

/// A ULID whose time is `at` and whose random part is a digest of `seed`: the same source
/// event always yields the same id (so a redelivered stream record writes the same item),
/// and ids still sort by time.
fn derived_ulid(at: chrono::DateTime<chrono::Utc>, seed: &str) -> Ulid {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let mut random = [0u8; 16];
    random[6..].copy_from_slice(&digest[..10]);
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    Ulid::from_parts(millis, u128::from_be_bytes(random))
}

impl NotificationId {
    pub fn derived(at: chrono::DateTime<chrono::Utc>, seed: &str) -> Self {
        Self(derived_ulid(at, seed))
    }
}

impl ActivityId {
    /// The id of the `index`th entry of the stream record `sequence` made `at`: ordered by
    /// time, then (records of one second) by sequence number, which a shard's records
    /// increase in; a digest of them where the number does not fit.
    pub fn of_record(at: chrono::DateTime<chrono::Utc>, sequence: &str, index: usize) -> Self {
        const RANDOM_BITS: u32 = 80;
        let ordered = sequence
            .parse::<u128>()
            .ok()
            .and_then(|n| n.checked_mul(16))
            .and_then(|n| n.checked_add(u128::try_from(index).ok()?))
            .filter(|n| *n < (1u128 << RANDOM_BITS));
        match ordered {
            Some(random) => {
                let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
                Self(Ulid::from_parts(millis, random))
            }
            None => Self(derived_ulid(at, &format!("{sequence}#{index}"))),
        }
    }
}

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

    #[test]
    fn derived_ids_are_stable_and_time_ordered() {
        let at = chrono::Utc::now();
        let later = at + chrono::Duration::milliseconds(1);
        assert_eq!(
            NotificationId::derived(at, "a"),
            NotificationId::derived(at, "a")
        );
        assert_ne!(
            NotificationId::derived(at, "a"),
            NotificationId::derived(at, "b")
        );
        assert!(NotificationId::derived(at, "z") < NotificationId::derived(later, "a"));
    }
}
