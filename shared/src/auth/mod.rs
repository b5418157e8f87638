//! Authentication: password hashing, access tokens (JWT), opaque secrets for refresh
//! tokens and WebSocket tickets, the Bearer extractor every protected route uses, and the
//! sign-in rules (register, login, refresh rotation, logout, WebSocket tickets) with their
//! token and ticket items, and the tokens of an external identity provider ([`oidc`]).

pub mod extractor;
pub mod jwt;
pub mod jwt_crypto;
pub mod oidc;
pub mod password;
pub mod rules;
pub mod secrets;
pub mod store;

pub use extractor::AuthUser;
pub use jwt::{AccessClaims, JwtKeys};
