//! The standard `OTEL_*` variables read into [`OtelSettings`]; every invalid value is refused with
//! the variable, the value and what is accepted.

use std::time::Duration;

/// An `OTEL_*` value that cannot be used, or an exporter that could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// A variable's value is not one the SDK accepts.
    #[error("{variable}={value:?} is not valid: {expected}")]
    Invalid {
        /// The variable.
        variable: &'static str,
        /// Its value as given.
        value: String,
        /// What is accepted instead.
        expected: String,
    },
    /// The OTLP exporter of a signal could not be built.
    #[error("cannot build the OTLP {signal} exporter for {endpoint}: {message}")]
    Exporter {
        /// `traces` or `metrics`.
        signal: &'static str,
        /// The endpoint it was to send to.
        endpoint: String,
        /// The exporter's own error.
        message: String,
    },
}

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC (plain-text HTTP/2; the endpoint is used as given).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (`/v1/traces`, `/v1/metrics` appended to the base endpoint).
    HttpProtobuf,
}

impl Protocol {
    /// The spelling of `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        }
    }
}

/// `OTEL_TRACES_SAMPLER` (with `OTEL_TRACES_SAMPLER_ARG` for the ratio samplers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SamplerSetting {
    /// `always_on`.
    AlwaysOn,
    /// `always_off`.
    AlwaysOff,
    /// `traceidratio`: this fraction of trace ids.
    TraceIdRatio(f64),
    /// `parentbased_always_on` (the default).
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`.
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio`: a sampled parent's decision, else this fraction.
    ParentBasedTraceIdRatio(f64),
}

impl SamplerSetting {
    /// Whether a request can ever be sampled: `false` for `always_off`, ratio 0 and their
    /// parent-based forms. Switchyard makes no request span at all then (decided once, at start;
    /// even a client's sampled `traceparent` does not make one).
    pub fn can_sample_requests(self) -> bool {
        match self {
            SamplerSetting::AlwaysOff | SamplerSetting::ParentBasedAlwaysOff => false,
            SamplerSetting::TraceIdRatio(r) | SamplerSetting::ParentBasedTraceIdRatio(r) => r > 0.0,
            SamplerSetting::AlwaysOn | SamplerSetting::ParentBasedAlwaysOn => true,
        }
    }
}

/// Where one signal goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// The full URL the exporter sends to (for HTTP, with the signal's path).
    pub endpoint: String,
    /// The transport.
    pub protocol: Protocol,
}

/// What the `OTEL_*` variables ask for; a signal without an endpoint (or with its exporter
/// `none`) is off.
#[derive(Debug, Clone, PartialEq)]
pub struct OtelSettings {
    /// Traces: sync attempts always, requests as the sampler says.
    pub traces: Option<Export>,
    /// Metrics, pushed every `metric_interval`.
    pub metrics: Option<Export>,
    /// `service.name` (`OTEL_SERVICE_NAME`, else `service.name` of the resource attributes,
    /// else `switchyard`).
    pub service_name: String,
    /// `OTEL_RESOURCE_ATTRIBUTES` other than `service.name`, in the given order.
    pub resource_attributes: Vec<(String, String)>,
    /// The request sampler.
    pub sampler: SamplerSetting,
    /// `OTEL_METRIC_EXPORT_INTERVAL` (milliseconds; 60 s by default).
    pub metric_interval: Duration,
}

