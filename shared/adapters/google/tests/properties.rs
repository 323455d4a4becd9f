//! Properties of what Google sign-in reads from outside: the token endpoint's answer, Google's
//! JWKS, and ID tokens (which a client posts to `POST /auth/google`). A stand-in server on
//! loopback answers with whatever each case makes up; well-formed ID tokens are signed with an
//! RSA key made for the run, as Google signs them.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use proptest::prelude::*;
use serde_json::{Value, json};
use vivid_domain::{
    identity::{Identity, IdentityError, IdentityProvider},
    types::{Email, unix_now},
};
use vivid_google::{GoogleOidc, GoogleSettings};
use vivid_testkit::{AnyJson, StandIn};

const CLIENT_ID: &str = "vivid-test.apps.googleusercontent.com";

/// One runtime, HTTP client, stand-in and signing key per test thread.
struct Fixture {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    server: StandIn,
    kid: String,
    key: EncodingKey,
    /// The public key as a JWK, with its `kid`.
    jwk: Value,
}

fn rsa_key() -> (EncodingKey, Value) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("an RSA key");
    let key = EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes()).expect("a signing key");
    let jwk = serde_json::to_value(Jwk::from_encoding_key(&key, Algorithm::RS256).expect("a JWK")).expect("json");
    (key, jwk)
}

thread_local! {
    static FIXTURE: &'static Fixture = {
        let (key, mut jwk) = rsa_key();
        let kid = "test-key-1".to_owned();
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        Box::leak(Box::new(Fixture {
            rt: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"),
            http: reqwest::Client::new(),
            server: StandIn::start(),
            kid,
            key,
            jwk,
        }))
    };
}

fn fixture() -> &'static Fixture {
    FIXTURE.with(|f| *f)
}

impl Fixture {
    /// A fresh verifier (with an empty JWKS cache) against the stand-in.
    fn oidc(&self) -> GoogleOidc {
        let base = &self.server.base;
        GoogleOidc::new(
            self.http.clone(),
            GoogleSettings {
                client_id: CLIENT_ID.into(),
                client_secret: Some("secret".into()),
                authorize_url: format!("{base}/o/oauth2/v2/auth"),
                token_url: format!("{base}/token"),
                jwks_url: format!("{base}/oauth2/v3/certs"),
            },
        )
    }

    fn sign(&self, header: Header, claims: &Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.key).expect("signed")
    }

    fn header(&self) -> Header {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(self.kid.clone());
        h
    }
}

// ------------------------------------------------------------------------------- strategies

/// A JSON value of any shape, with the field names of tokens and JWKS often enough to matter.
fn any_json() -> impl Strategy<Value = Value> {
    AnyJson::named(&[
        "id_token", "keys", "kid", "kty", "alg", "use", "n", "e", "x", "y", "crv", "k", "sub", "email", "aud", "iss",
        "exp",
    ])
    .words(&["RSA", "EC", "oct", "RS256", "ES256", "test-key-1", "AQAB", "sig"])
    .texts("[A-Za-z0-9_-]{0,40}")
    .strategy()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"))
}

/// Strings a client may post as an ID token: anything, three base64url parts, and JWT-shaped
/// tokens with any header, claims and signature.
fn any_token() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        any_json(),
        (
            prop::sample::select(vec!["RS256", "HS256", "none", "ES256", "PS256", "RS512", "EdDSA"]),
            prop::option::of(prop_oneof![Just("test-key-1".to_owned()), "\\PC{0,12}"]),
        )
            .prop_map(|(alg, kid)| {
                let mut h = json!({ "alg": alg, "typ": "JWT" });
                if let Some(k) = kid {
                    h["kid"] = json!(k);
                }
                h
            }),
    ];
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,40}",
        (header, any_json(), prop::collection::vec(any::<u8>(), 0..300)).prop_map(|(h, c, sig)| format!(
            "{}.{}.{}",
            b64(&h),
            b64(&c),
            URL_SAFE_NO_PAD.encode(sig)
        )),
    ]
}

/// What can be wrong with an otherwise well-formed ID token.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Defect {
    None,
    Expired,
    OtherAudience,
    OtherIssuer,
    NoSubject,
    OtherKey,
    UnknownKid,
    Unsigned,
}

