//! The router: one module per API family, with its per-group guards; [`service`] puts it
//! behind the edge (request ids, CORS, panic catching, observing).

mod break_glass;
mod context;
mod diff;
mod environments;
mod eval_request;
mod evaluate;
mod fast;
mod flags;
mod ofrep;
mod ops;
mod relay;
mod snapshot;
mod stream;
mod sync;
mod webhook;

pub(crate) use context::RequestContext;
pub(crate) use evaluate::{Answer, Query, environment_header, evaluate_many, evaluate_single};
pub(crate) use fast::{FastFuture, FastRoute};
pub(crate) use ofrep::{
    BLOCKING_BULK_FLAGS, BulkPlan, bulk_plan as ofrep_bulk_plan, entity,
    evaluate_in as ofrep_evaluate_in, scope as ofrep_scope,
};
pub(crate) use relay::StateLines;
pub(crate) use stream::{StreamGuard, namespace_changes};

use axum::Router;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};

use crate::auth;
use crate::error::{ApiError, OfrepError};
use crate::state::AppState;

/// A UUID-v4-shaped id, unique within the process: random high bits chosen once and a counter in
/// the low 62 bits. Request ids need uniqueness, not unpredictability, and `Uuid::new_v4` costs
/// a `getrandom` system call per request (measured at 3-4% of a single-flag evaluation).
pub(crate) fn fast_uuid() -> uuid::Uuid {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static BASE: OnceLock<(u64, u64)> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let (hi, start) = *BASE.get_or_init(|| {
        let r = uuid::Uuid::new_v4().as_u128();
        ((r >> 64) as u64, r as u64)
    });
    let lo = start.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) & ((1 << 62) - 1);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    // Sets the version nibble (in the constant half) and the two variant bits (zero in `lo`).
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// An unknown path: under Flipt's gateway mounts Flipt's 404 (`Not Found`, in OFREP's shape
/// under `/ofrep`), elsewhere one that says where the routes are.
async fn not_found(uri: Uri) -> axum::response::Response {
    let path = uri.path();
    if path.starts_with("/ofrep/") {
        return OfrepError::from_api(None, ApiError::not_found("Not Found")).into_response();
    }
    if GATEWAY_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return ApiError::not_found("Not Found").into_response();
    }
    ApiError::not_found("no such endpoint; see /openapi.json").into_response()
}

/// Paths Flipt serves through grpc-gateway, which answers a method a route does not have with
/// 501 and gRPC code 12 (`DefaultRoutingErrorHandler`: `http.StatusText(405)` as the message).
const GATEWAY_PREFIXES: [&str; 6] = [
    "/evaluate/v1/",
    "/ofrep/v1/evaluate/",
    "/internal/v1/",
    "/client/v2/",
    "/api/v2/environments",
    "/api/v1/namespaces/",
];

/// A method the route does not have: on Flipt's gateway paths Flipt's 501 (in OFREP's error
/// shape under `/ofrep`), elsewhere 405 with a JSON body; axum adds the `Allow` header.
async fn method_not_allowed(method: Method, uri: Uri) -> axum::response::Response {
    let path = uri.path();
    if !GATEWAY_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return ApiError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: 12,
            message: format!("method {method} not allowed on this endpoint; see /openapi.json"),
        }
        .into_response();
    }
    let e = ApiError {
        status: StatusCode::NOT_IMPLEMENTED,
        code: 12,
        message: "Method Not Allowed".into(),
    };
    if path.starts_with("/ofrep/") {
        OfrepError::from_api(None, e).into_response()
    } else {
        e.into_response()
    }
}

/// Flipt v2's environments API below `/api/v2/environments/{env}`: reads, and writes that say
/// Switchyard is read-only.
fn environments_api() -> Router<AppState> {
    use environments as e;
    const ENV: &str = "/api/v2/environments/{env}";
    Router::new()
        .route(
            &format!("{ENV}/namespaces"),
            get(e::list_namespaces)
                .post(e::create_namespace)
                .put(e::update_namespace),
        )
        .route(
            &format!("{ENV}/namespaces/{{ns}}"),
            get(e::get_namespace).delete(e::delete_namespace),
        )
        .route(
            &format!("{ENV}/namespaces/{{ns}}/resources"),
            post(e::create_resource).put(e::update_resource),
        )
        .route(
            &format!("{ENV}/namespaces/{{ns}}/resources/{{type_url}}"),
            get(e::list_resources),
        )
        .route(
            &format!("{ENV}/namespaces/{{ns}}/resources/{{type_url}}/{{key}}"),
            get(e::get_resource).delete(e::delete_resource),
        )
        .route(
            &format!("{ENV}/branches"),
            get(e::list_branches).post(e::create_branch),
        )
        .route(
            &format!("{ENV}/branches/{{key}}"),
            post(e::propose).delete(e::delete_branch),
        )
}

/// Whether a token guards the evaluation routes (tokens are configured and evaluation is not
/// public).
fn evaluation_is_guarded(auth: &crate::config::AuthConfig) -> bool {
    auth.is_enabled() && !auth.public_evaluation
}

