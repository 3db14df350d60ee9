//! Removes secrets from text before it is shown anywhere (status, logs, errors); URLs are
//! redacted by [`crate::remote_url`].

/// Replaces every occurrence of each secret in `text` with `***`.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(s.as_str(), "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed() {
        assert_eq!(scrub("bad s3cret here", &["s3cret".into()]), "bad *** here");
        assert_eq!(
            scrub("ab stays", &["ab".into()]),
            "ab stays",
            "too short to scrub"
        );
    }
}