/// `email_verified` as a token may carry it.
#[derive(Debug, Clone)]
enum Verified {
    /// `true` / `false`.
    Bool(bool),
    /// `"true"` / `"false"`, as in Google's documented example.
    Text(bool),
    /// Any other value (another string, a number, an array...): the token is unreadable.
    Other(Value),
}

impl Verified {
    fn json(&self) -> Value {
        match self {
            Self::Bool(b) => Value::from(*b),
            Self::Text(b) => Value::from(b.to_string()),
            Self::Other(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone)]
struct IdClaims {
    issuer: &'static str,
    sub: String,
    email: Option<String>,
    verified: Option<Verified>,
    name: Option<String>,
    picture: Option<String>,
    nonce: Option<String>,
    expected_nonce: Option<String>,
    defect: Defect,
}

fn id_claims() -> impl Strategy<Value = IdClaims> {
    let email = prop_oneof![
        4 => "[A-Za-z0-9._+-]{1,20}@[a-z0-9-]{1,10}\\.(com|org|de)",
        1 => "\\PC{0,20}",
    ];
    let nonce = "[A-Za-z0-9_-]{8,22}";
    (
        prop::sample::select(vec!["https://accounts.google.com", "accounts.google.com"]),
        "[0-9]{21}",
        prop::option::weighted(0.95, email),
        prop::option::weighted(
            0.9,
            prop_oneof![
                4 => prop_oneof![4 => Just(true), 1 => Just(false)].prop_map(Verified::Bool),
                2 => prop_oneof![4 => Just(true), 1 => Just(false)].prop_map(Verified::Text),
                1 => prop_oneof![
                    "\\PC{0,8}".prop_filter("not true or false", |s| s != "true" && s != "false").prop_map(Value::from),
                    prop::sample::select(vec!["True", "TRUE", "False", "yes", "1", " true"]).prop_map(Value::from),
                    any::<i64>().prop_map(Value::from),
                    Just(Value::Null),
                    Just(json!([true])),
                ]
                .prop_map(Verified::Other),
            ],
        ),
        prop::option::of(prop_oneof!["\\PC{0,30}", Just("   ".to_owned())]),
        prop::option::of("https://lh3\\.googleusercontent\\.com/a/[A-Za-z0-9]{10}"),
        (prop::option::of(nonce), prop::option::of(nonce), any::<bool>()),
        prop_oneof![
            8 => Just(Defect::None),
            1 => prop::sample::select(vec![
                Defect::Expired,
                Defect::OtherAudience,
                Defect::OtherIssuer,
                Defect::NoSubject,
                Defect::OtherKey,
                Defect::UnknownKid,
                Defect::Unsigned,
            ]),
        ],
    )
        .prop_map(|(issuer, sub, email, verified, name, picture, (nonce, other, same), defect)| {
            // The login's nonce: none, the token's own, or another one.
            let expected_nonce = if same { nonce.clone() } else { other };
            IdClaims { issuer, sub, email, verified, name, picture, nonce, expected_nonce, defect }
        })
}

impl IdClaims {
    fn json(&self) -> Value {
        let now = unix_now();
        let exp = if self.defect == Defect::Expired { now - 3600 } else { now + 3600 };
        let mut c = json!({
            "iss": if self.defect == Defect::OtherIssuer { "https://evil.example.com" } else { self.issuer },
            "aud": if self.defect == Defect::OtherAudience { "someone-else.apps.googleusercontent.com" } else { CLIENT_ID },
            "azp": CLIENT_ID,
            "iat": now - 10,
            "exp": exp,
        });
        if self.defect != Defect::NoSubject {
            c["sub"] = json!(self.sub);
        }
        let fields = [
            ("email", self.email.clone().map(Value::from)),
            ("email_verified", self.verified.as_ref().map(Verified::json)),
            ("name", self.name.clone().map(Value::from)),
            ("picture", self.picture.clone().map(Value::from)),
            ("nonce", self.nonce.clone().map(Value::from)),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                c[k] = v;
            }
        }
        c
    }

    /// What verification must give, in the order Google's rules are applied.
    fn expected(&self) -> Result<Identity, &'static str> {
        if self.defect != Defect::None || matches!(self.verified, Some(Verified::Other(_))) {
            return Err("invalid");
        }
        if let Some(n) = &self.expected_nonce
            && self.nonce.as_ref() != Some(n)
        {
            return Err("invalid");
        }
        if !matches!(self.verified, Some(Verified::Bool(true) | Verified::Text(true))) {
            return Err("unverified");
        }
        let email: Email = self.email.as_deref().ok_or("invalid")?.parse().map_err(|_| "invalid")?;
        let name = self.name.clone().unwrap_or_default();
        Ok(Identity { sub: self.sub.clone(), email, name, picture: self.picture.clone() })
    }
}

