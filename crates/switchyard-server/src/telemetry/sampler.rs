//! The sampler: sync attempts always sampled, requests by `OTEL_TRACES_SAMPLER`.

use opentelemetry::trace::SamplingResult;
use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, ShouldSample};

use super::SamplerSetting;

/// Spans named `sync.*` (a sync attempt and its steps: a handful a minute) are always
/// sampled, so a trace per attempt arrives whatever the request sampler; every other span is
/// decided by the configured sampler.
#[derive(Debug, Clone)]
pub(super) struct SyncAlwaysSampled {
    requests: Sampler,
}

impl SyncAlwaysSampled {
    /// The sampler for `setting`.
    pub(super) fn new(setting: SamplerSetting) -> Self {
        let requests = match setting {
            SamplerSetting::AlwaysOn => Sampler::AlwaysOn,
            SamplerSetting::AlwaysOff => Sampler::AlwaysOff,
            SamplerSetting::TraceIdRatio(r) => Sampler::TraceIdRatioBased(r),
            SamplerSetting::ParentBasedAlwaysOn => {
                Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
            }
            SamplerSetting::ParentBasedAlwaysOff => {
                Sampler::ParentBased(Box::new(Sampler::AlwaysOff))
            }
            SamplerSetting::ParentBasedTraceIdRatio(r) => {
                Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(r)))
            }
        };
        SyncAlwaysSampled { requests }
    }
}

impl ShouldSample for SyncAlwaysSampled {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let sampler = if name.starts_with("sync.") {
            &Sampler::AlwaysOn
        } else {
            &self.requests
        };
        sampler.should_sample(parent_context, trace_id, name, span_kind, attributes, links)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::SamplingDecision;

    use super::*;

    fn decide(setting: SamplerSetting, name: &str) -> SamplingDecision {
        SyncAlwaysSampled::new(setting)
            .should_sample(
                None,
                TraceId::from_bytes([7; 16]),
                name,
                &SpanKind::Internal,
                &[],
                &[],
            )
            .decision
    }

    #[test]
    fn sync_spans_are_sampled_whatever_the_request_sampler() {
        for s in [
            SamplerSetting::AlwaysOff,
            SamplerSetting::TraceIdRatio(0.0),
            SamplerSetting::ParentBasedTraceIdRatio(0.0),
        ] {
            assert_eq!(decide(s, "sync.attempt"), SamplingDecision::RecordAndSample);
            assert_eq!(decide(s, "GET /ofrep"), SamplingDecision::Drop);
        }
        assert_eq!(
            decide(SamplerSetting::AlwaysOn, "GET /ofrep"),
            SamplingDecision::RecordAndSample
        );
    }
}
