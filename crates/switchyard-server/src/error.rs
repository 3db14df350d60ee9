//! Error bodies: Flipt's `{code, message, details}`, OFREP's `{key, errorCode, errorDetails}`,
//! and the same errors as gRPC statuses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchyard_core::EvalError;

/// What a 503 for an environment without a valid snapshot asks clients to wait.
const RETRY_AFTER_SECS: &str = "5";

/// Flipt's grpc-gateway error body, in its field order (`details` is always empty).
#[derive(Serialize)]
pub(crate) struct FliptErrorBody<'a> {
    /// gRPC code.
    pub(crate) code: i32,
    /// The message.
    pub(crate) message: &'a str,
    /// Always `[]`.
    pub(crate) details: [(); 0],
}

impl FliptErrorBody<'_> {
    /// The body as JSON text.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// OFREP's error body: `key` only when a flag was named.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OfrepErrorBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    error_code: &'a str,
    error_details: &'a str,
}

/// An error in Flipt's grpc-gateway shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// gRPC code (3 invalid argument, 5 not found, 7 permission denied, 16 unauthenticated, …).
    pub code: i32,
    /// Lower-case message.
    pub message: String,
}

/// The gRPC status of an error: its gRPC code and message, as Flipt's gRPC server answers what
/// its gateway turns into the HTTP error.
impl From<ApiError> for tonic::Status {
    fn from(e: ApiError) -> Self {
        tonic::Status::new(tonic::Code::from_i32(e.code), e.message)
    }
}

impl ApiError {
    /// 400, invalid argument.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: 3,
            message: message.into(),
        }
    }

    /// 404, not found.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: 5,
            message: message.into(),
        }
    }

    /// 401, unauthenticated.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: 16,
            message: message.into(),
        }
    }

    /// 403, permission denied.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: 7,
            message: message.into(),
        }
    }

    /// 408, the body did not arrive in time; the connection is closed after the answer.
    pub fn body_timeout(limit: std::time::Duration) -> Self {
        ApiError {
            status: StatusCode::REQUEST_TIMEOUT,
            code: 4,
            message: format!(
                "the request body did not arrive within {} ms (shorter than its Content-Length, or too slow)",
                limit.as_millis()
            ),
        }
    }

    /// 503, unavailable: the environment has no valid snapshot yet (the message says why).
    pub fn not_ready(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: 14,
            message: message.into(),
        }
    }

    /// 502, unavailable: a relay could not reach its upstream for a forwarded request.
    pub fn bad_gateway(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_GATEWAY,
            code: 14,
            message: message.into(),
        }
    }

    /// 500, internal.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: 13,
            message: message.into(),
        }
    }

    /// 413, body too large.
    pub fn too_large(limit: usize) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: 8,
            message: format!("request body is larger than the limit of {limit} bytes"),
        }
    }
}

impl From<EvalError> for ApiError {
    fn from(e: EvalError) -> Self {
        match e {
            EvalError::NamespaceNotFound(_) | EvalError::FlagNotFound { .. } => {
                ApiError::not_found(e.to_string())
            }
            EvalError::WrongType { .. } => ApiError::invalid(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = FliptErrorBody {
            code: self.code,
            message: &self.message,
            details: [],
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        close_after_timeout(self.status, resp)
    }
}

/// An OFREP error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfrepError {
    /// HTTP status.
    pub status: StatusCode,
    /// Flag key, for single-flag errors.
    pub key: Option<String>,
    /// `FLAG_NOT_FOUND`, `INVALID_CONTEXT`, `PROVIDER_NOT_READY` or `GENERAL`.
    pub code: &'static str,
    /// What went wrong.
    pub details: String,
}

impl OfrepError {
    /// 400 with the given code.
    pub fn bad_request(key: Option<&str>, code: &'static str, details: impl Into<String>) -> Self {
        OfrepError {
            status: StatusCode::BAD_REQUEST,
            key: key.map(str::to_string),
            code,
            details: details.into(),
        }
    }

    /// The OFREP form of an API error, by its gRPC code as Flipt's `ofrep.ErrorHandler` maps
    /// it: invalid argument `INVALID_CONTEXT`, not found `FLAG_NOT_FOUND`, anything else
    /// `GENERAL`; and Switchyard's 503 `PROVIDER_NOT_READY`.
    pub fn from_api(key: Option<&str>, e: ApiError) -> Self {
        let code = match e.code {
            _ if e.status == StatusCode::SERVICE_UNAVAILABLE => "PROVIDER_NOT_READY",
            3 => "INVALID_CONTEXT",
            5 => "FLAG_NOT_FOUND",
            _ => "GENERAL",
        };
        OfrepError {
            status: e.status,
            key: key.map(str::to_string),
            code,
            details: e.message,
        }
    }

    /// 404 `FLAG_NOT_FOUND`.
    pub fn not_found(key: &str, details: impl Into<String>) -> Self {
        OfrepError {
            status: StatusCode::NOT_FOUND,
            key: Some(key.to_string()),
            code: "FLAG_NOT_FOUND",
            details: details.into(),
        }
    }
}

impl IntoResponse for OfrepError {
    fn into_response(self) -> Response {
        let body = OfrepErrorBody {
            key: self.key.as_deref(),
            error_code: self.code,
            error_details: &self.details,
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        close_after_timeout(self.status, resp)
    }
}

/// A 408 leaves an unread body behind: the connection cannot carry another request.
fn close_after_timeout(status: StatusCode, mut resp: Response) -> Response {
    if status == StatusCode::REQUEST_TIMEOUT {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}
