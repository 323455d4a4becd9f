//! The institutions' OpenID Connect providers, as the `OidcProviders` template parameter lists
//! them (`VIVID_OIDC_PROVIDERS`): a JSON array, parsed strictly — an unknown field, a duplicate
//! id, an issuer that is not an absolute `https` URL, a scope list without `openid`, an empty
//! domain list: the function refuses to start, naming what is wrong.

use serde::Deserialize;

use crate::types::{Email, Invalid};

/// At most this many providers (docs/quotas.md): each is a row of the sign-in page.
pub const MAX_PROVIDERS: usize = 20;
/// At most this many allowed e-mail domains per provider.
pub const MAX_DOMAINS: usize = 50;
/// The scopes asked for when a provider names none.
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];
/// `allowedEmailDomains: ["*"]`: any verified address (Google's public accounts).
pub const ANY_DOMAIN: &str = "*";

/// One provider: who it is (`issuer`, exactly as its discovery document writes it), who we are
/// to it (`clientId`; the secret is in Secrets Manager), whose addresses it may sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// In the routes: `/auth/oidc/{id}/login`. Lower-case letters, digits and `-`, 1 to 32.
    pub id: String,
    pub issuer: String,
    pub client_id: String,
    /// Lower-case domains; [`ANY_DOMAIN`] alone for any.
    pub allowed_email_domains: Vec<String>,
    pub scopes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Raw {
    id: String,
    issuer: String,
    client_id: String,
    allowed_email_domains: Vec<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

fn invalid(detail: String) -> Invalid {
    Invalid(format!("VIVID_OIDC_PROVIDERS: {detail}"))
}

/// Whether `issuer` is an issuer identifier as OpenID Connect Discovery §2 has it: an `https`
/// URL without query or fragment (`http` on loopback only: the local stack's provider).
fn issuer_ok(issuer: &str) -> bool {
    let loopback = ["http://127.0.0.1:", "http://localhost:"].iter().any(|p| issuer.starts_with(p));
    (issuer.starts_with("https://") || loopback)
        && issuer.len() <= 512
        && !issuer.contains(['?', '#'])
        && !issuer.chars().any(|c| c.is_whitespace() || c.is_control())
        && issuer.split_once("://").is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'))
}

fn domain_ok(domain: &str) -> bool {
    domain == ANY_DOMAIN
        || (domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            }))
}

