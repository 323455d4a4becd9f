//! S3's CORS as the S3 user guide describes it: the first rule whose origins, methods and
//! headers all match the request wins; a preflight no rule matches is a 403.

use std::collections::HashMap;

use aws_sdk_s3::types::CorsRule;
use axum::{body::Body, response::Response};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::infra::cors::{requested_headers, set};

/// S3's wildcard match: at most one `*`, standing for any run of characters.
fn wildcard(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let (p, v) = if case_insensitive {
        (pattern.to_ascii_lowercase(), value.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), value.to_owned())
    };
    match p.split_once('*') {
        None => p == v,
        Some((head, tail)) => v.len() >= head.len() + tail.len() && v.starts_with(head) && v.ends_with(tail),
    }
}

fn origin_matches(rule: &CorsRule, origin: &str) -> bool {
    rule.allowed_origins().iter().any(|o| wildcard(o, origin, false))
}

fn method_matches(rule: &CorsRule, method: &str) -> bool {
    rule.allowed_methods().iter().any(|m| m.eq_ignore_ascii_case(method))
}

fn headers_match(rule: &CorsRule, asked: &[String]) -> bool {
    asked.iter().all(|h| rule.allowed_headers().iter().any(|a| wildcard(a, h, true)))
}

/// The headers every matched answer carries.
fn allow(rule: &CorsRule, origin: &str, headers: &mut HeaderMap) {
    let any = rule.allowed_origins().iter().any(|o| o == "*");
    set(headers, "access-control-allow-origin", if any { "*" } else { origin });
    set(headers, "access-control-allow-methods", &rule.allowed_methods().join(", "));
    if !any {
        set(headers, "access-control-allow-credentials", "true");
    }
    if !rule.expose_headers().is_empty() {
        set(headers, "access-control-expose-headers", &rule.expose_headers().join(", "));
    }
    if let Some(age) = rule.max_age_seconds() {
        set(headers, "access-control-max-age", &age.to_string());
    }
}

fn forbidden(message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessForbidden</Code><Message>{message}</Message></Error>"
    );
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::FORBIDDEN;
    r.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    r
}

/// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`).
pub fn preflight(rules: &[CorsRule], origin: &str, request: &HeaderMap) -> Response {
    if rules.is_empty() {
        return forbidden("CORSResponse: CORS is not enabled for this bucket.");
    }
    let method =
        request.get(http::header::ACCESS_CONTROL_REQUEST_METHOD).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let asked = requested_headers(request);
    let Some(rule) =
        rules.iter().find(|r| origin_matches(r, origin) && method_matches(r, method) && headers_match(r, &asked))
    else {
        return forbidden(
            "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, \
             request method / Access-Control-Request-Method or Access-Control-Request-Headers are not \
             whitelisted by the resource's CORS spec.",
        );
    };
    let mut r = Response::new(Body::empty());
    let h = r.headers_mut();
    allow(rule, origin, h);
    if !asked.is_empty() {
        set(h, "access-control-allow-headers", &asked.join(", "));
    }
    set(h, "vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    r
}

/// The CORS headers of an actual response, when a rule allows the origin and method.
pub fn decorate(rules: &[CorsRule], origin: &str, method: &str, headers: &mut HeaderMap) {
    if let Some(rule) = rules.iter().find(|r| origin_matches(r, origin) && method_matches(r, method)) {
        allow(rule, origin, headers);
        set(headers, "vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    }
}

/// Puts each bucket's `CorsConfiguration` of the template into the emulator, as CloudFormation
/// does when it creates the bucket: `buckets` maps logical ids to this deployment's names, and
/// `allowed_origin` is the `AllowedOrigin` parameter (the front end's origin).
pub async fn apply_bucket_cors(
    sdk: &aws_config::SdkConfig,
    template: &crate::infra::template::Template,
    allowed_origin: &str,
    buckets: &[(&str, &str)],
) -> Result<(), crate::error::StackError> {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    use serde_yaml::Value;

    use crate::error::StackError;
    // Only the parameter CORS rules name matters; the others get a placeholder (never read).
    let mut given = HashMap::from([("AllowedOrigin".to_owned(), allowed_origin.to_owned())]);
    for (name, decl) in template.root().get("Parameters").and_then(Value::as_mapping).into_iter().flatten() {
        if let Some(name) = name.as_str()
            && decl.get("Default").is_none()
        {
            given.entry(name.to_owned()).or_default();
        }
    }
    let resolver = crate::infra::resolve::Resolver::new(
        template,
        &given,
        crate::infra::resolve::Physical::default(),
        "vivid-local",
    )?;
    let list = |rule: &Value, name: &str| -> Result<Option<Vec<String>>, StackError> {
        let Some(items) = rule.get(name) else { return Ok(None) };
        let mut out = Vec::new();
        for v in items.as_sequence().ok_or_else(|| StackError::Config(format!("CorsRules {name}: not a list")))? {
            out.extend(resolver.string(v)?);
        }
        Ok(Some(out))
    };
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build());
    for (logical, name) in buckets {
        let rules = template
            .properties(logical)
            .and_then(|p| p.get("CorsConfiguration"))
            .and_then(|c| c.get("CorsRules"))
            .and_then(Value::as_sequence);
        let Some(rules) = rules else { continue };
        let mut config = CorsConfiguration::builder();
        for rule in rules {
            let max_age = rule.get("MaxAge").map(|v| resolver.string(v)).transpose()?.flatten();
            let built = CorsRule::builder()
                .set_allowed_origins(list(rule, "AllowedOrigins")?)
                .set_allowed_methods(list(rule, "AllowedMethods")?)
                .set_allowed_headers(list(rule, "AllowedHeaders")?)
                .set_expose_headers(list(rule, "ExposedHeaders")?)
                .set_max_age_seconds(max_age.and_then(|a| a.parse().ok()))
                .build()
                .map_err(|e| StackError::Config(format!("{logical} CORS rule: {e}")))?;
            config = config.cors_rules(built);
        }
        let config = config.build().map_err(|e| StackError::Config(format!("{logical} CORS: {e}")))?;
        s3.put_bucket_cors().bucket(*name).cors_configuration(config).send().await.map_err(|e| {
            StackError::Config(format!("{logical} CORS: {}", aws_sdk_s3::error::DisplayErrorContext(e)))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
        CorsRule::builder()
            .set_allowed_origins(Some(origins.iter().map(|s| (*s).to_owned()).collect()))
            .set_allowed_methods(Some(methods.iter().map(|s| (*s).to_owned()).collect()))
            .set_allowed_headers(Some(headers.iter().map(|s| (*s).to_owned()).collect()))
            .expose_headers("ETag")
            .build()
            .expect("rule")
    }

    fn ask(method: &str, headers: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_str(method).expect("method"));
        h.insert(http::header::ACCESS_CONTROL_REQUEST_HEADERS, HeaderValue::from_str(headers).expect("headers"));
        h
    }

    #[test]
    fn preflights_follow_the_first_matching_rule() {
        let rules = [rule(&["http://app.example.com"], &["PUT"], &["*"])];
        let ok = preflight(&rules, "http://app.example.com", &ask("PUT", "content-type"));
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers()["access-control-allow-origin"], "http://app.example.com");
        assert_eq!(ok.headers()["access-control-expose-headers"], "ETag");
        assert_eq!(ok.headers()["access-control-allow-headers"], "content-type");
        assert_eq!(preflight(&rules, "http://evil.example", &ask("PUT", "")).status(), StatusCode::FORBIDDEN);
        assert_eq!(preflight(&rules, "http://app.example.com", &ask("DELETE", "")).status(), StatusCode::FORBIDDEN);
        assert_eq!(preflight(&[], "http://app.example.com", &ask("PUT", "")).status(), StatusCode::FORBIDDEN);
        let narrow = [rule(&["http://*.example.com"], &["GET"], &["range"])];
        assert_eq!(preflight(&narrow, "http://app.example.com", &ask("GET", "Range")).status(), StatusCode::OK);
        assert_eq!(
            preflight(&narrow, "http://app.example.com", &ask("GET", "x-other")).status(),
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn actual_responses_carry_the_rule_for_their_method() {
        let rules = [rule(&["http://app.example.com"], &["PUT"], &["*"])];
        let mut h = HeaderMap::new();
        decorate(&rules, "http://app.example.com", "PUT", &mut h);
        assert_eq!(h["access-control-allow-origin"], "http://app.example.com");
        assert_eq!(h["access-control-allow-credentials"], "true");
        let mut none = HeaderMap::new();
        decorate(&rules, "http://app.example.com", "GET", &mut none);
        assert!(none.is_empty());
    }
}
