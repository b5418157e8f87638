//! Lambda entry point of the files function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    huddle_shared::http::run_lambda(huddle_files::router).await
}