impl OidcProvider {
    /// Every provider of the configuration (`""` or `[]`: none).
    pub fn parse_all(spec: &str) -> Result<Vec<OidcProvider>, Invalid> {
        if spec.trim().is_empty() {
            return Ok(Vec::new());
        }
        let raw: Vec<Raw> = serde_json::from_str(spec).map_err(|e| invalid(format!("not a list of providers: {e}")))?;
        if raw.len() > MAX_PROVIDERS {
            return Err(invalid(format!("at most {MAX_PROVIDERS} providers")));
        }
        let mut providers: Vec<OidcProvider> = Vec::with_capacity(raw.len());
        for r in raw {
            let id_ok = (1..=32).contains(&r.id.len())
                && r.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !id_ok {
                return Err(invalid(format!("id {:?}: 1 to 32 lower-case letters, digits or '-'", r.id)));
            }
            if providers.iter().any(|p| p.id == r.id) {
                return Err(invalid(format!("id {:?} is listed twice", r.id)));
            }
            if !issuer_ok(&r.issuer) {
                return Err(invalid(format!("{}: issuer must be an https URL without query or fragment", r.id)));
            }
            if r.client_id.is_empty() || r.client_id.len() > 256 || r.client_id.chars().any(char::is_control) {
                return Err(invalid(format!("{}: clientId must be 1 to 256 characters", r.id)));
            }
            let domains = r.allowed_email_domains;
            if domains.is_empty() || domains.len() > MAX_DOMAINS || !domains.iter().all(|d| domain_ok(d)) {
                return Err(invalid(format!(
                    "{}: allowedEmailDomains must list 1 to {MAX_DOMAINS} lower-case domains, or \"*\" for any",
                    r.id
                )));
            }
            if domains.len() > 1 && domains.iter().any(|d| d == ANY_DOMAIN) {
                return Err(invalid(format!("{}: \"*\" stands alone in allowedEmailDomains", r.id)));
            }
            let scopes = r.scopes.unwrap_or_else(|| DEFAULT_SCOPES.map(str::to_owned).to_vec());
            let scope_ok = |s: &String| !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_graphic());
            if !scopes.iter().any(|s| s == "openid") || !scopes.iter().all(scope_ok) || scopes.len() > 20 {
                return Err(invalid(format!("{}: scopes must include openid (at most 20, no spaces)", r.id)));
            }
            providers.push(OidcProvider {
                id: r.id,
                issuer: r.issuer,
                client_id: r.client_id,
                allowed_email_domains: domains,
                scopes,
            });
        }
        Ok(providers)
    }

    /// Whether this provider may sign in `email` (its domain listed, exactly: not a subdomain).
    pub fn allows(&self, email: &Email) -> bool {
        let domain = email.as_str().rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        self.allowed_email_domains.iter().any(|d| d == ANY_DOMAIN || d == domain)
    }

    /// The discovery document's URL: the issuer with `/.well-known/openid-configuration`
    /// appended after any trailing `/` (Discovery §4).
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"[{"id":"uni","issuer":"https://login.uni.example","clientId":"vivid","allowedEmailDomains":["uni.example"]}]"#;

    #[test]
    fn a_provider_reads_with_the_default_scopes() {
        let p = OidcProvider::parse_all(ONE).expect("valid");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].scopes, ["openid", "email", "profile"]);
        assert_eq!(p[0].discovery_url(), "https://login.uni.example/.well-known/openid-configuration");
        assert!(OidcProvider::parse_all("").expect("none").is_empty());
        assert!(OidcProvider::parse_all("[]").expect("none").is_empty());
    }

    #[test]
    fn the_domain_must_be_listed_exactly() {
        let p = &OidcProvider::parse_all(ONE).expect("valid")[0];
        let email = |s: &str| s.parse::<Email>().expect("email");
        assert!(p.allows(&email("ana@uni.example")));
        assert!(p.allows(&email("ANA@UNI.EXAMPLE")));
        assert!(!p.allows(&email("ana@sub.uni.example")));
        assert!(!p.allows(&email("ana@evil-uni.example")));
        assert!(!p.allows(&email("ana@uni.example.evil")));
    }

    #[test]
    fn anything_off_is_refused() {
        for bad in [
            "{}",
            "[1]",
            r#"[{"id":"uni","issuer":"https://a.example","clientId":"c","allowedEmailDomains":["a.example"],"x":1}]"#,
            r#"[{"id":"Uni","issuer":"https://a.example","clientId":"c","allowedEmailDomains":["a.example"]}]"#,
            r#"[{"id":"uni","issuer":"http://a.example","clientId":"c","allowedEmailDomains":["a.example"]}]"#,
            r#"[{"id":"uni","issuer":"https://a.example?x","clientId":"c","allowedEmailDomains":["a.example"]}]"#,
            r#"[{"id":"uni","issuer":"https://a.example","clientId":"","allowedEmailDomains":["a.example"]}]"#,
            r#"[{"id":"uni","issuer":"https://a.example","clientId":"c","allowedEmailDomains":[]}]"#,
            r#"[{"id":"uni","issuer":"https://a.example","clientId":"c","allowedEmailDomains":["A.example"]}]"#,
            r#"[{"id":"uni","issuer":"https://a.example","clientId":"c","allowedEmailDomains":["*","a.example"]}]"#,
            r#"[{"id":"uni","issuer":"https://a.example","clientId":"c","allowedEmailDomains":["a.example"],"scopes":["email"]}]"#,
            r#"[{"id":"u","issuer":"https://a.example","clientId":"c","allowedEmailDomains":["*"]},{"id":"u","issuer":"https://b.example","clientId":"c","allowedEmailDomains":["*"]}]"#,
        ] {
            assert!(OidcProvider::parse_all(bad).is_err(), "{bad}");
        }
    }
}
