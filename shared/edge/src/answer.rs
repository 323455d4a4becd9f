//! What the Lambda runtime sends back for a route: the handler's response as built, its body in
//! the form API Gateway takes — JSON and other text as text, anything else as base64 binary.
//!
//! `lambda_http::run` would do that itself for a `Response<Body>`, but its conversion re-reads
//! every body through `encoding_rs`, by the charset its `Content-Type` declares, which links that
//! crate's encoding tables (about 150 KiB of the binary, in every route) to produce what
//! `String::from_utf8` produces for the UTF-8 bodies this API sends. Which bodies are text is
//! lambda_http's own rule (its `TEXT_ENCODING_PREFIXES` and `_SUFFIXES`).

use std::{future::Future, pin::Pin};

use http::header;
use lambda_http::{Body, Response};

/// A route's response, handed to `lambda_http::run` as is.
pub(crate) struct Answer(pub(crate) Response<Body>);

impl lambda_http::IntoResponse for Answer {
    fn into_response(self) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
        Box::pin(std::future::ready(as_sent(self.0)))
    }
}

const TEXT_PREFIXES: [&str; 5] =
    ["text", "application/json", "application/javascript", "application/xml", "application/yaml"];
const TEXT_SUFFIXES: [&str; 3] = ["+xml", "+yaml", "+json"];

/// A binary body of a textual type becomes text when it is UTF-8 (every body this API writes);
/// an encoded body (`Content-Encoding`), a non-textual type and bytes that are not UTF-8 stay binary.
pub(crate) fn as_sent(resp: Response<Body>) -> Response<Body> {
    let (parts, body) = resp.into_parts();
    let textual = !parts.headers.contains_key(header::CONTENT_ENCODING)
        && parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(is_text);
    let body = match body {
        Body::Binary(bytes) if textual => match String::from_utf8(bytes) {
            Ok(text) => Body::Text(text),
            Err(not_utf8) => Body::Binary(not_utf8.into_bytes()),
        },
        other => other,
    };
    Response::from_parts(parts, body)
}

fn is_text(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    TEXT_PREFIXES.iter().any(|p| content_type.starts_with(p)) || TEXT_SUFFIXES.iter().any(|s| mime.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(content_type: Option<&str>, encoding: Option<&str>, body: Body) -> Body {
        let mut b = Response::builder();
        if let Some(t) = content_type {
            b = b.header(header::CONTENT_TYPE, t);
        }
        if let Some(e) = encoding {
            b = b.header(header::CONTENT_ENCODING, e);
        }
        match b.body(body) {
            Ok(resp) => as_sent(resp).into_body(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn json_problem_and_text_bodies_go_as_text() {
        let json = r#"{"a":"été"}"#.as_bytes().to_vec();
        for t in [
            "application/json",
            "application/problem+json",
            "text/plain; charset=utf-8",
            "application/vnd.api+json; charset=utf-8",
        ] {
            match sent(Some(t), None, Body::Binary(json.clone())) {
                Body::Text(s) => assert_eq!(s.as_bytes(), json.as_slice(), "{t}"),
                other => panic!("{t}: {other:?}"),
            }
        }
    }

    #[test]
    fn other_types_encoded_bodies_and_bytes_that_are_not_utf8_stay_binary() {
        let cases = [
            (Some("image/jpeg"), None, vec![0xff, 0xd8, 0xff]),
            (Some("application/json"), Some("gzip"), vec![0x1f, 0x8b]),
            (Some("application/json"), None, vec![b'"', 0xff, b'"']),
            (None, None, b"{}".to_vec()),
        ];
        for (t, e, bytes) in cases {
            match sent(t, e, Body::Binary(bytes.clone())) {
                Body::Binary(b) => assert_eq!(b, bytes, "{t:?} {e:?}"),
                other => panic!("{t:?} {e:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn text_and_empty_bodies_are_left_as_they_are() {
        assert!(
            matches!(sent(Some("application/vnd.apple.mpegurl"), None, Body::Text("#EXTM3U".into())), Body::Text(s) if s == "#EXTM3U")
        );
        assert!(matches!(sent(None, None, Body::Empty), Body::Empty));
    }
}
