//! Lambda entry point of the auth function: build the state once, then serve requests.

use huddle_shared::AppState;
use huddle_shared::config::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = Config::from_env()?;
    huddle_shared::telemetry::init(config.log_json);
    let sdk_config = huddle_shared::state::load_aws_config().await;
    let state = AppState::new(config, &sdk_config);
    lambda_http::run(huddle_auth::router(state)).await
}
