//! Registering a platform by hand, for LMSs without LTI Dynamic Registration (Open edX's LTI
//! Consumer, Canvas's and Moodle's manual configuration): an operator copies the platform's values
//! into `POST /lti/registrations`; and the deployments added to a registration later (Canvas gives
//! a new deployment id each time the key is installed in another account or course).

use serde::Deserialize;

use super::model::Registration;
use crate::{
    types::Invalid,
    urls::{fetchable, ip_host, is_public_ip},
};

/// The most deployments a manual registration names at once.
pub const MAX_NEW_DEPLOYMENTS: usize = 20;
/// The most deployments one registration holds (`POST .../deployments` refuses more).
pub const MAX_DEPLOYMENTS: usize = 100;
/// The longest issuer: it is part of the registration's partition key.
pub const MAX_ISSUER: usize = 1024;
/// The longest platform endpoint URL.
pub const MAX_URL: usize = 2048;
/// The longest client id and deployment id (LTI 1.3: a deployment id is at most 255 characters).
pub const MAX_ID: usize = 255;
/// The longest name for operators.
pub const MAX_NAME: usize = 100;

/// A registration as an operator types it (`POST /lti/registrations`'s body).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManualRegistration {
    /// The platform's `iss`, exactly as its ID tokens carry it.
    pub issuer: String,
    pub client_id: String,
    pub deployment_ids: Vec<String>,
    pub auth_url: String,
    pub token_url: String,
    pub jwks_url: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The operator vouches that this client's key set is the issuer's too, though it is not the
    /// one its other registrations name: Open edX keeps a key set per LTI component under one
    /// issuer. Only a registration by hand may say so (an LTI administrator's word); without it,
    /// and always for dynamic registration, an issuer has one key set.
    #[serde(default)]
    pub separate_key_set: bool,
}

impl ManualRegistration {
    /// The registration these values make, by `created_by` (`user:{userId}`) at `created_at`;
    /// the first broken rule otherwise, naming its field. Its URLs are ones the tool fetches
    /// ([`fetchable`]: `https://`; loopback `http://` only with `loopback_http`, the local stack),
    /// and a host written as an IP address is a public one ([`is_public_ip`]) unless
    /// `loopback_http`: the HTTP client would refuse any other at every launch.
    pub fn into_registration(
        self,
        loopback_http: bool,
        created_by: String,
        created_at: String,
    ) -> Result<Registration, Invalid> {
        issuer(&self.issuer, loopback_http)?;
        client_id(&self.client_id)?;
        if self.deployment_ids.is_empty() || self.deployment_ids.len() > MAX_NEW_DEPLOYMENTS {
            return Err(Invalid(format!("deploymentIds: 1 to {MAX_NEW_DEPLOYMENTS} deployment ids")));
        }
        for (i, d) in self.deployment_ids.iter().enumerate() {
            deployment_id(d).map_err(|e| Invalid(format!("deploymentIds[{i}]: {}", e.0)))?;
            if self.deployment_ids[..i].contains(d) {
                return Err(Invalid(format!("deploymentIds[{i}]: {d:?} is named twice")));
            }
        }
        for (field, url) in [("authUrl", &self.auth_url), ("tokenUrl", &self.token_url), ("jwksUrl", &self.jwks_url)] {
            endpoint(field, url, loopback_http)?;
        }
        let name = match self.name {
            None => self.issuer.chars().take(MAX_NAME).collect(),
            Some(n) => {
                if n.trim().is_empty() || n.chars().count() > MAX_NAME || n.chars().any(char::is_control) {
                    return Err(Invalid(format!(
                        "name: 1 to {MAX_NAME} characters, not only spaces, without control characters"
                    )));
                }
                n.trim().to_owned()
            }
        };
        Ok(Registration {
            issuer: self.issuer,
            client_id: self.client_id,
            deployment_ids: self.deployment_ids,
            auth_url: self.auth_url,
            token_url: self.token_url,
            jwks_url: self.jwks_url,
            name,
            created_by,
            created_at,
        })
    }
}

/// Printable ASCII without spaces: what a URL or client id is made of (a URL's other characters
/// are percent-encoded), so that no two spellings of a value look alike.
fn printable_ascii(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_graphic())
}

/// An issuer: a URL the tool fetches (HTTPS), without user info, query or fragment (LTI 1.3:
/// "a case-sensitive URL using the HTTPS scheme that contains scheme, host, and optionally, port
/// number, and path components and no query or fragment components").
fn issuer(s: &str, loopback_http: bool) -> Result<(), Invalid> {
    let rule = || {
        Invalid(format!(
            "issuer: an https URL of at most {MAX_ISSUER} characters without user info, query or fragment, exactly as the platform's ID tokens carry it (iss)"
        ))
    };
    if s.is_empty() || s.len() > MAX_ISSUER || !printable_ascii(s) || s.contains(['?', '#']) {
        return Err(rule());
    }
    let authority = s.split_once("://").map(|(_, rest)| rest.split('/').next().unwrap_or_default()).unwrap_or_default();
    if authority.contains('@') || !fetchable(s, loopback_http) {
        return Err(rule());
    }
    public_address("issuer", s, loopback_http)
}

