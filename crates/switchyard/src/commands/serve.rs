//! `switchyard serve`: load the configuration, start the sync, serve HTTP, stop gracefully.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow};
use switchyard_core::Limits;
use switchyard_server::{AppState, ServerConfig};
use switchyard_sync::{SyncConfig, SyncHandle};
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::config;

/// Sets up logging to stderr; `RUST_LOG` overrides the default level.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A multi-threaded runtime for the server.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Runs `serve`.
pub fn run(args: &ServeArgs) -> Result<ExitCode> {
    init_tracing();
    let path = config::locate(args.config.as_deref()).ok_or_else(|| {
        anyhow!("no configuration file: pass --config PATH (Flipt v2, Flipt v1 or the seed's flipt/flipt.yml), set SWITCHYARD_CONFIG, or create ./switchyard.yml")
    })?;
    let env: Vec<(String, String)> = std::env::vars().collect();
    let settings = config::load(&path, &env)?;
    for w in &settings.warnings {
        tracing::warn!("{}: {w}", path.display());
    }
    let listen =
        config::listen_address(args.listen.as_deref(), settings.listen).map_err(|e| anyhow!(e))?;
    tracing::info!(config = %path.display(), format = ?settings.format, "configuration loaded");
    runtime()?.block_on(serve(settings.sync, settings.server, listen, |_| {}))?;
    Ok(ExitCode::SUCCESS)
}

/// Starts the sync and serves until Ctrl-C or SIGTERM; `on_listening` gets the bound address.
pub async fn serve(
    sync: SyncConfig,
    server: ServerConfig,
    listen: SocketAddr,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    // the sync starts without waiting for a fetch: the listener answers from now on
    let handle = Arc::new(
        SyncHandle::start(sync.clone(), Limits::default())
            .await
            .map_err(|e| anyhow!("{e}"))?,
    );
    let state = AppState::new(handle.clone(), &sync, server);
    tracing::info!(address = %local, "listening");
    on_listening(local);
    let serving = switchyard_server::serve(listener, state, shutdown_signal());
    tokio::pin!(serving);
    tokio::select! {
        served = &mut serving => served.context("serving HTTP")?,
        first = handle.wait_first_sync() => {
            // `fetch_policy: strict`: a failing first fetch ends the process (non-zero exit)
            first.map_err(|e| anyhow!("{e}"))?;
            serving.await.context("serving HTTP")?;
        }
    }
    tracing::info!("shutting down");
    if let Ok(handle) = Arc::try_unwrap(handle) {
        handle.shutdown().await;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
