//! The local gateway: serves every function's router on one port (127.0.0.1:3000 by
//! default), the same code that runs in Lambda, after making sure the local table and
//! bucket exist, and polls the table's stream to drive the stream consumers.

mod bootstrap;
mod openapi;
mod streams;
mod websocket;

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use huddle_shared::AppState;
use huddle_shared::config::Config;
use huddle_shared::realtime::ManagementPoster;

/// All function routers on one app, as each function serves them in Lambda (the routes
/// [`openapi::functions`] describes), with the shared layers applied once, plus the docs
/// function and the WebSocket endpoint and its management API.
fn app(state: AppState, poster: ManagementPoster, nudge: streams::Nudge) -> Router {
    let functions = openapi::served(&state).layer(axum::middleware::from_fn_with_state(
        nudge.clone(),
        streams::wake_after_writes,
    ));
    huddle_shared::http::finish(
        Router::new()
            .merge(functions)
            .merge(huddle_docs::routes())
            .merge(websocket::routes(state, poster, nudge)),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|arg| arg == "--openapi") {
        print!("{}", openapi::json()?);
        return Ok(());
    }
    let mut config = Config::from_env().context("reading configuration")?;
    huddle_shared::telemetry::init(config.log_json);
    let sdk_config = huddle_shared::state::load_aws_config();

    bootstrap::ensure_table(
        &aws_sdk_dynamodb::Client::new(&sdk_config),
        &config.table_name,
    )
    .await
    .context("creating the local table")?;
    if let Ok(bucket) = std::env::var("BUCKET_NAME") {
        bootstrap::ensure_bucket(&sdk_config, &bucket)
            .await
            .context("creating the local bucket")?;
    }
    if std::env::args().any(|arg| arg == "--bootstrap-only") {
        return Ok(());
    }

    let addr: SocketAddr = std::env::var("HUDDLE_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".into())
        .parse()
        .context("HUDDLE_ADDR must be host:port")?;
    // Posts to connections come back here, to the management API this gateway serves.
    config
        .websocket_endpoint
        .get_or_insert_with(|| format!("http://{addr}"));
    let state = AppState::new(config, &sdk_config)?;
    let poster = state.poster(&sdk_config)?;
    // The table's stream drives the consumers here as Lambda's event sources do deployed;
    // the routes and sockets nudge it after what may have written.
    let nudge = streams::Nudge::default();
    tokio::spawn(streams::run(
        state.clone(),
        poster.clone(),
        sdk_config.clone(),
        nudge.clone(),
    ));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, "huddle local gateway listening");
    // With connect info: the per-address rate limits read the peer's address.
    axum::serve(
        listener,
        app(state, poster, nudge).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving")?;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return interrupt.await.unwrap_or_default(),
        };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
