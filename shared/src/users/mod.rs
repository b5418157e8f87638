//! Users: profiles and credentials.
//!
//! Routes: `GET|PATCH /v1/users/me`, `GET /v1/users/{user_id}` (registration and sign-in
//! are in [`crate::auth`]).
//! Entities: user (`USER#uid` / `PROFILE`), credential (email marker, `EMAIL#email` /
//! `EMAIL`).
//! Access patterns: a user by id, several users by id (batch), the credential by email.

pub mod model;
pub mod rules;
pub mod store;

pub use model::*;
pub use rules::*;
pub use store::{AccountCreation, NewAccount, ProfileChanges, ProfileUpdate};
