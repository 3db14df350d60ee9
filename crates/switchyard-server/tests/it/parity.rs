//! Answers pinned to Flipt v2.11's, body for body (issue 11, items 4 and 10). Each vector names
//! the Go code that decides it; the error bodies are grpc-gateway's `{code, message, details}`
//! and Flipt's `ofrep.ErrorHandler` `{key?, errorCode, errorDetails}`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use switchyard_server::ServerConfig;

use crate::support::{FLAGS, Fixture, get, post};

async fn fixture() -> Fixture {
    Fixture::new(ServerConfig::default()).await
}

fn with_header(mut req: Request<Body>, name: &'static str, value: &str) -> Request<Body> {
    req.headers_mut().insert(name, value.parse().unwrap());
    req
}

/// grpc-gateway's error body (`runtime.DefaultHTTPErrorHandler`).
fn flipt_error(code: i64, message: &str) -> Value {
    json!({"code": code, "message": message, "details": []})
}

/// Every bad request of the evaluation API, with Flipt's status, gRPC code and message.
#[tokio::test]
async fn evaluation_errors_have_flipts_status_code_and_message() {
    let f = fixture().await;
    let invalid_values = flipt_error(3, "invalid values for key(s) in json body");
    let cases: Vec<(Request<Body>, StatusCode, Value)> = vec![
        // no flagKey: `storage.NewResource("default", "")` prints as `path.Join` → "default"
        (
            post("/evaluate/v1/variant", r#"{"entityId":"u"}"#),
            StatusCode::NOT_FOUND,
            flipt_error(5, "flag \"default\" not found"),
        ),
        (
            post("/evaluate/v1/boolean", r#"{"flagKey":"","entityId":"u"}"#),
            StatusCode::NOT_FOUND,
            flipt_error(5, "flag \"default\" not found"),
        ),
        // an empty body and a `null` one are an empty request (io.EOF; jsonpb's top-level null)
        (
            post("/evaluate/v1/variant", ""),
            StatusCode::NOT_FOUND,
            flipt_error(5, "flag \"default\" not found"),
        ),
        (
            post("/evaluate/v1/variant", " null "),
            StatusCode::NOT_FOUND,
            flipt_error(5, "flag \"default\" not found"),
        ),
        (
            post("/evaluate/v1/variant", r#"{"flagKey":"nope"}"#),
            StatusCode::NOT_FOUND,
            flipt_error(5, "flag \"default/nope\" not found"),
        ),
        (
            post("/evaluate/v1/variant", r#"{"flagKey":"x/../nope"}"#),
            StatusCode::NOT_FOUND,
            flipt_error(5, "flag \"default/nope\" not found"),
        ),
        (
            post(
                "/evaluate/v1/variant",
                r#"{"flagKey":"checkout","namespaceKey":"other"}"#,
            ),
            StatusCode::NOT_FOUND,
            flipt_error(5, "namespace \"other\" not found"),
        ),
        // `Variant`: `errs.ErrInvalidf("flag type %s invalid", flag.Type)`
        (
            post("/evaluate/v1/variant", r#"{"flagKey":"dark"}"#),
            StatusCode::BAD_REQUEST,
            flipt_error(3, "flag type BOOLEAN_FLAG_TYPE invalid"),
        ),
        (
            post("/evaluate/v1/boolean", r#"{"flagKey":"checkout"}"#),
            StatusCode::BAD_REQUEST,
            flipt_error(3, "flag type VARIANT_FLAG_TYPE invalid"),
        ),
        // `EnvironmentStore.GetFromContext`: an unknown header environment
        (
            with_header(
                post("/evaluate/v1/variant", r#"{"flagKey":"checkout"}"#),
                "x-flipt-environment",
                "prod",
            ),
            StatusCode::NOT_FOUND,
            flipt_error(
                5,
                "failed to get environment \"prod\" from context: environment: \"prod\" not found",
            ),
        ),
        (
            with_header(
                post(
                    "/evaluate/v1/batch",
                    r#"{"requests":[{"flagKey":"checkout"}]}"#,
                ),
                "x-flipt-environment",
                "prod",
            ),
            StatusCode::NOT_FOUND,
            flipt_error(
                5,
                "failed to get environment \"prod\" from context: environment: \"prod\" not found",
            ),
        ),
        // Go's `encoding/json` syntax errors (`json.Decoder.Decode`)
        (
            post("/evaluate/v1/variant", r#"{"flagKey":"checkout","#),
            StatusCode::BAD_REQUEST,
            flipt_error(3, "unexpected EOF"),
        ),
        (
            post("/evaluate/v1/variant", r#"{flagKey:"checkout"}"#),
            StatusCode::BAD_REQUEST,
            flipt_error(
                3,
                "invalid character 'f' looking for beginning of object key string",
            ),
        ),
        (
            post("/evaluate/v1/variant", r#"{"flagKey":'checkout'}"#),
            StatusCode::BAD_REQUEST,
            flipt_error(3, "invalid character '\\'' looking for beginning of value"),
        ),
        (
            post("/evaluate/v1/batch", r#"{"requests":[{"flagKey":"a"},]}"#),
            StatusCode::BAD_REQUEST,
            flipt_error(3, "invalid character ']' looking for beginning of value"),
        ),
        // `gateway.decoderInterceptor`: every `json.UnmarshalTypeError`
        (
            post("/evaluate/v1/variant", r#"{"flagKey":42}"#),
            StatusCode::BAD_REQUEST,
            invalid_values.clone(),
        ),
        (
            post(
                "/evaluate/v1/variant",
                r#"{"flagKey":"checkout","context":{"age":3}}"#,
            ),
            StatusCode::BAD_REQUEST,
            invalid_values.clone(),
        ),
        (
            post(
                "/evaluate/v1/variant",
                r#"{"flagKey":"checkout","context":"plan=pro"}"#,
            ),
            StatusCode::BAD_REQUEST,
            invalid_values.clone(),
        ),
        (
            post("/evaluate/v1/variant", "[]"),
            StatusCode::BAD_REQUEST,
            invalid_values.clone(),
        ),
        (
            post(
                "/evaluate/v1/batch",
                r#"{"requests":{"flagKey":"checkout"}}"#,
            ),
            StatusCode::BAD_REQUEST,
            invalid_values.clone(),
        ),
    ];
    for (req, status, body) in cases {
        let what = format!("{} {:?}", req.uri(), req.headers());
        let (s, _, v) = f.call(req).await;
        assert_eq!((s, &v), (status, &body), "{what}");
    }
}

/// What Flipt accepts where Switchyard used to refuse.
#[tokio::test]
async fn flipt_accepts_unknown_environment_keys_null_values_and_trailing_text() {
    let f = fixture().await;
    let ok: &[&str] = &[
        // `Variant`: `store.Get(environmentKey)` fails, `GetFromContext` gives the default
        r#"{"flagKey":"checkout","entityId":"u","environmentKey":"nope"}"#,
        // a null context value is "" (no key matches it), a null field is skipped
        r#"{"flagKey":"checkout","entityId":"u","context":{"plan":null}}"#,
        r#"{"flagKey":"checkout","entityId":null,"context":null,"namespaceKey":null}"#,
        // the JSON name wins over the proto name; unknown fields are ignored
        r#"{"flag_key":"nope","flagKey":"checkout","extra":{"any":[1,true]}}"#,
        // the decoder reads the first value only
        r#"{"flagKey":"checkout","entityId":"u"} and then some"#,
    ];
    for body in ok {
        let (s, _, v) = f.call(post("/evaluate/v1/variant", body)).await;
        assert_eq!(s, StatusCode::OK, "{body}: {v}");
        assert_eq!(v["variantKey"], "control", "{body}: {v}");
    }
    // a batch item's unknown environment falls back the same way
    let (s, _, v) = f
        .call(post(
            "/evaluate/v1/batch",
            r#"{"requests":[{"flagKey":"dark","environmentKey":"nope"}]}"#,
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["responses"][0]["booleanResponse"]["flagKey"], "dark");
}

/// `GetFromContext`: a header saying `default` where no environment has that key answers from
/// the default environment; the environment's own key works too.
#[tokio::test]
async fn the_default_header_reaches_a_default_environment_with_another_key() {
    let f = Fixture::with_environment(ServerConfig::default(), FLAGS, "production").await;
    for env in ["default", "production"] {
        let (s, _, v) = f
            .call(with_header(
                post(
                    "/evaluate/v1/boolean",
                    r#"{"flagKey":"dark","entityId":"u"}"#,
                ),
                "x-flipt-environment",
                env,
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{env}: {v}");
        let (s, _, v) = f
            .call(with_header(
                post("/ofrep/v1/evaluate/flags", "{}"),
                "x-flipt-environment",
                env,
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{env}: {v}");
        assert_eq!(
            v["eventStreams"][0]["endpoint"]["requestUri"],
            "/ofrep/v1/_stream/production/default/events"
        );
    }
}

/// `Batch`: an error item echoes the request's `namespaceKey` as given (the interceptor fills
/// namespaces only on single requests).
#[tokio::test]
async fn a_batch_error_item_echoes_the_namespace_as_given() {
    let f = fixture().await;
    let (_, _, v) = f
        .call(post(
            "/evaluate/v1/batch",
            r#"{"requests":[{"flagKey":"nope"},{"flagKey":"nope","namespaceKey":"default"}]}"#,
        ))
        .await;
    assert_eq!(
        v["responses"],
        json!([
            {"type": "ERROR_EVALUATION_RESPONSE_TYPE", "errorResponse": {"flagKey": "nope", "namespaceKey": "", "reason": "NOT_FOUND_ERROR_EVALUATION_REASON"}},
            {"type": "ERROR_EVALUATION_RESPONSE_TYPE", "errorResponse": {"flagKey": "nope", "namespaceKey": "default", "reason": "NOT_FOUND_ERROR_EVALUATION_REASON"}}
        ])
    );
}

/// `OFREPFlagEvaluation`: a variant without an attachment has `attachment: "null"` (the
/// snapshot's `structpb.NewValue(nil)`); a boolean result has no `metadata` at all.
#[tokio::test]
async fn ofrep_metadata_is_flipts() {
    let f = fixture().await;
    let (_, _, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags/checkout",
            r#"{"context":{"targetingKey":"u"}}"#,
        ))
        .await;
    assert_eq!(
        v,
        json!({"key": "checkout", "reason": "DEFAULT", "variant": "control", "value": "control", "metadata": {"attachment": "null"}})
    );
    let (_, _, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags/dark",
            r#"{"context":{"targetingKey":"u"}}"#,
        ))
        .await;
    assert_eq!(
        v,
        json!({"key": "dark", "reason": "DEFAULT", "variant": "false", "value": false})
    );
    // the same in a bulk answer; a variant flag without a variant has no attachment
    let (_, _, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags",
            r#"{"context":{"targetingKey":"u","flags":"checkout,dark,off"}}"#,
        ))
        .await;
    assert_eq!(
        v["flags"],
        json!([
            {"key": "checkout", "reason": "DEFAULT", "variant": "control", "value": "control", "metadata": {"attachment": "null"}},
            {"key": "dark", "reason": "DEFAULT", "variant": "false", "value": false},
            {"key": "off", "reason": "DISABLED", "variant": "", "value": "", "metadata": {}}
        ])
    );
}

/// `OFREPFlagEvaluationBulk`: without `flags`, the listed flags sorted by key (`ListFlags`);
/// with `flags`, the keys as written, split at every comma; the first failing key fails all.
#[tokio::test]
async fn ofrep_bulk_order_and_selection_are_flipts() {
    let flags = r#"version: "1.4"
namespace: default
flags:
  - {key: zulu, name: Z, type: BOOLEAN_FLAG_TYPE, enabled: true}
  - {key: mike, name: M, enabled: true, variants: [{key: a}]}
  - {key: alpha, name: A, type: BOOLEAN_FLAG_TYPE, enabled: false}
  - {key: hidden, name: H, enabled: false, variants: [{key: a}]}
"#;
    let f = Fixture::with_flags(ServerConfig::default(), flags).await;
    let keys = |v: &Value| -> Vec<String> {
        v["flags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x["key"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (s, _, v) = f.call(post("/ofrep/v1/evaluate/flags", "{}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(keys(&v), ["alpha", "mike", "zulu"]);
    let (s, _, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags",
            r#"{"context":{"flags":"zulu,hidden,zulu"}}"#,
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(keys(&v), ["zulu", "hidden", "zulu"]);
    let errors: Vec<(&str, StatusCode, Value)> = vec![
        (
            "zulu,nope",
            StatusCode::NOT_FOUND,
            json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag was not found nope"}),
        ),
        // no trimming: " mike" is another key
        (
            "zulu, mike",
            StatusCode::NOT_FOUND,
            json!({"key": " mike", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag was not found  mike"}),
        ),
        // `newFlagMissingError`: no key in the body
        (
            "zulu,,mike",
            StatusCode::BAD_REQUEST,
            json!({"errorCode": "INVALID_CONTEXT", "errorDetails": "flag key was not provided"}),
        ),
        (
            "",
            StatusCode::BAD_REQUEST,
            json!({"errorCode": "INVALID_CONTEXT", "errorDetails": "flag key was not provided"}),
        ),
    ];
    for (list, status, body) in errors {
        let req = post(
            "/ofrep/v1/evaluate/flags",
            &json!({"context": {"flags": list}}).to_string(),
        );
        let (s, _, v) = f.call(req).await;
        assert_eq!((s, &v), (status, &body), "{list:?}");
    }
    // an unknown namespace: `ListFlags` → `namespace "other" not found`, or the first key's
    // lookup when there is a selection
    let other = |body: &str| {
        with_header(
            post("/ofrep/v1/evaluate/flags", body),
            "x-flipt-namespace",
            "other",
        )
    };
    let (s, _, v) = f.call(other("{}")).await;
    assert_eq!(
        (s, v),
        (
            StatusCode::NOT_FOUND,
            json!({"errorCode": "FLAG_NOT_FOUND", "errorDetails": "namespace \"other\" not found"})
        )
    );
    let (s, _, v) = f.call(other(r#"{"context":{"flags":"zulu"}}"#)).await;
    assert_eq!(
        (s, v),
        (
            StatusCode::NOT_FOUND,
            json!({"key": "zulu", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag was not found zulu"})
        )
    );
}

/// The bulk ETag is `W/"%08x"` of a 64-bit hash, like Flipt's xxhash one (16 hex digits, or
/// fewer when the hash has leading zeros, as Go's `%08x` writes it: this fixture's has 15).
#[tokio::test]
async fn ofrep_bulk_etag_has_sixty_four_bits() {
    let f = fixture().await;
    let (_, h, _) = f.call(post("/ofrep/v1/evaluate/flags", "{}")).await;
    let etag = h["etag"].to_str().unwrap_or_default().to_string();
    let hex = etag
        .strip_prefix("W/\"")
        .and_then(|e| e.strip_suffix('"'))
        .unwrap_or_default();
    let n = u64::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("{etag}"));
    assert_eq!(format!("{n:08x}"), hex, "{etag}");
    assert!(n > u64::from(u32::MAX), "{etag}: 64 bits, not 32");
}

/// OFREP errors: the gRPC code decides `errorCode`; on the bulk endpoint `key` only where the
/// bridge attaches it (a failed flag lookup), on the single-flag endpoint always.
#[tokio::test]
async fn ofrep_errors_are_flipts() {
    let f = fixture().await;
    let cases: Vec<(Request<Body>, StatusCode, Value)> = vec![
        (
            with_header(
                post("/ofrep/v1/evaluate/flags/checkout", "{}"),
                "x-flipt-environment",
                "prod",
            ),
            StatusCode::NOT_FOUND,
            json!({"key": "checkout", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "failed to get environment \"prod\" from context: environment: \"prod\" not found"}),
        ),
        (
            with_header(
                post("/ofrep/v1/evaluate/flags", "{}"),
                "x-flipt-environment",
                "prod",
            ),
            StatusCode::NOT_FOUND,
            json!({"errorCode": "FLAG_NOT_FOUND", "errorDetails": "failed to get environment \"prod\" from context: environment: \"prod\" not found"}),
        ),
        // Switchyard's documented difference: a single-flag error always names the flag
        (
            post("/ofrep/v1/evaluate/flags/checkout", r#"{"context":"#),
            StatusCode::BAD_REQUEST,
            json!({"key": "checkout", "errorCode": "INVALID_CONTEXT", "errorDetails": "unexpected EOF"}),
        ),
        (
            post("/ofrep/v1/evaluate/flags", r#"{"context":"#),
            StatusCode::BAD_REQUEST,
            json!({"errorCode": "INVALID_CONTEXT", "errorDetails": "unexpected EOF"}),
        ),
        (
            post("/ofrep/v1/evaluate/flags", r#"{"context":"flags=a"}"#),
            StatusCode::BAD_REQUEST,
            json!({"errorCode": "INVALID_CONTEXT", "errorDetails": "invalid values for key(s) in json body"}),
        ),
        (
            post("/ofrep/v1/evaluate/flags/nope", "{}"),
            StatusCode::NOT_FOUND,
            json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag was not found nope"}),
        ),
    ];
    for (req, status, body) in cases {
        let what = format!("{} {:?}", req.uri(), req.headers());
        let (s, _, v) = f.call(req).await;
        assert_eq!((s, &v), (status, &body), "{what}");
    }
    // Switchyard's documented leniency: non-string context values are their JSON text
    let (s, _, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags/checkout",
            r#"{"context":{"targetingKey":"u","plan":"pro","seats":3,"beta":true}}"#,
        ))
        .await;
    assert_eq!(
        (s, v["variant"].as_str()),
        (StatusCode::OK, Some("treatment"))
    );
}

/// grpc-gateway answers a method a route does not have with 501 and code 12, and an unknown path
/// with 404 `Not Found` (`DefaultRoutingErrorHandler`); Switchyard's own routes keep 405.
#[tokio::test]
async fn wrong_methods_on_flipt_routes_are_501() {
    let f = fixture().await;
    let cases: Vec<(Request<Body>, StatusCode, Value)> = vec![
        (
            get("/evaluate/v1/variant"),
            StatusCode::NOT_IMPLEMENTED,
            flipt_error(12, "Method Not Allowed"),
        ),
        (
            get("/evaluate/v1/batch"),
            StatusCode::NOT_IMPLEMENTED,
            flipt_error(12, "Method Not Allowed"),
        ),
        (
            post("/internal/v1/evaluation/snapshot/namespace/default", ""),
            StatusCode::NOT_IMPLEMENTED,
            flipt_error(12, "Method Not Allowed"),
        ),
        (
            get("/ofrep/v1/evaluate/flags"),
            StatusCode::NOT_IMPLEMENTED,
            json!({"errorCode": "GENERAL", "errorDetails": "Method Not Allowed"}),
        ),
        (
            get("/ofrep/v1/evaluate/flags/checkout"),
            StatusCode::NOT_IMPLEMENTED,
            json!({"errorCode": "GENERAL", "errorDetails": "Method Not Allowed"}),
        ),
        // grpc-gateway's 404 under Flipt's mounts; Switchyard's own elsewhere
        (
            post("/evaluate/v1/nope", "{}"),
            StatusCode::NOT_FOUND,
            flipt_error(5, "Not Found"),
        ),
        (
            post("/ofrep/v1/nope", "{}"),
            StatusCode::NOT_FOUND,
            json!({"errorCode": "FLAG_NOT_FOUND", "errorDetails": "Not Found"}),
        ),
        (
            get("/no/such/path"),
            StatusCode::NOT_FOUND,
            flipt_error(5, "no such endpoint; see /openapi.json"),
        ),
        (
            get("/api/v1/sync"),
            StatusCode::METHOD_NOT_ALLOWED,
            flipt_error(
                12,
                "method GET not allowed on this endpoint; see /openapi.json",
            ),
        ),
    ];
    for (req, status, body) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (s, _, v) = f.call(req).await;
        assert_eq!((s, &v), (status, &body), "{what}");
    }
}

/// Flipt's snapshot always holds `default` (`EmptySnapshot`): without documents for it, a flag
/// there is "not found" and the OFREP bulk lists no flags.
#[tokio::test]
async fn an_undeclared_default_namespace_exists_empty() {
    let flags = "version: \"1.4\"\nnamespace: other\nflags: []\n";
    let f = Fixture::with_flags(ServerConfig::default(), flags).await;
    let (s, _, v) = f
        .call(post("/evaluate/v1/boolean", r#"{"flagKey":"dark"}"#))
        .await;
    assert_eq!(
        (s, v),
        (
            StatusCode::NOT_FOUND,
            flipt_error(5, "flag \"default/dark\" not found")
        )
    );
    let (s, _, v) = f.call(post("/ofrep/v1/evaluate/flags", "{}")).await;
    assert_eq!((s, &v["flags"]), (StatusCode::OK, &json!([])));
    let (s, _, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags",
            r#"{"context":{"flags":"dark"}}"#,
        ))
        .await;
    assert_eq!(
        (s, v),
        (
            StatusCode::NOT_FOUND,
            json!({"key": "dark", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag was not found dark"})
        )
    );
}

/// `Batch` picks each item's environment on its own (`store.Get(req.EnvironmentKey)`, then
/// `GetFromContext`); the header stands in for items that name none or an unknown one.
#[tokio::test]
async fn a_batch_evaluates_each_item_in_its_own_environment() {
    let staging = FLAGS.replace(
        "enabled: false\n    rollouts",
        "enabled: true\n    rollouts",
    );
    let f = Fixture::with_environments(
        ServerConfig::default(),
        &[("production", FLAGS), ("staging", &staging)],
    )
    .await;
    let body = r#"{"requests":[
        {"flagKey":"dark","entityId":"u"},
        {"flagKey":"dark","entityId":"u","environmentKey":"staging"},
        {"flagKey":"dark","entityId":"u","environmentKey":"nope"},
        {"flagKey":"dark","entityId":"u","environmentKey":"production"}]}"#;
    let enabled = |v: &Value| -> Vec<bool> {
        v["responses"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        r["booleanResponse"]["enabled"]
                            .as_bool()
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (s, _, v) = f.call(post("/evaluate/v1/batch", body)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(enabled(&v), [false, true, false, false]);
    let (s, _, v) = f
        .call(with_header(
            post("/evaluate/v1/batch", body),
            "x-flipt-environment",
            "staging",
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(enabled(&v), [true, true, true, false]);
    // Switchyard's documented addition: the batch's own environmentKey stands in for items
    // that name none (Flipt ignores the field)
    let batch = body.replacen(
        r#"{"requests":["#,
        r#"{"environmentKey":"staging","requests":["#,
        1,
    );
    // (an item's unknown key still falls back to the header or the default)
    let (s, _, v) = f.call(post("/evaluate/v1/batch", &batch)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(enabled(&v), [true, true, false, false]);
}

/// Bodies Go's decoder reads and Switchyard refuses (a documented difference, docs/api.md):
/// invalid UTF-8 and a lone surrogate escape inside a string. Deep nesting in an ignored field is
/// read, as Flipt reads it.
#[tokio::test]
async fn bodies_that_are_not_utf8_json_are_refused() {
    let f = Fixture::given(ServerConfig::default(), FLAGS);
    let bodies: Vec<Vec<u8>> = vec![
        b"{\"flagKey\":\"checkout\",\"entityId\":\"u\xff\"}".to_vec(),
        br#"{"flagKey":"checkout","entityId":"\ud800"}"#.to_vec(),
    ];
    for body in bodies {
        let req = Request::post("/evaluate/v1/variant")
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))
            .unwrap();
        let (s, _, v) = f.call(req).await;
        assert_eq!(
            s,
            StatusCode::BAD_REQUEST,
            "{}: {v}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(v["code"], 3, "{v}");
    }
    let deep = format!(
        r#"{{"flagKey":"checkout","entityId":"u","ignored":{}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let (s, _, v) = f.call(post("/evaluate/v1/variant", &deep)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}
