//! Access tokens that must be refused: absent, malformed, expired, of another type, key,
//! audience or issuer, unsigned, or signed with the public key as an HMAC secret.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use vivid_domain::types::{Email, UserId, unix_now};
use vivid_local::stack::{DevKeys, LOCAL_AUDIENCE, LOCAL_ISSUER};
use vivid_tokens::{TokenAudience, TokenIssuer};

use crate::TestApp;

impl TestApp {
    /// Tokens that must never be taken for `user`'s access token, each labelled (the user would
    /// otherwise succeed): no token, garbage, expired, refresh-typed, signed by another key under
    /// the stack's key id, for another audience or issuer, `alg: none`, and HS256 keyed with the
    /// stack's public key.
    pub fn forged_tokens(&self, user: &UserId, email: &Email) -> Vec<(&'static str, Option<String>)> {
        let who = TokenAudience { issuer: LOCAL_ISSUER.into(), audience: LOCAL_AUDIENCE.into() };
        let now = unix_now();
        // Another key under the same key id: a token it signs must not verify.
        let foreign = DevKeys::generate(&self.stack.keys.kid).expect("keys");
        let foreign = TokenIssuer::new(&foreign.kid, &foreign.private_pem, who.clone()).expect("issuer");
        let claims = json!({
            "sub": user.to_string(), "email": email.to_string(), "typ": "access", "iss": LOCAL_ISSUER,
            "aud": LOCAL_AUDIENCE, "iat": now, "exp": now + 600, "jti": "x",
        });
        let alg_none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let hs256 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(self.stack.keys.public_pem.as_bytes()),
        )
        .expect("hs256 token");
        let issued =
            |i: &TokenIssuer, typ: &str, iat: u64| i.issue_with(user, email, typ, iat, 900).expect("token").token;
        let other_audience = TokenAudience { audience: "someone-else".into(), ..who.clone() };
        let other_issuer = TokenAudience { issuer: "https://evil".into(), ..who };
        vec![
            ("anonymous", None),
            ("garbage", Some("not-a-jwt".to_owned())),
            ("expired", Some(issued(&self.stack.issuer, "access", now - 3600))),
            ("other key", Some(issued(&foreign, "access", now))),
            ("refresh-typed", Some(issued(&self.stack.issuer, "refresh", now))),
            ("other audience", Some(issued(&self.issuer_with(other_audience), "access", now))),
            ("other issuer", Some(issued(&self.issuer_with(other_issuer), "access", now))),
            ("alg none", Some(alg_none)),
            ("HS256 with the public key", Some(hs256)),
        ]
    }
}
