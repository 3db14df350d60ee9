//! Per-request telemetry: a server span (W3C `traceparent` of the request as its parent, HTTP
//! semantic-convention attributes) when the sampler can sample, and the
//! `http.server.request.duration` histogram when metrics are on. Whether either exists is
//! decided once, at start: with tracing off or sampling at 0 a request costs one branch.

use std::time::Instant;

use axum::http::{HeaderMap, Method, StatusCode};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, Meter};
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, Span};

/// What the server does per request for OpenTelemetry; [`RequestTelemetry::off`] does nothing.
#[derive(Clone, Default)]
pub struct RequestTelemetry {
    tracer: Option<SdkTracer>,
    duration: Option<Histogram<f64>>,
    meter: Option<Meter>,
}

impl std::fmt::Debug for RequestTelemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestTelemetry")
            .field("spans", &self.tracer.is_some())
            .field("metrics", &self.meter.is_some())
            .finish()
    }
}

impl RequestTelemetry {
    /// No spans, no metrics.
    pub fn off() -> Self {
        RequestTelemetry::default()
    }

    pub(super) fn new(tracer: Option<SdkTracer>, meter: Option<Meter>) -> Self {
        let duration = meter.as_ref().map(|m| {
            m.f64_histogram("http.server.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP server requests, until the response head.")
                .with_boundaries(vec![
                    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                    0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .build()
        });
        RequestTelemetry {
            tracer,
            duration,
            meter,
        }
    }

    /// Whether anything is done per request (a span or a duration).
    pub(crate) fn is_on(&self) -> bool {
        self.tracer.is_some() || self.duration.is_some()
    }

    /// The meter for the server's observable metrics, when metrics are on.
    pub(crate) fn meter(&self) -> Option<&Meter> {
        self.meter.as_ref()
    }

    /// Starts the span of a request (when spans are on), its parent read from `traceparent`.
    pub(crate) fn start(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<RequestSpan> {
        let tracer = self.tracer.as_ref()?;
        let parent =
            TraceContextPropagator::new().extract(&opentelemetry_http::HeaderExtractor(headers));
        let span = tracer
            .span_builder(method.as_str().to_string())
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", method.as_str().to_string()),
                KeyValue::new("url.path", path.to_string()),
            ])
            .start_with_context(tracer, &parent);
        Some(RequestSpan { span })
    }

    /// Records a finished request: its span's route and status, and its duration.
    pub(crate) fn finish(
        &self,
        span: Option<RequestSpan>,
        method: &Method,
        route: Option<&str>,
        status: StatusCode,
        started: Instant,
    ) {
        let code = i64::from(status.as_u16());
        if let Some(RequestSpan { mut span }) = span {
            if let Some(route) = route {
                span.update_name(format!("{} {route}", method.as_str()));
                span.set_attribute(KeyValue::new("http.route", route.to_string()));
            }
            span.set_attribute(KeyValue::new("http.response.status_code", code));
            if status.is_server_error() {
                span.set_status(Status::error(status.as_str().to_string()));
            }
            span.end();
        }
        if let Some(h) = &self.duration {
            // no allocation but the route's: the method a static name, the attributes on the stack
            let method = KeyValue::new("http.request.method", method_name(method));
            let status = KeyValue::new("http.response.status_code", code);
            let elapsed = started.elapsed().as_secs_f64();
            match route {
                Some(route) => h.record(
                    elapsed,
                    &[
                        method,
                        status,
                        KeyValue::new("http.route", route.to_string()),
                    ],
                ),
                None => h.record(elapsed, &[method, status]),
            }
        }
    }
}

/// The semantic conventions' name of a method: the standard ones, else `_OTHER`.
fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

/// A request's open span.
pub(crate) struct RequestSpan {
    span: Span,
}
