//! The embedded dashboard: static files compiled into the binary from `dashboard/`, served with a
//! strict Content-Security-Policy (the dashboard has no inline script or style) and headers that
//! forbid framing and MIME sniffing.

use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "dashboard/"]
struct Assets;

/// The dashboard's Content-Security-Policy: its own scripts, styles, images and API only; no
/// inline code, no plugins, no framing, forms only to itself.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The security headers sent with every dashboard response (page, assets and their 404).
const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::CONTENT_SECURITY_POLICY, CSP),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// Adds [`SECURITY_HEADERS`] to a dashboard response.
fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn file(path: &str) -> Option<Response> {
    let asset = Assets::get(path)?;
    let mime = asset.metadata.mimetype().to_string();
    Some(secured(
        (
            [
                (header::CONTENT_TYPE, mime),
                (header::CACHE_CONTROL, "no-cache".to_string()),
            ],
            asset.data.into_owned(),
        )
            .into_response(),
    ))
}

/// `GET /`: the dashboard page.
pub(crate) async fn index() -> Response {
    file("index.html").unwrap_or_else(|| {
        secured(Html("<!doctype html><title>Switchyard</title><h1>Switchyard</h1><p>The dashboard is not built into this binary. The API is at <a href=\"/openapi.json\">/openapi.json</a>.</p>").into_response())
    })
}

/// `GET /assets/{*path}`.
pub(crate) async fn asset(Path(path): Path<String>) -> Response {
    file(&format!("assets/{path}"))
        .unwrap_or_else(|| secured((StatusCode::NOT_FOUND, "not found").into_response()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(response: &'a Response, name: &HeaderName) -> Option<&'a str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn page_assets_and_missing_assets_carry_the_security_headers() {
        let responses = [
            index().await,
            asset(Path("app.js".to_string())).await,
            asset(Path("no-such-file.js".to_string())).await,
        ];
        for response in &responses {
            let csp = header(response, &header::CONTENT_SECURITY_POLICY).unwrap_or_default();
            assert!(csp.contains("script-src 'self'"), "{csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
            assert!(!csp.contains("unsafe-inline"), "{csp}");
            assert_eq!(
                header(response, &header::X_CONTENT_TYPE_OPTIONS),
                Some("nosniff")
            );
            assert_eq!(header(response, &header::X_FRAME_OPTIONS), Some("DENY"));
            assert_eq!(
                header(response, &header::REFERRER_POLICY),
                Some("no-referrer")
            );
        }
        assert_eq!(responses[2].status(), StatusCode::NOT_FOUND);
        assert_eq!(
            header(&responses[1], &header::CONTENT_TYPE),
            Some("text/javascript")
        );
    }
}
