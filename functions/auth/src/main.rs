//! Lambda entry point of the auth function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    huddle_shared::http::run_lambda(huddle_auth::router).await
}
