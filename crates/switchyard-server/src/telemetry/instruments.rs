//! The Prometheus counters as OpenTelemetry observable instruments: read from the server's
//! [`Metrics`] when the reader exports (nothing is added to the request path). Names are the
//! Prometheus names without `_total` (as Flipt's own OpenTelemetry meter names them), attributes
//! the same labels.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Meter;

use crate::metrics::Metrics;

/// Registers the observable instruments on `meter`, reading `metrics` at each export.
pub(crate) fn observe_metrics(meter: &Meter, metrics: &Arc<Metrics>) {
    let m = metrics.clone();
    meter
        .u64_observable_counter("flipt_evaluations_requests")
        .with_description("Number of flag evaluation requests.")
        .with_callback(move |o| {
            m.each_evaluation(|e, n, f, requests, _| {
                o.observe(requests, &flag_attributes(e, n, f));
            })
        })
        .build();
    let m = metrics.clone();
    meter
        .u64_observable_counter("flipt_evaluations_results")
        .with_description("Number of flag evaluation results by reason.")
        .with_callback(move |o| {
            m.each_evaluation(|e, n, f, _, results| {
                for (reason, count) in results.iter().filter(|(_, c)| *c > 0) {
                    let mut attrs = flag_attributes(e, n, f);
                    attrs.push(KeyValue::new("flipt_reason", *reason));
                    o.observe(*count, &attrs);
                }
            })
        })
        .build();
    let m = metrics.clone();
    meter
        .u64_observable_counter("flipt_evaluations_errors")
        .with_description("Number of failed flag evaluations.")
        .with_callback(move |o| {
            m.each_evaluation_error(|e, kind, v| {
                o.observe(
                    v,
                    &[
                        KeyValue::new("flipt_environment", e.to_string()),
                        KeyValue::new("error", kind),
                    ],
                );
            })
        })
        .build();
    let m = metrics.clone();
    meter
        .u64_observable_counter("switchyard_sync_attempts")
        .with_description("Sync attempts by outcome (unchanged, applied, rejected, failed).")
        .with_callback(move |o| {
            m.each_sync(
                |e, outcome, v| {
                    o.observe(
                        v,
                        &[
                            KeyValue::new("environment", e.to_string()),
                            KeyValue::new("outcome", outcome),
                        ],
                    )
                },
                |_, _, _| {},
                |_, _| {},
            )
        })
        .build();
    let m = metrics.clone();
    meter
        .u64_observable_counter("flipt_git_sync_errors")
        .with_description("Failed sync attempts by error class.")
        .with_callback(move |o| {
            m.each_sync(
                |_, _, _| {},
                |e, class, v| {
                    o.observe(
                        v,
                        &[
                            KeyValue::new("environment", e.to_string()),
                            KeyValue::new("class", class.to_string()),
                        ],
                    )
                },
                |_, _| {},
            )
        })
        .build();
    let m = metrics.clone();
    meter
        .f64_observable_gauge("switchyard_snapshot_age")
        .with_unit("s")
        .with_description("Seconds since the served snapshot was built.")
        .with_callback(move |o| {
            m.each_sync(
                |_, _, _| {},
                |_, _, _| {},
                |e, age| o.observe(age, &[KeyValue::new("environment", e.to_string())]),
            )
        })
        .build();
    let m = metrics.clone();
    meter
        .i64_observable_up_down_counter("flipt_evaluations_streams_in_progress")
        .with_description("Open snapshot and SSE streams.")
        .with_callback(move |o| o.observe(m.streams_in_progress(), &[]))
        .build();
    let m = metrics.clone();
    meter
        .i64_observable_up_down_counter("switchyard_http_connections_open")
        .with_description("Open HTTP connections.")
        .with_callback(move |o| {
            let open = m.connections.open.load(Ordering::Relaxed);
            o.observe(i64::try_from(open).unwrap_or(i64::MAX), &[])
        })
        .build();
}

fn flag_attributes(e: &str, n: &str, f: &str) -> Vec<KeyValue> {
    vec![
        KeyValue::new("flipt_environment", e.to_string()),
        KeyValue::new("flipt_namespace", n.to_string()),
        KeyValue::new("flipt_flag", f.to_string()),
    ]
}
