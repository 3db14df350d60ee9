//! OpenFeature Remote Evaluation Protocol: single and bulk evaluation, bulk ETags, and the SSE
//! stream that tells static-context clients to refetch.
//!
//! Follows Flipt v2's OFREP bridge (reference §4.3): namespace from `X-Flipt-Namespace`,
//! environment from `X-Flipt-Environment`, entity id from `context.targetingKey` (a random UUID
//! when absent, as Flipt does), variant flags answer their variant key as a string value, boolean
//! flags a bool with variant `"true"`/`"false"`. Errors are Flipt's: the gRPC code decides the
//! `errorCode` (invalid argument `INVALID_CONTEXT`, not found `FLAG_NOT_FOUND`); `key` is on
//! every single-flag error (Flipt sends it only for a failed flag lookup) and on a bulk error only
//! where a flag lookup failed. Unlike Flipt, context values of any JSON
//! type are accepted (numbers and booleans become their JSON text), and the bulk response's stream
//! URL carries the configured public origin (`ServerConfig::public_url`) when there is one.
//!
//! The evaluation is shared with the gRPC `flipt.ofrep.OFREPService` (`grpc::ofrep`):
//! [`evaluate_in`] answers one flag and [`bulk_plan`] decides what a bulk request lists; each
//! encoding only writes the answer.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use switchyard_core::{Context, Environment, Flag, Namespace, evaluate};

use super::context::{OfrepBody, RequestContext};
use crate::body;
use crate::commit_header::X_SWITCHYARD_COMMIT;
use crate::error::OfrepError;
use crate::ofrep_pieces::{self, BulkPieces};
use crate::responses::OfrepSuccess;
use crate::state::AppState;

/// The `X-Flipt-Namespace` header's value.
fn namespace_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-flipt-namespace")
        .and_then(|v| v.to_str().ok())
}

/// Where an OFREP request evaluates, from its `X-Flipt-Environment` and `X-Flipt-Namespace`
/// values alone (HTTP headers or gRPC metadata, as Flipt's bridge): the environment (else the
/// default) with its snapshot, and the namespace (absent or empty: `default`); `key`, the flag
/// asked for, goes on a snapshot error.
pub(crate) fn scope<'a>(
    state: &'a AppState,
    env_header: Option<&str>,
    ns_header: Option<&'a str>,
    key: Option<&str>,
) -> Result<(&'a str, Arc<Environment>, &'a str), OfrepError> {
    let env_key = state
        .evaluation_environment_named("", env_header)
        .map_err(|e| OfrepError::from_api(None, e))?;
    let env = state
        .snapshot(env_key)
        .map_err(|e| OfrepError::from_api(key, e))?;
    let ns = ns_header.filter(|s| !s.is_empty()).unwrap_or("default");
    Ok((env_key, env, ns))
}

/// [`scope`] from HTTP headers.
fn scope_of<'a>(
    state: &'a AppState,
    headers: &'a HeaderMap,
    key: Option<&str>,
) -> Result<(&'a str, Arc<Environment>, &'a str), OfrepError> {
    scope(
        state,
        super::environment_header(headers),
        namespace_header(headers),
        key,
    )
}

/// The evaluation context as Flipt's string map, borrowed from the body.
fn context(body: &[u8]) -> Result<RequestContext<'_>, OfrepError> {
    let invalid = |e: String| OfrepError::bad_request(None, "INVALID_CONTEXT", e);
    let OfrepBody { context } = body::parse(body).map_err(invalid)?;
    Ok(context)
}

/// The entity id: `targetingKey` when the context has one (even empty, as Flipt's
/// `getTargetingKey`), else a random UUID.
pub(crate) fn entity<C: Context + ?Sized>(ctx: &C) -> Cow<'_, str> {
    match ctx.get("targetingKey") {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(uuid::Uuid::new_v4().to_string()),
    }
}

