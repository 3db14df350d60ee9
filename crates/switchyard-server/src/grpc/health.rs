//! `grpc.health.v1`: `SERVING` exactly when `/ready` answers 200 (every environment serves a
//! valid snapshot and shutdown has not begun), for the server (`""`) and each service.

use std::time::Duration;

use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::state::AppState;

/// How often readiness is looked at (one atomic load per environment once ready).
const CHECK_EVERY: Duration = Duration::from_millis(250);

/// The services whose status is reported besides the server's.
const SERVICES: [&str; 5] = [
    "flipt.evaluation.EvaluationService",
    "evaluation.ClientEvaluationService",
    "flipt.ofrep.OFREPService",
    "flagd.evaluation.v1.Service",
    "flagd.evaluation.v2.Service",
];

async fn set(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for s in SERVICES {
        reporter.set_service_status(s, status).await;
    }
}

/// Keeps the reported status equal to readiness until the server stops (`NOT_SERVING` then,
/// and open `Watch` streams end).
pub(super) async fn follow_readiness(state: AppState, mut reporter: HealthReporter) {
    let mut stop = state.stop_signal();
    let mut last = None;
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let status = if state.is_ready() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        if last != Some(status) {
            set(&reporter, status).await;
            last = Some(status);
        }
        let stopped = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        if stopped {
            set(&reporter, ServingStatus::NotServing).await;
            // removing the statuses ends open `Watch` streams (after they saw NOT_SERVING), so
            // they do not hold the shutdown for the whole grace period
            reporter.clear_service_status("").await;
            for s in SERVICES {
                reporter.clear_service_status(s).await;
            }
            return;
        }
    }
}
