//! CORS as the two AWS services in front of the suite apply it, read from the template once:
//! API Gateway's `CorsConfiguration` on the HTTP API, and CloudFront's response headers policy
//! (`CorsConfig`) on the media distribution. Both answer a preflight themselves and set the CORS
//! headers of every response to an allowed origin; they differ only in what [`Service`] says.
//! (S3's bucket CORS, rule by rule, is the emulator's: `emulator/s3_cors.rs`.)

use axum::{body::Body, response::Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_yaml::Value;

use crate::{error::StackError, infra::resolve::Resolver, infra::template::Template};

/// Which service answers: how it spells "any method" and what status its preflight answer has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Service {
    /// API Gateway: `*` for any method, 204 to a preflight.
    #[default]
    ApiGateway,
    /// CloudFront: `ALL` for any method, 200 to a preflight.
    CloudFront,
}

impl Service {
    fn any_method(self) -> &'static str {
        match self {
            Self::ApiGateway => "*",
            Self::CloudFront => "ALL",
        }
    }

    fn preflight_status(self) -> StatusCode {
        match self {
            Self::ApiGateway => StatusCode::NO_CONTENT,
            Self::CloudFront => StatusCode::OK,
        }
    }
}

/// One service's CORS configuration, resolved (none configured: nothing is allowed).
#[derive(Debug, Clone, Default)]
pub struct CorsPolicy {
    pub service: Service,
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    /// Lower case.
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub allow_credentials: bool,
    pub max_age: Option<String>,
}

/// The header names a preflight asks for (`Access-Control-Request-Headers`), lower case.
pub fn requested_headers(request: &HeaderMap) -> Vec<String> {
    request
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .map(|h| h.split(',').map(|x| x.trim().to_ascii_lowercase()).filter(|x| !x.is_empty()).collect())
        .unwrap_or_default()
}

/// The request's `Origin`, when it is readable.
pub fn origin(request: &HeaderMap) -> Option<&str> {
    request.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

impl CorsPolicy {
    /// The `CorsConfiguration` of the template's `AWS::Serverless::HttpApi`, resolved.
    pub fn api_gateway(template: &Template, resolver: &Resolver<'_>) -> Result<Self, StackError> {
        let cors = template
            .resources_of_type("AWS::Serverless::HttpApi")
            .next()
            .and_then(|(_, api)| api.get("Properties"))
            .and_then(|p| p.get("CorsConfiguration"));
        let Some(cors) = cors else { return Ok(Self::default()) };
        let list = |name: &str| -> Result<Vec<String>, StackError> {
            let mut out = Vec::new();
            for v in cors.get(name).and_then(Value::as_sequence).into_iter().flatten() {
                out.extend(resolver.string(v)?);
            }
            Ok(out)
        };
        Ok(Self {
            service: Service::ApiGateway,
            allow_origins: list("AllowOrigins")?,
            allow_methods: list("AllowMethods")?,
            allow_headers: list("AllowHeaders")?.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
            expose_headers: list("ExposeHeaders")?,
            allow_credentials: cors.get("AllowCredentials").and_then(Value::as_bool).unwrap_or(false),
            max_age: cors.get("MaxAge").map(|v| resolver.string(v)).transpose()?.flatten(),
        })
    }

    /// The `CorsConfig` of the template's `AWS::CloudFront::ResponseHeadersPolicy`, its one
    /// parameter (`AllowedOrigin`) being `allowed_origin`; any other reference is a plain value.
    pub fn cloudfront(template: &Template, allowed_origin: &str) -> Self {
        let cors = template
            .resources_of_type("AWS::CloudFront::ResponseHeadersPolicy")
            .next()
            .and_then(|(_, policy)| policy.get("Properties"))
            .and_then(|p| p.get("ResponseHeadersPolicyConfig"))
            .and_then(|c| c.get("CorsConfig"));
        let Some(cors) = cors else {
            return Self { service: Service::CloudFront, ..Self::default() };
        };
        let items = |name: &str| -> Vec<String> {
            let values = cors.get(name).and_then(|v| v.get("Items")).and_then(Value::as_sequence);
            values
                .into_iter()
                .flatten()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Tagged(t) if t.tag == "!Ref" && t.value.as_str() == Some("AllowedOrigin") => {
                        Some(allowed_origin.to_owned())
                    }
                    Value::Mapping(m) if m.get("Ref").and_then(Value::as_str) == Some("AllowedOrigin") => {
                        Some(allowed_origin.to_owned())
                    }
                    _ => None,
                })
                .collect()
        };
        Self {
            service: Service::CloudFront,
            allow_origins: items("AccessControlAllowOrigins"),
            allow_methods: items("AccessControlAllowMethods"),
            allow_headers: items("AccessControlAllowHeaders").into_iter().map(|h| h.to_ascii_lowercase()).collect(),
            expose_headers: items("AccessControlExposeHeaders"),
            allow_credentials: cors.get("AccessControlAllowCredentials").and_then(Value::as_bool).unwrap_or(false),
            max_age: cors.get("AccessControlMaxAgeSec").and_then(Value::as_u64).map(|a| a.to_string()),
        }
    }

    fn allows(&self, origin: &str) -> bool {
        self.allow_origins.iter().any(|o| o == "*" || o.trim_end_matches('/') == origin)
    }

    /// The CORS headers of a response to a request from `origin` (they replace whatever the
    /// function or the origin sent, as both services' overrides do).
    pub fn decorate(&self, origin: Option<&str>, headers: &mut HeaderMap) {
        let Some(origin) = origin.filter(|o| self.allows(o)) else { return };
        set(headers, "access-control-allow-origin", origin);
        if self.allow_credentials {
            set(headers, "access-control-allow-credentials", "true");
        }
        if !self.expose_headers.is_empty() {
            set(headers, "access-control-expose-headers", &self.expose_headers.join(","));
        }
        headers.append(header::VARY, HeaderValue::from_static("origin"));
    }

    /// The service's answer to a preflight: with the allowed methods and headers when the
    /// origin, method and headers are allowed; without any CORS header otherwise (the browser
    /// refuses).
    pub fn preflight(&self, request: &HeaderMap) -> Response {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = self.service.preflight_status();
        let origin = origin(request);
        let method = request.get(header::ACCESS_CONTROL_REQUEST_METHOD).and_then(|v| v.to_str().ok()).unwrap_or("");
        let asked = requested_headers(request);
        let any = self.service.any_method();
        let method_ok = self.allow_methods.iter().any(|m| m == any || m.eq_ignore_ascii_case(method));
        let headers_ok = asked.iter().all(|h| self.allow_headers.iter().any(|a| a == "*" || a == h));
        if origin.is_some_and(|o| self.allows(o)) && method_ok && headers_ok {
            let h = resp.headers_mut();
            self.decorate(origin, h);
            set(h, "access-control-allow-methods", &self.allow_methods.join(","));
            set(h, "access-control-allow-headers", &self.allow_headers.join(","));
            if let Some(age) = &self.max_age {
                set(h, "access-control-max-age", age);
            }
        }
        resp
    }
}

