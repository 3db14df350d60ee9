//! The outermost layer, one service instead of three: gives each request an `x-request-id`
//! (the client's, else a new one) that the handlers read and the response carries back, and turns
//! a panic in a handler into Flipt's 500, and answers CORS ([`crate::cors`]: preflights here,
//! the headers of every other answer added to it), and answers the two single-flag routes of
//! [`crate::api::FastRoute`] without the router when it may. Nothing is boxed: the response body
//! stays axum's.
//! Every 5xx answer is logged with its request id and cause; when observing is on (the access
//! log, or OpenTelemetry per request) the request's span, duration and log line are made here.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{HeaderName, HeaderValue, Method, Request, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use futures_util::FutureExt as _;
use futures_util::future::CatchUnwind;
use http_body::Body as _;
use tower::Service;

use crate::access_log::{AccessLog, Entry};
use crate::api::{FastFuture, FastRoute};
use crate::cors::Cors;
use crate::error::{ApiError, ErrorCause};
use crate::state::AppState;
use crate::telemetry::{RequestSpan, RequestTelemetry};

/// The request-id header.
pub(crate) static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A new request id as a header value (see [`crate::api::fast_uuid`]).
fn new_id() -> Option<HeaderValue> {
    let mut buf = uuid::Uuid::encode_buffer();
    let id = crate::api::fast_uuid().hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(id).ok()
}

/// What a panic answers.
fn panic_response() -> Response {
    ApiError {
        status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        code: 13,
        message: "internal error".into(),
    }
    .into_response()
}

/// What is done per request besides ids and panics: the access log, OpenTelemetry.
pub(crate) struct Observer {
    pub(crate) access_log: Option<AccessLog>,
    pub(crate) telemetry: RequestTelemetry,
}

/// A request being observed: when it started and its span.
struct Observing {
    observer: Arc<Observer>,
    started: Instant,
    span: Option<RequestSpan>,
}

/// Request ids, CORS and panic catching around `S`.
#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    front: Front,
}

/// What the edge does before the inner service, and with what.
#[derive(Clone)]
struct Front {
    observer: Option<Arc<Observer>>,
    cors: Option<Arc<Cors>>,
    /// The state the fast routes are answered with, when the edge answers them.
    fast: Option<AppState>,
}

impl<S> Edge<S> {
    /// `inner` behind the edge; `observer` when requests are logged or traced; `cors` when
    /// cross-origin requests are allowed; `fast` when the edge answers the fast routes.
    pub(crate) fn new(
        inner: S,
        observer: Option<Arc<Observer>>,
        cors: Option<Cors>,
        fast: Option<AppState>,
    ) -> Self {
        Edge {
            inner,
            front: Front {
                observer,
                cors: cors.map(Arc::new),
                fast,
            },
        }
    }
}

impl Edge<axum::Router> {
    /// Answers `req` through a shared reference (the router is cloned only when it answers):
    /// what a connection calls per request, instead of cloning the whole edge for a `oneshot`.
    pub(crate) fn answer(&self, req: Request<Body>) -> EdgeFuture<RouteFuture<Infallible>> {
        self.front.enter(req, |r| self.inner.clone().call(r))
    }
}

impl<S> Service<Request<Body>> for Edge<S>
where
    S: Service<Request<Body>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let inner = &mut self.inner;
        self.front.enter(req, |r| inner.call(r))
    }
}

