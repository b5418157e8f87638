//! Workspace invites.
//!
//! Routes: `POST|GET /v1/workspaces/{wid}/invites`, `DELETE /v1/workspaces/{wid}/invites/{code}`,
//! `GET /v1/invites/{code}`, `POST /v1/invites/{code}/accept`.
//! Entity: invite (`INVITE#code` / `INVITE`, by workspace in GSI1).
//! Access patterns: an invite by code, a workspace's invites (GSI1), acceptance (the use
//! counter's condition and the new membership in one transaction), revocation.

pub mod model;
pub mod rules;
pub mod store;

pub use model::*;
pub use rules::*;
pub use store::{InviteAcceptance, InviteRevocation};
