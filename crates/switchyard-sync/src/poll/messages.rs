//! The words of a rejected commit in the status and the logs.

/// The status message of a rejected commit: how many errors, and the first one.
pub(super) fn rejection_message(
    sha: Option<&str>,
    errors: &[crate::status::ValidationError],
) -> String {
    let first = errors.first().map(describe).unwrap_or_default();
    format!(
        "commit {} rejected: {} validation error(s), first: {first}",
        sha.unwrap_or("-"),
        errors.len()
    )
}

/// `file:line:column: path: message` of one validation error.
pub(super) fn describe(v: &crate::status::ValidationError) -> String {
    if v.path.is_empty() {
        format!("{}:{}:{}: {}", v.file, v.line, v.column, v.message)
    } else {
        format!(
            "{}:{}:{}: {}: {}",
            v.file, v.line, v.column, v.path, v.message
        )
    }
}
