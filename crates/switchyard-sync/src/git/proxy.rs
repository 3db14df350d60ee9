//! Naming the proxy an http(s) fetch goes through, from the environment variables reqwest
//! reads, for error messages.

/// Whether `NO_PROXY` (or, when unset, `no_proxy`) has a `*` entry: no proxy for any host.
pub(super) fn no_proxy_all() -> bool {
    std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .is_ok_and(|v| v.split(',').any(|e| e.trim() == "*"))
}

/// The proxy an http(s) fetch of `url` goes through, from the environment variables reqwest
/// reads (`HTTPS_PROXY`/`https_proxy` or `HTTP_PROXY`/`http_proxy`, then `ALL_PROXY`/`all_proxy`,
/// minus `NO_PROXY`/`no_proxy`), with the variable it came from:
/// `http://proxy:3128 from HTTPS_PROXY`. Proxy credentials are left out.
pub(super) fn env_proxy(url: &str) -> Option<String> {
    use hyper_util::client::proxy::matcher::Matcher;
    if no_proxy_all() {
        return None;
    }
    let dst: ::http::Uri = url.parse().ok()?;
    let proxy = Matcher::from_env().intercept(&dst)?;
    let vars: [&str; 4] = if dst.scheme_str() == Some("https") {
        ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    let uri = proxy.uri().to_string();
    let uri = uri.strip_suffix('/').unwrap_or(&uri);
    let from = vars.into_iter().find(|v| {
        std::env::var(v).is_ok_and(|value| {
            Matcher::builder()
                .all(value)
                .build()
                .intercept(&dst)
                .is_some_and(|p| p.uri() == proxy.uri())
        })
    });
    Some(match from {
        Some(var) => format!("{uri} from {var}"),
        None => uri.to_string(),
    })
}