/// `POST /ofrep/v1/evaluate/flags/{key}`.
pub(crate) async fn evaluate_flag(
    State(state): State<AppState>,
    Path(key): Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match body::read(body, &state).await {
        Ok(b) => b,
        Err(e) => return OfrepError::from_api(Some(&key), e).into_response(),
    };
    match evaluate_one(&state, &parts.headers, &key, &bytes) {
        Ok(r) => r,
        // Unlike Flipt, every single-flag error names the flag: OFREP's `evaluationFailure`
        // requires `key`, and OpenFeature's OFREP providers report one without it as `GENERAL`.
        Err(mut e) => {
            if e.key.is_none() && !key.is_empty() {
                e.key = Some(key);
            }
            e.into_response()
        }
    }
}

/// A flag as Flipt's bridge looks it up: an empty key is `flag key was not provided` (400, no
/// `key`), an unknown flag or namespace `flag was not found <key>` (404).
fn find<'e>(env: &'e Environment, ns: &str, key: &str) -> Result<&'e Flag, OfrepError> {
    if key.is_empty() {
        return Err(OfrepError::bad_request(
            None,
            "INVALID_CONTEXT",
            "flag key was not provided",
        ));
    }
    env.find_flag(ns, key)
        .map_err(|_| OfrepError::not_found(key, format!("flag was not found {key}")))
}

/// A single-flag answer in some encoding, with the serving commit's header value.
pub(crate) struct FlagAnswer<T> {
    /// The encoded answer.
    pub(crate) value: T,
    /// `X-Switchyard-Commit`, when the snapshot has a commit.
    pub(crate) commit: Option<HeaderValue>,
}

/// One flag's OFREP evaluation over a decoded context, for both encodings: the environment and
/// namespace from the header values ([`scope`]), Flipt's lookup errors, the entity
/// (`targetingKey`, else a random UUID), the core evaluation and its metrics; `encode` writes
/// the answer, the serving commit in its metadata.
pub(crate) fn evaluate_in<C: Context + ?Sized, T>(
    state: &AppState,
    env_header: Option<&str>,
    ns_header: Option<&str>,
    key: &str,
    ctx: &C,
    encode: impl FnOnce(OfrepSuccess<'_>) -> T,
) -> Result<FlagAnswer<T>, OfrepError> {
    let started = std::time::Instant::now();
    // Flipt's order (after the body): the environment, the key, the flag.
    let entity = entity(ctx);
    let (env_key, env, ns) = scope(state, env_header, ns_header, Some(key))?;
    let flag = find(&env, ns, key)?;
    let eval = evaluate(flag, &entity, ctx);
    state.metrics().evaluation(
        env_key,
        ns,
        key,
        OfrepSuccess::core_reason(&eval),
        started.elapsed(),
    );
    let commit = state.commit_headers().get(env_key, &env);
    let sha = commit.as_ref().and_then(|v| v.to_str().ok());
    let value = encode(OfrepSuccess::new(key, &eval).with_commit(sha));
    Ok(FlagAnswer { value, commit })
}

fn evaluate_one(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    bytes: &[u8],
) -> Result<Response, OfrepError> {
    let ctx = context(bytes)?;
    let answer = evaluate_in(
        state,
        super::environment_header(headers),
        namespace_header(headers),
        key,
        &ctx,
        |a| Json(a).into_response(),
    )?;
    let mut response = answer.value;
    if let Some(v) = answer.commit {
        response.headers_mut().insert(X_SWITCHYARD_COMMIT, v);
    }
    Ok(response)
}

/// Whether an `If-None-Match` list matches `etag` (weak comparison, `*` matches anything).
pub(crate) fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    let strip = |s: &str| {
        s.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_string()
    };
    let want = strip(etag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t == "*" || strip(t) == want
            })
        })
}

/// `POST /ofrep/v1/evaluate/flags`: every boolean flag and every enabled variant flag (or the
/// keys listed in `context.flags`), with an ETag over the evaluated results.
pub(crate) async fn evaluate_flags(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let bytes = match body::read(body, &state).await {
        Ok(b) => b,
        Err(e) => return OfrepError::from_api(None, e).into_response(),
    };
    let ctx = match context(&bytes) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let (env_key, env, ns_key) = match scope_of(&state, &headers, None) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let large = env
        .namespace(ns_key)
        .is_some_and(|n| n.flags.len() > BLOCKING_BULK_FLAGS);
    if !large {
        let entity = entity(&ctx);
        return bulk(&state, &headers, &env, env_key, ns_key, &ctx, &entity);
    }
    // thousands of evaluations and a body of megabytes: not on an async worker
    let ctx = ctx.into_owned();
    let (env_key, ns_key) = (env_key.to_string(), ns_key.to_string());
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let entity = entity(&ctx);
        bulk(&state, &headers, &env, &env_key, &ns_key, &ctx, &entity)
    })
    .await
    .unwrap_or_else(|e| {
        OfrepError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            key: None,
            code: "GENERAL",
            details: format!("bulk evaluation failed: {e}"),
        }
        .into_response()
    })
}

