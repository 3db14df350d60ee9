//! The embedded dashboard: static files compiled into the binary from `dashboard/`.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "dashboard/"]
struct Assets;

fn file(path: &str) -> Option<Response> {
    let asset = Assets::get(path)?;
    let mime = asset.metadata.mimetype().to_string();
    Some(
        (
            [
                (header::CONTENT_TYPE, mime),
                (header::CACHE_CONTROL, "no-cache".to_string()),
            ],
            asset.data.into_owned(),
        )
            .into_response(),
    )
}

/// `GET /`: the dashboard page.
pub(crate) async fn index() -> Response {
    file("index.html").unwrap_or_else(|| {
        Html("<!doctype html><title>Switchyard</title><h1>Switchyard</h1><p>The dashboard is not built into this binary. The API is at <a href=\"/openapi.json\">/openapi.json</a>.</p>").into_response()
    })
}

/// `GET /assets/{*path}`.
pub(crate) async fn asset(Path(path): Path<String>) -> Response {
    file(&format!("assets/{path}"))
        .unwrap_or_else(|| (StatusCode::NOT_FOUND, "not found").into_response())
}
