//! The OpenAPI 3.1 description of every endpoint, `openapi.json` beside this file (edit it
//! there), served at `/openapi.json` with the release's version in `info.version`.

use std::sync::OnceLock;

use axum::body::Bytes;
use serde_json::Value;

/// The checked-in document (its `info.version` is filled in when served).
const DOCUMENT: &str = include_str!("openapi.json");

/// The document as served: compact JSON with `info.version` set, built once.
pub(crate) fn body() -> Bytes {
    static BODY: OnceLock<Bytes> = OnceLock::new();
    BODY.get_or_init(|| match document() {
        Ok(doc) => serde_json::to_vec(&doc).map_or_else(|_| Bytes::from(DOCUMENT), Bytes::from),
        // a unit test keeps the file valid; should it not be, it is served as written
        Err(_) => Bytes::from(DOCUMENT),
    })
    .clone()
}

/// The document as a JSON value, with `info.version` set.
fn document() -> Result<Value, serde_json::Error> {
    let mut doc: Value = serde_json::from_str(DOCUMENT)?;
    doc["info"]["version"] = Value::from(env!("CARGO_PKG_VERSION"));
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_document_is_json_with_every_path_an_operation() {
        let doc = match document() {
            Ok(d) => d,
            Err(e) => panic!("openapi.json: {e}"),
        };
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        let paths = doc["paths"].as_object().map_or(0, |p| p.len());
        assert!(paths > 20, "{paths} paths");
        for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in ops.as_object().into_iter().flatten() {
                assert!(
                    op["responses"].is_object(),
                    "{method} {path} has no responses"
                );
            }
        }
        let body = body();
        assert!(body.starts_with(b"{") && !body.contains(&b'\n'));
    }
}
