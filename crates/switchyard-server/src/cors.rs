//! CORS, answered by the edge ([`crate::edge::Edge`]) with header values built once: a preflight
//! (`OPTIONS`) gets its answer without reaching the router, every other answer gets the
//! allowed origin, the exposed headers and, for a list of origins, `Vary: origin`. The headers are tower-http's `CorsLayer`
//! ones for the same rules (a test compares them); building them per request and cloning the
//! layer per request cost about 4 % of the request path's throughput.

use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;

/// The request headers a browser may send to the API.
const ALLOW_HEADERS: &str = "accept,authorization,content-type,if-none-match,x-api-key,\
x-flipt-environment,x-flipt-namespace,x-flipt-accept-server-version,x-request-id,\
connect-protocol-version,connect-timeout-ms,flagd-selector";
/// The methods the API answers cross-origin.
const ALLOW_METHODS: &str = "GET,POST,OPTIONS";
/// The response headers a browser script may read.
const EXPOSE_HEADERS: &str = "etag,x-request-id";
/// What a CORS answer varies on when only listed origins are allowed (with `*` nothing varies:
/// the methods and headers allowed are the same for every request).
const VARY: &str = "origin";

/// Which origins may read answers.
#[derive(Debug)]
enum Origins {
    /// Any (`*`).
    Any,
    /// These exactly (the request's `Origin` is echoed when listed).
    List(Vec<HeaderValue>),
}

/// The configured CORS rules; none when no origin is allowed (then no CORS headers at all).
#[derive(Debug)]
pub(crate) struct Cors {
    origins: Origins,
}

impl Cors {
    /// The rules for `server.cors` origins (`*` is any); `None` when the list is empty.
    pub(crate) fn new(origins: &[String]) -> Option<Cors> {
        if origins.is_empty() {
            return None;
        }
        let origins = if origins.iter().any(|o| o == "*") {
            Origins::Any
        } else {
            Origins::List(
                origins
                    .iter()
                    .filter_map(|o| HeaderValue::from_str(o).ok())
                    .collect(),
            )
        };
        Some(Cors { origins })
    }

    /// `Access-Control-Allow-Origin` for a request with these headers, when its origin is allowed.
    fn allowed_origin(&self, request: &HeaderMap) -> Option<HeaderValue> {
        match &self.origins {
            Origins::Any => Some(HeaderValue::from_static("*")),
            Origins::List(list) => request
                .get(header::ORIGIN)
                .filter(|o| list.contains(o))
                .cloned(),
        }
    }

    /// Whether a request with this method is a preflight, answered by [`Cors::preflight`].
    pub(crate) fn is_preflight(method: &Method) -> bool {
        method == Method::OPTIONS
    }

    /// The answer to a preflight request with these headers: 200, no body.
    pub(crate) fn preflight(&self, request: &HeaderMap) -> Response {
        let mut response = Response::default();
        let h = response.headers_mut();
        if self.varies() {
            h.insert(header::VARY, HeaderValue::from_static(VARY));
        }
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        if let Some(o) = self.allowed_origin(request) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        }
        response
    }

    /// Whether the answer depends on the request's `Origin`.
    fn varies(&self) -> bool {
        matches!(self.origins, Origins::List(_))
    }

    /// The CORS headers a non-preflight request with these headers is answered with.
    pub(crate) fn simple(&self, request: &HeaderMap) -> Simple {
        Simple {
            origin: self.allowed_origin(request),
            vary: self.varies(),
        }
    }
}

/// The CORS headers of one non-preflight answer, decided from its request.
#[derive(Debug)]
pub(crate) struct Simple {
    origin: Option<HeaderValue>,
    vary: bool,
}

impl Simple {
    /// Adds them to the answer.
    pub(crate) fn finish(self, response: &mut Response) {
        let h = response.headers_mut();
        if self.vary {
            h.append(header::VARY, HeaderValue::from_static(VARY));
        }
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
        if let Some(o) = self.origin {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        }
    }
}

/// The request headers [`ALLOW_HEADERS`] names, for tests that build tower-http's layer.
#[cfg(test)]
pub(crate) fn allow_header_names() -> Vec<axum::http::HeaderName> {
    ALLOW_HEADERS
        .split(',')
        .map(axum::http::HeaderName::from_static)
        .collect()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::HeaderName;
    use axum::http::Request;
    use tower::ServiceExt as _;
    use tower_http::cors::{AllowOrigin, CorsLayer};

    use super::*;

    /// tower-http's layer for the same rules: the oracle.
    fn tower_layer(origins: &[&str]) -> CorsLayer {
        let allow = if origins.contains(&"*") {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(origins.iter().map(|o| HeaderValue::from_str(o).unwrap()))
        };
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers(allow_header_names())
            .expose_headers([header::ETAG, HeaderName::from_static("x-request-id")])
    }

    /// The CORS headers of an answer, sorted.
    fn cors_headers(h: &HeaderMap) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = h
            .iter()
            .filter(|(k, _)| k.as_str().starts_with("access-control-") || *k == header::VARY)
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        v.sort();
        v
    }

    /// The answer of tower-http's layer in front of a handler that sets `Vary: accept`.
    async fn tower_answer(origins: &[&str], req: Request<Body>) -> Response {
        let inner = tower::service_fn(|_: Request<Body>| async {
            let mut r = Response::default();
            r.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("accept"));
            Ok::<_, std::convert::Infallible>(r)
        });
        tower::Layer::layer(&tower_layer(origins), inner)
            .oneshot(req)
            .await
            .unwrap()
    }

    /// Ours, for the same request.
    fn our_answer(origins: &[&str], req: &Request<Body>) -> Response {
        let owned: Vec<String> = origins.iter().map(|o| o.to_string()).collect();
        let cors = Cors::new(&owned).unwrap();
        if Cors::is_preflight(req.method()) {
            return cors.preflight(req.headers());
        }
        let mut r = Response::default();
        r.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept"));
        cors.simple(req.headers()).finish(&mut r);
        r
    }

    #[tokio::test]
    async fn the_headers_are_tower_https_for_the_same_rules() {
        let rules: [&[&str]; 2] = [&["*"], &["http://localhost:4200", "https://a.example"]];
        for origins in rules {
            for method in [Method::GET, Method::POST, Method::OPTIONS] {
                for origin in [None, Some("http://localhost:4200"), Some("https://evil")] {
                    let build = || {
                        let mut b = Request::builder().method(method.clone()).uri("/x");
                        if let Some(o) = origin {
                            b = b.header(header::ORIGIN, o);
                        }
                        if method == Method::OPTIONS {
                            b = b
                                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                                .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type");
                        }
                        b.body(Body::empty()).unwrap()
                    };
                    let theirs = tower_answer(origins, build()).await;
                    let ours = our_answer(origins, &build());
                    assert_eq!(
                        ours.status(),
                        theirs.status(),
                        "{origins:?} {method} {origin:?}"
                    );
                    assert_eq!(
                        cors_headers(ours.headers()),
                        cors_headers(theirs.headers()),
                        "{origins:?} {method} {origin:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn no_origin_means_no_rules() {
        assert!(Cors::new(&[]).is_none());
    }
}
