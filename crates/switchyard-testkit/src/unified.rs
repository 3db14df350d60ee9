//! Applying a one-hunk unified diff (what `switchyard_core::overlay::patch` writes) to a text,
//! for tests that check the patch makes Git match; `git apply` does the same in the end-to-end
//! test.

/// `text` with the one hunk of `diff` applied (its `@@ -start,…` line, then context, `-` and `+`
/// lines); panics on a diff that is not one hunk.
pub fn apply(text: &str, diff: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut hunk = diff.lines().skip(2);
    let header = hunk.next().expect("hunk header");
    let start: usize = header
        .trim_start_matches("@@ -")
        .split(',')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("start line");
    let body: Vec<&str> = hunk.collect();
    let removed = body.iter().filter(|l| !l.starts_with('+')).count();
    let mut out: Vec<String> = lines[..start - 1].iter().map(|l| l.to_string()).collect();
    for l in &body {
        if let Some(rest) = l.strip_prefix(' ').or_else(|| l.strip_prefix('+')) {
            out.push(rest.to_string());
        }
    }
    out.extend(lines[start - 1 + removed..].iter().map(|l| l.to_string()));
    out.join("\n") + "\n"
}

/// A JSON value written as block-style YAML (`- key: v` items, two-space indents, strings in
/// double quotes), as people write flag files.
pub fn block_yaml(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, 0);
    out
}

fn scalar(v: &serde_json::Value) -> String {
    v.to_string()
}

fn write_value(out: &mut String, v: &serde_json::Value, indent: usize) {
    use serde_json::Value;
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x {
                    Value::Object(o) if !o.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        write_value(out, x, indent + 2);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        write_value(out, x, indent + 2);
                    }
                    Value::Object(_) => out.push_str(&format!("{pad}{k}: {{}}\n")),
                    Value::Array(_) => out.push_str(&format!("{pad}{k}: []\n")),
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(x))),
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                match x {
                    Value::Object(o) if !o.is_empty() => {
                        // the first entry on the dash's line, the others below it
                        let mut item = String::new();
                        write_value(&mut item, x, indent + 2);
                        let first = item.get(indent + 2..).unwrap_or("");
                        out.push_str(&format!("{pad}- {first}"));
                    }
                    Value::Array(_) | Value::Object(_) => {
                        out.push_str(&format!("{pad}-\n"));
                        write_value(out, x, indent + 2);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(x))),
                }
            }
        }
        _ => out.push_str(&format!("{pad}{}\n", scalar(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_yaml_puts_the_first_entry_on_the_dash_line() {
        let v =
            serde_json::json!({"flags": [{"key": "a", "rules": [{"segment": "s"}], "tags": []}]});
        assert_eq!(
            block_yaml(&v),
            "flags:\n  - key: \"a\"\n    rules:\n      - segment: \"s\"\n    tags: []\n"
        );
        let text = "a\nb\nc\n";
        let diff = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n";
        assert_eq!(apply(text, diff), "a\nB\nc\n");
    }
}
