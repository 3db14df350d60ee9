//! The Connect protocol (connectrpc.com) for `flagd.evaluation.v1.Service` on the HTTP port, for
//! `@openfeature/flagd-web-provider` in browsers: unary calls as `POST
//! /flagd.evaluation.v1.Service/<Method>` with a JSON (`application/json`) or binary
//! (`application/proto`) body, and `EventStream` as a server stream of enveloped JSON messages
//! (`application/connect+json`) ending with an end-of-stream message.
//!
//! The calls go to the same service implementation as gRPC's (`flagd_services`); messages are
//! converted with the vendored descriptors (protobuf's JSON mapping, through prost-reflect).

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut as _, Bytes, BytesMut};
use futures_util::StreamExt as _;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::metadata::MetadataMap;
use tonic::{Code, Status};

use super::flagd::Flagd;
use super::pb::flagd as v1;
use super::pb::flagd::service_server::Service as _;
use crate::state::AppState;

/// An envelope's flag marking the end-of-stream message.
const END_STREAM: u8 = 0x02;

fn pool() -> Result<&'static DescriptorPool, Status> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(super::pb::DESCRIPTORS).ok())
        .as_ref()
        .ok_or_else(|| Status::internal("the protobuf descriptors do not decode"))
}

/// A request message from its JSON or binary encoding.
fn decode<T: Message + Default>(name: &str, body: &[u8], json: bool) -> Result<T, Status> {
    if !json {
        return T::decode(body).map_err(|e| Status::invalid_argument(format!("{name}: {e}")));
    }
    let desc = pool()?
        .get_message_by_name(name)
        .ok_or_else(|| Status::internal(format!("{name} is not described")))?;
    let text: &[u8] = if body.is_empty() { b"{}" } else { body };
    let mut de = serde_json::Deserializer::from_slice(text);
    let dynamic = DynamicMessage::deserialize(desc, &mut de)
        .map_err(|e| Status::invalid_argument(format!("{name}: {e}")))?;
    T::decode(dynamic.encode_to_vec().as_slice())
        .map_err(|e| Status::invalid_argument(format!("{name}: {e}")))
}

/// A message in protobuf's JSON mapping.
fn encode_json<T: Message>(name: &str, message: &T) -> Result<Vec<u8>, Status> {
    let desc = pool()?
        .get_message_by_name(name)
        .ok_or_else(|| Status::internal(format!("{name} is not described")))?;
    let dynamic = DynamicMessage::decode(desc, message.encode_to_vec().as_slice())
        .map_err(|e| Status::internal(format!("{name}: {e}")))?;
    serde_json::to_vec(&dynamic).map_err(|e| Status::internal(format!("{name}: {e}")))
}

/// Connect's name of a code.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "canceled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// Connect's HTTP status of a code (unary errors).
fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::Ok | Code::Unknown | Code::Internal | Code::DataLoss => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// Connect's error: `{"code": "<name>", "message": "…"}`.
#[derive(serde::Serialize)]
struct ConnectError<'a> {
    code: &'static str,
    message: &'a str,
}

impl<'a> From<&'a Status> for ConnectError<'a> {
    fn from(s: &'a Status) -> Self {
        ConnectError {
            code: code_name(s.code()),
            message: s.message(),
        }
    }
}

/// The end-of-stream message: `{}`, or `{"error": …}`.
#[derive(serde::Serialize)]
struct EndOfStream<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ConnectError<'a>>,
}

fn to_json(v: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec())
}

/// A unary error: Connect's status and JSON body.
fn unary_error(s: Status) -> Response {
    (
        http_status(s.code()),
        [(header::CONTENT_TYPE, "application/json")],
        to_json(&ConnectError::from(&s)),
    )
        .into_response()
}

/// One enveloped message.
fn envelope(flags: u8, message: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(5 + message.len());
    b.put_u8(flags);
    b.put_u32(u32::try_from(message.len()).unwrap_or(u32::MAX));
    b.put_slice(message);
    b.freeze()
}

