//! Workspaces and their members.
//!
//! Routes: `POST|GET /v1/workspaces`, `GET|PATCH|DELETE /v1/workspaces/{wid}`,
//! `GET|POST /v1/workspaces/{wid}/members`, `PATCH|DELETE /v1/workspaces/{wid}/members/{uid}`.
//! Entities: workspace (`WS#wid` / `META`), member (`WS#wid` / `MEMBER#uid`, by user in GSI1).
//! Access patterns: a workspace with the caller's membership (one batch read), the members
//! of a workspace (paged), a user's workspaces (GSI1), role changes and ownership transfer
//! (one transaction), removal; stream-driven clean-up of a deleted workspace.

pub mod cleanup;
pub mod model;
pub mod rules;
pub mod store;

pub use model::*;
pub use rules::*;
pub use store::{
    MemberAddition, MemberRemoval, OwnershipTransfer, RoleChange, WorkspaceChanges,
    WorkspaceDeletion, WorkspaceUpdate,
};
