//! `switchyard serve`: load the configuration, start the sync, serve HTTP, stop gracefully.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow};
use switchyard_core::Limits;
use switchyard_server::telemetry::{OtelSettings, Telemetry};
use switchyard_server::{AppState, ServerConfig};
use switchyard_sync::{SyncConfig, SyncHandle};
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::config;

/// Sets up logging to stderr; `RUST_LOG` overrides the default level. Colours only on a
/// terminal, and never with `NO_COLOR` set.
pub fn init_tracing() {
    init_tracing_with(None);
}

/// [`init_tracing`], and with `telemetry` its OpenTelemetry layer: the sync's `sync.*` spans
/// (with the log lines made inside them as span events) become traces. Log lines on stderr
/// are the same either way: spans are for OpenTelemetry only.
fn init_tracing_with(telemetry: Option<&Telemetry>) {
    use std::io::IsTerminal as _;
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .with_filter(filter)
        .with_filter(tracing_subscriber::filter::filter_fn(|m| !m.is_span()));
    let otel = telemetry.and_then(Telemetry::layer).map(|l| {
        l.with_filter(tracing_subscriber::filter::filter_fn(|m| {
            if m.is_span() {
                m.name().starts_with("sync.")
            } else {
                *m.level() <= tracing::Level::INFO
            }
        }))
    });
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init();
}

/// Starts OpenTelemetry when the `OTEL_*` variables ask for it (inside `runtime`, which carries
/// the exports); an invalid value stops the start.
fn start_telemetry(runtime: &tokio::runtime::Runtime) -> Result<Option<Telemetry>> {
    let Some(settings) = OtelSettings::from_env(|k| std::env::var(k).ok())? else {
        return Ok(None);
    };
    let _entered = runtime.enter();
    Ok(Some(Telemetry::start(settings)?))
}