impl Front {
    /// The request id, observing, CORS and the fast routes; anything else goes to `call` (the
    /// inner service), with its panics caught.
    fn enter<F: Future>(
        &self,
        mut req: Request<Body>,
        call: impl FnOnce(Request<Body>) -> F,
    ) -> EdgeFuture<F> {
        let id = match req.headers().get(&X_REQUEST_ID) {
            Some(v) => Some(v.clone()),
            None => {
                let id = new_id();
                if let Some(v) = &id {
                    req.headers_mut().insert(X_REQUEST_ID.clone(), v.clone());
                }
                id
            }
        };
        let (method, uri) = (req.method().clone(), req.uri().clone());
        let observing = self.observer.as_ref().map(|o| {
            Box::new(Observing {
                observer: o.clone(),
                started: Instant::now(),
                span: o.telemetry.start(&method, uri.path(), req.headers()),
            })
        });
        let mut seen = Seen {
            id,
            method,
            uri,
            observing,
            cors: None,
        };
        if let Some(cors) = &self.cors {
            if Cors::is_preflight(&seen.method) {
                return EdgeFuture::Answered {
                    response: Some(cors.preflight(req.headers())),
                    seen: Some(seen),
                };
            }
            seen.cors = Some(cors.simple(req.headers()));
        }
        let fast = self.fast.as_ref().and_then(|state| {
            FastRoute::of(&seen.method, seen.uri.path()).map(|route| (route, state.clone()))
        });
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| match fast {
            Some((route, state)) => Started::Fast(route.answer(state, req)),
            None => Started::Inner(call(req)),
        }));
        let seen = Some(seen);
        match started {
            Ok(Started::Fast(f)) => EdgeFuture::Fast {
                inner: AssertUnwindSafe(f).catch_unwind(),
                seen,
            },
            Ok(Started::Inner(f)) => EdgeFuture::Running {
                inner: AssertUnwindSafe(f).catch_unwind(),
                seen,
            },
            Err(p) => EdgeFuture::Panicked {
                seen,
                cause: Some(switchyard_sync::git::panic_message(&*p)),
            },
        }
    }
}

/// A request's answer once started: by a fast route or by the inner service.
enum Started<F> {
    Fast(FastFuture),
    Inner(F),
}

pin_project_lite::pin_project! {
    /// [`Edge`]'s future.
    #[project = EdgeProj]
    pub enum EdgeFuture<F> {
        /// The inner service answering.
        Running {
            #[pin]
            inner: CatchUnwind<AssertUnwindSafe<F>>,
            seen: Option<Seen>,
        },
        /// A fast route answering.
        Fast {
            #[pin]
            inner: CatchUnwind<AssertUnwindSafe<FastFuture>>,
            seen: Option<Seen>,
        },
        /// The inner service (or a fast route) panicked in `call`.
        Panicked {
            seen: Option<Seen>,
            cause: Option<String>,
        },
        /// Answered by the edge itself (a CORS preflight).
        Answered {
            response: Option<Response>,
            seen: Option<Seen>,
        },
    }
}

impl<F, E> Future for EdgeFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (result, seen, panicked) = match self.project() {
            EdgeProj::Running { inner, seen } => match inner.poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(Ok(r))) => (r, seen.take(), None),
                Poll::Ready(Ok(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(Err(p)) => (
                    panic_response(),
                    seen.take(),
                    Some(switchyard_sync::git::panic_message(&*p)),
                ),
            },
            EdgeProj::Fast { inner, seen } => match inner.poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(r)) => (r, seen.take(), None),
                Poll::Ready(Err(p)) => (
                    panic_response(),
                    seen.take(),
                    Some(switchyard_sync::git::panic_message(&*p)),
                ),
            },
            EdgeProj::Panicked { seen, cause } => (panic_response(), seen.take(), cause.take()),
            EdgeProj::Answered { response, seen } => {
                (response.take().unwrap_or_default(), seen.take(), None)
            }
        };
        let mut response = result;
        let Some(mut seen) = seen else {
            return Poll::Ready(Ok(response));
        };
        if let Some(id) = &seen.id
            && !response.headers().contains_key(&X_REQUEST_ID)
        {
            response
                .headers_mut()
                .insert(X_REQUEST_ID.clone(), id.clone());
        }
        if let Some(cors) = seen.cors.take() {
            cors.finish(&mut response);
        }
        seen.finish(&response, panicked);
        Poll::Ready(Ok(response))
    }
}

