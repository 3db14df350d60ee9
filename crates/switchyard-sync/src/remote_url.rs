//! The one reader of Git remote URLs (`https://`, `ssh://`, scp-like `user@host:path`,
//! `file://` and plain paths), on gix's URL parser: credentials, transport, the redacted form
//! shown everywhere, and the repository identity webhooks are matched on.

use crate::error::SyncError;

/// A parsed remote URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    url: gix::Url,
}

impl RemoteUrl {
    /// Parses `text`. The error does not repeat the text: it may hold a password.
    pub fn parse(text: &str) -> Result<Self, SyncError> {
        gix::url::parse(text.trim().as_bytes())
            .map(|url| RemoteUrl { url })
            .map_err(|_| {
                SyncError::Local(
                    "invalid remote URL: expected https://host/path, ssh://[user@]host[:port]/path, \
                     user@host:path, file:///path or a local path"
                        .into(),
                )
            })
    }

    /// The user written in the URL, if any.
    pub fn user(&self) -> Option<&str> {
        self.url.user().filter(|u| !u.is_empty())
    }

    /// The password written in the URL, if any.
    pub fn password(&self) -> Option<&str> {
        self.url.password().filter(|p| !p.is_empty())
    }

    /// Whether the transport is ssh (`ssh://` or scp-like).
    pub fn is_ssh(&self) -> bool {
        self.url.scheme == gix::url::Scheme::Ssh
    }

    /// Whether the transport is http or https.
    pub fn is_http(&self) -> bool {
        matches!(
            self.url.scheme,
            gix::url::Scheme::Http | gix::url::Scheme::Https
        )
    }

    /// The URL without secrets: no password ever, and no user for http(s), where the user part
    /// often is a token (the user of an ssh URL is kept: it is not a secret).
    pub fn redacted(&self) -> String {
        let mut url = self.url.clone();
        url.set_password(None);
        if self.is_http() {
            url.set_user(None);
        }
        url.to_bstring().to_string()
    }

    /// `host/path` (or the path of a local repository), lower-cased, without a trailing `/` or
    /// `.git`: the same for every way of writing one repository's URL.
    pub fn repository_id(&self) -> String {
        let path = self.url.path.to_string();
        let id = match self.url.host() {
            Some(host) => format!("{host}/{}", path.trim_start_matches('/')),
            None => path,
        };
        let id = id.to_ascii_lowercase();
        let id = id.trim_end_matches('/');
        id.strip_suffix(".git").unwrap_or(id).to_string()
    }
}

/// `https://user:secret@host/x.git` → `https://host/x.git`; scp-like and plain paths unchanged.
///
/// The user of an `ssh://` URL is kept (it is not a secret); a password never is. Text gix
/// cannot read as a URL is not shown at all (start-up refuses such a remote).
pub fn redact_url(url: &str) -> String {
    match RemoteUrl::parse(url) {
        Ok(u) => u.redacted(),
        Err(_) => "(an invalid remote URL)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_removed() {
        for (url, shown) in [
            (
                "https://alice:s3cret@127.0.0.1:8443/git/f.git",
                "https://127.0.0.1:8443/git/f.git",
            ),
            ("https://tok@host/x", "https://host/x"),
            ("http://u:p@host:8080/x", "http://host:8080/x"),
            ("ssh://git:pw@host:22/x", "ssh://git@host:22/x"),
            ("ssh://git@host/x.git", "ssh://git@host/x.git"),
            ("git@host:owner/repo", "git@host:owner/repo"),
            ("/srv/repo.git", "/srv/repo.git"),
            ("file:///srv/repo.git", "file:///srv/repo.git"),
            ("https://host/a@b", "https://host/a@b"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn an_unreadable_url_is_refused_without_repeating_it() {
        let e = RemoteUrl::parse("https://u:s3cret-token@host:99999/x").expect_err("bad port");
        let text = e.to_string();
        assert!(
            text.starts_with("invalid remote URL: expected https://"),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    fn credentials_and_transport_are_read() {
        let u = RemoteUrl::parse("https://alice:s3cret@host/x.git").expect("url");
        assert_eq!((u.user(), u.password()), (Some("alice"), Some("s3cret")));
        assert!(u.is_http() && !u.is_ssh());
        let u = RemoteUrl::parse("https://host/x.git").expect("url");
        assert_eq!((u.user(), u.password()), (None, None));
        for ssh in ["git@host:o/r.git", "ssh://git@host:22/o/r", "host:o/r"] {
            let u = RemoteUrl::parse(ssh).expect("url");
            assert!(u.is_ssh(), "{ssh}");
        }
        assert_eq!(
            RemoteUrl::parse("git@h:o/r").expect("url").user(),
            Some("git")
        );
        assert_eq!(RemoteUrl::parse("h:o/r").expect("url").user(), None);
        for local in ["/srv/r.git", "file:///srv/r.git", "./r"] {
            let u = RemoteUrl::parse(local).expect("url");
            assert!(!u.is_ssh() && !u.is_http(), "{local}");
        }
    }

    #[test]
    fn one_repository_has_one_id() {
        let want = "github.com/acme/flags";
        for u in [
            "https://github.com/acme/flags.git",
            "https://user:token@github.com/Acme/flags",
            "git@github.com:acme/flags.git",
            "ssh://git@github.com:22/acme/flags.git",
            "https://github.com/acme/flags/",
        ] {
            assert_eq!(
                RemoteUrl::parse(u).expect("url").repository_id(),
                want,
                "{u}"
            );
        }
        assert_eq!(
            RemoteUrl::parse("file:///srv/git/flags.git")
                .expect("url")
                .repository_id(),
            "/srv/git/flags"
        );
    }
}
