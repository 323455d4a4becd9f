//! Which URLs a third party names (an LMS platform's endpoints and key set, an OpenID provider's
//! discovery document) the tool may call, or accept for calling later: `https://` in AWS. Plain
//! HTTP to a loopback host only when the wiring says so (`VIVID_ALLOW_PRIVATE_DOWNLOADS`, which the
//! local stack sets for its stand-ins and no deployment does): inside Lambda, loopback is the
//! runtime API's own address. Parsed as the HTTP client parses them (the `url` crate, reqwest's).

/// Whether `url` may be fetched: `https://` with a host; `http://` on a loopback host only with
/// `loopback_http` (the local stack).
pub fn fetchable(url: &str, loopback_http: bool) -> bool {
    let Ok(parsed) = url::Url::parse(url) else { return false };
    match parsed.scheme() {
        "https" => parsed.host_str().is_some_and(|h| !h.is_empty()),
        "http" => loopback_http && matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_is_fetched_unless_the_local_stack_allows_loopback() {
        assert!(fetchable("https://lms.example/jwks", false));
        assert!(fetchable("http://127.0.0.1:9000/jwks", true));
        assert!(fetchable("http://localhost:9000/jwks", true));
        assert!(fetchable("http://[::1]:9000/jwks", true));
        // In AWS, loopback is the Lambda runtime API's address: never fetched there.
        assert!(!fetchable("http://127.0.0.1:9001/2018-06-01/runtime/invocation/next", false));
        assert!(!fetchable("http://localhost:9000/jwks", false));
        assert!(!fetchable("http://lms.example/jwks", true));
        assert!(!fetchable("http://127.0.0.1.evil.example/jwks", true));
        assert!(!fetchable("file:///etc/passwd", true));
        assert!(!fetchable("not a url", true));
        assert!(!fetchable("https://", true));
    }
}
