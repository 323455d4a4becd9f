//! S3's check of a presigned URL (SigV4 in the query string), which moto does not make: the
//! signature is computed again from the request as it arrives — its method, path, query and the
//! values of the headers the URL signed — and a request whose signed headers differ from what was
//! signed (a part or an upload of another length, another `Content-Type`) is refused as S3 refuses
//! it: 403 `SignatureDoesNotMatch`; a URL past its `X-Amz-Expires` is 403 `AccessDenied`.
//!
//! Only URLs signed with a key whose secret the local stack knows are checked (the functions'
//! keys, [`crate::infra::grants::access_key`]); anything else passes to moto as before.

use axum::{body::Body, response::Response};
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// Why S3 refuses a presigned request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The signature computed from the request is not the URL's (a signed header differs).
    SignatureDoesNotMatch,
    /// Past `X-Amz-Date` + `X-Amz-Expires`.
    Expired,
    /// The URL's signing fields are missing or malformed.
    Malformed(&'static str),
}

/// AWS's URI encoding: everything but `A-Z a-z 0-9 - _ . ~`.
const AWS_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn encode(v: &str) -> String {
    utf8_percent_encode(v, AWS_UNRESERVED).to_string()
}

fn decode(v: &str) -> String {
    percent_decode_str(&v.replace('+', "%20")).decode_utf8_lossy().into_owned()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // An HMAC takes a key of any length.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else { return Vec::new() };
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The secret of a signing key the local stack handed out, if it is one.
fn secret_of(access_key: &str) -> Option<&'static str> {
    access_key.starts_with(crate::infra::grants::ACCESS_KEY_PREFIX).then_some(crate::infra::grants::FUNCTION_SECRET)
}

/// `X-Amz-Date` (`yyyymmddThhmmssZ`) in Unix seconds.
fn unix_of(amz_date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    Some(time::PrimitiveDateTime::parse(amz_date, &format).ok()?.assume_utc().unix_timestamp())
}

/// Checks a presigned S3 request; `None` when it is not one this stack can check, `Some(Ok(()))`
/// when it holds, `Some(Err(_))` when S3 would refuse it. `now`: Unix seconds.
pub fn check(parts: &http::request::Parts, now: i64) -> Option<Result<(), Refusal>> {
    let query = parts.uri.query()?;
    let params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let signature = param("X-Amz-Signature")?;
    let credential = param("X-Amz-Credential")?;
    let (access_key, scope) = credential.split_once('/')?;
    let secret = secret_of(access_key)?;
    Some(verify(parts, &params, signature, scope, secret, now))
}

fn verify(
    parts: &http::request::Parts,
    params: &[(String, String)],
    signature: &str,
    scope: &str,
    secret: &str,
    now: i64,
) -> Result<(), Refusal> {
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let amz_date = param("X-Amz-Date").ok_or(Refusal::Malformed("X-Amz-Date"))?;
    let signed_headers = param("X-Amz-SignedHeaders").ok_or(Refusal::Malformed("X-Amz-SignedHeaders"))?;
    let expires: i64 =
        param("X-Amz-Expires").and_then(|e| e.parse().ok()).ok_or(Refusal::Malformed("X-Amz-Expires"))?;
    let signed_at = unix_of(amz_date).ok_or(Refusal::Malformed("X-Amz-Date"))?;
    let scope_parts: Vec<&str> = scope.split('/').collect();
    let [date, region, service, "aws4_request"] = scope_parts.as_slice() else {
        return Err(Refusal::Malformed("X-Amz-Credential"));
    };

    let mut query: Vec<(String, String)> =
        params.iter().filter(|(k, _)| k != "X-Amz-Signature").map(|(k, v)| (encode(k), encode(v))).collect();
    query.sort();
    let canonical_query = query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let canonical_request = format!(
        "{}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\nUNSIGNED-PAYLOAD",
        parts.method,
        parts.uri.path(),
    );
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    let key = [*date, *region, *service, "aws4_request"]
        .iter()
        .fold(format!("AWS4{secret}").into_bytes(), |key, part| hmac(&key, part));
    if hex(&hmac(&key, &string_to_sign)) != signature {
        return Err(Refusal::SignatureDoesNotMatch);
    }
    if now > signed_at.saturating_add(expires) {
        return Err(Refusal::Expired);
    }
    Ok(())
}

