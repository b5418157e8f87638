//! Lambda entry point of the docs function (no table, bucket or secrets: it serves files).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    huddle_shared::telemetry::init(std::env::var("LOG_FORMAT").as_deref() != Ok("text"));
    lambda_http::run(huddle_docs::router()).await
}