/// The flags a bulk request's `flags` context value selects, as indexes into the namespace's
/// flags in the order written: Flipt splits the value at every comma (no trimming; a repeated
/// key is evaluated again) and fails at the first key that is empty or not found. `None` when the
/// context has no `flags`.
fn selected<C: Context + ?Sized>(
    env: &Environment,
    ns_key: &str,
    ctx: &C,
) -> Result<Option<Vec<usize>>, OfrepError> {
    let Some(list) = ctx.get("flags") else {
        return Ok(None);
    };
    let ns = env.namespace(ns_key);
    list.split(',')
        .map(|key| {
            find(env, ns_key, key)?;
            ns.and_then(|n| n.flag_position(key))
                .ok_or_else(|| OfrepError::not_found(key, format!("flag was not found {key}")))
        })
        .collect::<Result<Vec<usize>, OfrepError>>()
        .map(Some)
}

/// Namespaces with more flags than this are bulk-evaluated on a blocking thread.
pub(crate) const BLOCKING_BULK_FLAGS: usize = 1000;

/// What a bulk request answers, decided once for both encodings.
pub(crate) enum BulkPlan<'e> {
    /// Flags of `ns`: the indexes `selection` (the `flags` context value's keys, as written),
    /// else the pieces' listing (boolean and enabled variant flags, sorted by key).
    Flags {
        /// The namespace.
        ns: &'e Namespace,
        /// Its bulk pieces (the listing, and the HTTP body's pieces).
        pieces: Arc<BulkPieces>,
        /// The `flags` selection.
        selection: Option<Vec<usize>>,
    },
    /// The absent `default` namespace: no flags (Flipt's snapshot always has `default`).
    Empty,
}

impl BulkPlan<'_> {
    /// The indexes of the flags answered, in the answer's order.
    pub(crate) fn indexes(&self) -> &[usize] {
        match self {
            BulkPlan::Flags {
                pieces, selection, ..
            } => selection.as_deref().unwrap_or(pieces.listed()),
            BulkPlan::Empty => &[],
        }
    }
}

/// The bulk answer's flags for `ctx` in namespace `ns_key` of `env` (Flipt's
/// `OFREPFlagEvaluationBulk`): the `flags` selection's errors first, then an unknown namespace
/// (other than `default`) is `FLAG_NOT_FOUND` without a key.
pub(crate) fn bulk_plan<'e, C: Context + ?Sized>(
    state: &AppState,
    env: &'e Environment,
    env_key: &str,
    ns_key: &str,
    ctx: &C,
) -> Result<BulkPlan<'e>, OfrepError> {
    let selection = selected(env, ns_key, ctx)?;
    match env.namespace(ns_key) {
        Some(ns) => Ok(BulkPlan::Flags {
            ns,
            pieces: state
                .bulk_pieces()
                .get(env_key, ns, state.config().public_origin()),
            selection,
        }),
        None if ns_key == "default" => Ok(BulkPlan::Empty),
        None => Err(OfrepError {
            status: StatusCode::NOT_FOUND,
            key: None,
            code: "FLAG_NOT_FOUND",
            details: format!("namespace \"{ns_key}\" not found"),
        }),
    }
}

