//! Flipt v2's repository configuration, `flipt.yaml` (or `flipt.yml`) at the environment root.
//!
//! It holds `version` and `templates` (commit and pull-request texts for Flipt's write path,
//! which Switchyard does not have); it selects no files. Flipt v2 still refuses the whole
//! environment when it cannot read it (`v2:internal/storage/fs/config.go` `parseConfig`): the
//! file must be one YAML mapping, and `version` (default `"2.0"`) must parse as a strict
//! semantic version (`blang/semver` `Parse`: `major.minor.patch`, so `"2.0"` itself fails) no
//! greater than 2.0.0. Those refusals are reproduced here, each with its fix; the Go templates
//! are not parsed (Switchyard never renders them).

use crate::diagnostic::{Diagnostics, Pos, Sink};
use crate::limits::Limits;
use crate::source::SourceFile;
use crate::yaml::{self, Value};

/// The newest repository configuration version Flipt v2 reads.
const NEWEST: (u64, u64, u64) = (2, 0, 0);

/// The keys of `templates`.
const TEMPLATE_KEYS: &[&str] = &["commit_message", "proposal_title", "proposal_body"];

/// Checks a repository configuration as Flipt v2 reads it; every refusal is a diagnostic.
pub(crate) fn check(file: &SourceFile, limits: &Limits) -> Result<(), Diagnostics> {
    let name = file.path.as_str();
    let mut sink = Sink::default();
    let refused = "Flipt v2 refuses the environment";
    let Ok(text) = std::str::from_utf8(&file.contents) else {
        sink.push(name, Pos::new(1, 1), "", "file is not valid UTF-8");
        return Err(sink.finish());
    };
    let docs = match yaml::parse_yaml(text, limits) {
        Ok(d) => d,
        Err(e) => {
            sink.push(name, e.pos, "", e.message);
            return Err(sink.finish());
        }
    };
    let Some(doc) = docs.into_iter().next() else {
        sink.push(
            name,
            Pos::new(1, 1),
            "",
            format!(
                "the repository configuration is empty and {refused} (it reads `version` from it): write `version: \"2.0.0\"`, or delete the file"
            ),
        );
        return Err(sink.finish());
    };
    let entries = match doc.value {
        Value::Map(entries) => entries,
        Value::Null => Vec::new(),
        other => {
            sink.push(
                name,
                doc.pos,
                "",
                format!(
                    "the repository configuration must be a mapping with `version` (and `templates`), found {}; {refused}",
                    other.kind()
                ),
            );
            return Err(sink.finish());
        }
    };
    let mut saw_version = false;
    for (key, node) in &entries {
        match key.name.as_ref() {
            "version" => {
                saw_version = true;
                let fix = "write `version: \"2.0.0\"` (quoted: a full major.minor.patch)";
                match &node.value {
                    Value::Str(v) => match semver(v) {
                        None => sink.push(
                            name,
                            node.pos,
                            "version",
                            format!(
                                "version {v:?} is not a full semantic version (major.minor.patch) and {refused} (\"No Major.Minor.Patch elements found\"); {fix}"
                            ),
                        ),
                        Some(parsed) if parsed > NEWEST => sink.push(
                            name,
                            node.pos,
                            "version",
                            format!(
                                "unsupported flipt config version: {v:?}; the newest Flipt v2 reads is 2.0.0: {fix}"
                            ),
                        ),
                        Some(_) => {}
                    },
                    other => sink.push(
                        name,
                        node.pos,
                        "version",
                        format!(
                            "version must be a string such as \"2.0.0\", found {}; {refused}: {fix}",
                            other.kind()
                        ),
                    ),
                }
            }
            "templates" => match &node.value {
                Value::Null => {}
                Value::Map(templates) => {
                    for (k, v) in templates {
                        if TEMPLATE_KEYS.contains(&k.name.as_ref())
                            && matches!(v.value, Value::Seq(_) | Value::Map(_))
                        {
                            sink.push(
                                name,
                                v.pos,
                                &format!("templates.{}", k.name),
                                format!(
                                    "a template must be a string, found {}; {refused}",
                                    v.value.kind()
                                ),
                            );
                        }
                    }
                }
                other => sink.push(
                    name,
                    node.pos,
                    "templates",
                    format!(
                        "templates must be a mapping ({}), found {}; {refused}",
                        TEMPLATE_KEYS.join(", "),
                        other.kind()
                    ),
                ),
            },
            // Flipt ignores other keys.
            _ => {}
        }
    }
    if !saw_version {
        sink.push(
            name,
            doc.pos,
            "",
            format!(
                "no `version`: Flipt v2 then assumes \"2.0\", which is not a full semantic version, and {refused}; add `version: \"2.0.0\"`"
            ),
        );
    }
    if sink.is_empty() {
        Ok(())
    } else {
        Err(sink.finish())
    }
}

/// `major.minor.patch` of a strict semantic version (`blang/semver` `Parse`), or `None`.
///
/// Pre-release and build parts are checked and dropped: whether a version is newer than 2.0.0
/// depends on `major.minor.patch` alone (`2.0.0-rc.1` is older than 2.0.0, `2.0.1-rc.1` newer).
fn semver(v: &str) -> Option<(u64, u64, u64)> {
    let mut parts = v.splitn(3, '.');
    let major = number(parts.next()?)?;
    let minor = number(parts.next()?)?;
    let rest = parts.next()?;
    let (core, build) = match rest.split_once('+') {
        Some((c, b)) => (c, Some(b)),
        None => (rest, None),
    };
    let (patch, pre) = match core.split_once('-') {
        Some((p, pre)) => (p, Some(pre)),
        None => (core, None),
    };
    let patch = number(patch)?;
    if let Some(pre) = pre {
        for id in pre.split('.') {
            let numeric = id.bytes().all(|b| b.is_ascii_digit());
            if !identifier(id) || (numeric && id.len() > 1 && id.starts_with('0')) {
                return None;
            }
        }
    }
    if let Some(build) = build
        && !build.split('.').all(identifier)
    {
        return None;
    }
    Some((major, minor, patch))
}

/// A decimal number without leading zeros.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// A pre-release or build identifier: `[0-9A-Za-z-]+`.
fn identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::semver;

    #[test]
    fn strict_semantic_versions() {
        assert_eq!(semver("2.0.0"), Some((2, 0, 0)));
        assert_eq!(semver("1.4.2"), Some((1, 4, 2)));
        assert_eq!(semver("2.0.0+build.5"), Some((2, 0, 0)));
        assert_eq!(semver("2.0.0-rc.1"), Some((2, 0, 0)));
        assert_eq!(semver("2.0.1-rc.1"), Some((2, 0, 1)));
        for bad in [
            "2.0", "2", "", "v2.0.0", "02.0.0", "2.0.x", "2.0.0-", "2.0.0-01", "2.0.0+",
        ] {
            assert_eq!(semver(bad), None, "{bad}");
        }
    }
}
