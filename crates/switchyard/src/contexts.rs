//! Sample contexts for `switchyard diff --contexts`: JSON lines, one entity each.
//!
//! `{"entityId": "u1", "context": {"plan": "premium", "age": 30}, "namespace": "default",
//! "flagKey": "checkout"}`: `entityId` is required; `context` values are strings, numbers or
//! booleans (numbers and booleans become their JSON text, as Flipt's string map holds them);
//! `namespace` and `flagKey` limit the sample to that namespace or flag. Empty lines and lines
//! starting with `#` are skipped.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;
use switchyard_core::SampleContext;

/// Sample lines read at most (a bigger file is refused rather than read partly).
pub const MAX_SAMPLES: usize = 1_000_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Line {
    entity_id: String,
    #[serde(default)]
    context: BTreeMap<String, serde_json::Value>,
    namespace: Option<String>,
    flag_key: Option<String>,
}

/// Reads the sample contexts of `path`; an error names the file and line.
pub fn read(path: &Path) -> Result<Vec<SampleContext>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading sample contexts {}", path.display()))?;
    parse(&text).with_context(|| format!("sample contexts {}", path.display()))
}

/// Parses JSON lines of sample contexts.
pub fn parse(text: &str) -> Result<Vec<SampleContext>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if out.len() == MAX_SAMPLES {
            bail!("more than {MAX_SAMPLES} samples");
        }
        let at = n + 1;
        let l: Line = serde_json::from_str(line).with_context(|| {
            format!("line {at}: expected {{\"entityId\": \"…\", \"context\": {{…}}}}")
        })?;
        let mut context = BTreeMap::new();
        for (k, v) in l.context {
            let v = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(_) | serde_json::Value::Bool(_) => v.to_string(),
                other => bail!(
                    "line {at}: context value of {k:?} must be a string, number or boolean, got {other}"
                ),
            };
            context.insert(k, v);
        }
        out.push(SampleContext {
            entity_id: l.entity_id,
            context,
            namespace: l.namespace,
            flag_key: l.flag_key,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn lines_scopes_and_errors() {
        let s = parse("# samples\n{\"entityId\":\"u1\",\"context\":{\"plan\":\"gold\",\"age\":30,\"beta\":true}}\n\n{\"entityId\":\"u2\",\"flagKey\":\"x\",\"namespace\":\"ns\"}\n").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].context["age"], "30");
        assert_eq!(s[0].context["beta"], "true");
        assert_eq!(s[1].flag_key.as_deref(), Some("x"));
        let e = format!(
            "{:#}",
            parse("{\"entityId\":\"u1\"}\n{\"context\":{}}").unwrap_err()
        );
        assert!(e.starts_with("line 2: expected"), "{e}");
        let e = format!(
            "{:#}",
            parse("{\"entityId\":\"u1\",\"context\":{\"a\":[1]}}").unwrap_err()
        );
        assert!(e.contains("context value of \"a\" must be a string"), "{e}");
    }
}