impl OtelSettings {
    /// Reads the settings through `var` (the process environment in the binary); `None` when
    /// `OTEL_SDK_DISABLED=true` or no signal has an endpoint. Every value is checked, also of
    /// a signal that is off, so a typo is found before it matters.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, TelemetryError> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let disabled = match get("OTEL_SDK_DISABLED") {
            None => false,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(invalid("OTEL_SDK_DISABLED", &v, "expected true or false")),
            },
        };
        let protocol = |name: &'static str, default: Protocol| match get(name) {
            None => Ok(default),
            Some(v) => match v.trim() {
                "grpc" => Ok(Protocol::Grpc),
                "http/protobuf" => Ok(Protocol::HttpProtobuf),
                "http/json" => Err(invalid(
                    name,
                    &v,
                    "http/json is not supported; use grpc or http/protobuf",
                )),
                _ => Err(invalid(name, &v, "expected grpc or http/protobuf")),
            },
        };
        let common = protocol("OTEL_EXPORTER_OTLP_PROTOCOL", Protocol::HttpProtobuf)?;
        let base = get("OTEL_EXPORTER_OTLP_ENDPOINT")
            .map(|v| endpoint("OTEL_EXPORTER_OTLP_ENDPOINT", &v))
            .transpose()?;
        let signal = |exporter: &'static str,
                      endpoint_var: &'static str,
                      protocol_var: &'static str,
                      path: &str|
         -> Result<Option<Export>, TelemetryError> {
            let protocol = protocol(protocol_var, common)?;
            let own = get(endpoint_var)
                .map(|v| endpoint(endpoint_var, &v))
                .transpose()?;
            let on = match get(exporter) {
                None => true,
                Some(v) => match v.trim() {
                    "otlp" => true,
                    "none" => false,
                    _ => return Err(invalid(exporter, &v, "expected otlp or none")),
                },
            };
            let url = match (own, &base) {
                (Some(own), _) => Some(own),
                (None, Some(base)) if protocol == Protocol::HttpProtobuf => {
                    Some(format!("{}{path}", base.trim_end_matches('/')))
                }
                (None, Some(base)) => Some(base.clone()),
                (None, None) => None,
            };
            let Some(url) = url.filter(|_| on) else {
                return Ok(None);
            };
            if protocol == Protocol::Grpc && url.starts_with("https://") {
                return Err(invalid(
                    if get(endpoint_var).is_some() {
                        endpoint_var
                    } else {
                        "OTEL_EXPORTER_OTLP_ENDPOINT"
                    },
                    &url,
                    "OTLP/gRPC is sent in plain text (no TLS is built in); use an http:// endpoint (a collector beside the server), or OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, which supports https://",
                ));
            }
            Ok(Some(Export {
                endpoint: url,
                protocol,
            }))
        };
        let traces = signal(
            "OTEL_TRACES_EXPORTER",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "/v1/traces",
        )?;
        let metrics = signal(
            "OTEL_METRICS_EXPORTER",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            "/v1/metrics",
        )?;
        let mut resource_attributes = match get("OTEL_RESOURCE_ATTRIBUTES") {
            None => Vec::new(),
            Some(v) => resource_attributes(&v)?,
        };
        let from_resource = resource_attributes
            .iter()
            .position(|(k, _)| k == "service.name")
            .map(|i| resource_attributes.remove(i).1);
        let service_name = get("OTEL_SERVICE_NAME")
            .map(|v| v.trim().to_string())
            .or(from_resource)
            .unwrap_or_else(|| "switchyard".to_string());
        let sampler = sampler(get("OTEL_TRACES_SAMPLER"), get("OTEL_TRACES_SAMPLER_ARG"))?;
        let metric_interval = match get("OTEL_METRIC_EXPORT_INTERVAL") {
            None => Duration::from_secs(60),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Duration::from_millis(ms),
                _ => {
                    return Err(invalid(
                        "OTEL_METRIC_EXPORT_INTERVAL",
                        &v,
                        "expected a whole number of milliseconds above 0, e.g. 60000",
                    ));
                }
            },
        };
        if disabled || (traces.is_none() && metrics.is_none()) {
            return Ok(None);
        }
        Ok(Some(OtelSettings {
            traces,
            metrics,
            service_name,
            resource_attributes,
            sampler,
            metric_interval,
        }))
    }
}

