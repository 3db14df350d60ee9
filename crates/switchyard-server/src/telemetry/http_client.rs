//! OTLP/HTTP requests through the server's own reqwest client (rustls, so `https://`
//! endpoints work), run on the runtime that started the telemetry: the SDK's exporter threads
//! have no runtime of their own.

use std::time::Duration;

use bytes::Bytes;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};

/// How long one export request may take (connect included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// An [`HttpClient`] for the OTLP exporters.
#[derive(Debug, Clone)]
pub(super) struct OtlpHttpClient {
    client: reqwest::Client,
    runtime: Option<tokio::runtime::Handle>,
}

impl OtlpHttpClient {
    /// A client bound to the current runtime (if any: without one, requests fail with an error).
    pub(super) fn new() -> Self {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        OtlpHttpClient {
            client,
            runtime: tokio::runtime::Handle::try_current().ok(),
        }
    }
}

#[async_trait::async_trait]
impl HttpClient for OtlpHttpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let Some(runtime) = &self.runtime else {
            return Err("no async runtime to send OTLP requests on".into());
        };
        let request = reqwest::Request::try_from(request.map(reqwest::Body::from))?;
        let client = self.client.clone();
        let answer = runtime.spawn(async move {
            let response = client.execute(request).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        });
        let (status, headers, body) = answer.await??;
        let mut out = Response::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }
}
