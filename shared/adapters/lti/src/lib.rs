//! LTI 1.3 over HTTPS: a platform's ID tokens verified against its published key set, and the
//! calls LTI Dynamic Registration makes to the platform (its configuration, the registration).
//!
//! Platforms are reached over HTTPS only, at public addresses only ([`vivid_http::is_public`]: a
//! registered platform cannot point the tool at the metadata service, the VPC or loopback). Plain
//! HTTP to a loopback address, and private addresses, are allowed only when the wiring says so
//! (`VIVID_ALLOW_PRIVATE_DOWNLOADS`, which the local stack sets for its platform stand-in and no
//! deployment does): in Lambda, loopback is the runtime API's own address.

mod keys;
mod registration;

pub use keys::HttpPlatformKeys;
pub use registration::HttpPlatform;

use std::time::Duration;

/// The HTTP client every platform call uses: rustls, 5-second timeout, no redirects (a key set
/// or configuration that moved is the platform's to fix, not a hop to follow blindly), names
/// connected to at their public addresses only unless `private` (the local stack).
pub(crate) fn client(private: bool) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        // Not through HTTPS_PROXY/ALL_PROXY: a proxy resolves names past the public-only resolver.
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none());
    if !private {
        builder = builder.dns_resolver(vivid_http::public_only());
    }
    builder.build().map_err(|e| format!("the LTI HTTP client: {e}"))
}

pub use vivid_http::fetchable;
pub(crate) use vivid_http::{public_host, read_capped};

/// Whether a configuration fetched from `url` may name `issuer` (LTI Dynamic Registration 1.0,
/// 3.5.1: the issuer is the configuration's origin, or a prefix of its URL). Compared as parsed
/// URLs: the same scheme, host and port, no user info in either, and the issuer's path a prefix
/// of the URL's on a `/` boundary — so `https://lms.victim.edu@evil.example/…` and
/// `https://lms.victim.edu.evil.example/…` cannot hand over `https://lms.victim.edu`.
pub(crate) fn issuer_serves(issuer: &str, url: &str) -> bool {
    let (Ok(issuer), Ok(url)) = (reqwest::Url::parse(issuer), reqwest::Url::parse(url)) else { return false };
    let no_user = |u: &reqwest::Url| u.username().is_empty() && u.password().is_none();
    if !no_user(&issuer) || !no_user(&url) || issuer.scheme() != url.scheme() {
        return false;
    }
    if issuer.host_str().is_none_or(str::is_empty) || issuer.host_str() != url.host_str() {
        return false;
    }
    if issuer.port_or_known_default() != url.port_or_known_default() {
        return false;
    }
    let prefix = issuer.path().trim_end_matches('/');
    prefix.is_empty() || url.path() == prefix || url.path().starts_with(&format!("{prefix}/"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_issuer_serves_only_its_own_origin() {
        let cfg = "https://lms.victim.edu/api/lti/openid-configuration";
        assert!(super::issuer_serves("https://lms.victim.edu", cfg));
        assert!(super::issuer_serves("https://lms.victim.edu/", cfg));
        assert!(super::issuer_serves("https://lms.victim.edu/api", cfg));
        assert!(super::issuer_serves("http://127.0.0.1:9000", "http://127.0.0.1:9000/config"));
        for (issuer, url) in [
            ("https://lms.victim.edu", "https://lms.victim.edu@evil.example/cfg"),
            ("https://lms.victim.edu", "https://lms.victim.edu.evil.example/cfg"),
            ("https://lms.victim.edu", "https://lms.victim.edu:8443/cfg"),
            ("https://lms.victim.edu", "http://lms.victim.edu/cfg"),
            ("https://lms.victim.edu/ap", "https://lms.victim.edu/api/cfg"),
            ("https://user@lms.victim.edu", "https://lms.victim.edu/cfg"),
            ("", cfg),
            ("https://", cfg),
            ("not a url", cfg),
        ] {
            assert!(!super::issuer_serves(issuer, url), "{issuer} from {url}");
        }
    }
}
