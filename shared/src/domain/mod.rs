//! Domain rules: what each route does, independent of HTTP. Handlers parse input, call one
//! function here and map its result.

pub mod auth;
pub mod users;
