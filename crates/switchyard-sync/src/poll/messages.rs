//! The words of a rejected commit in the status and the logs.

/// The status message of a rejected commit: how many errors, and the first one.
pub(super) fn rejection_message(
    sha: Option<&str>,
    errors: &[crate::status::ValidationError],
) -> String {
    let first = errors.first().map(ToString::to_string).unwrap_or_default();
    format!(
        "commit {} rejected: {} validation error(s), first: {first}",
        sha.unwrap_or("-"),
        errors.len()
    )
}
