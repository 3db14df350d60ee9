//! JSON request bodies, accepted whatever the `Content-Type` (Flipt's Node SDK sends
//! `text/plain`), with the size limit turned into a 413 and parse errors into Flipt's 400s.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// Reads the whole body within the configured size limit and body-read timeout.
pub(crate) async fn read(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    read_limited(req, state, state.config().max_body_bytes).await
}

/// Reads the whole body within `limit` bytes (as set by the route's `DefaultBodyLimit`) and the
/// body-read timeout; a body that stalls or is shorter than its `Content-Length` gets a 408.
pub(crate) async fn read_limited(
    req: Request,
    state: &AppState,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let timeout = state.config().limits.body_read_timeout;
    match tokio::time::timeout(timeout, Bytes::from_request(req, state)).await {
        Err(_) => Err(ApiError::body_timeout(timeout)),
        Ok(Ok(b)) => Ok(b),
        Ok(Err(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ApiError::too_large(limit))
        }
        Ok(Err(e)) => Err(ApiError::invalid(format!(
            "could not read the request body: {}",
            e.body_text()
        ))),
    }
}

/// What Flipt's gateway answers for a body that is valid JSON but not of the request's shape
/// (`gateway.decoderInterceptor.Decode` replaces every `json.UnmarshalTypeError` with it).
pub(crate) const INVALID_VALUES: &str = "invalid values for key(s) in json body";

/// Parses a request body as Flipt's gateway does: only the first JSON value is read (the rest is
/// ignored), an empty body or `null` reads as `{}`, syntax errors have Go's words, and a value of
/// the wrong shape (not an object, a field of the wrong type) gets [`INVALID_VALUES`].
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let value = match crate::go_json::first_value(bytes)? {
        None => b"{}".as_slice(),
        Some(r) if &bytes[r.clone()] == b"null" => b"{}".as_slice(),
        Some(r) if bytes[r.start] != b'{' => return Err(INVALID_VALUES.to_string()),
        Some(r) => &bytes[r],
    };
    // Straight into `T` (no intermediate `Value`): this is on every evaluation's hot path.
    serde_json::from_slice(value).map_err(|_| INVALID_VALUES.to_string())
}

/// A JSON body in Flipt's API: errors are Flipt errors.
pub(crate) struct FliptJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for FliptJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = read(req, state).await?;
        parse(&bytes).map(FliptJson).map_err(ApiError::invalid)
    }
}