/// All routes, with their per-group guards (body limits are applied by the body readers).
pub(crate) fn router(state: AppState) -> Router {
    let evaluation = Router::new()
        .route("/evaluate/v1/variant", post(evaluate::variant))
        .route("/evaluate/v1/boolean", post(evaluate::boolean))
        .route("/evaluate/v1/batch", post(evaluate::batch))
        .route("/ofrep/v1/evaluate/flags", post(ofrep::evaluate_flags))
        .route("/ofrep/v1/evaluate/flags/", post(ofrep::evaluate_flags))
        .route("/ofrep/v1/evaluate/flags/{key}", post(ofrep::evaluate_flag))
        .route("/ofrep/v1/_stream/{env}/{ns}/events", get(ofrep::stream))
        .route(
            "/internal/v1/evaluation/snapshot/namespace/{ns}",
            get(snapshot::legacy),
        )
        .route(
            "/client/v2/environments/{env}/namespaces/{ns}/snapshot",
            get(snapshot::v2),
        )
        .route(
            "/client/v2/environments/{env}/namespaces/{ns}/stream",
            get(snapshot::stream),
        )
        // flagd's evaluation service in the Connect protocol (flagd's web provider)
        .route(
            "/flagd.evaluation.v1.Service/{method}",
            post(crate::grpc::connect::flagd_v1),
        );
    // The guards let everything through when no token is configured (or evaluation is public);
    // they are left out then, saving a route clone and a boxed future per request.
    let auth = &state.config().auth;
    let evaluation = if evaluation_is_guarded(auth) {
        evaluation.route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::evaluation,
        ))
    } else {
        evaluation
    };
    let read = Router::new()
        .route("/api/v1/namespaces/{ns}/flags", get(flags::list_flags))
        .route("/api/v2/environments", get(flags::environments))
        .merge(environments_api())
        .route(
            "/api/v1/environments/{env}/namespaces",
            get(flags::namespaces),
        )
        .route(
            "/api/v1/environments/{env}/namespaces/{ns}/document",
            get(flags::document),
        )
        .route("/api/v1/environments/{env}/diff", get(diff::diff_commits))
        .route(
            "/api/v1/environments/{env}/break-glass",
            get(break_glass::show),
        )
        .route("/api/v1/sync/status", get(sync::status))
        .route("/api/v1/sync/statuses", get(sync::statuses))
        .route("/api/v1/sync/history", get(sync::history))
        .route("/api/v1/sync/events", get(sync::events));
    let read = if auth.is_enabled() {
        read.route_layer(middleware::from_fn_with_state(state.clone(), auth::read))
    } else {
        read
    };
    let admin = Router::new()
        .route("/api/v1/sync", post(sync::sync_now))
        .route("/api/v1/relay/stream", get(relay::stream))
        .route("/api/v1/environments/{env}/pause", post(break_glass::pause))
        .route(
            "/api/v1/environments/{env}/resume",
            post(break_glass::resume),
        )
        .route("/api/v1/environments/{env}/pin", post(break_glass::pin))
        .route(
            "/api/v1/environments/{env}/overrides",
            post(break_glass::set_override),
        )
        .route(
            "/api/v1/environments/{env}/overrides/{namespace}/{flag}",
            delete(break_glass::clear_override),
        );
    let admin = if auth.is_enabled() {
        admin.route_layer(middleware::from_fn_with_state(state.clone(), auth::admin))
    } else {
        admin
    };
    let webhooks = Router::new()
        .route("/api/v1/webhooks/github", post(webhook::github))
        .route("/api/v1/webhooks/gitlab", post(webhook::gitlab))
        .route("/api/v1/webhooks/gitea", post(webhook::gitea));
    let ops = Router::new()
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/", get(crate::dashboard::index))
        .route("/assets/{*path}", get(crate::dashboard::asset));
    evaluation
        .merge(read)
        .merge(admin)
        .merge(webhooks)
        .merge(ops)
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(state)
}

/// The router behind the shared layer, [`crate::edge::Edge`] (request ids, CORS and panics). It
/// wraps the whole router once, as one service, instead of each route (axum's `Router::layer`),
/// which saves a boxed clone per request; no response body is boxed.
/// When the access log or OpenTelemetry per request is on, a route layer copies the matched
/// route into each response (the only per-route cost, and only then); otherwise, and without an
/// evaluation token, the edge answers the two single-flag routes itself ([`fast`]).
pub(crate) fn service(state: AppState) -> Service {
    let cors = crate::cors::Cors::new(&state.config().cors_allowed_origins);
    let observer = state.observer();
    let fast = fast::enabled(&state).then(|| state.clone());
    let router = router(state);
    let router = if observer.is_some() {
        router.layer(middleware::from_fn(crate::edge::copy_route))
    } else {
        router
    };
    crate::edge::Edge::new(router, observer, cors, fast)
}

/// The concrete type of [`service`].
pub type Service = crate::edge::Edge<Router>;
