//! The ID token's verification with the provider's keys in the cache (no HTTP): ES256 and the
//! claims a relying party must check — issuer, audience, `azp`, expiry and the login's nonce.

use std::time::Instant;

use jsonwebtoken::{
    EncodingKey, Header,
    jwk::{Jwk, JwkSet},
};
use serde_json::json;
use vivid_domain::{identity::IdentityError, oidc::OidcProvider};

use super::{Cached, Discovery, Oidc};

const ISSUER: &str = "https://login.uni.example";

fn provider() -> OidcProvider {
    let spec = json!([{ "id": "uni", "issuer": ISSUER, "clientId": "vivid", "allowedEmailDomains": ["uni.example"] }]);
    OidcProvider::parse_all(&spec.to_string()).expect("valid").remove(0)
}

fn discovery() -> Discovery {
    Discovery {
        issuer: ISSUER.into(),
        authorization_endpoint: format!("{ISSUER}/authorize"),
        token_endpoint: format!("{ISSUER}/token"),
        jwks_uri: format!("{ISSUER}/jwks"),
        userinfo_endpoint: None,
        token_endpoint_auth_methods_supported: None,
        id_token_signing_alg_values_supported: Some(vec!["RS256".into(), "ES256".into()]),
    }
}

/// A relying party whose cache holds the provider's one ES256 key (`k1`), and that key.
async fn with_key() -> (Oidc, EncodingKey) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("an EC key");
    let key = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).expect("PEM");
    let mut jwk = Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES256).expect("JWK");
    jwk.common.key_id = Some("k1".into());
    let oidc = Oidc::new(None);
    let cached = Cached { value: JwkSet { keys: vec![jwk] }, fetched: Instant::now() };
    oidc.jwks.write().await.insert("uni".into(), cached);
    (oidc, key)
}

fn sign(key: &EncodingKey, claims: serde_json::Value) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("k1".into());
    jsonwebtoken::encode(&header, &claims, key).expect("signed")
}

fn claims() -> serde_json::Value {
    let exp =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) + 300;
    json!({ "iss": ISSUER, "aud": "vivid", "sub": "s-1", "exp": exp, "nonce": "n-1",
            "email": "ana@uni.example", "email_verified": true, "name": "Ana" })
}

#[tokio::test]
async fn an_es256_token_of_the_provider_with_the_logins_nonce_verifies() {
    let (oidc, key) = with_key().await;
    let verified = oidc.verify(&provider(), &discovery(), &sign(&key, claims()), Some("n-1")).await.expect("verifies");
    assert_eq!(verified.sub, "s-1");
    assert_eq!(verified.issuer, ISSUER);
    assert!(verified.email_verified);
}

/// Entra ID writes no `email_verified`: its optional `xms_edov` (the domain owner verified the
/// address) stands for it; neither claim leaves the address unverified. Google's `hd` is kept.
#[tokio::test]
async fn entra_ids_domain_owner_verification_counts_and_googles_hd_is_kept() {
    let (oidc, key) = with_key().await;
    let mut entra = claims();
    entra.as_object_mut().map(|c| c.remove("email_verified"));
    let unverified = oidc.verify(&provider(), &discovery(), &sign(&key, entra.clone()), Some("n-1")).await;
    assert!(!unverified.expect("verifies").email_verified);
    entra["xms_edov"] = json!(true);
    entra["hd"] = json!("uni.example");
    let verified = oidc.verify(&provider(), &discovery(), &sign(&key, entra), Some("n-1")).await.expect("verifies");
    assert!(verified.email_verified);
    assert_eq!(verified.hosted_domain.as_deref(), Some("uni.example"));
}

#[tokio::test]
async fn another_nonce_issuer_audience_azp_or_an_expired_token_is_refused() {
    let (oidc, key) = with_key().await;
    let refused = |c: serde_json::Value, nonce: &'static str| {
        let token = sign(&key, c);
        let oidc = &oidc;
        async move { oidc.verify(&provider(), &discovery(), &token, Some(nonce)).await }
    };
    let mut cases = Vec::new();
    cases.push(("nonce", claims(), "n-2"));
    let mut c = claims();
    c["nonce"] = json!(null);
    cases.push(("no nonce", c, "n-1"));
    let mut c = claims();
    c["iss"] = json!("https://evil.example");
    cases.push(("issuer", c, "n-1"));
    let mut c = claims();
    c["aud"] = json!("someone-else");
    cases.push(("audience", c, "n-1"));
    let mut c = claims();
    c["aud"] = json!(["vivid", "someone-else"]);
    cases.push(("two audiences without azp", c, "n-1"));
    let mut c = claims();
    c["azp"] = json!("someone-else");
    cases.push(("azp", c, "n-1"));
    let mut c = claims();
    c["exp"] = json!(1_000_000);
    cases.push(("expired", c, "n-1"));
    for (what, c, nonce) in cases {
        let result = refused(c, nonce).await;
        assert!(matches!(result, Err(IdentityError::InvalidToken(_))), "{what}: {result:?}");
    }
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_a_published_kid_is_refused() {
    let (oidc, _) = with_key().await;
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("an EC key");
    let stranger = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).expect("PEM");
    let result = oidc.verify(&provider(), &discovery(), &sign(&stranger, claims()), Some("n-1")).await;
    assert!(matches!(result, Err(IdentityError::InvalidToken(_))), "{result:?}");
}
