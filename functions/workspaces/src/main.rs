//! Lambda entry point of the workspaces function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    huddle_shared::http::run_lambda(huddle_workspaces::router).await
}
