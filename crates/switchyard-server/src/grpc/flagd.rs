//! flagd's evaluation protocol over Flipt's flags and Flipt's evaluation
//! ([`crate::api::evaluate_single`], the function `/evaluate/v1/*` calls): the mapping shared by
//! `flagd.evaluation.v1` and `v2` (their messages are in `flagd_services`).
//!
//! - Where: `Flagd-Selector: flagSetId=<environment>/<namespace>` (`flagSetId=<namespace>`: the
//!   default environment's namespace); no selector: the default environment's `default`
//!   namespace. An unknown environment is `NOT_FOUND`.
//! - Who: the context's `targetingKey` is the entity id (a random one when absent, as Flipt's
//!   OFREP bridge does); the other context values are Flipt's string context (strings as they
//!   are, numbers and booleans as their JSON text, integral numbers without a fraction).
//! - What: `ResolveBoolean` answers Flipt boolean flags; `ResolveString` a variant flag's variant
//!   key; `ResolveObject` the variant's attachment (a JSON object); `ResolveInt` and
//!   `ResolveFloat` have no faithful mapping and answer `TYPE_MISMATCH`. `ResolveAll` answers the
//!   namespace's boolean flags and enabled variant flags (Flipt's OFREP bulk list; v1 only).
//! - Reasons: `STATIC` for a flag with neither rules nor rollouts (its value depends on no
//!   context, so providers may cache it until a `configuration_change`), else `TARGETING_MATCH`,
//!   `DEFAULT`, `DISABLED` (and `UNKNOWN` for a variant flag with no match and no default).
//! - Errors: flagd's codes as flagd sends them: `FLAG_NOT_FOUND` → `NOT_FOUND`, `TYPE_MISMATCH`
//!   → `INVALID_ARGUMENT`, `PARSE_ERROR` → `DATA_LOSS`, `GENERAL` → `UNKNOWN`.
//! - `EventStream`: `provider_ready` at once, `configuration_change` with
//!   `data.flags.<key>.type` (`write`, `update`, `delete`, from the sync's diff; a flag whose
//!   segment changed is an `update`) for every change of the selected namespace, `keep_alive`
//!   every 20 s; the stream ends when the server shuts down.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use prost_types::value::Kind;
use prost_types::{ListValue, Struct, Value};
use switchyard_core::{
    ChangeKind, Environment, Evaluation, Flag, FlagType, ObjectKind, Reason, RolloutKind, evaluate,
};
use switchyard_sync::ChangeEvent;
use tokio::sync::{broadcast, watch};
use tonic::Status;
use tonic::metadata::MetadataMap;

use super::pb::flagd as pb;
use crate::api::{Query, RequestContext, StreamGuard, entity, evaluate_single};
use crate::error::ApiError;
use crate::state::AppState;

/// How often an open event stream says `keep_alive` (flagd's interval).
const KEEP_ALIVE: Duration = Duration::from_secs(20);

/// The service over the server's state.
pub(super) struct Flagd {
    state: AppState,
}

impl Flagd {
    pub(super) fn new(state: AppState) -> Self {
        Flagd { state }
    }
}

/// The environment (`None`: the default one) and namespace a call evaluates in.
struct Selected<'m> {
    environment: Option<&'m str>,
    namespace: &'m str,
}

/// Reads `Flagd-Selector`.
fn selected(metadata: &MetadataMap) -> Result<Selected<'_>, Status> {
    let none = Selected {
        environment: None,
        namespace: "default",
    };
    let Some(value) = metadata.get("flagd-selector") else {
        return Ok(none);
    };
    let value = value
        .to_str()
        .map_err(|_| Status::invalid_argument("the Flagd-Selector header is not ASCII text"))?
        .trim();
    if value.is_empty() {
        return Ok(none);
    }
    let Some(set) = value.strip_prefix("flagSetId=") else {
        return Err(Status::invalid_argument(format!(
            "unsupported Flagd-Selector {value:?}: Switchyard selects with flagSetId=<environment>/<namespace> (or flagSetId=<namespace> in the default environment)"
        )));
    };
    Ok(match set.split_once('/') {
        Some((env, ns)) => Selected {
            environment: Some(env).filter(|e| !e.is_empty()),
            namespace: if ns.is_empty() { "default" } else { ns },
        },
        None if set.is_empty() => none,
        None => Selected {
            environment: None,
            namespace: set,
        },
    })
}