/// A platform endpoint: a URL the tool fetches (HTTPS), without fragment.
fn endpoint(field: &str, s: &str, loopback_http: bool) -> Result<(), Invalid> {
    if s.is_empty() || s.len() > MAX_URL || !printable_ascii(s) || s.contains('#') || !fetchable(s, loopback_http) {
        return Err(Invalid(format!("{field}: an https URL of at most {MAX_URL} characters without fragment")));
    }
    public_address(field, s, loopback_http)
}

/// A URL whose host is an IP address (in any of its forms: `https://0x7f.1/` is 127.0.0.1) is
/// refused now when the tool would not connect to it ([`is_public_ip`]: the VPC's 10.x, the
/// instance metadata service's 169.254.169.254, ...), rather than failing every launch later; only
/// the local stack (`loopback_http`), whose stand-ins listen on 127.0.0.1, takes any. A name is
/// checked where it resolves to at each connection, not here.
fn public_address(field: &str, s: &str, loopback_http: bool) -> Result<(), Invalid> {
    match ip_host(s) {
        Some(ip) if !loopback_http && !is_public_ip(ip) => Err(Invalid(format!(
            "{field}: its host is the address {ip}, which is not public (the tool connects to public addresses only)"
        ))),
        _ => Ok(()),
    }
}

/// A client id: 1 to 255 printable ASCII characters (it is part of the registration's key).
fn client_id(s: &str) -> Result<(), Invalid> {
    if s.is_empty() || s.len() > MAX_ID || !printable_ascii(s) {
        return Err(Invalid(format!("clientId: 1 to {MAX_ID} printable ASCII characters, without spaces")));
    }
    Ok(())
}

