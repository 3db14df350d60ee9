//! flagd's evaluation services, `flagd.evaluation.v1.Service` and `flagd.evaluation.v2.Service`
//! (what `@openfeature/flagd-provider` 0.16 calls): the messages of each version over the one
//! mapping in [`super::flagd`]. v2 has no `ResolveAll` and leaves `value` and `variant` unset
//! where no variant applies (v1 sends the empty value, which providers read as their default).

use futures_util::StreamExt as _;
use prost_types::Struct;
use tonic::{Request, Response, Status};

use super::flagd::{Events, Flagd, Resolved};
use super::pb::{flagd as v1, flagd_v2 as v2};

type V1Events = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<v1::EventStreamResponse, Status>> + Send>,
>;
type V2Events = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<v2::EventStreamResponse, Status>> + Send>,
>;

fn v1_events(e: Events) -> V1Events {
    Box::pin(e.map(|e| {
        Ok(v1::EventStreamResponse {
            r#type: e.kind.to_string(),
            data: e.data,
        })
    }))
}

fn v2_events(e: Events) -> V2Events {
    Box::pin(e.map(|e| {
        Ok(v2::EventStreamResponse {
            r#type: e.kind.to_string(),
            data: e.data,
        })
    }))
}

#[tonic::async_trait]
impl v1::service_server::Service for Flagd {
    async fn resolve_all(
        &self,
        request: Request<v1::ResolveAllRequest>,
    ) -> Result<Response<v1::ResolveAllResponse>, Status> {
        let flags = self.all(request.metadata(), request.get_ref().context.as_ref())?;
        Ok(Response::new(v1::ResolveAllResponse {
            flags,
            metadata: None,
        }))
    }

    async fn resolve_boolean(
        &self,
        request: Request<v1::ResolveBooleanRequest>,
    ) -> Result<Response<v1::ResolveBooleanResponse>, Status> {
        let r = request.get_ref();
        let d = self.boolean(request.metadata(), &r.flag_key, r.context.as_ref())?;
        Ok(Response::new(v1::ResolveBooleanResponse {
            value: d.value,
            reason: d.reason.to_string(),
            variant: d.variant,
            metadata: None,
        }))
    }

    async fn resolve_string(
        &self,
        request: Request<v1::ResolveStringRequest>,
    ) -> Result<Response<v1::ResolveStringResponse>, Status> {
        let r = request.get_ref();
        let d = self.string(request.metadata(), &r.flag_key, r.context.as_ref())?;
        Ok(Response::new(v1::ResolveStringResponse {
            value: d.value,
            reason: d.reason.to_string(),
            variant: d.variant,
            metadata: None,
        }))
    }

    async fn resolve_float(
        &self,
        request: Request<v1::ResolveFloatRequest>,
    ) -> Result<Response<v1::ResolveFloatResponse>, Status> {
        Err(self.no_number(request.metadata(), &request.get_ref().flag_key, "float"))
    }

    async fn resolve_int(
        &self,
        request: Request<v1::ResolveIntRequest>,
    ) -> Result<Response<v1::ResolveIntResponse>, Status> {
        Err(self.no_number(request.metadata(), &request.get_ref().flag_key, "integer"))
    }

    async fn resolve_object(
        &self,
        request: Request<v1::ResolveObjectRequest>,
    ) -> Result<Response<v1::ResolveObjectResponse>, Status> {
        let r = request.get_ref();
        let d = self.object(request.metadata(), &r.flag_key, r.context.as_ref())?;
        Ok(Response::new(v1::ResolveObjectResponse {
            value: Some(d.value),
            reason: d.reason.to_string(),
            variant: d.variant,
            metadata: None,
        }))
    }

    type EventStreamStream = V1Events;

    async fn event_stream(
        &self,
        request: Request<v1::EventStreamRequest>,
    ) -> Result<Response<V1Events>, Status> {
        Ok(Response::new(v1_events(self.events(request.metadata())?)))
    }
}

/// v2's optional value and variant: unset where no variant applies.
fn optional<T>(d: Resolved<T>) -> (Option<T>, Option<String>, String) {
    if d.variant.is_empty() {
        (None, None, d.reason.to_string())
    } else {
        (Some(d.value), Some(d.variant), d.reason.to_string())
    }
}

#[tonic::async_trait]
impl v2::service_server::Service for Flagd {
    async fn resolve_boolean(
        &self,
        request: Request<v2::ResolveBooleanRequest>,
    ) -> Result<Response<v2::ResolveBooleanResponse>, Status> {
        let r = request.get_ref();
        let (value, variant, reason) =
            optional(self.boolean(request.metadata(), &r.flag_key, r.context.as_ref())?);
        Ok(Response::new(v2::ResolveBooleanResponse {
            value,
            reason,
            variant,
            metadata: None,
        }))
    }

    async fn resolve_string(
        &self,
        request: Request<v2::ResolveStringRequest>,
    ) -> Result<Response<v2::ResolveStringResponse>, Status> {
        let r = request.get_ref();
        let (value, variant, reason) =
            optional(self.string(request.metadata(), &r.flag_key, r.context.as_ref())?);
        Ok(Response::new(v2::ResolveStringResponse {
            value,
            reason,
            variant,
            metadata: None,
        }))
    }

    async fn resolve_float(
        &self,
        request: Request<v2::ResolveFloatRequest>,
    ) -> Result<Response<v2::ResolveFloatResponse>, Status> {
        Err(self.no_number(request.metadata(), &request.get_ref().flag_key, "float"))
    }

    async fn resolve_int(
        &self,
        request: Request<v2::ResolveIntRequest>,
    ) -> Result<Response<v2::ResolveIntResponse>, Status> {
        Err(self.no_number(request.metadata(), &request.get_ref().flag_key, "integer"))
    }

    async fn resolve_object(
        &self,
        request: Request<v2::ResolveObjectRequest>,
    ) -> Result<Response<v2::ResolveObjectResponse>, Status> {
        let r = request.get_ref();
        let (value, variant, reason) =
            optional::<Struct>(self.object(request.metadata(), &r.flag_key, r.context.as_ref())?);
        Ok(Response::new(v2::ResolveObjectResponse {
            value,
            reason,
            variant,
            metadata: None,
        }))
    }

    type EventStreamStream = V2Events;

    async fn event_stream(
        &self,
        request: Request<v2::EventStreamRequest>,
    ) -> Result<Response<V2Events>, Status> {
        Ok(Response::new(v2_events(self.events(request.metadata())?)))
    }
}