/// The bulk answer: every selected flag evaluated, the ETag, 304 on a match.
fn bulk<C: Context + ?Sized>(
    state: &AppState,
    headers: &HeaderMap,
    env: &Environment,
    env_key: &str,
    ns_key: &str,
    ctx: &C,
    entity: &str,
) -> Response {
    let origin = state.config().public_origin();
    let answer = match bulk_plan(state, env, env_key, ns_key, ctx) {
        Ok(BulkPlan::Flags {
            ns,
            pieces,
            selection,
        }) => {
            let answer = pieces.write(ns, env_key, env, selection.as_deref(), entity, ctx);
            state.metrics().bulk_request(env_key, ns_key, answer.flags);
            answer
        }
        Ok(BulkPlan::Empty) => ofrep_pieces::empty(
            env_key,
            ns_key,
            &env.digest,
            env.revision.as_deref(),
            origin,
        ),
        Err(e) => return e.into_response(),
    };
    let etag_value =
        HeaderValue::from_str(&answer.etag).unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""));
    let commit = state.commit_headers();
    if if_none_match(headers, &answer.etag) {
        let response = (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response();
        return commit.on(response, env_key, env);
    }
    let response = (
        StatusCode::OK,
        [
            (header::ETAG, etag_value),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        answer.body,
    )
        .into_response();
    commit.on(response, env_key, env)
}

/// `GET /ofrep/v1/_stream/{env}/{ns}/events`: `refetchEvaluation` on every change of the namespace.
pub(crate) async fn stream(
    State(state): State<AppState>,
    Path((env, ns)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let accepts = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream") || a.contains("*/*"));
    if !accepts {
        return OfrepError {
            status: StatusCode::NOT_ACCEPTABLE,
            key: None,
            code: "GENERAL",
            details: "text/event-stream is the only supported content type for this endpoint"
                .to_string(),
        }
        .into_response();
    }
    let Some(rx) = state.sync().watch(&env) else {
        return OfrepError {
            status: StatusCode::NOT_FOUND,
            key: None,
            code: "GENERAL",
            details: format!("environment \"{env}\" not found"),
        }
        .into_response();
    };
    // No announcement of the digest the client already has: only real changes (issue 9).
    let skip = super::stream::client_has_current(&rx, &ns, &headers);
    let events = super::stream::namespace_changes(state.clone(), rx, ns, skip)
        .map(|digest| Ok::<_, std::convert::Infallible>(super::stream::refetch(&digest)));
    Sse::new(events.chain(super::stream::goodbye(&state)))
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[cfg(test)]
mod tests {
    //! The bulk body written from pieces against a `serde_json::Value` path built from the
    //! single-flag answers, the oracle: same bytes, same ETag, over fixtures and a generated
    //! namespace.

    use std::collections::HashMap;
    use std::fmt::Write as _;

    use serde_json::json;
    use switchyard_core::{
        Environment, Flag, FlagType, Limits, SourceFile, compile_environment, evaluate,
    };

    use crate::ofrep_pieces::{BulkPieces, empty};
    use crate::responses::OfrepSuccess;

    /// The bulk body built as a `serde_json::Value` from the single-flag answers
    /// (`None` where it answers an error): Flipt's selection and order (`OFREPFlagEvaluationBulk`:
    /// the `flags` list as written, else the listed flags sorted by key).
    fn oracle(
        env: &Environment,
        env_key: &str,
        ns_key: &str,
        ctx: &HashMap<String, String>,
        entity: &str,
        origin: Option<&str>,
    ) -> Option<serde_json::Value> {
        let ns = env.namespace(ns_key);
        let chosen: Vec<&Flag> = match ctx.get("flags") {
            Some(list) => list
                .split(',')
                .map(|k| ns.and_then(|n| n.flag(k)).map(|f| &**f))
                .collect::<Option<Vec<_>>>()?,
            None if ns.is_none() && ns_key != "default" => return None,
            None => {
                let mut v: Vec<&Flag> = ns
                    .map(|n| n.flags.iter().map(|f| &**f).collect())
                    .unwrap_or_default();
                v.retain(|f| f.flag_type == FlagType::Boolean || f.enabled);
                v.sort_by(|a, b| a.key.cmp(&b.key));
                v
            }
        };
        let mut flags = Vec::new();
        for flag in chosen {
            let eval = evaluate(flag, entity, ctx);
            let item = serde_json::to_value(OfrepSuccess::new(&flag.key, &eval)).ok()?;
            flags.push(item);
        }
        let stream_path = format!("/ofrep/v1/_stream/{}/{}/events", env_key, ns_key);
        let mut stream = json!({"type": "sse", "endpoint": {"requestUri": stream_path}});
        if let Some(origin) = origin {
            stream["endpoint"]["origin"] = json!(origin);
        }
        Some(json!({"flags": flags, "eventStreams": [stream]}))
    }

    /// The served path, as `bulk` takes it.
    fn pieces(
        env: &Environment,
        env_key: &str,
        ns_key: &str,
        ctx: &HashMap<String, String>,
        entity: &str,
        origin: Option<&str>,
    ) -> Option<(String, Vec<u8>)> {
        let selection = super::selected(env, ns_key, ctx).ok()?;
        let answer = match env.namespace(ns_key) {
            Some(ns) => {
                let p = BulkPieces::build(ns, env_key, ns_key, origin);
                p.write(ns, env_key, env, selection.as_deref(), entity, ctx)
            }
            None if ns_key != "default" => return None,
            None => empty(
                env_key,
                ns_key,
                &env.digest,
                env.revision.as_deref(),
                origin,
            ),
        };
        Some((answer.etag, answer.body))
    }

    fn compile(files: &[(&str, String)]) -> Environment {
        let files: Vec<SourceFile> = files
            .iter()
            .map(|(p, c)| SourceFile {
                path: (*p).to_string(),
                contents: c.clone().into_bytes(),
            })
            .collect();
        match compile_environment("production", &files, &Limits::default()) {
            Ok(env) => env,
            Err(d) => panic!("fixture does not compile: {d:?}"),
        }
    }

    /// A namespace of `n` flags mixing every shape the bulk body has: boolean flags with
    /// segment, multi-segment and threshold rollouts, variant flags with and without variants,
    /// attachments with characters that need escaping, disabled flags, multi-segment rules.
    fn generated(n: usize) -> String {
        let mut y = String::from("version: \"1.4\"\nnamespace: gen\nflags:\n");
        for i in 0..n {
            let key = format!("flag-{i}");
            match i % 6 {
                0 | 3 => {
                    let _ = write!(
                        y,
                        "  - key: {key}\n    name: F{i}\n    type: BOOLEAN_FLAG_TYPE\n    enabled: {}\n    rollouts:\n      - segment: {{keys: [seg-{}, seg-{}], operator: {}, value: {}}}\n      - threshold: {{percentage: {}, value: {}}}\n",
                        i % 4 == 0,
                        i % 5,
                        (i + 1) % 5,
                        if i % 2 == 0 {
                            "AND_SEGMENT_OPERATOR"
                        } else {
                            "OR_SEGMENT_OPERATOR"
                        },
                        i % 3 == 0,
                        i % 100,
                        i % 7 != 0,
                    );
                }
                5 => {
                    let _ = write!(
                        y,
                        "  - key: {key}\n    name: F{i}\n    enabled: {}\n",
                        i % 2 == 1
                    );
                }
                _ => {
                    let _ = write!(
                        y,
                        "  - key: {key}\n    name: F{i}\n    enabled: {}\n    variants:\n      - key: \"v-{i}-a\"\n{}      - key: \"v\\\"{i}\\\\b\"\n        attachment: {{text: \"q\\\"<&>\\u2028\\n\\té{i}\", n: {}.5, big: 12345678901234567890, list: [1, true, null, \"x\"], nested: {{z: 1, a: [{{}}]}}}}\n      - key: plain-{i}\n        attachment: [1, 2.0, 3e-7]\n    rules:\n      - segment: {{keys: [seg-{}, seg-{}], operator: {}}}\n        distributions: [{{variant: \"v\\\"{i}\\\\b\", rollout: 40}}, {{variant: plain-{i}, rollout: 30}}]\n      - segment: seg-{}\n        distributions: [{{variant: \"v-{i}-a\", rollout: 100}}]\n",
                        i % 10 != 2,
                        if i % 3 == 0 {
                            "        default: true\n"
                        } else {
                            ""
                        },
                        i,
                        i % 5,
                        (i + 2) % 5,
                        if i % 2 == 0 {
                            "AND_SEGMENT_OPERATOR"
                        } else {
                            "OR_SEGMENT_OPERATOR"
                        },
                        (i + 3) % 5,
                    );
                }
            }
        }
        y.push_str("segments:\n");
        for s in 0..5 {
            let _ = write!(
                y,
                "  - key: seg-{s}\n    name: S{s}\n    match_type: ANY_MATCH_TYPE\n    constraints:\n      - {{type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: p{s}}}\n      - {{type: STRING_COMPARISON_TYPE, property: region, operator: eq, value: r{}}}\n",
                s % 3
            );
        }
        y
    }

    fn contexts() -> Vec<HashMap<String, String>> {
        let mut out = Vec::new();
        for i in 0..40 {
            let mut c = HashMap::new();
            if i % 9 != 4 {
                c.insert("targetingKey".to_string(), format!("user-{i}"));
            }
            c.insert("plan".to_string(), format!("p{}", i % 6));
            if i % 2 == 0 {
                c.insert("region".to_string(), format!("r{}", i % 4));
            }
            c.insert("plan".to_string(), format!("p{}", i % 6));
            // a selection in its own order with a repeat; and ones Flipt refuses
            let flags = match i % 13 {
                5 | 7 => Some("flag-3,flag-0,flag-3,flag-2"),
                6 => Some(" flag-0,flag-1"),
                8 => Some("flag-0,,flag-1"),
                9 => Some("flag-0,nope"),
                _ => None,
            };
            if let Some(f) = flags {
                c.insert("flags".to_string(), f.to_string());
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn bulk_bodies_from_pieces_equal_the_former_bodies() {
        let support = include_str!("../../tests/it/support.rs");
        let start = support.find("version: \"1.4\"").unwrap_or(0);
        let end = support[start..]
            .find("\"#;")
            .map_or(support.len(), |e| start + e);
        let seed =
            include_str!("../../../switchyard-core/tests/data/seed-valid/flipt/features.yml");
        let env = compile(&[
            ("a/support.yaml", support[start..end].to_string()),
            (
                "b/seed.yml",
                seed.replace("namespace: default", "namespace: seed"),
            ),
            ("c/gen.yaml", generated(1500)),
        ]);
        let mut compared = 0;
        let mut etags: Vec<(String, String, Vec<u8>)> = Vec::new();
        for ns in ["default", "seed", "gen", "absent"] {
            for origin in [None, Some("https://flags.example.com")] {
                for (i, ctx) in contexts().iter().enumerate() {
                    let entity = ctx
                        .get("targetingKey")
                        .cloned()
                        .unwrap_or_else(|| format!("anon-{i}"));
                    let old = oracle(&env, "production", ns, ctx, &entity, origin);
                    let new = pieces(&env, "production", ns, ctx, &entity, origin);
                    let parsed = new
                        .as_ref()
                        .and_then(|(_, b)| serde_json::from_slice::<serde_json::Value>(b).ok());
                    if old != parsed {
                        panic!(
                            "namespace {ns}, context {ctx:?}:\nold {old:?}\nnew {:?}",
                            new.as_ref().map(|(_, b)| String::from_utf8_lossy(b))
                        );
                    }
                    if let Some((etag, body)) = new {
                        compared += body.len();
                        etags.push((format!("{ns} {origin:?}"), etag, body));
                    }
                }
            }
        }
        // the generated namespace alone gives megabytes: the comparison covered real bodies
        assert!(compared > 1_000_000, "compared only {compared} bytes");
        // within one namespace and origin, two answers share an ETag exactly when their bodies
        // are the same bytes
        let mut distinct = 0;
        for (i, (group, etag, body)) in etags.iter().enumerate() {
            for (other_group, other_etag, other_body) in &etags[i + 1..] {
                if group == other_group {
                    assert_eq!(
                        etag == other_etag,
                        body == other_body,
                        "{group}: {etag} {other_etag}"
                    );
                    distinct += usize::from(body != other_body);
                }
            }
        }
        assert!(distinct > 100, "only {distinct} pairs of different answers");
    }

    #[test]
    fn an_absent_default_namespace_answers_no_flags() {
        let env = compile(&[(
            "x.yaml",
            "version: \"1.4\"\nnamespace: other\nflags: []\n".to_string(),
        )]);
        let ctx = HashMap::new();
        let old = oracle(&env, "production", "default", &ctx, "e", None);
        let new = pieces(&env, "production", "default", &ctx, "e", None);
        assert!(old.is_some());
        assert_eq!(
            old,
            new.and_then(|(_, b)| serde_json::from_slice::<serde_json::Value>(&b).ok())
        );
    }
}
