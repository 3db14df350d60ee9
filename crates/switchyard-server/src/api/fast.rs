//! The two single-flag routes the edge answers without the router: `POST
//! /ofrep/v1/evaluate/flags/{key}` and `POST /evaluate/v1/variant`, the busiest requests a
//! server gets. They call the routes' own handlers, so the answers are the router's; what is
//! skipped is the router's per-request work (the route lookup, its path parameters and matched
//! path in the request's extensions, a boxed clone of the route and its boxed future).
//!
//! Only used when nothing else is attached to those routes: no evaluation token guard and no
//! observing (whose route layer copies the matched path into each answer). A key with a
//! percent escape goes through the router, which decodes it.

use std::future::Future;
use std::pin::Pin;

use axum::extract::{FromRequest as _, Path, Request, State};
use axum::http::Method;
use axum::response::{IntoResponse as _, Response};

use crate::body::FliptBody;
use crate::state::AppState;

/// The path prefix of OFREP's single-flag route.
const OFREP_FLAG: &str = "/ofrep/v1/evaluate/flags/";
/// The path of Flipt's variant evaluation.
const FLIPT_VARIANT: &str = "/evaluate/v1/variant";

/// A fast route's answer being made.
pub(crate) type FastFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// A route the edge answers itself.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FastRoute<'p> {
    /// `POST /ofrep/v1/evaluate/flags/{key}`.
    OfrepFlag(&'p str),
    /// `POST /evaluate/v1/variant`.
    FliptVariant,
}