/// What the edge keeps of a request until its answer.
pub struct Seen {
    id: Option<HeaderValue>,
    method: Method,
    uri: Uri,
    observing: Option<Box<Observing>>,
    /// With CORS on and not a preflight: the CORS headers to answer with.
    cors: Option<crate::cors::Simple>,
}

impl Seen {
    /// Logs a 5xx answer, and records the observed request (span, duration, access log).
    fn finish(self, response: &Response, panicked: Option<String>) {
        let status = response.status();
        let id = self.id.as_ref().and_then(|v| v.to_str().ok());
        if status.is_server_error() {
            let cause = match (&panicked, response.extensions().get::<ErrorCause>()) {
                (Some(p), _) => format!("a handler panicked: {p}"),
                (None, Some(ErrorCause(c))) => c.clone(),
                (None, None) => "(no cause recorded)".to_string(),
            };
            let (method, path) = (self.method.as_str(), self.uri.path());
            if status.as_u16() == 500 || panicked.is_some() {
                tracing::error!(request_id = id.unwrap_or("-"), %method, path, status = status.as_u16(), cause, "HTTP {status} answered");
            } else {
                tracing::warn!(request_id = id.unwrap_or("-"), %method, path, status = status.as_u16(), cause, "HTTP {status} answered");
            }
        }
        let Some(o) = self.observing else {
            return;
        };
        let route = response
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        o.observer
            .telemetry
            .finish(o.span, &self.method, route, status, o.started);
        if let Some(log) = &o.observer.access_log {
            let time = crate::time::Timestamp::now();
            let commit = response
                .headers()
                .get(&crate::commit_header::X_SWITCHYARD_COMMIT)
                .and_then(|v| v.to_str().ok());
            log.record(&Entry {
                time: time.as_str(),
                method: self.method.as_str(),
                path: self.uri.path(),
                route,
                status: status.as_u16(),
                duration_ms: o.started.elapsed().as_secs_f64() * 1000.0,
                bytes: response.body().size_hint().exact(),
                request_id: id,
                commit,
            });
        }
    }
}

/// Copies the matched route into the response (for [`Seen::finish`]); a route layer, added only
/// when requests are observed.
pub(crate) async fn copy_route(
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(req).await;
    if let Some(r) = route {
        response.extensions_mut().insert(r);
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use tower::ServiceExt as _;

    use super::*;

    async fn answer(
        s: impl Service<Request<Body>, Response = Response, Error = std::convert::Infallible>,
        req: Request<Body>,
    ) -> Response {
        match Edge::new(s, None, None, None).oneshot(req).await {
            Ok(r) => r,
            Err(e) => match e {},
        }
    }

    #[tokio::test]
    async fn a_panic_is_a_500_with_the_request_id() {
        let panics = tower::service_fn(|_: Request<Body>| async {
            if std::hint::black_box(true) {
                panic!("boom");
            }
            Ok::<Response, std::convert::Infallible>(Response::default())
        });
        let r = answer(panics, Request::new(Body::empty())).await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.headers().get(&X_REQUEST_ID).map(|v| v.len()), Some(36));
    }

    #[tokio::test]
    async fn the_clients_id_is_kept_and_seen_by_the_handler() {
        let echo = tower::service_fn(|req: Request<Body>| async move {
            let seen = req.headers().get(&X_REQUEST_ID).cloned();
            let mut r = Response::default();
            if let Some(v) = seen {
                r.headers_mut().insert("seen", v);
            }
            Ok::<Response, std::convert::Infallible>(r)
        });
        let mut req = Request::new(Body::empty());
        req.headers_mut()
            .insert(X_REQUEST_ID.clone(), HeaderValue::from_static("mine"));
        let r = answer(echo, req).await;
        assert_eq!(
            r.headers().get(&X_REQUEST_ID).map(|v| v.as_bytes()),
            Some(&b"mine"[..])
        );
        assert_eq!(
            r.headers().get("seen").map(|v| v.as_bytes()),
            Some(&b"mine"[..])
        );
    }
}
