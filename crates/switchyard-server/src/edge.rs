//! The outermost layer, one service instead of three: gives each request an `x-request-id`
//! (the client's, else a new one) that the handlers read and the response carries back, and turns
//! a panic in a handler into Flipt's 500. Nothing is boxed: the response body stays axum's.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::{HeaderName, HeaderValue, Request};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt as _;
use futures_util::future::CatchUnwind;
use tower::Service;

use crate::error::ApiError;

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

/// Request ids and panic catching around `S`.
#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
}

impl<S> Edge<S> {
    /// `inner` behind the edge.
    pub(crate) fn new(inner: S) -> Self {
        Edge { inner }
    }
}

impl<S, B> Service<Request<B>> for Edge<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
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
        let inner = &mut self.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.call(req))) {
            Ok(f) => EdgeFuture::Running {
                inner: AssertUnwindSafe(f).catch_unwind(),
                id,
            },
            Err(_) => EdgeFuture::Panicked { id },
        }
    }
}

pin_project_lite::pin_project! {
    /// [`Edge`]'s future.
    #[project = EdgeProj]
    pub enum EdgeFuture<F> {
        /// The inner service answering.
        Running {
            #[pin]
            inner: CatchUnwind<AssertUnwindSafe<F>>,
            id: Option<HeaderValue>,
        },
        /// The inner service panicked in `call`.
        Panicked {
            id: Option<HeaderValue>,
        },
    }
}

impl<F, E> Future for EdgeFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (result, id) = match self.project() {
            EdgeProj::Running { inner, id } => match inner.poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(Ok(r))) => (r, id.take()),
                Poll::Ready(Ok(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(Err(_)) => (panic_response(), id.take()),
            },
            EdgeProj::Panicked { id } => (panic_response(), id.take()),
        };
        let mut response = result;
        if let Some(id) = id
            && !response.headers().contains_key(&X_REQUEST_ID)
        {
            response.headers_mut().insert(X_REQUEST_ID.clone(), id);
        }
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt as _;

    use super::*;

    async fn answer(
        s: impl Service<Request<Body>, Response = Response, Error = std::convert::Infallible>,
        req: Request<Body>,
    ) -> Response {
        match Edge::new(s).oneshot(req).await {
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