/// A unary answer in the request's encoding.
fn unary_ok<T: Message>(name: &str, message: &T, json: bool) -> Response {
    let (body, kind) = if json {
        match encode_json(name, message) {
            Ok(b) => (b, "application/json"),
            Err(s) => return unary_error(s),
        }
    } else {
        (message.encode_to_vec(), "application/proto")
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

fn request<T>(metadata: &MetadataMap, message: T) -> tonic::Request<T> {
    tonic::Request::from_parts(metadata.clone(), Default::default(), message)
}

/// `POST /flagd.evaluation.v1.Service/{method}` (Connect).
pub(crate) async fn flagd_v1(
    State(state): State<AppState>,
    Path(method): Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let kind = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_ascii_lowercase();
    let bytes = match crate::body::read(body, &state).await {
        Ok(b) => b,
        Err(e) => return unary_error(e.into()),
    };
    let metadata = MetadataMap::from_headers(parts.headers);
    let flagd = Flagd::new(state);
    if method == "EventStream" {
        return event_stream(&flagd, &metadata, &kind, &bytes).await;
    }
    let json = match kind.split(';').next().map(str::trim) {
        Some("application/json") => true,
        Some("application/proto") => false,
        _ => {
            return unary_error(Status::invalid_argument(format!(
                "unsupported content type {kind:?}: Connect unary calls are application/json or application/proto"
            )));
        }
    };
    macro_rules! call {
        ($req:ty, $req_name:literal, $resp_name:literal, $method:ident) => {{
            let message: $req = match decode($req_name, &bytes, json) {
                Ok(m) => m,
                Err(s) => return unary_error(s),
            };
            match flagd.$method(request(&metadata, message)).await {
                Ok(r) => unary_ok($resp_name, r.get_ref(), json),
                Err(s) => unary_error(s),
            }
        }};
    }
    match method.as_str() {
        "ResolveAll" => call!(
            v1::ResolveAllRequest,
            "flagd.evaluation.v1.ResolveAllRequest",
            "flagd.evaluation.v1.ResolveAllResponse",
            resolve_all
        ),
        "ResolveBoolean" => call!(
            v1::ResolveBooleanRequest,
            "flagd.evaluation.v1.ResolveBooleanRequest",
            "flagd.evaluation.v1.ResolveBooleanResponse",
            resolve_boolean
        ),
        "ResolveString" => call!(
            v1::ResolveStringRequest,
            "flagd.evaluation.v1.ResolveStringRequest",
            "flagd.evaluation.v1.ResolveStringResponse",
            resolve_string
        ),
        "ResolveObject" => call!(
            v1::ResolveObjectRequest,
            "flagd.evaluation.v1.ResolveObjectRequest",
            "flagd.evaluation.v1.ResolveObjectResponse",
            resolve_object
        ),
        "ResolveFloat" => call!(
            v1::ResolveFloatRequest,
            "flagd.evaluation.v1.ResolveFloatRequest",
            "flagd.evaluation.v1.ResolveFloatResponse",
            resolve_float
        ),
        "ResolveInt" => call!(
            v1::ResolveIntRequest,
            "flagd.evaluation.v1.ResolveIntRequest",
            "flagd.evaluation.v1.ResolveIntResponse",
            resolve_int
        ),
        // as a Connect server answers a procedure it does not have: 404
        other => unary_error(Status::not_found(format!(
            "flagd.evaluation.v1.Service has no method {other:?} (ResolveAll, ResolveBoolean, ResolveString, ResolveObject, ResolveFloat, ResolveInt, EventStream)"
        ))),
    }
}

/// `EventStream` as a Connect server stream (`application/connect+json`): the messages, then
/// an end-of-stream message (`{}`, or `{"error": …}` when the stream cannot start).
async fn event_stream(flagd: &Flagd, metadata: &MetadataMap, kind: &str, body: &[u8]) -> Response {
    let json = !kind.starts_with("application/connect+proto");
    let headers = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if json {
            "application/connect+json"
        } else {
            "application/connect+proto"
        }),
    )];
    let end = |error: Option<&Status>| {
        let trailer = EndOfStream {
            error: error.map(ConnectError::from),
        };
        envelope(END_STREAM, &to_json(&trailer))
    };
    // the request is one enveloped (empty) message; nothing in it is read
    if body.len() < 5 {
        let s = Status::invalid_argument("EventStream: the request is not an enveloped message");
        return (headers, end(Some(&s))).into_response();
    }
    let stream = match flagd
        .event_stream(request(metadata, v1::EventStreamRequest {}))
        .await
    {
        Ok(r) => r.into_inner(),
        Err(s) => return (headers, end(Some(&s))).into_response(),
    };
    let messages = stream
        .map(move |m| {
            let bytes = match m {
                Ok(m) if json => encode_json("flagd.evaluation.v1.EventStreamResponse", &m)
                    .map(|b| envelope(0, &b))
                    .unwrap_or_else(|s| end(Some(&s))),
                Ok(m) => envelope(0, &m.encode_to_vec()),
                Err(s) => end(Some(&s)),
            };
            Ok::<_, std::convert::Infallible>(bytes)
        })
        .chain(futures_util::stream::once(async move {
            Ok::<_, std::convert::Infallible>(end(None))
        }));
    (headers, Body::from_stream(messages)).into_response()
}