/// A context value as Flipt's string context holds it.
fn text(v: &Value) -> Cow<'_, str> {
    match &v.kind {
        Some(Kind::StringValue(s)) => Cow::Borrowed(s),
        None | Some(Kind::NullValue(_)) => Cow::Borrowed(""),
        Some(Kind::BoolValue(b)) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Some(Kind::NumberValue(n)) => Cow::Owned(number(*n).to_string()),
        Some(_) => Cow::Owned(json(v).to_string()),
    }
}

/// A number as JSON: integral values without a fraction (`3`, not `3.0`).
fn number(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// A protobuf value as JSON.
fn json(v: &Value) -> serde_json::Value {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
        Some(Kind::NumberValue(n)) => number(*n),
        Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
        Some(Kind::ListValue(l)) => l.values.iter().map(json).collect(),
        Some(Kind::StructValue(s)) => {
            serde_json::Value::Object(s.fields.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
    }
}

/// A JSON value as a protobuf value.
fn proto(v: &serde_json::Value) -> Value {
    let kind = match v {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(a) => Kind::ListValue(ListValue {
            values: a.iter().map(proto).collect(),
        }),
        serde_json::Value::Object(o) => Kind::StructValue(object(o)),
    };
    Value { kind: Some(kind) }
}

fn object(o: &serde_json::Map<String, serde_json::Value>) -> Struct {
    Struct {
        fields: o.iter().map(|(k, v)| (k.clone(), proto(v))).collect(),
    }
}

/// The evaluation context of a request, borrowing its strings.
fn context(s: Option<&Struct>) -> RequestContext<'_> {
    RequestContext::from_pairs(
        s.map(|s| {
            s.fields
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), text(v)))
                .collect()
        })
        .unwrap_or_default(),
    )
}

/// flagd's reason for an evaluation of `flag`.
fn reason(flag: &Flag, r: Reason) -> &'static str {
    if r == Reason::Default && flag.rules.is_empty() && flag.rollouts.is_empty() {
        return "STATIC";
    }
    crate::ofrep_pieces::reason(r)
}

/// `TYPE_MISMATCH`.
fn type_mismatch(message: String) -> Status {
    Status::invalid_argument(message)
}

/// A resolution: the value, the variant (`""` when none applies) and flagd's reason.
pub(super) struct Resolved<T> {
    /// The value.
    pub(super) value: T,
    /// The variant key (`"true"`/`"false"` for a boolean flag).
    pub(super) variant: String,
    /// `STATIC`, `TARGETING_MATCH`, `DEFAULT`, `DISABLED` or `UNKNOWN`.
    pub(super) reason: &'static str,
}