/// Sets a header whose value is valid (an empty value is left out).
pub fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if value.is_empty() {
        return;
    }
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(service: Service) -> CorsPolicy {
        CorsPolicy {
            service,
            allow_origins: vec!["http://localhost:5173".into()],
            allow_methods: vec![service.any_method().into()],
            allow_headers: vec!["authorization".into(), "content-type".into()],
            expose_headers: vec!["ETag".into()],
            allow_credentials: true,
            max_age: Some("600".into()),
        }
    }

    fn ask(origin: &str, headers: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap_or(HeaderValue::from_static("x")));
        h.insert(header::ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_static("PUT"));
        if let Ok(v) = HeaderValue::from_str(headers) {
            h.insert(header::ACCESS_CONTROL_REQUEST_HEADERS, v);
        }
        h
    }

    #[test]
    fn each_service_answers_an_allowed_preflight_its_own_way() {
        for (service, status) in [(Service::ApiGateway, 204), (Service::CloudFront, 200)] {
            let resp = policy(service).preflight(&ask("http://localhost:5173", "Content-Type"));
            assert_eq!(resp.status().as_u16(), status);
            let h = resp.headers();
            assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
            assert_eq!(h["access-control-allow-credentials"], "true");
            assert_eq!(h["access-control-allow-headers"], "authorization,content-type");
            assert_eq!(h["access-control-max-age"], "600");
        }
    }

    #[test]
    fn a_preflight_from_another_origin_or_for_another_header_gets_no_cors_header() {
        for service in [Service::ApiGateway, Service::CloudFront] {
            let p = policy(service);
            let other = p.preflight(&ask("http://evil.example", "content-type"));
            assert!(other.headers().get("access-control-allow-origin").is_none());
            let header = p.preflight(&ask("http://localhost:5173", "x-evil"));
            assert!(header.headers().get("access-control-allow-origin").is_none());
        }
    }

    #[test]
    fn a_method_wildcard_is_the_services_own_spelling() {
        let mut p = policy(Service::CloudFront);
        p.allow_methods = vec!["*".into()];
        assert!(p.preflight(&ask("http://localhost:5173", "")).headers().get("access-control-allow-origin").is_none());
    }
}
