//! OpenTelemetry: OTLP traces and metrics as the standard `OTEL_*` variables ask.
//!
//! The binary reads [`OtelSettings`] at start, starts [`Telemetry`] (the SDK's providers and
//! their exporters) and installs [`Telemetry::layer`] into its `tracing` subscriber: the sync's
//! `sync.*` spans become a trace per attempt. Requests get a server span each from
//! [`RequestTelemetry`] (in [`crate::edge`]) only when the sampler can sample; the Prometheus
//! counters are exported as observable instruments read at each export (see `instruments`).

mod http_client;
mod instruments;
mod requests;
mod sampler;
mod settings;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader;
use opentelemetry_sdk::runtime::Tokio;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

pub(crate) use instruments::observe_metrics;
pub(crate) use requests::RequestSpan;
pub use requests::RequestTelemetry;
pub use settings::{Export, OtelSettings, Protocol, SamplerSetting, TelemetryError};

/// The instrumentation scope of every span and instrument.
const SCOPE: &str = "switchyard";

/// The running SDK: a tracer provider and a meter provider, each with its OTLP exporter (or
/// none for a signal that is off). Shut it down before the runtime ends to flush what is queued.
pub struct Telemetry {
    settings: OtelSettings,
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("settings", &self.settings)
            .finish()
    }
}

impl Telemetry {
    /// Builds the exporters and providers. Call it inside the Tokio runtime that will carry the
    /// exports: the batch span processor and the periodic metric reader are tasks on it (the
    /// SDK's default ones run on threads without a runtime, where tonic's timers fail). The
    /// span queue is bounded (`OTEL_BSP_MAX_QUEUE_SIZE`, 2,048 by default; spans beyond it are
    /// dropped).
    pub fn start(settings: OtelSettings) -> Result<Telemetry, TelemetryError> {
        let resource = Resource::builder_empty()
            .with_service_name(settings.service_name.clone())
            .with_attribute(KeyValue::new(
                "service.version",
                env!("CARGO_PKG_VERSION").to_string(),
            ))
            .with_attributes(
                settings
                    .resource_attributes
                    .iter()
                    .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
            )
            .build();
        let tracer = match &settings.traces {
            None => None,
            Some(export) => {
                let exporter = match export.protocol {
                    Protocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
                        .with_tonic()
                        .with_endpoint(export.endpoint.clone())
                        .build(),
                    Protocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
                        .with_http()
                        .with_http_client(http_client::OtlpHttpClient::new())
                        .with_endpoint(export.endpoint.clone())
                        .build(),
                }
                .map_err(|e| exporter_error("traces", export, e))?;
                Some(
                    SdkTracerProvider::builder()
                        .with_span_processor(BatchSpanProcessor::builder(exporter, Tokio).build())
                        .with_sampler(sampler::SyncAlwaysSampled::new(settings.sampler))
                        .with_resource(resource.clone())
                        .build(),
                )
            }
        };
        let meter = match &settings.metrics {
            None => None,
            Some(export) => {
                let exporter = match export.protocol {
                    Protocol::Grpc => opentelemetry_otlp::MetricExporter::builder()
                        .with_tonic()
                        .with_endpoint(export.endpoint.clone())
                        .build(),
                    Protocol::HttpProtobuf => opentelemetry_otlp::MetricExporter::builder()
                        .with_http()
                        .with_http_client(http_client::OtlpHttpClient::new())
                        .with_endpoint(export.endpoint.clone())
                        .build(),
                }
                .map_err(|e| exporter_error("metrics", export, e))?;
                let reader = PeriodicReader::builder(exporter, Tokio)
                    .with_interval(settings.metric_interval)
                    .build();
                Some(
                    SdkMeterProvider::builder()
                        .with_reader(reader)
                        .with_resource(resource)
                        .build(),
                )
            }
        };
        Ok(Telemetry {
            settings,
            tracer,
            meter,
        })
    }

    /// The settings it was started with.
    pub fn settings(&self) -> &OtelSettings {
        &self.settings
    }

    /// The `tracing` layer that turns spans (the sync's `sync.*`) into OpenTelemetry spans;
    /// `None` when traces are off.
    pub fn layer<S>(&self) -> Option<tracing_opentelemetry::OpenTelemetryLayer<S, SdkTracer>>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let tracer = self.tracer.as_ref()?.tracer(SCOPE);
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_tracked_inactivity(false)
                .with_threads(false),
        )
    }

    /// What the server needs per request: a tracer when requests can be sampled, the request
    /// duration histogram when metrics are on, the meter for the server's observable metrics.
    pub fn requests(&self) -> RequestTelemetry {
        let tracer = self
            .tracer
            .as_ref()
            .filter(|_| self.settings.sampler.can_sample_requests())
            .map(|p| p.tracer(SCOPE));
        let meter = self
            .meter
            .as_ref()
            .map(|p| opentelemetry::metrics::MeterProvider::meter(p, SCOPE));
        RequestTelemetry::new(tracer, meter)
    }

    /// Flushes what is queued and stops the exporters (each within the SDK's own timeouts).
    pub fn shutdown(self) {
        if let Some(t) = self.tracer
            && let Err(e) = t.shutdown()
        {
            tracing::warn!(error = %e, "OpenTelemetry: flushing the last spans failed");
        }
        if let Some(m) = self.meter
            && let Err(e) = m.shutdown()
        {
            tracing::warn!(error = %e, "OpenTelemetry: flushing the last metrics failed");
        }
    }
}

fn exporter_error(
    signal: &'static str,
    export: &Export,
    e: impl std::fmt::Display,
) -> TelemetryError {
    TelemetryError::Exporter {
        signal,
        endpoint: export.endpoint.clone(),
        message: e.to_string(),
    }
}
