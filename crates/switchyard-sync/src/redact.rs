//! Removes credentials from URLs before they are shown anywhere (status, logs, errors).

/// `https://user:secret@host/x.git` → `https://host/x.git`; scp-like and plain paths unchanged.
///
/// The user of an `ssh://` URL is kept (it is not a secret); a password never is.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let (scheme, rest) = url.split_at(scheme_end + 3);
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    let host = &authority[at + 1..];
    let kept = if scheme.starts_with("ssh") {
        let user = userinfo.split(':').next().unwrap_or("");
        format!("{user}@")
    } else {
        String::new()
    };
    format!("{scheme}{kept}{host}{}", &rest[authority_end..])
}

/// Replaces every occurrence of each secret in `text` with `***`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
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
    fn credentials_are_removed() {
        assert_eq!(
            redact_url("https://alice:s3cret@127.0.0.1:8443/git/f.git"),
            "https://127.0.0.1:8443/git/f.git"
        );
        assert_eq!(redact_url("https://tok@host/x"), "https://host/x");
        assert_eq!(redact_url("ssh://git:pw@host:22/x"), "ssh://git@host:22/x");
        assert_eq!(redact_url("git@host:owner/repo"), "git@host:owner/repo");
        assert_eq!(redact_url("/srv/repo.git"), "/srv/repo.git");
        assert_eq!(redact_url("https://host/a@b"), "https://host/a@b");
        assert_eq!(scrub("bad s3cret here", &["s3cret".into()]), "bad *** here");
    }
}