impl Flagd {
    /// One flag of type `want` in the selected namespace, by Flipt's evaluation; `value` turns
    /// the evaluation into the answer's value.
    fn resolve<T>(
        &self,
        metadata: &MetadataMap,
        flag_key: &str,
        ctx: Option<&Struct>,
        want: FlagType,
        value: impl FnOnce(&Flag, &Evaluation<'_>) -> Result<T, Status>,
    ) -> Result<Resolved<T>, Status> {
        let at = selected(metadata)?;
        let ctx = context(ctx);
        let entity = entity(&ctx);
        let q = Query {
            environment_key: "",
            environment_header: at.environment.or(Some("default")),
            namespace_key: at.namespace,
            flag_key,
            entity_id: &entity,
            context: &ctx,
        };
        let done = evaluate_single(&self.state, &q, want, |a| {
            let (r, variant) = match &a.eval {
                Evaluation::Boolean(b) => (b.reason, b.enabled.to_string()),
                Evaluation::Variant(v) => (v.reason, v.variant_key().to_string()),
            };
            value(a.flag, &a.eval).map(|value| Resolved {
                value,
                variant,
                reason: reason(a.flag, r),
            })
        })
        .map_err(flagd_error)?;
        done.value
    }

    /// `TYPE_MISMATCH` for a flag that exists (`ResolveInt`, `ResolveFloat`), else its lookup
    /// error.
    pub(super) fn no_number(&self, metadata: &MetadataMap, flag_key: &str, asked: &str) -> Status {
        let found = selected(metadata).and_then(|at| {
            let env = self.environment(at.environment)?;
            env.find_flag(at.namespace, flag_key)
                .map(|f| f.flag_type)
                .map_err(|e| flagd_error(e.into()))
        });
        match found {
            Ok(t) => type_mismatch(format!(
                "flag \"{flag_key}\" is a Flipt {} flag: Flipt has no {asked} flags (resolve it as a {})",
                match t {
                    FlagType::Boolean => "boolean",
                    FlagType::Variant => "variant",
                },
                match t {
                    FlagType::Boolean => "boolean",
                    FlagType::Variant => "string (the variant key) or an object (its attachment)",
                },
            )),
            Err(s) => s,
        }
    }

    /// The selected environment's snapshot.
    fn environment(&self, environment: Option<&str>) -> Result<Arc<Environment>, Status> {
        let key = self
            .state
            .evaluation_environment_named("", environment.or(Some("default")))?;
        Ok(self.state.snapshot(key)?)
    }
}

/// A Flipt error as flagd's: the same gRPC code (not found, invalid argument, unavailable),
/// the message prefixed with flagd's error code.
fn flagd_error(e: ApiError) -> Status {
    let status: Status = e.into();
    match status.code() {
        tonic::Code::NotFound => Status::not_found(format!("FLAG_NOT_FOUND: {}", status.message())),
        tonic::Code::InvalidArgument => {
            type_mismatch(format!("TYPE_MISMATCH: {}", status.message()))
        }
        _ => status,
    }
}

/// One event of an event stream: its `type` and `data`.
pub(super) struct Event {
    /// `provider_ready`, `configuration_change` or `keep_alive`.
    pub(super) kind: &'static str,
    /// `configuration_change`'s changed flags.
    pub(super) data: Option<Struct>,
}

/// An event stream as both protocol versions send it.
pub(super) type Events = Pin<Box<dyn Stream<Item = Event> + Send>>;

/// What every protocol version answers, whatever its messages: the resolutions and the events.
impl Flagd {
    /// `ResolveBoolean`: a Flipt boolean flag.
    pub(super) fn boolean(
        &self,
        metadata: &MetadataMap,
        flag_key: &str,
        ctx: Option<&Struct>,
    ) -> Result<Resolved<bool>, Status> {
        self.resolve(metadata, flag_key, ctx, FlagType::Boolean, |_, e| match e {
            Evaluation::Boolean(b) => Ok(b.enabled),
            Evaluation::Variant(_) => Err(type_mismatch("not a boolean flag".into())),
        })
    }

    /// `ResolveString`: a Flipt variant flag's variant key (`""` when no variant applies).
    pub(super) fn string(
        &self,
        metadata: &MetadataMap,
        flag_key: &str,
        ctx: Option<&Struct>,
    ) -> Result<Resolved<String>, Status> {
        self.resolve(metadata, flag_key, ctx, FlagType::Variant, |_, e| match e {
            Evaluation::Variant(v) => Ok(v.variant_key().to_string()),
            Evaluation::Boolean(_) => Err(type_mismatch("not a variant flag".into())),
        })
    }

