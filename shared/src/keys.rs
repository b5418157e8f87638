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

use serde::{Deserialize, Serialize};

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
}

/// The primary key of an item; entity items embed it with `#[serde(flatten)]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
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
pub fn user(user_id: &str) -> Key {
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
pub fn refresh_family(family_id: &str) -> Key {
    Key::new(format!("FAMILY#{family_id}"), "FAMILY")
}

/// A single-use WebSocket ticket, addressed by the hash of its secret.
pub fn ws_ticket(ticket_hash: &str) -> Key {
    Key::new(format!("TICKET#{ticket_hash}"), "TICKET")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_attribute_names_match_the_constants() {
        let value = serde_json::to_value(user("01J")).unwrap_or_default();
        assert_eq!(value[PK], "USER#01J");
        assert_eq!(value[SK], "PROFILE");
    }

    #[test]
    fn entities_do_not_share_partitions() {
        let keys = [
            user("x").pk,
            credential("x").pk,
            refresh_token("x").pk,
            refresh_family("x").pk,
            ws_ticket("x").pk,
        ];
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
    }
}
