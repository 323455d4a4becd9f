//! LTI 1.3 over HTTPS: a platform's ID tokens verified against its published key set, and the
//! calls LTI Dynamic Registration makes to the platform (its configuration, the registration).
//!
//! Platforms are reached over HTTPS; plain HTTP only on a loopback address (the local stack's
//! platform stand-in), never elsewhere.

mod keys;
mod registration;

pub use keys::HttpPlatformKeys;
pub use registration::HttpPlatform;

use std::time::Duration;

/// The HTTP client every platform call uses: rustls, 5-second timeout, no redirects (a key set
/// or configuration that moved is the platform's to fix, not a hop to follow blindly).
pub(crate) fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("the LTI HTTP client: {e}"))
}

/// Whether `url` may be fetched: `https://`, or `http://` on a loopback host.
pub fn fetchable(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else { return false };
    match parsed.scheme() {
        "https" => parsed.host_str().is_some(),
        "http" => matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_https_or_loopback_http_is_fetched() {
        assert!(super::fetchable("https://lms.example/jwks"));
        assert!(super::fetchable("http://127.0.0.1:9000/jwks"));
        assert!(!super::fetchable("http://lms.example/jwks"));
        assert!(!super::fetchable("http://127.0.0.1.evil.example/jwks"));
        assert!(!super::fetchable("file:///etc/passwd"));
        assert!(!super::fetchable("not a url"));
    }
}