/// S3's answer to a refused presigned request.
pub fn refused(refusal: &Refusal) -> Response<Body> {
    let (code, message) = match refusal {
        Refusal::SignatureDoesNotMatch => (
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.".to_owned(),
        ),
        Refusal::Expired => ("AccessDenied", "Request has expired".to_owned()),
        Refusal::Malformed(field) => ("AuthorizationQueryParametersError", format!("{field} is missing or malformed")),
    };
    let status = if matches!(refusal, Refusal::Malformed(_)) {
        http::StatusCode::BAD_REQUEST
    } else {
        http::StatusCode::FORBIDDEN
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/xml"));
    r
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use aws_sdk_s3::{config::Credentials, presigning::PresigningConfig};

    use super::*;

    fn client() -> aws_sdk_s3::Client {
        let credentials = Credentials::new(
            crate::infra::grants::access_key("create-video"),
            crate::infra::grants::FUNCTION_SECRET,
            None,
            None,
            "test",
        );
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:4566")
            .force_path_style(true)
            .credentials_provider(credentials)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// The request a client sends to a presigned URL, with these headers.
    fn sent(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut req = http::Request::builder().method(method).uri(uri).header("host", "127.0.0.1:4566");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(()).expect("request").into_parts().0
    }

    fn presigning() -> PresigningConfig {
        PresigningConfig::builder()
            .start_time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000))
            .expires_in(Duration::from_secs(3600))
            .build()
            .expect("presigning")
    }

    #[tokio::test]
    async fn a_part_url_holds_for_its_signed_length_only() {
        let req = client()
            .upload_part()
            .bucket("raw")
            .key("raw/01JD6Q5C7B8D9E0F1G2H3J4K5M")
            .upload_id("abc/def+ghi=")
            .part_number(3)
            .content_length(8 * 1024 * 1024)
            .presigned(presigning())
            .await
            .expect("presigned");
        let uri = req.uri().to_owned();
        assert!(uri.contains("content-length"), "the length is signed: {uri}");
        let now = 1_800_000_100;
        assert_eq!(check(&sent("PUT", &uri, &[("content-length", "8388608")]), now), Some(Ok(())));
        // Unsigned headers a browser adds change nothing.
        let browser = sent("PUT", &uri, &[("content-length", "8388608"), ("origin", "http://localhost:5173")]);
        assert_eq!(check(&browser, now), Some(Ok(())));
        for other in ["8388609", "1", "5368709120"] {
            let wrong = sent("PUT", &uri, &[("content-length", other)]);
            assert_eq!(check(&wrong, now), Some(Err(Refusal::SignatureDoesNotMatch)), "{other}");
        }
        let another_part = uri.replace("partNumber=3", "partNumber=4");
        assert_eq!(
            check(&sent("PUT", &another_part, &[("content-length", "8388608")]), now),
            Some(Err(Refusal::SignatureDoesNotMatch))
        );
        assert_eq!(
            check(&sent("PUT", &uri, &[("content-length", "8388608")]), 1_800_003_601),
            Some(Err(Refusal::Expired))
        );
    }

    #[tokio::test]
    async fn a_single_put_holds_for_its_type_length_and_once_header() {
        let req = client()
            .put_object()
            .bucket("raw")
            .key("raw/a b+c")
            .content_type("video/mp4")
            .content_length(4096)
            .if_none_match("*")
            .presigned(presigning())
            .await
            .expect("presigned");
        let uri = req.uri().to_owned();
        let right = [("content-length", "4096"), ("content-type", "video/mp4"), ("if-none-match", "*")];
        assert_eq!(check(&sent("PUT", &uri, &right), 1_800_000_001), Some(Ok(())));
        let no_once = [("content-length", "4096"), ("content-type", "video/mp4")];
        assert_eq!(check(&sent("PUT", &uri, &no_once), 1_800_000_001), Some(Err(Refusal::SignatureDoesNotMatch)));
        let other_type = [("content-length", "4096"), ("content-type", "text/html"), ("if-none-match", "*")];
        assert_eq!(check(&sent("PUT", &uri, &other_type), 1_800_000_001), Some(Err(Refusal::SignatureDoesNotMatch)));
    }

    #[test]
    fn requests_not_presigned_by_a_function_pass_unchecked() {
        assert_eq!(check(&sent("PUT", "/raw/k?partNumber=1&uploadId=x", &[]), 0), None);
        let foreign =
            "/raw/k?X-Amz-Credential=AKIAFOREIGN%2F20270115%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00";
        assert_eq!(check(&sent("GET", foreign, &[]), 0), None);
    }
}
