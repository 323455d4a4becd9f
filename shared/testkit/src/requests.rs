//! Handler requests as API Gateway hands them to a function: a fresh ES256 key pair for test
//! access tokens (`vivid_tokens::TokenIssuer::new` signs with the private half, the verifier the
//! handlers are built with takes the public one; this crate does not link `vivid-tokens`, whose
//! configuration brings the AWS SDK), and `lambda_http` requests with their path and query
//! parameters, headers and body.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::STANDARD};
use lambda_http::{Body, Request, RequestExt};

/// An ES256 key pair as PEM (PKCS#8 private, SPKI public), fresh for each call: what
/// `vivid_tokens::TokenIssuer::new` and `TokenVerifier::new` take.
///
/// # Panics
/// When the system's random source fails.
pub fn es256_pair() -> (String, String) {
    use aws_lc_rs::{
        encoding::{AsDer, PublicKeyX509Der},
        rand::SystemRandom,
        signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair},
    };
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).expect("key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).expect("pair");
    let spki: PublicKeyX509Der = pair.public_key().as_der().expect("spki");
    let pem = |label: &str, der: &[u8]| {
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    };
    (pem("PRIVATE KEY", pkcs8.as_ref()), pem("PUBLIC KEY", spki.as_ref()))
}

/// A request to a route: `Req::get("/spaces/{spaceId}").param("spaceId", id)` fills the template
/// and sets the path parameter, as API Gateway does for the route it matched.
#[derive(Debug, Clone)]
pub struct Req {
    method: http::Method,
    template: String,
    params: HashMap<String, String>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Req {
    pub fn new(method: http::Method, template: &str) -> Self {
        Self {
            method,
            template: template.to_owned(),
            params: HashMap::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(template: &str) -> Self {
        Self::new(http::Method::GET, template)
    }
    pub fn post(template: &str) -> Self {
        Self::new(http::Method::POST, template)
    }
    pub fn put(template: &str) -> Self {
        Self::new(http::Method::PUT, template)
    }
    pub fn patch(template: &str) -> Self {
        Self::new(http::Method::PATCH, template)
    }
    pub fn delete(template: &str) -> Self {
        Self::new(http::Method::DELETE, template)
    }

    /// A path parameter (and its place in the template).
    pub fn param(mut self, name: &str, value: impl ToString) -> Self {
        self.params.insert(name.to_owned(), value.to_string());
        self
    }

    pub fn query(mut self, name: &str, value: impl ToString) -> Self {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }

    pub fn header(mut self, name: &str, value: impl ToString) -> Self {
        self.headers.push((name.to_owned(), value.to_string()));
        self
    }

    /// `Authorization: Bearer {token}`; `None` sends no header (an anonymous caller).
    pub fn bearer(self, token: Option<&str>) -> Self {
        match token {
            Some(t) => self.header("authorization", format!("Bearer {t}")),
            None => self,
        }
    }

    /// A JSON body with its content type.
    pub fn json(self, value: &serde_json::Value) -> Self {
        self.body("application/json", value.to_string())
    }

    /// Any body with the content type given.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.headers.push(("content-type".to_owned(), content_type.to_owned()));
        self.body = Some(body.into());
        self
    }

    /// The `lambda_http` request.
    ///
    /// # Panics
    /// When a header or the path is no valid HTTP.
    pub fn build(self) -> Request {
        let mut path = self.template.clone();
        for (name, value) in &self.params {
            path = path.replace(&format!("{{{name}}}"), &crate::form_encode(value));
        }
        let query: Vec<String> =
            self.query.iter().map(|(k, v)| format!("{}={}", crate::form_encode(k), crate::form_encode(v))).collect();
        let uri = match query.is_empty() {
            true => format!("https://api.vivid.test{path}"),
            false => format!("https://api.vivid.test{path}?{}", query.join("&")),
        };
        let mut builder = http::Request::builder().method(self.method).uri(uri);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let body = match self.body {
            Some(bytes) => Body::Binary(bytes),
            None => Body::Empty,
        };
        let mut query_map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in self.query {
            query_map.entry(k).or_default().push(v);
        }
        builder.body(body).expect("request").with_path_parameters(self.params).with_query_string_parameters(query_map)
    }
}