/// One line saying what OpenTelemetry sends where.
fn log_telemetry(t: &Telemetry) {
    let s = t.settings();
    let show = |e: &Option<switchyard_server::telemetry::Export>| {
        e.as_ref().map_or_else(
            || "off".to_string(),
            |e| {
                format!(
                    "{} ({})",
                    switchyard_sync::redact_url(&e.endpoint),
                    e.protocol.as_str()
                )
            },
        )
    };
    tracing::info!(
        service = %s.service_name,
        traces = %show(&s.traces),
        metrics = %show(&s.metrics),
        metric_interval_ms = s.metric_interval.as_millis() as u64,
        request_spans = s.traces.is_some() && s.sampler.can_sample_requests(),
        sampler = ?s.sampler,
        "OpenTelemetry on: a trace per sync attempt; request spans only when the sampler can sample"
    );
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
    let runtime = runtime()?;
    let telemetry = start_telemetry(&runtime)?;
    init_tracing_with(telemetry.as_ref());
    if let Some(t) = &telemetry {
        log_telemetry(t);
    }
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    if let Some(url) = &args.upstream {
        // `--upstream` is `upstream.url`, over the file and the environment
        env.push(("SWITCHYARD_UPSTREAM__URL".into(), url.clone()));
    }
    let path = match (config::locate(args.config.as_deref()), &args.upstream) {
        (Some(p), _) => p,
        (None, Some(_)) => std::path::PathBuf::from("--upstream"),
        (None, None) => {
            return Err(anyhow!(
                "no configuration file: pass --config PATH (Flipt v2, Flipt v1 or the seed's flipt/flipt.yml), set SWITCHYARD_CONFIG, or create ./switchyard.yml; or follow another Switchyard with --upstream URL"
            ));
        }
    };
    let settings = if args.config.is_none() && !path.is_file() && args.upstream.is_some() {
        config::parse("--upstream", "", &env)?
    } else {
        config::load(&path, &env)?
    };
    for w in &settings.warnings {
        tracing::warn!("{w}");
    }
    let listen =
        config::listen_address(args.listen.as_deref(), settings.listen).map_err(|e| anyhow!(e))?;
    tracing::info!(
        config = %path.display(),
        format = ?settings.format,
        discovery = %settings.format.discovery(),
        "configuration loaded"
    );
    let mut server = settings.server;
    if let Some(t) = &telemetry {
        server.telemetry = t.requests();
    }
    if let Some(target) = &server.access_log {
        tracing::info!(target = %target, "access log on (JSON lines)");
    }
    // gRPC listens on the HTTP listener's host (so `--listen 127.0.0.1:…` covers both)
    let grpc = settings.grpc_listen.map(|g| config::GrpcListen {
        address: SocketAddr::new(listen.ip(), g.address.port()),
        ..g
    });
    let served = runtime.block_on(serve(
        settings.sync,
        server,
        listen,
        grpc,
        "--listen (or SWITCHYARD_LISTEN)",
        |_| {},
    ));
    // the runtime still runs: the exporters flush on it
    if let Some(t) = telemetry {
        t.shutdown();
    }
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Starts the sync and serves until Ctrl-C or SIGTERM; `on_listening` gets the bound address.
/// `listen_option` names the option that chooses another address, for the error when `listen`
/// is taken. gRPC is served on `grpc` too when given.
pub async fn serve(
    sync: SyncConfig,
    server: ServerConfig,
    listen: SocketAddr,
    grpc: Option<config::GrpcListen>,
    listen_option: &str,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<()> {
    // An unusable certificate, key or public URL stops the start before anything listens.
    server.validate()?;
    let scheme = if server.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let listener = TcpListener::bind(listen).await.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "; another program uses that port: choose another address with {listen_option}, e.g. 127.0.0.1:8081"
            ),
            std::io::ErrorKind::PermissionDenied => {
                format!("; ports below 1024 need privileges: choose another with {listen_option}")
            }
            _ => String::new(),
        };
        anyhow!("cannot listen on {listen}: {e}{hint}")
    })?;
    let local = listener.local_addr().context("reading the bound address")?;
    let grpc_listener = match grpc {
        None => None,
        Some(g) => match TcpListener::bind(g.address).await {
            Ok(l) => Some(l),
            Err(e) if !g.explicit => {
                tracing::warn!(
                    address = %g.address,
                    error = %e,
                    "gRPC is off: cannot listen on Flipt's default gRPC port; set server.grpc_port (SWITCHYARD_SERVER__GRPC_PORT) to a free port, or 0 to turn gRPC off"
                );
                None
            }
            Err(e) => {
                return Err(anyhow!(
                    "cannot listen for gRPC on {}: {e}; choose another server.grpc_port (0 turns gRPC off)",
                    g.address
                ));
            }
        },
    };
    // the sync starts without waiting for a fetch: the listener answers from now on
    let handle = Arc::new(
        SyncHandle::start(sync.clone(), Limits::default())
            .await
            .map_err(|e| anyhow!("{e}"))?,
    );
    let grace = server.shutdown.grace_period;
    let state = AppState::new(handle.clone(), server);
    tracing::info!(address = %local, "listening on {scheme}://{local}");
    let grpc_task = match grpc_listener {
        Some(l) => {
            let address = l.local_addr().context("reading the bound gRPC address")?;
            tracing::info!(%address, tls = state.config().tls.is_some(), "gRPC listening on {address}");
            let st = state.clone();
            Some(tokio::spawn(async move {
                if let Err(e) = switchyard_server::serve_grpc(l, st).await {
                    tracing::error!(error = %e, "the gRPC server failed; HTTP goes on serving");
                }
            }))
        }
        None => None,
    };
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
    if let Some(task) = grpc_task {
        // the HTTP server has raised the stop signal: gRPC drains within the grace period
        let bound = grace + std::time::Duration::from_secs(2);
        if tokio::time::timeout(bound, task).await.is_err() {
            tracing::warn!(
                "the gRPC server had not stopped {} s after the HTTP server",
                bound.as_secs()
            );
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
