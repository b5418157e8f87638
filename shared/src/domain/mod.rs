//! Domain rules: what each route does, independent of HTTP. Handlers parse input, call one
//! function here and map its result.

pub mod access;
pub mod auth;
pub mod channels;
pub mod cleanup;
pub mod files;
pub mod invites;
pub mod messages;
pub mod pagination;
pub mod realtime;
pub mod search;
pub mod users;
pub mod workspaces;