impl<'p> FastRoute<'p> {
    /// The fast route `method` and `path` take, if any; `None` sends the request to the router.
    pub(crate) fn of(method: &Method, path: &'p str) -> Option<FastRoute<'p>> {
        if method != Method::POST {
            return None;
        }
        if path == FLIPT_VARIANT {
            return Some(FastRoute::FliptVariant);
        }
        let key = path.strip_prefix(OFREP_FLAG)?;
        // what the router's `{key}` matches, without percent-decoding
        let plain = !key.is_empty() && !key.contains(['/', '%']);
        plain.then_some(FastRoute::OfrepFlag(key))
    }

    /// The handler's answer to `req`.
    pub(crate) fn answer(self, state: AppState, req: Request) -> FastFuture {
        match self {
            FastRoute::OfrepFlag(key) => {
                let key = key.to_string();
                Box::pin(super::ofrep::evaluate_flag(State(state), Path(key), req))
            }
            FastRoute::FliptVariant => Box::pin(async move {
                match FliptBody::from_request(req, &state).await {
                    Ok(body) => super::evaluate::variant(State(state), body)
                        .await
                        .into_response(),
                    Err(rejection) => rejection.into_response(),
                }
            }),
        }
    }
}

/// Whether the edge may answer the fast routes for `state`: no token guards evaluation and
/// requests are not observed.
pub(crate) fn enabled(state: &AppState) -> bool {
    !super::evaluation_is_guarded(&state.config().auth) && state.observer().is_none()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{HeaderValue, Request};
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;
    use crate::edge::Edge;
    use crate::fixtures::state;

    /// An answer's status, headers and body, with what differs per request (timestamp,
    /// duration) blanked and `content-length` left to the body's length.
    async fn answer(edge: Edge<axum::Router>, req: Request<Body>) -> String {
        let r = match edge.oneshot(req).await {
            Ok(r) => r,
            Err(e) => match e {},
        };
        let status = r.status();
        let mut headers: Vec<String> = r
            .headers()
            .iter()
            .filter(|(k, _)| *k != "content-length")
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("?")))
            .collect();
        headers.sort();
        let body = match r.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => panic!("body: {e}"),
        };
        let mut json: serde_json::Value =
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        for field in ["timestamp", "requestDurationMillis"] {
            if let Some(v) = json.get_mut(field) {
                *v = serde_json::Value::Null;
            }
        }
        format!("{status}\n{}\n{json}", headers.join("\n"))
    }

    /// A request: its path, headers and body.
    type Case = (String, Vec<(&'static str, &'static str)>, Vec<u8>);

    fn request(path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Request<Body> {
        let mut req = Request::post(path)
            .body(Body::from(body))
            .unwrap_or_default();
        req.headers_mut()
            .insert("x-request-id", HeaderValue::from_static("fixed-id"));
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (
                axum::http::HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                req.headers_mut().insert(k, v);
            }
        }
        req
    }

    #[tokio::test]
    async fn the_edge_answers_as_the_router_does() {
        let state = state();
        assert!(enabled(&state));
        let router = super::super::router(state.clone());
        let cors = || crate::cors::Cors::new(&state.config().cors_allowed_origins);
        let fast = Edge::new(router.clone(), None, cors(), Some(state.clone()));
        let slow = Edge::new(router, None, cors(), None);
        let ofrep = "/ofrep/v1/evaluate/flags/";
        let big = format!(r#"{{"context":{{"x":"{}"}}}}"#, "y".repeat(2 << 20)).into_bytes();
        let cases: Vec<Case> = vec![
            (format!("{ofrep}checkout"), vec![], br#"{"context":{"targetingKey":"u1","plan":"pro"}}"#.to_vec()),
            (format!("{ofrep}checkout"), vec![], br#"{"context":{"plan":"free"}}"#.to_vec()),
            (format!("{ofrep}beta"), vec![], br#"{"context":{"targetingKey":"u1"}}"#.to_vec()),
            (format!("{ofrep}nope"), vec![], br#"{"context":{}}"#.to_vec()),
            (format!("{ofrep}checkout"), vec![], b"{not json".to_vec()),
            (format!("{ofrep}checkout"), vec![], b"[1]".to_vec()),
            (format!("{ofrep}checkout"), vec![], Vec::new()),
            (format!("{ofrep}checkout"), vec![], big.clone()),
            (format!("{ofrep}fast"), vec![("x-flipt-namespace", "payments")], b"{}".to_vec()),
            (format!("{ofrep}checkout"), vec![("x-flipt-environment", "staging")], b"{}".to_vec()),
            (format!("{ofrep}a%20b"), vec![], br#"{"context":{"targetingKey":"u1"}}"#.to_vec()),
            (format!("{ofrep}%63heckout"), vec![], br#"{"context":{"targetingKey":"u1"}}"#.to_vec()),
            (format!("{ofrep}checkout?x=1"), vec![("origin", "https://app.example")], b"{}".to_vec()),
            ("/evaluate/v1/variant".into(), vec![], br#"{"namespaceKey":"default","flagKey":"checkout","entityId":"u1","context":{"plan":"pro"}}"#.to_vec()),
            ("/evaluate/v1/variant".into(), vec![], br#"{"flagKey":"checkout","entityId":"u1","requestId":"mine"}"#.to_vec()),
            ("/evaluate/v1/variant".into(), vec![], br#"{"flagKey":"beta","entityId":"u1"}"#.to_vec()),
            ("/evaluate/v1/variant".into(), vec![], br#"{"flagKey":"nope","entityId":"u1"}"#.to_vec()),
            ("/evaluate/v1/variant".into(), vec![], br#"{"namespaceKey":"nope","flagKey":"checkout"}"#.to_vec()),
            ("/evaluate/v1/variant".into(), vec![], br#"{"environmentKey":"nope","flagKey":"checkout"}"#.to_vec()),
            ("/evaluate/v1/variant".into(), vec![("x-flipt-environment", "nope")], br#"{"flagKey":"checkout"}"#.to_vec()),
            ("/evaluate/v1/variant".into(), vec![], b"{\"flagKey\":".to_vec()),
            ("/evaluate/v1/variant".into(), vec![], Vec::new()),
            ("/evaluate/v1/variant".into(), vec![], big),
        ];
        let mut statuses = std::collections::BTreeSet::new();
        for (path, headers, body) in cases {
            let a = answer(fast.clone(), request(&path, &headers, body.clone())).await;
            let b = answer(slow.clone(), request(&path, &headers, body)).await;
            assert_eq!(a, b, "{path} {headers:?}");
            statuses.insert(a[..3].to_string());
        }
        // the cases reach every kind of answer
        assert_eq!(
            statuses.into_iter().collect::<Vec<_>>(),
            ["200", "400", "404", "413"]
        );
    }

    #[test]
    fn only_the_two_routes_as_the_router_matches_them() {
        let post = Method::POST;
        assert_eq!(
            FastRoute::of(&post, "/evaluate/v1/variant"),
            Some(FastRoute::FliptVariant)
        );
        assert_eq!(
            FastRoute::of(&post, "/ofrep/v1/evaluate/flags/checkout"),
            Some(FastRoute::OfrepFlag("checkout"))
        );
        for path in [
            "/evaluate/v1/variant/",
            "/evaluate/v1/boolean",
            "/ofrep/v1/evaluate/flags",
            "/ofrep/v1/evaluate/flags/",
            "/ofrep/v1/evaluate/flags/a/b",
            "/ofrep/v1/evaluate/flags/a%20b",
        ] {
            assert_eq!(FastRoute::of(&post, path), None, "{path}");
        }
        assert_eq!(FastRoute::of(&Method::GET, "/evaluate/v1/variant"), None);
        assert_eq!(
            FastRoute::of(&Method::GET, "/ofrep/v1/evaluate/flags/x"),
            None
        );
    }
}
