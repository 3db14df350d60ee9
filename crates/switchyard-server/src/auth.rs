//! Static bearer tokens with two scopes; evaluation may be public for browser apps.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::config::{Scope, Token};
use crate::error::ApiError;
use crate::state::AppState;

/// What a route group needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Evaluation endpoints: public when configured so, else any token.
    Evaluation,
    /// Read APIs (status, history, flags): any token.
    Read,
    /// Triggering a sync: an admin token.
    Admin,
}

/// The configured token an `Authorization` value presents (`Bearer <token>`), compared in
/// constant time.
fn presented_token<'s>(state: &'s AppState, authorization: Option<&str>) -> Option<&'s Token> {
    let value = authorization?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?
        .trim();
    state
        .config()
        .auth
        .tokens
        .iter()
        .find(|t| t.token.as_bytes().ct_eq(token.as_bytes()).into())
}

/// The scope of the presented token (the `Authorization` value).
fn presented_scope(state: &AppState, authorization: Option<&str>) -> Option<Scope> {
    presented_token(state, authorization).map(|t| t.scope)
}

/// The name of the token a request presents, for the history of what it did (`anonymous`
/// when authentication is off).
pub(crate) fn actor_name(state: &AppState, headers: &HeaderMap) -> String {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    presented_token(state, value).map_or_else(|| "anonymous".to_string(), |t| t.name.clone())
}

/// Checks a request's headers against `need`; `Ok` when allowed.
fn check(state: &AppState, headers: &HeaderMap, need: Need) -> Result<(), ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    check_authorization(state, value, need)
}

/// Checks an `Authorization` value (an HTTP header or gRPC metadata; `None` when absent)
/// against `need`; `Ok` when allowed.
fn check_authorization(
    state: &AppState,
    authorization: Option<&str>,
    need: Need,
) -> Result<(), ApiError> {
    let auth = &state.config().auth;
    if !auth.is_enabled() || (need == Need::Evaluation && auth.public_evaluation) {
        return Ok(());
    }
    let has_header = authorization.is_some();
    match (presented_scope(state, authorization), need) {
        (Some(Scope::Admin), _) | (Some(Scope::Evaluation), Need::Evaluation | Need::Read) => {
            Ok(())
        }
        (Some(Scope::Evaluation), Need::Admin) => Err(ApiError::forbidden(
            "this endpoint needs an admin token; the presented token has the evaluation scope",
        )),
        (None, _) if has_header => Err(ApiError::unauthenticated("the bearer token is not valid")),
        (None, _) => Err(ApiError::unauthenticated(
            "authentication required: send Authorization: Bearer <token>",
        )),
    }
}

/// Middleware for evaluation routes.
pub(crate) async fn evaluation(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    guard(state, req, next, Need::Evaluation).await
}

/// Middleware for read routes.
pub(crate) async fn read(State(state): State<AppState>, req: Request, next: Next) -> Response {
    guard(state, req, next, Need::Read).await
}

/// Middleware for admin routes (triggering a sync, the relay stream).
pub(crate) async fn admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    guard(state, req, next, Need::Admin).await
}

async fn guard(state: AppState, req: Request, next: Next, need: Need) -> Response {
    if req.method() == axum::http::Method::OPTIONS {
        return next.run(req).await;
    }
    match check(&state, req.headers(), need) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The gRPC interceptor for services that need `need`: the same tokens and scopes as HTTP, from
/// the `authorization` metadata (`Bearer <token>`); a refusal is `UNAUTHENTICATED` or
/// `PERMISSION_DENIED` with the HTTP answer's message.
pub(crate) fn grpc(state: AppState, need: Need) -> impl tonic::service::Interceptor + Clone {
    move |req: tonic::Request<()>| {
        let value = req
            .metadata()
            .get("authorization")
            .map(|v| v.to_str().unwrap_or(""));
        match check_authorization(&state, value, need) {
            Ok(()) => Ok(req),
            Err(e) => Err(e.into()),
        }
    }
}