    /// `ResolveObject`: the variant's attachment object (empty when no variant applies, so the
    /// provider answers its default).
    pub(super) fn object(
        &self,
        metadata: &MetadataMap,
        flag_key: &str,
        ctx: Option<&Struct>,
    ) -> Result<Resolved<Struct>, Status> {
        self.resolve(
            metadata,
            flag_key,
            ctx,
            FlagType::Variant,
            |flag, e| match e {
                Evaluation::Variant(v) if v.variant_key().is_empty() => Ok(Struct::default()),
                Evaluation::Variant(v) => {
                    attachment_object(&flag.key, v.variant_key(), v.variant_attachment())
                }
                Evaluation::Boolean(_) => Err(type_mismatch("not a variant flag".into())),
            },
        )
    }

    /// `ResolveAll` (v1): the namespace's boolean flags and enabled variant flags.
    pub(super) fn all(
        &self,
        metadata: &MetadataMap,
        ctx: Option<&Struct>,
    ) -> Result<std::collections::HashMap<String, pb::AnyFlag>, Status> {
        let at = selected(metadata)?;
        let env = self.environment(at.environment)?;
        let ctx = context(ctx);
        let entity = entity(&ctx);
        let mut flags = std::collections::HashMap::new();
        if let Some(ns) = env.namespace(at.namespace) {
            for f in ns
                .flags
                .iter()
                .filter(|f| f.flag_type == FlagType::Boolean || f.enabled)
            {
                flags.insert(f.key.clone(), any_flag(f, &evaluate(f, &entity, &ctx)));
            }
        }
        Ok(flags)
    }

    /// `EventStream`: the selected namespace's events.
    pub(super) fn events(&self, metadata: &MetadataMap) -> Result<Events, Status> {
        let at = selected(metadata)?;
        let key = self
            .state
            .evaluation_environment_named("", at.environment.or(Some("default")))?
            .to_string();
        Ok(Box::pin(events(
            self.state.clone(),
            key,
            at.namespace.to_string(),
        )))
    }
}

/// A variant's attachment as an object, or `TYPE_MISMATCH` saying what it is.
fn attachment_object(flag: &str, variant: &str, attachment: &str) -> Result<Struct, Status> {
    match serde_json::from_str::<serde_json::Value>(attachment) {
        Ok(serde_json::Value::Object(o)) => Ok(object(&o)),
        _ if variant.is_empty() => Err(type_mismatch(format!(
            "TYPE_MISMATCH: flag \"{flag}\" answered no variant, so there is no attachment object"
        ))),
        _ if attachment.is_empty() || attachment == "null" => Err(type_mismatch(format!(
            "TYPE_MISMATCH: variant \"{variant}\" of flag \"{flag}\" has no attachment; ResolveObject answers a variant's attachment object"
        ))),
        _ => Err(type_mismatch(format!(
            "TYPE_MISMATCH: the attachment of variant \"{variant}\" of flag \"{flag}\" is not a JSON object"
        ))),
    }
}

/// One flag of a `ResolveAll` answer: booleans as `bool_value`, variant flags as their variant
/// key (`string_value`).
fn any_flag(flag: &Flag, eval: &Evaluation<'_>) -> pb::AnyFlag {
    use pb::any_flag::Value as V;
    let (r, variant, value) = match eval {
        Evaluation::Boolean(b) => (b.reason, b.enabled.to_string(), V::BoolValue(b.enabled)),
        Evaluation::Variant(v) => (
            v.reason,
            v.variant_key().to_string(),
            V::StringValue(v.variant_key().to_string()),
        ),
    };
    pb::AnyFlag {
        reason: reason(flag, r).to_string(),
        variant,
        value: Some(value),
        metadata: None,
    }
}

fn event(kind: &'static str, data: Option<Struct>) -> Event {
    Event { kind, data }
}

/// `configuration_change`'s data: `{"flags": {"<key>": {"type": "<write|update|delete>"}}}`.
fn change_data(flags: &BTreeMap<String, &'static str>) -> Struct {
    let flags = Struct {
        fields: flags
            .iter()
            .map(|(k, t)| {
                let kind = Struct {
                    fields: [(
                        "type".to_string(),
                        Value {
                            kind: Some(Kind::StringValue(t.to_string())),
                        },
                    )]
                    .into(),
                };
                (
                    k.clone(),
                    Value {
                        kind: Some(Kind::StructValue(kind)),
                    },
                )
            })
            .collect(),
    };
    Struct {
        fields: [(
            "flags".to_string(),
            Value {
                kind: Some(Kind::StructValue(flags)),
            },
        )]
        .into(),
    }
}

/// Whether `flag` names segment `key` in a rule or a rollout.
fn uses_segment(flag: &Flag, key: &str) -> bool {
    flag.rules
        .iter()
        .any(|r| r.segments.iter().any(|s| s.key == key))
        || flag.rollouts.iter().any(|r| match &r.kind {
            RolloutKind::Segment { segments, .. } => segments.iter().any(|s| s.key == key),
            _ => false,
        })
}

/// The flags of namespace `ns` that `event` changed, with flagd's notification type.
fn changed_flags(
    event: &ChangeEvent,
    ns: &str,
    now: Option<&Environment>,
) -> BTreeMap<String, &'static str> {
    let mut flags = BTreeMap::new();
    for c in event.diff.changes.iter().filter(|c| c.namespace == ns) {
        match c.object {
            ObjectKind::Flag => {
                let kind = match c.kind {
                    ChangeKind::Added => "write",
                    ChangeKind::Removed => "delete",
                    ChangeKind::Changed => "update",
                };
                flags.insert(c.key.clone(), kind);
            }
            ObjectKind::Segment => {
                let Some(namespace) = now.and_then(|e| e.namespace(ns)) else {
                    continue;
                };
                for f in namespace.flags.iter().filter(|f| uses_segment(f, &c.key)) {
                    flags.entry(f.key.clone()).or_insert("update");
                }
            }
        }
    }
    flags
}