fn invalid(variable: &'static str, value: &str, expected: &str) -> TelemetryError {
    TelemetryError::Invalid {
        variable,
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// An endpoint: an `http://` or `https://` URL with a host (parsed by the `http` crate), without
/// credentials.
fn endpoint(variable: &'static str, value: &str) -> Result<String, TelemetryError> {
    let value = value.trim();
    let expected = "expected an http:// or https:// URL with a host, e.g. http://127.0.0.1:4317 (gRPC) or http://127.0.0.1:4318 (HTTP)";
    let uri: http::Uri = value
        .parse()
        .map_err(|e| invalid(variable, value, &format!("{e}; {expected}")))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    match uri.authority() {
        Some(a) if scheme_ok && !a.host().is_empty() => {
            if a.as_str().contains('@') {
                return Err(invalid(
                    variable,
                    &switchyard_sync::redact_url(value),
                    "credentials in the URL are not sent; put them in OTEL_EXPORTER_OTLP_HEADERS (e.g. authorization=Bearer%20TOKEN)",
                ));
            }
            Ok(value.to_string())
        }
        _ => Err(invalid(variable, value, expected)),
    }
}

/// `key1=value1,key2=value2`, values percent-decoded (W3C Baggage's octets).
fn resource_attributes(value: &str) -> Result<Vec<(String, String)>, TelemetryError> {
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let bad = |why: &str| {
            invalid(
                "OTEL_RESOURCE_ATTRIBUTES",
                value,
                &format!(
                    "{why} in {item:?}; expected key=value pairs separated by commas, e.g. deployment.environment=prod,service.namespace=flags"
                ),
            )
        };
        let (k, v) = item.split_once('=').ok_or_else(|| bad("no '='"))?;
        let k = k.trim();
        if k.is_empty() {
            return Err(bad("an empty key"));
        }
        let v = percent_decode(v.trim()).ok_or_else(|| bad("a bad percent escape"))?;
        out.push((k.to_string(), v));
    }
    Ok(out)
}

/// `%XX` escapes decoded; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn sampler(name: Option<String>, arg: Option<String>) -> Result<SamplerSetting, TelemetryError> {
    let ratio = || -> Result<f64, TelemetryError> {
        match &arg {
            None => Ok(1.0),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(invalid(
                    "OTEL_TRACES_SAMPLER_ARG",
                    v,
                    "expected a ratio from 0 to 1, e.g. 0.25",
                )),
            },
        }
    };
    let Some(name) = name else {
        return Ok(SamplerSetting::ParentBasedAlwaysOn);
    };
    Ok(match name.trim() {
        "always_on" => SamplerSetting::AlwaysOn,
        "always_off" => SamplerSetting::AlwaysOff,
        "traceidratio" => SamplerSetting::TraceIdRatio(ratio()?),
        "parentbased_always_on" => SamplerSetting::ParentBasedAlwaysOn,
        "parentbased_always_off" => SamplerSetting::ParentBasedAlwaysOff,
        "parentbased_traceidratio" => SamplerSetting::ParentBasedTraceIdRatio(ratio()?),
        _ => {
            return Err(invalid(
                "OTEL_TRACES_SAMPLER",
                &name,
                "expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<OtelSettings>, TelemetryError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        OtelSettings::from_env(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    fn error(vars: &[(&str, &str)]) -> String {
        match read(vars) {
            Err(e) => e.to_string(),
            Ok(s) => panic!("accepted: {s:?}"),
        }
    }

    #[test]
    fn off_without_an_endpoint_or_when_disabled() {
        assert_eq!(read(&[]).ok().flatten(), None);
        assert_eq!(read(&[("OTEL_SERVICE_NAME", "x")]).ok().flatten(), None);
        let disabled = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_SDK_DISABLED", "TRUE"),
        ]);
        assert_eq!(disabled.ok().flatten(), None);
    }

    #[test]
    fn http_appends_the_signal_paths_and_grpc_uses_the_endpoint_as_given() {
        let s = read(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")])
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("off"));
        let export = |e: &Option<Export>| e.as_ref().map(|e| (e.endpoint.clone(), e.protocol));
        assert_eq!(
            export(&s.traces),
            Some((
                "http://collector:4318/v1/traces".into(),
                Protocol::HttpProtobuf
            ))
        );
        assert_eq!(
            export(&s.metrics),
            Some((
                "http://collector:4318/v1/metrics".into(),
                Protocol::HttpProtobuf
            ))
        );
        assert_eq!(s.service_name, "switchyard");
        assert_eq!(s.sampler, SamplerSetting::ParentBasedAlwaysOn);
        assert_eq!(s.metric_interval, Duration::from_secs(60));
        let g = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://m:9000/custom",
            ),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
        ])
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("off"));
        assert_eq!(
            export(&g.traces),
            Some(("http://127.0.0.1:4317".into(), Protocol::Grpc))
        );
        // a signal's own endpoint is used as given, with its own protocol
        assert_eq!(
            export(&g.metrics),
            Some(("http://m:9000/custom".into(), Protocol::HttpProtobuf))
        );
    }

    #[test]
    fn one_signal_alone() {
        let s = read(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://t:4318/v1/traces",
        )])
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("off"));
        assert!(s.traces.is_some() && s.metrics.is_none());
        let s = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ])
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("off"));
        assert!(s.traces.is_none() && s.metrics.is_some());
    }

    #[test]
    fn resource_attributes_and_service_name() {
        let s = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=from-resource, deployment.environment=prod,team=a%20b%2Cc",
            ),
        ])
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("off"));
        assert_eq!(s.service_name, "from-resource");
        assert_eq!(
            s.resource_attributes,
            vec![
                ("deployment.environment".to_string(), "prod".to_string()),
                ("team".to_string(), "a b,c".to_string())
            ]
        );
        let s = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=r"),
            ("OTEL_SERVICE_NAME", "flags-eu"),
        ])
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("off"));
        assert_eq!(s.service_name, "flags-eu");
        assert!(s.resource_attributes.is_empty());
    }

    #[test]
    fn samplers_and_whether_requests_can_be_sampled() {
        let with = |name: &str, arg: Option<&str>| {
            let mut v = vec![
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_TRACES_SAMPLER", name),
            ];
            if let Some(a) = arg {
                v.push(("OTEL_TRACES_SAMPLER_ARG", a));
            }
            read(&v)
                .ok()
                .flatten()
                .map(|s| s.sampler)
                .unwrap_or_else(|| panic!("{name}"))
        };
        assert_eq!(
            with("traceidratio", Some("0.25")),
            SamplerSetting::TraceIdRatio(0.25)
        );
        assert_eq!(
            with("parentbased_traceidratio", None),
            SamplerSetting::ParentBasedTraceIdRatio(1.0)
        );
        assert!(!with("traceidratio", Some("0")).can_sample_requests());
        assert!(!with("parentbased_traceidratio", Some("0.0")).can_sample_requests());
        assert!(!with("always_off", None).can_sample_requests());
        assert!(!with("parentbased_always_off", None).can_sample_requests());
        assert!(with("traceidratio", Some("0.001")).can_sample_requests());
        assert!(with("always_on", None).can_sample_requests());
    }

    #[test]
    fn invalid_values_name_the_variable_and_what_is_accepted() {
        let base = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318");
        assert_eq!(
            error(&[base, ("OTEL_TRACES_SAMPLER", "sometimes")]),
            "OTEL_TRACES_SAMPLER=\"sometimes\" is not valid: expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"
        );
        assert_eq!(
            error(&[
                base,
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "1.5")
            ]),
            "OTEL_TRACES_SAMPLER_ARG=\"1.5\" is not valid: expected a ratio from 0 to 1, e.g. 0.25"
        );
        assert_eq!(
            error(&[base, ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]),
            "OTEL_EXPORTER_OTLP_PROTOCOL=\"http/json\" is not valid: http/json is not supported; use grpc or http/protobuf"
        );
        assert_eq!(
            error(&[base, ("OTEL_METRIC_EXPORT_INTERVAL", "10s")]),
            "OTEL_METRIC_EXPORT_INTERVAL=\"10s\" is not valid: expected a whole number of milliseconds above 0, e.g. 60000"
        );
        assert_eq!(
            error(&[base, ("OTEL_SDK_DISABLED", "yes")]),
            "OTEL_SDK_DISABLED=\"yes\" is not valid: expected true or false"
        );
        assert_eq!(
            error(&[base, ("OTEL_METRICS_EXPORTER", "prometheus")]),
            "OTEL_METRICS_EXPORTER=\"prometheus\" is not valid: expected otlp or none"
        );
        assert!(
            error(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")])
                .starts_with("OTEL_EXPORTER_OTLP_ENDPOINT=\"collector:4317\" is not valid: ")
        );
        assert!(
            error(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://c")]).contains("expected an http://")
        );
        assert!(
            error(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:secret@c:4318")])
                .contains("credentials in the URL are not sent")
        );
        assert!(
            !error(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:secret@c:4318")])
                .contains("secret")
        );
        assert!(
            error(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            ])
            .contains("OTLP/gRPC is sent in plain text")
        );
        assert!(error(&[base, ("OTEL_RESOURCE_ATTRIBUTES", "a=1,b")]).contains("no '=' in \"b\""));
        assert!(
            error(&[base, ("OTEL_RESOURCE_ATTRIBUTES", "a=%zz")]).contains("bad percent escape")
        );
        // a bad value of a signal that is off is still refused
        assert!(
            error(&[("OTEL_TRACES_SAMPLER", "nope")]).starts_with("OTEL_TRACES_SAMPLER=\"nope\"")
        );
    }
}