/// A deployment id: 1 to 255 characters without control characters.
pub fn deployment_id(s: &str) -> Result<(), Invalid> {
    if s.is_empty() || s.chars().count() > MAX_ID || s.chars().any(char::is_control) {
        return Err(Invalid(format!("deploymentId: 1 to {MAX_ID} characters without control characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edx() -> ManualRegistration {
        ManualRegistration {
            issuer: "https://courses.example.edu".into(),
            client_id: "5d1f0b7e-3c1a-4a3e-9a8e-0f5b2f0f7c11".into(),
            deployment_ids: vec!["1".into()],
            auth_url: "https://courses.example.edu/api/lti_consumer/v1/launch/".into(),
            token_url: "https://courses.example.edu/api/lti_consumer/v1/token/block-v1:Org+C1+2026+type@lti_consumer+block@abc".into(),
            jwks_url: "https://courses.example.edu/api/lti_consumer/v1/public_keysets/block-v1:Org+C1+2026+type@lti_consumer+block@abc".into(),
            name: None,
            separate_key_set: false,
        }
    }

    fn make(m: ManualRegistration, loopback: bool) -> Result<Registration, Invalid> {
        m.into_registration(loopback, "user:u1".into(), "2026-12-07T12:00:00.000Z".into())
    }

    #[test]
    fn an_operators_values_make_the_registration() {
        let reg = make(edx(), false).expect("valid");
        assert_eq!(reg.issuer, "https://courses.example.edu");
        assert_eq!(reg.deployment_ids, ["1"]);
        assert_eq!(reg.name, "https://courses.example.edu", "the issuer names it when no name is given");
        assert_eq!(reg.created_by, "user:u1");
        let named = make(ManualRegistration { name: Some("  Open edX  ".into()), ..edx() }, false).expect("valid");
        assert_eq!(named.name, "Open edX");
        // The local stack's platform stand-in, on loopback http.
        let local = ManualRegistration {
            issuer: "http://127.0.0.1:9000".into(),
            auth_url: "http://127.0.0.1:9000/auth".into(),
            ..edx()
        };
        assert!(make(local.clone(), true).is_ok());
        assert!(make(local, false).is_err());
    }

    #[test]
    fn every_broken_rule_is_refused_naming_its_field() {
        let cases: Vec<(&str, ManualRegistration)> = vec![
            ("issuer", ManualRegistration { issuer: "http://lms.example.edu".into(), ..edx() }),
            ("issuer", ManualRegistration { issuer: "lms.example.edu".into(), ..edx() }),
            ("issuer", ManualRegistration { issuer: "https://lms.example.edu/?a=1".into(), ..edx() }),
            ("issuer", ManualRegistration { issuer: "https://lms.example.edu/#x".into(), ..edx() }),
            ("issuer", ManualRegistration { issuer: "https://a@lms.example.edu".into(), ..edx() }),
            ("issuer", ManualRegistration { issuer: "https://lms.example.edu/\n".into(), ..edx() }),
            ("issuer", ManualRegistration { issuer: format!("https://{}", "a".repeat(MAX_ISSUER)), ..edx() }),
            ("clientId", ManualRegistration { client_id: String::new(), ..edx() }),
            ("clientId", ManualRegistration { client_id: "a b".into(), ..edx() }),
            ("clientId", ManualRegistration { client_id: "x".repeat(MAX_ID + 1), ..edx() }),
            ("deploymentIds", ManualRegistration { deployment_ids: vec![], ..edx() }),
            ("deploymentIds", ManualRegistration { deployment_ids: (0..21).map(|i| i.to_string()).collect(), ..edx() }),
            ("deploymentIds[1]", ManualRegistration { deployment_ids: vec!["1".into(), "1".into()], ..edx() }),
            ("deploymentIds[0]", ManualRegistration { deployment_ids: vec!["a\u{7}".into()], ..edx() }),
            ("deploymentIds[0]", ManualRegistration { deployment_ids: vec![String::new()], ..edx() }),
            ("authUrl", ManualRegistration { auth_url: "http://lms.example.edu/auth".into(), ..edx() }),
            ("tokenUrl", ManualRegistration { token_url: "not a url".into(), ..edx() }),
            ("jwksUrl", ManualRegistration { jwks_url: "https://lms.example.edu/jwks#k".into(), ..edx() }),
            ("jwksUrl", ManualRegistration { jwks_url: format!("https://lms/{}", "a".repeat(MAX_URL)), ..edx() }),
            ("name", ManualRegistration { name: Some(" ".into()), ..edx() }),
            ("name", ManualRegistration { name: Some("x".repeat(MAX_NAME + 1)), ..edx() }),
        ];
        for (field, m) in cases {
            let err = make(m.clone(), true).expect_err(field);
            assert!(err.0.starts_with(&format!("{field}:")), "{field}: {m:?} -> {}", err.0);
        }
    }

    #[test]
    fn a_url_at_an_address_that_is_not_public_is_refused_outside_the_local_stack() {
        let with = |field: &str, url: &str| match field {
            "issuer" => ManualRegistration { issuer: url.into(), ..edx() },
            "authUrl" => ManualRegistration { auth_url: url.into(), ..edx() },
            "tokenUrl" => ManualRegistration { token_url: url.into(), ..edx() },
            _ => ManualRegistration { jwks_url: url.into(), ..edx() },
        };
        let cases = [
            ("jwksUrl", "https://10.0.0.5/jwks", "10.0.0.5"),
            ("tokenUrl", "https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
            ("authUrl", "https://0x7f.1/auth", "127.0.0.1"),
            ("authUrl", "https://2130706433/auth", "127.0.0.1"),
            ("jwksUrl", "https://012.0.0.5:8443/jwks", "10.0.0.5"),
            ("jwksUrl", "https://[::ffff:a9fe:a9fe]/k", "::ffff:169.254.169.254"),
            ("tokenUrl", "https://[fd00:ec2::254]/t", "fd00:ec2::254"),
            ("issuer", "https://192.168.1.10", "192.168.1.10"),
            ("issuer", "https://[::1]/lms", "::1"),
        ];
        for (field, url, ip) in cases {
            let m = with(field, url);
            let err = make(m.clone(), false).expect_err(field);
            assert_eq!(
                err.0,
                format!(
                    "{field}: its host is the address {ip}, which is not public (the tool connects to public addresses only)"
                ),
                "{m:?}"
            );
            // The local stack's stand-ins listen on loopback: there any address is taken.
            assert!(make(m, true).is_ok(), "{field} {ip}");
        }
        // A public address, and a name (the HTTP client's resolver checks where it leads).
        for url in ["https://52.1.2.3/jwks", "https://[2606:4700::1111]/jwks", "https://lms.internal/jwks"] {
            assert!(make(with("jwksUrl", url), false).is_ok(), "{url}");
        }
        assert_eq!(
            make(with("issuer", "https://52.1.2.3"), false).map(|r| r.issuer).ok().as_deref(),
            Some("https://52.1.2.3")
        );
    }

    #[test]
    fn deployment_ids_are_bounded_and_free_of_control_characters() {
        assert!(deployment_id("42:8865aa05b4b79b64a91a86042e43af5ea8ae79eb").is_ok());
        assert!(deployment_id(&"é".repeat(MAX_ID)).is_ok());
        assert!(deployment_id(&"é".repeat(MAX_ID + 1)).is_err());
        assert!(deployment_id("").is_err());
        assert!(deployment_id("a\tb").is_err());
    }

    #[test]
    fn the_body_takes_no_unknown_field() {
        let body = r#"{"issuer":"https://x","clientId":"c","deploymentIds":["1"],"authUrl":"https://x/a","tokenUrl":"https://x/t","jwksUrl":"https://x/k","extra":1}"#;
        assert!(serde_json::from_str::<ManualRegistration>(body).is_err());
        let ok = body.replace(r#","extra":1"#, "");
        let parsed = serde_json::from_str::<ManualRegistration>(&ok).expect("no unknown field");
        assert_eq!((parsed.client_id.as_str(), parsed.name), ("c", None));
    }
}
