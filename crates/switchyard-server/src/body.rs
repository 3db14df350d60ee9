//! JSON request bodies, accepted whatever the `Content-Type` (Flipt's Node SDK sends
//! `text/plain`), with the size limit turned into a 413 and parse errors into Flipt's 400s.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

/// Reads the whole body within the configured size limit and body-read timeout.
pub(crate) async fn read(body: Body, state: &AppState) -> Result<Bytes, ApiError> {
    read_limited(body, state, state.config().max_body_bytes).await
}

/// Reads the whole body within `limit` bytes (a 413 past it) and the body-read timeout; a body
/// that stalls or is shorter than its `Content-Length` gets a 408. The limit is applied here,
/// while reading, so no route needs a body-limit layer.
pub(crate) async fn read_limited(
    body: Body,
    state: &AppState,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let timeout = state.config().limits.body_read_timeout;
    let read = axum::body::to_bytes(body, limit);
    tokio::pin!(read);
    // A small body usually arrives with its head and is read at once: no timer for it (a timer
    // registered and cancelled per request costs the runtime a wake-up of its timer driver).
    let result = match futures_util::FutureExt::now_or_never(read.as_mut()) {
        Some(r) => r,
        None => match tokio::time::timeout(timeout, read).await {
            Err(_) => return Err(ApiError::body_timeout(timeout)),
            Ok(r) => r,
        },
    };
    match result {
        Ok(b) => Ok(b),
        Err(e) => {
            let e = e.into_inner();
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(ApiError::too_large(limit))
            } else {
                Err(ApiError::invalid(format!(
                    "could not read the request body: Failed to buffer the request body: {e}"
                )))
            }
        }
    }
}

/// What Flipt's gateway answers for a body that is valid JSON but not of the request's shape
/// (`gateway.decoderInterceptor.Decode` replaces every `json.UnmarshalTypeError` with it).
pub(crate) const INVALID_VALUES: &str = "invalid values for key(s) in json body";

/// Parses a request body as Flipt's gateway does: only the first JSON value is read (the rest is
/// ignored), an empty body or `null` reads as `{}`, syntax errors have Go's words, and a value of
/// the wrong shape (not an object, a field of the wrong type) gets [`INVALID_VALUES`].
pub(crate) fn parse<'b, T: Deserialize<'b>>(bytes: &'b [u8]) -> Result<T, String> {
    // The common case in one pass: an object that parses into `T`. serde reads the first value
    // and stops, as Go's decoder does; anything it refuses takes the exact path below.
    if bytes.trim_ascii_start().first() == Some(&b'{')
        && let Ok(v) = T::deserialize(&mut serde_json::Deserializer::from_slice(bytes))
    {
        return Ok(v);
    }
    let value = match crate::go_json::first_value(bytes)? {
        None => b"{}".as_slice(),
        Some(r) if &bytes[r.clone()] == b"null" => b"{}".as_slice(),
        Some(r) if bytes[r.start] != b'{' => return Err(INVALID_VALUES.to_string()),
        Some(r) => &bytes[r],
    };
    // Straight into `T` (no intermediate `Value`): this is on every evaluation's hot path.
    serde_json::from_slice(value).map_err(|_| INVALID_VALUES.to_string())
}

/// A request's head and its whole body (read within the limit, errors are Flipt errors), for a
/// handler that parses the body borrowing from it.
pub(crate) struct FliptBody {
    /// Method, URI, headers and extensions.
    pub(crate) parts: Parts,
    /// The body.
    pub(crate) bytes: Bytes,
}

impl FliptBody {
    /// The body parsed as Flipt's gateway parses it, borrowing from it.
    pub(crate) fn parse<'b, T: Deserialize<'b>>(&'b self) -> Result<T, ApiError> {
        parse(&self.bytes).map_err(ApiError::invalid)
    }
}

impl FromRequest<AppState> for FliptBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = read(body, state).await?;
        Ok(FliptBody { parts, bytes })
    }
}