struct Cursor {
    state: AppState,
    env: String,
    ns: String,
    changes: broadcast::Receiver<ChangeEvent>,
    stop: watch::Receiver<bool>,
    keep_alive: tokio::time::Interval,
    ready_sent: bool,
    _guard: StreamGuard,
}

/// `provider_ready`, then `configuration_change` for every change of `ns` in `env` and
/// `keep_alive` every 20 s, until the server stops.
fn events(state: AppState, env: String, ns: String) -> impl Stream<Item = Event> + Send {
    let start = tokio::time::Instant::now() + KEEP_ALIVE;
    let mut keep_alive = tokio::time::interval_at(start, KEEP_ALIVE);
    keep_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // subscribed before `provider_ready` is sent: no change after it is missed
    let cursor = Cursor {
        changes: state.sync().subscribe(),
        stop: state.stop_signal(),
        _guard: StreamGuard::new(state.clone()),
        state,
        env,
        ns,
        keep_alive,
        ready_sent: false,
    };
    futures_util::stream::unfold(cursor, |mut c| async move {
        if !c.ready_sent {
            c.ready_sent = true;
            return Some((event("provider_ready", None), c));
        }
        loop {
            enum Next {
                Stop,
                KeepAlive,
                Change(Result<ChangeEvent, broadcast::error::RecvError>),
            }
            let next = tokio::select! {
                _ = c.stop.wait_for(|s| *s) => Next::Stop,
                _ = c.keep_alive.tick() => Next::KeepAlive,
                r = c.changes.recv() => Next::Change(r),
            };
            let flags = match next {
                Next::Stop => return None,
                Next::KeepAlive => return Some((event("keep_alive", None), c)),
                Next::Change(Ok(e)) if e.environment == c.env => {
                    let now = c.state.sync().environment(&c.env);
                    changed_flags(&e, &c.ns, now.as_deref())
                }
                Next::Change(Ok(_)) => continue,
                // missed events: every flag of the namespace may have changed
                Next::Change(Err(broadcast::error::RecvError::Lagged(_))) => c
                    .state
                    .sync()
                    .environment(&c.env)
                    .and_then(|e| e.namespace(&c.ns).cloned())
                    .map(|ns| ns.flags.iter().map(|f| (f.key.clone(), "update")).collect())
                    .unwrap_or_default(),
                Next::Change(Err(broadcast::error::RecvError::Closed)) => return None,
            };
            if flags.is_empty() {
                continue;
            }
            let data = change_data(&flags);
            return Some((event("configuration_change", Some(data)), c));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_selector(v: &str) -> MetadataMap {
        let mut m = MetadataMap::new();
        m.insert("flagd-selector", v.parse().expect("ascii"));
        m
    }

    #[test]
    fn the_selector_names_environment_and_namespace() {
        let pick = |m: &MetadataMap| {
            selected(m)
                .map(|s| (s.environment.map(str::to_string), s.namespace.to_string()))
                .map_err(|e| e.code())
        };
        let none = MetadataMap::new();
        assert_eq!(pick(&none), Ok((None, "default".into())));
        let both = with_selector("flagSetId=prod/payments");
        assert_eq!(pick(&both), Ok((Some("prod".into()), "payments".into())));
        let ns = with_selector("flagSetId=payments");
        assert_eq!(pick(&ns), Ok((None, "payments".into())));
        let empty = with_selector("flagSetId=");
        assert_eq!(pick(&empty), Ok((None, "default".into())));
        let env_only = with_selector("flagSetId=prod/");
        assert_eq!(pick(&env_only), Ok((Some("prod".into()), "default".into())));
        let source = with_selector("source=flags.json");
        assert_eq!(pick(&source), Err(tonic::Code::InvalidArgument));
    }

    #[test]
    fn context_values_become_flipts_strings() {
        let v = |kind| Value { kind: Some(kind) };
        assert_eq!(text(&v(Kind::NumberValue(3.0))), "3");
        assert_eq!(text(&v(Kind::NumberValue(2.5))), "2.5");
        assert_eq!(text(&v(Kind::BoolValue(true))), "true");
        assert_eq!(text(&v(Kind::NullValue(0))), "");
        assert_eq!(text(&v(Kind::StringValue("x".into()))), "x");
        let list = Kind::ListValue(ListValue {
            values: vec![v(Kind::NumberValue(1.0)), v(Kind::StringValue("a".into()))],
        });
        assert_eq!(text(&v(list)), r#"[1,"a"]"#);
    }

    #[test]
    fn change_events_carry_flagds_notification_types() {
        use switchyard_core::{Change, Diff};
        let change = |object, key: &str, kind| Change {
            namespace: "default".into(),
            object,
            key: key.into(),
            kind,
            details: Vec::new(),
        };
        let event = ChangeEvent {
            environment: "default".into(),
            old_digest: "a".into(),
            new_digest: "b".into(),
            commit: None,
            diff: Diff {
                changes: vec![
                    change(ObjectKind::Flag, "new", ChangeKind::Added),
                    change(ObjectKind::Flag, "gone", ChangeKind::Removed),
                    change(ObjectKind::Flag, "moved", ChangeKind::Changed),
                    Change {
                        namespace: "other".into(),
                        ..change(ObjectKind::Flag, "elsewhere", ChangeKind::Changed)
                    },
                ],
            },
        };
        let flags = changed_flags(&event, "default", None);
        let got: Vec<(&str, &str)> = flags.iter().map(|(k, t)| (k.as_str(), *t)).collect();
        assert_eq!(
            got,
            [("gone", "delete"), ("moved", "update"), ("new", "write")]
        );
    }
}
