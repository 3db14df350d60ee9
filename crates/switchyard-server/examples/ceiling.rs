//! The ceiling of the HTTP benchmarks (`benches/http/run.sh`): the same HTTP stack as
//! `switchyard serve` (a multi-threaded tokio runtime, axum 0.8, hyper) with one handler that
//! reads the POST body and answers a small fixed JSON. No middleware, no evaluation.
//!
//! `cargo run --release -p switchyard-server --example ceiling -- 127.0.0.1:8089 [--layers]`
//!
//! With `--layers` the handler sits behind tower-http's request-id, CORS and panic-catching
//! layers, the work Switchyard's own `edge` service does in one service (with CORS header values
//! built once), to tell the cost of stock layers from the cost of the handlers.

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderName;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// The allocator of the `switchyard` binary, so that the ceiling is the same stack.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &str =
    r#"{"key":"ceiling","reason":"STATIC","variant":"true","value":true,"metadata":{}}"#;

async fn fixed(_body: Bytes) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], BODY)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let layers = args.iter().any(|a| a == "--layers");
    let addr = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8089".to_string());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let mut app = Router::new()
                .route("/", post(fixed))
                .route("/{*path}", post(fixed));
            if layers {
                let id = HeaderName::from_static("x-request-id");
                app = app
                    .layer(CatchPanicLayer::new())
                    .layer(
                        CorsLayer::new()
                            .allow_origin(AllowOrigin::any())
                            .expose_headers([axum::http::header::ETAG, id.clone()]),
                    )
                    .layer(PropagateRequestIdLayer::new(id.clone()))
                    .layer(SetRequestIdLayer::new(id, MakeRequestUuid));
            }
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            println!("ceiling: listening on http://{}", listener.local_addr()?);
            axum::serve(listener, app).await
        })
}
