//! Lambda entry point of the tasks function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    huddle_shared::http::run_lambda(huddle_tasks::router).await
}
