//! Lambda entry point of the notifications function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    huddle_shared::http::run_lambda(huddle_notifications::router).await
}
