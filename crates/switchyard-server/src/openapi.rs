//! The OpenAPI 3.1 description of every endpoint, served at `/openapi.json`.

use serde_json::{Value, json};

fn op(summary: &str, tag: &str, body: Option<&str>, responses: Value, params: Value) -> Value {
    let mut o =
        json!({"summary": summary, "tags": [tag], "parameters": params, "responses": responses});
    if let Some(schema) = body {
        o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    }
    o
}

fn ok(schema: &str) -> Value {
    json!({"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}},
           "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}})
}

fn path(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
}

fn env_header() -> Value {
    json!({"name": "X-Flipt-Environment", "in": "header", "schema": {"type": "string"}, "description": "environment key (default: the default environment)"})
}

fn ns_header() -> Value {
    json!({"name": "X-Flipt-Namespace", "in": "header", "schema": {"type": "string"}, "description": "namespace key (default: default)"})
}

fn env_query() -> Value {
    json!({"name": "environment", "in": "query", "schema": {"type": "string"}})
}

fn sse(summary: &str, tag: &str, params: Value) -> Value {
    json!({"summary": summary, "tags": [tag], "parameters": params,
           "responses": {"200": {"description": "server-sent events", "content": {"text/event-stream": {"schema": {"type": "string"}}}}}})
}

/// 501: Switchyard is read-only; the change goes through Git.
fn read_only(summary: &str) -> Value {
    json!({"summary": format!("{summary}: 501, Switchyard is read-only (commit to the Git repository instead)"), "tags": ["environments"],
           "responses": {"501": {"$ref": "#/components/responses/Error"}}})
}

/// Flipt v2's environments API (`environments.proto`): the reads, and the writes that answer 501.
fn environments_paths() -> Value {
    let env = || path("env");
    json!({
        "/api/v2/environments/{env}/namespaces": {
            "get": op("List namespaces (Flipt's ListNamespacesResponse)", "environments", None, ok("V2NamespaceList"), json!([env()])),
            "post": read_only("Create namespace"), "put": read_only("Update namespace")},
        "/api/v2/environments/{env}/namespaces/{ns}": {
            "get": op("Get a namespace (Flipt's NamespaceResponse)", "environments", None, ok("V2NamespaceResponse"), json!([env(), path("ns")])),
            "delete": read_only("Delete namespace")},
        "/api/v2/environments/{env}/namespaces/{ns}/resources": {
            "post": read_only("Create resource"), "put": read_only("Update resource")},
        "/api/v2/environments/{env}/namespaces/{ns}/resources/{type_url}": {
            "get": op("List the flags (flipt.core.Flag) or segments (flipt.core.Segment) of a namespace", "environments", None, ok("ResourceList"), json!([env(), path("ns"), path("type_url")]))},
        "/api/v2/environments/{env}/namespaces/{ns}/resources/{type_url}/{key}": {
            "get": op("Get a flag or segment", "environments", None, ok("ResourceResponse"), json!([env(), path("ns"), path("type_url"), path("key")])),
            "delete": read_only("Delete resource")},
        "/api/v2/environments/{env}/branches": {
            "get": op("List branch environments (none: Switchyard serves no branches)", "environments", None, ok("BranchList"), json!([env()])),
            "post": read_only("Create branch environment")},
        "/api/v2/environments/{env}/branches/{key}": {
            "post": read_only("Propose environment"), "delete": read_only("Delete branch environment")}
    })
}

/// The schemas of the environments API.
fn environments_schemas() -> Value {
    let namespace = json!({"type": "object", "properties": {"key": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"}, "protected": {"type": "boolean"}}});
    let resource = json!({"type": "object", "properties": {"namespaceKey": {"type": "string"}, "key": {"type": "string"},
        "payload": {"type": "object", "description": "protobuf Any: {\"@type\": \"flipt.core.Flag\" | \"flipt.core.Segment\", ...fields}"}}});
    json!({
        "V2NamespaceList": {"type": "object", "properties": {"items": {"type": "array", "items": namespace}, "revision": {"type": "string"}}},
        "V2NamespaceResponse": {"type": "object", "properties": {"namespace": namespace, "revision": {"type": "string"}}},
        "ResourceList": {"type": "object", "properties": {"resources": {"type": "array", "items": resource}, "revision": {"type": "string"}}},
        "ResourceResponse": {"type": "object", "properties": {"resource": resource, "revision": {"type": "string"}}},
        "BranchList": {"type": "object", "properties": {"branches": {"type": "array", "items": {"type": "object"}}}}
    })
}

/// The document.
pub(crate) fn document() -> Value {
    let mut doc = base_document();
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), environments_paths())
    {
        paths.extend(more);
    }
    if let (Some(schemas), Value::Object(more)) = (
        doc["components"]["schemas"].as_object_mut(),
        environments_schemas(),
    ) {
        schemas.extend(more);
    }
    doc
}

fn base_document() -> Value {
    let str_map = json!({"type": "object", "additionalProperties": {"type": "string"}});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Switchyard", "version": env!("CARGO_PKG_VERSION"),
                 "description": "GitOps feature flags with Flipt's semantics: Flipt's evaluation and client APIs, OFREP, and the sync API."},
        "paths": {
            "/evaluate/v1/variant": {"post": op("Evaluate a variant flag", "evaluation", Some("EvaluationRequest"), ok("VariantEvaluationResponse"), json!([env_header()]))},
            "/evaluate/v1/boolean": {"post": op("Evaluate a boolean flag", "evaluation", Some("EvaluationRequest"), ok("BooleanEvaluationResponse"), json!([env_header()]))},
            "/evaluate/v1/batch": {"post": op("Evaluate several flags against one snapshot", "evaluation", Some("BatchEvaluationRequest"), ok("BatchEvaluationResponse"), json!([env_header()]))},
            "/ofrep/v1/evaluate/flags/{key}": {"post": op("OFREP single-flag evaluation", "ofrep", Some("OfrepRequest"), ok("OfrepEvaluation"), json!([path("key"), env_header(), ns_header()]))},
            "/ofrep/v1/evaluate/flags": {"post": op("OFREP bulk evaluation (ETag, If-None-Match, 304)", "ofrep", Some("OfrepRequest"), ok("OfrepBulk"),
                json!([env_header(), ns_header(), {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}]))},
            "/ofrep/v1/_stream/{env}/{ns}/events": {"get": sse("OFREP change notifications: data {\"type\":\"refetchEvaluation\",\"etag\"}", "ofrep", json!([path("env"), path("ns")]))},
            "/internal/v1/evaluation/snapshot/namespace/{ns}": {"get": op("Flipt client snapshot of a namespace (ETag, If-None-Match, 304)", "client", None, ok("EvaluationNamespaceSnapshot"), json!([path("ns"), env_header()]))},
            "/client/v2/environments/{env}/namespaces/{ns}/snapshot": {"get": op("Flipt client snapshot of a namespace", "client", None, ok("EvaluationNamespaceSnapshot"), json!([path("env"), path("ns")]))},
            "/client/v2/environments/{env}/namespaces/{ns}/stream": {"get": {"summary": "Snapshot stream: NDJSON {\"result\": snapshot}, or SSE refetchEvaluation with Accept: text/event-stream", "tags": ["client"],
                "parameters": [path("env"), path("ns"), {"name": "digest", "in": "query", "schema": {"type": "string"}, "description": "the 40-character digest the client has: not sent again"}], "responses": {"200": {"description": "stream", "content": {"application/json": {"schema": {"type": "string"}}, "text/event-stream": {"schema": {"type": "string"}}}}}}},
            "/flagd.evaluation.v1.Service/{method}": {"post": {"summary": "flagd's evaluation service in the Connect protocol: ResolveAll, ResolveBoolean, ResolveString, ResolveObject, ResolveFloat, ResolveInt (application/json or application/proto), EventStream (application/connect+json server stream); see docs/api.md", "tags": ["flagd"],
                "parameters": [path("method"), {"name": "Flagd-Selector", "in": "header", "schema": {"type": "string"}, "description": "flagSetId=<environment>/<namespace>"}], "responses": {"200": {"description": "the method's response message"}}}},
            "/api/v1/namespaces/{ns}/flags": {"get": op("List the flags of a namespace", "flags", None, ok("FlagList"), json!([path("ns"), env_header()]))},
            "/api/v2/environments": {"get": op("List environments", "flags", None, ok("EnvironmentList"), json!([]))},
            "/api/v1/environments/{env}/namespaces": {"get": op("List the namespaces of an environment", "flags", None, ok("NamespaceList"), json!([path("env")]))},
            "/api/v1/environments/{env}/namespaces/{ns}/document": {"get": op("A namespace as a Flipt 1.6 document", "flags", None, ok("Document"), json!([path("env"), path("ns")]))},
            "/api/v1/sync/status": {"get": op("Sync status of an environment (the seed's GitSyncStatus fields and more)", "sync", None, ok("GitSyncStatus"), json!([env_query()]))},
            "/api/v1/sync/statuses": {"get": op("Sync status of every environment", "sync", None, ok("GitSyncStatusList"), json!([]))},
            "/api/v1/sync/history": {"get": op("Recent sync attempts with plain-words diffs", "sync", None, ok("SyncHistory"), json!([env_query()]))},
            "/api/v1/sync": {"post": {"summary": "Sync now (admin token when authentication is on)", "tags": ["sync"], "parameters": [env_query()],
                "responses": {"202": {"description": "triggered"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/sync/events": {"get": sse("Live events: `status` (GitSyncStatus) and `change` ({environment, oldDigest, newDigest, commit, diff})", "sync", json!([]))},
            "/api/v1/webhooks/github": {"post": {"summary": "GitHub push/ping webhook (X-Hub-Signature-256)", "tags": ["webhooks"], "responses": {"200": {"description": "ping"}, "202": {"description": "push accepted"}, "401": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/webhooks/gitlab": {"post": {"summary": "GitLab push webhook (X-Gitlab-Token)", "tags": ["webhooks"], "responses": {"202": {"description": "push accepted"}, "401": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/webhooks/gitea": {"post": {"summary": "Gitea/Forgejo push webhook (X-Gitea-Signature)", "tags": ["webhooks"], "responses": {"202": {"description": "push accepted"}, "401": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}},
            "/health": {"get": {"summary": "Liveness", "tags": ["operations"], "responses": {"200": {"description": "serving"}}}},
            "/ready": {"get": {"summary": "Readiness: every environment serves a valid snapshot", "tags": ["operations"], "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "tags": ["operations"], "responses": {"200": {"description": "text exposition", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "tags": ["operations"], "responses": {"200": {"description": "OpenAPI 3.1"}}}}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Error": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "integer"}, "message": {"type": "string"}, "details": {"type": "array"}}},
                "EvaluationRequest": {"type": "object", "required": ["flagKey"], "properties": {"requestId": {"type": "string"}, "namespaceKey": {"type": "string"}, "flagKey": {"type": "string"},
                    "entityId": {"type": "string"}, "context": str_map, "environmentKey": {"type": "string"}}},
                "BatchEvaluationRequest": {"type": "object", "properties": {"requestId": {"type": "string"}, "requests": {"type": "array", "items": {"$ref": "#/components/schemas/EvaluationRequest"}}}},
                "VariantEvaluationResponse": {"type": "object", "properties": {"match": {"type": "boolean"}, "segmentKeys": {"type": "array", "items": {"type": "string"}},
                    "reason": {"$ref": "#/components/schemas/Reason"}, "variantKey": {"type": "string"}, "variantAttachment": {"type": "string"}, "requestId": {"type": "string"},
                    "requestDurationMillis": {"type": "number"}, "timestamp": {"type": "string", "format": "date-time"}, "flagKey": {"type": "string"}}},
                "BooleanEvaluationResponse": {"type": "object", "properties": {"enabled": {"type": "boolean"}, "reason": {"$ref": "#/components/schemas/Reason"}, "requestId": {"type": "string"},
                    "requestDurationMillis": {"type": "number"}, "timestamp": {"type": "string"}, "flagKey": {"type": "string"}, "segmentKeys": {"type": "array", "items": {"type": "string"}}}},
                "BatchEvaluationResponse": {"type": "object", "properties": {"requestId": {"type": "string"}, "requestDurationMillis": {"type": "number"}, "responses": {"type": "array", "items": {"type": "object"}}}},
                "Reason": {"type": "string", "enum": ["UNKNOWN_EVALUATION_REASON", "FLAG_DISABLED_EVALUATION_REASON", "MATCH_EVALUATION_REASON", "DEFAULT_EVALUATION_REASON"]},
                "OfrepRequest": {"type": "object", "properties": {"context": {"type": "object", "additionalProperties": true}}},
                "OfrepEvaluation": {"type": "object", "required": ["key", "reason"], "properties": {"key": {"type": "string"}, "reason": {"type": "string"}, "variant": {"type": "string"},
                    "value": {}, "metadata": {"type": "object"}}},
                "OfrepBulk": {"type": "object", "properties": {"flags": {"type": "array", "items": {"$ref": "#/components/schemas/OfrepEvaluation"}}, "eventStreams": {"type": "array", "items": {"type": "object"}}}},
                "EvaluationNamespaceSnapshot": {"type": "object", "properties": {"namespace": {"type": "object"}, "digest": {"type": "string"}, "flags": {"type": "array", "items": {"type": "object"}}}},
                "FlagList": {"type": "object", "properties": {"flags": {"type": "array", "items": {"type": "object"}}, "nextPageToken": {"type": "string"}, "totalCount": {"type": "integer"}}},
                "EnvironmentList": {"type": "object", "properties": {"environments": {"type": "array", "items": {"type": "object"}}}},
                "NamespaceList": {"type": "object", "properties": {"environment": {"type": "string"}, "namespaces": {"type": "array", "items": {"type": "object"}}}},
                "Document": {"type": "object", "description": "Flipt declarative document, version 1.6"},
                "Commit": {"type": "object", "properties": {"sha": {"type": "string"}, "author": {"type": "string"}, "message": {"type": "string"}, "time": {"type": "string"}}},
                "GitSyncStatus": {"type": "object", "required": ["enabled", "syncStatus"], "properties": {
                    "environment": {"type": "string"}, "enabled": {"type": "boolean"}, "repository": {"type": "string"}, "branch": {"type": "string"}, "directory": {"type": "string"},
                    "pollInterval": {"type": "string"}, "syncStatus": {"type": "string", "enum": ["idle", "syncing", "success", "error"]},
                    "lastSyncTime": {"type": ["string", "null"]}, "errorMessage": {"type": ["string", "null"]}, "errorClass": {"type": ["string", "null"], "enum": ["authentication", "network", "timeout", "not_found", "validation", "internal", "other", null]},
                    "lastSuccessTime": {"type": ["string", "null"]}, "nextSyncTime": {"type": ["string", "null"]},
                    "servingCommit": {"$ref": "#/components/schemas/Commit"}, "remoteCommit": {"$ref": "#/components/schemas/Commit"},
                    "consecutiveFailures": {"type": "integer"}, "validationErrors": {"type": "array", "items": {"type": "object", "properties": {
                        "file": {"type": "string"}, "line": {"type": "integer"}, "column": {"type": "integer"}, "path": {"type": "string"}, "message": {"type": "string"}, "extra": {"type": "boolean"}}}},
                    "warnings": {"type": "array", "items": {"type": "object", "properties": {
                        "file": {"type": "string"}, "line": {"type": "integer"}, "column": {"type": "integer"}, "path": {"type": "string"}, "message": {"type": "string"}, "extra": {"type": "boolean"}}}},
                    "discovery": {"type": "object", "description": "Which Flipt generation's rule finds the flag files (flipt-v1: `.flipt.yml` index, else `**features.yml` at any depth; flipt-v2: `features.yaml|yml|json` below the root) and the files of the snapshot served", "properties": {
                        "rules": {"type": "string", "enum": ["flipt-v1", "flipt-v2"]}, "summary": {"type": "string"}, "rootFile": {"type": ["string", "null"]},
                        "files": {"type": "array", "items": {"type": "string"}}, "notRead": {"type": "array", "items": {"type": "string"}}}},
                    "flags": {"type": "integer"}, "digest": {"type": "string"},
                    "servingValidSnapshot": {"type": "boolean"}, "firstSyncStartedAt": {"type": ["string", "null"]}, "attemptStartedAt": {"type": ["string", "null"]},
                    "stalledSince": {"type": ["string", "null"]}, "degradedReason": {"type": ["string", "null"]}}},
                "GitSyncStatusList": {"type": "object", "properties": {"statuses": {"type": "array", "items": {"$ref": "#/components/schemas/GitSyncStatus"}}}},
                "SyncHistory": {"type": "object", "properties": {"environment": {"type": "string"}, "entries": {"type": "array", "items": {"type": "object", "properties": {
                    "time": {"type": "string"}, "durationMs": {"type": "integer"}, "commit": {"type": ["string", "null"]}, "outcome": {"type": "string", "enum": ["unchanged", "applied", "rejected", "failed"]},
                    "diff": {"type": "array", "items": {"type": "string"}}, "diffTotal": {"type": "integer"}, "repeats": {"type": "integer"}}}}}}
            }
        },
        "security": [{}, {"bearer": []}]
    })
}
