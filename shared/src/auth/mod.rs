//! Authentication: password hashing, access tokens (JWT), opaque secrets for refresh
//! tokens and WebSocket tickets, and the Bearer extractor every protected route uses.

pub mod extractor;
pub mod jwt;
pub mod password;
pub mod secrets;

pub use extractor::AuthUser;
pub use jwt::{AccessClaims, JwtKeys};