fn kind(e: &IdentityError) -> &'static str {
    match e {
        IdentityError::InvalidToken(_) => "invalid",
        IdentityError::Unverified => "unverified",
        IdentityError::BadCode => "bad code",
        IdentityError::Unavailable(_) => "unavailable",
    }
}

// ------------------------------------------------------------------------------- properties

proptest! {
    /// A well-formed ID token signed with Google's key verifies to its identity (the e-mail
    /// normalised, the name as given: the sign-up cleans it); any defect (expired, another audience or
    /// issuer, no subject, another key, an unknown key id, no signature), a nonce other than the
    /// login's, an unverified or malformed e-mail is refused with its reason. `email_verified` is
    /// read as a boolean or as the strings `"true"`/`"false"` (Google's documented example has a
    /// string); any other value makes the token invalid.
    #[test]
    fn an_id_token_verifies_to_its_identity_or_its_refusal(c in id_claims()) {
        let f = fixture();
        let mut header = f.header();
        let token = match c.defect {
            Defect::OtherKey => OTHER_KEY.with(|k| jsonwebtoken::encode(&header, &c.json(), &k.0)).expect("signed"),
            Defect::UnknownKid => {
                header.kid = Some("another-key".into());
                f.sign(header, &c.json())
            }
            Defect::Unsigned => {
                let signed = f.sign(header, &c.json());
                let (head, _) = signed.rsplit_once('.').expect("three parts");
                format!("{head}.")
            }
            _ => f.sign(header, &c.json()),
        };
        f.server.answer(vec![], &json!({ "keys": [f.jwk.clone()] }));
        let oidc = f.oidc();
        let got = f.rt.block_on(oidc.verify_id_token(&token, c.expected_nonce.as_deref()));
        match (c.expected(), got) {
            (Ok(want), Ok(identity)) => prop_assert_eq!(identity, want),
            (Err(want), Err(e)) => prop_assert_eq!(kind(&e), want, "{:?}", e),
            (want, got) => prop_assert!(false, "{:?}: expected {:?}, got {:?}", c, want, got),
        }
        f.server.take_targets();
    }

    /// Whatever string a client posts as an ID token, verification refuses it (a forged token
    /// would need Google's key) as invalid, or, when it names a key and Google's keys cannot be
    /// had, as unavailable; never a panic.
    #[test]
    fn an_arbitrary_id_token_is_refused(token in any_token(), jwks in prop_oneof![Just(None), any_json().prop_map(Some)]) {
        let f = fixture();
        let keys = jwks.unwrap_or_else(|| json!({ "keys": [f.jwk.clone()] }));
        f.server.answer(vec![], &keys);
        let oidc = f.oidc();
        let got = f.rt.block_on(oidc.verify_id_token(&token, None));
        prop_assert!(
            matches!(got, Err(IdentityError::InvalidToken(_) | IdentityError::Unavailable(_))),
            "{:?} -> {:?}", token, got
        );
        f.server.take_targets();
    }

    /// Any JWKS Google might answer (keys of any type, with any members) is read or refused,
    /// never a panic; a well-signed token verifies only when its key is in the set, intact.
    #[test]
    fn any_jwks_is_read_or_refused(
        extra in prop::collection::vec(any_json(), 0..3),
        edit in prop::option::of((
            prop::sample::select(vec!["n", "e", "kty", "alg", "kid", "use"]),
            prop::option::of(any_json()),
        )),
    ) {
        let f = fixture();
        let mut jwk = f.jwk.clone();
        if let Some((field, value)) = &edit {
            match value {
                Some(v) => jwk[*field] = v.clone(),
                None => {
                    jwk.as_object_mut().expect("object").remove(*field);
                }
            }
        }
        let intact = jwk == f.jwk;
        let mut keys = vec![jwk];
        keys.extend(extra);
        f.server.answer(vec![], &json!({ "keys": keys }));
        let claims = json!({
            "iss": "https://accounts.google.com", "aud": CLIENT_ID, "sub": "1", "exp": unix_now() + 600,
            "email": "ana@example.com", "email_verified": true,
        });
        let token = f.sign(f.header(), &claims);
        let got = f.rt.block_on(f.oidc().verify_id_token(&token, None));
        if intact {
            // An extra entry that is not a JWK makes the whole set unreadable.
            prop_assert!(got.is_ok() || matches!(got, Err(IdentityError::Unavailable(_))), "{:?}", got);
        } else {
            prop_assert!(
                matches!(got, Ok(_) | Err(IdentityError::InvalidToken(_) | IdentityError::Unavailable(_))),
                "{:?}", got
            );
        }
        f.server.take_targets();
    }

    /// The token endpoint's answer gives its `id_token` when it has one (a string); any other
    /// answer is unavailable; a refused code is `BadCode`, a refusal of the client's own
    /// credentials (401, `invalid_client`, `unauthorized_client`) and a failing endpoint
    /// unavailable.
    #[test]
    fn the_token_answer_gives_its_id_token(
        body in prop_oneof![
            any_json(),
            "[A-Za-z0-9._-]{1,80}".prop_map(|t| json!({ "access_token": "a", "id_token": t, "expires_in": 3599, "token_type": "Bearer" })),
        ],
        status in prop_oneof![4 => Just(200u16), 1 => 400u16..=451, 1 => 500u16..=511],
    ) {
        let f = fixture();
        f.server.answer_status(status, &body);
        let got = f.rt.block_on(f.oidc().exchange_code("code", "verifier", "https://app.example.com/cb"));
        // A token response is a JSON object (RFC 6749 §5.1): anything else has no ID token.
        let id_token = match &body {
            Value::Object(o) => o.get("id_token").map(Value::as_str),
            _ => None,
        };
        let client_refused = status == 401
            || matches!(body.get("error").and_then(Value::as_str), Some("invalid_client" | "unauthorized_client"));
        match (status, id_token, &got) {
            (200, Some(Some(t)), Ok(got)) => prop_assert_eq!(got, t),
            // Absent or null: no ID token.
            (200, _, Err(IdentityError::Unavailable(_))) => {
                prop_assert!(!matches!(id_token, Some(Some(_))), "{} -> {:?}", body, got);
            }
            (400..=499, _, Err(IdentityError::Unavailable(_))) if client_refused => {}
            (400..=499, _, Err(IdentityError::BadCode)) if !client_refused => {}
            (500.., _, Err(IdentityError::Unavailable(_))) => {}
            _ => prop_assert!(false, "{} {} -> {:?}", status, body, got),
        }
        f.server.take_targets();
    }
}

/// A refused code (`invalid_grant`) is the user's; a refusal of the client's own credentials is
/// the operator's: never answered as a bad code.
#[test]
fn the_clients_refused_credentials_are_not_a_bad_code() {
    let f = fixture();
    for (status, body, bad_code) in [
        (400u16, json!({ "error": "invalid_grant" }), true),
        (400, json!({ "error": "invalid_client" }), false),
        (400, json!({ "error": "unauthorized_client" }), false),
        (401, json!({ "error": "invalid_client" }), false),
        (401, json!({}), false),
    ] {
        f.server.answer_status(status, &body);
        let got = f.rt.block_on(f.oidc().exchange_code("code", "verifier", "https://app.example.com/cb"));
        if bad_code {
            assert!(matches!(got, Err(IdentityError::BadCode)), "{status} {body} -> {got:?}");
        } else {
            assert!(matches!(got, Err(IdentityError::Unavailable(_))), "{status} {body} -> {got:?}");
        }
        f.server.take_targets();
    }
}

thread_local! {
    /// Another RSA key (a forger's), made once per test thread.
    static OTHER_KEY: (EncodingKey, Value) = rsa_key();
}
