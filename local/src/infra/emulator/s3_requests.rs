//! What the proxy reads of an S3 request (who signed it, which object it names) and the one
//! answer of moto it brings to S3's shape.

/// The access key an S3 request is signed with: its `Authorization` header's, or a presigned
/// URL's `X-Amz-Credential`.
pub(super) fn s3_signing_key(parts: &http::request::Parts) -> Option<String> {
    let from_header = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::infra::grants::signing_key)
        .map(str::to_owned);
    from_header.or_else(|| {
        let credential = parts.uri.query()?.split('&').find_map(|p| p.strip_prefix("X-Amz-Credential="))?;
        let credential = percent_encoding::percent_decode_str(credential).decode_utf8_lossy().into_owned();
        credential.split('/').next().map(str::to_owned)
    })
}

/// The object key of a path-style S3 request (`/{bucket}/{key}`), decoded.
pub(super) fn s3_object_key(path: &str) -> Option<String> {
    let (_, key) = path.trim_start_matches('/').split_once('/')?;
    (!key.is_empty()).then(|| percent_encoding::percent_decode_str(key).decode_utf8_lossy().into_owned())
}

/// moto answers S3 `ListParts` (`GET /{bucket}/{key}?uploadId=...`) with a `ListPartsResponse`
/// root; S3 (and so the SDK) uses `ListPartsResult`.
pub(super) fn s3_list_parts_as_s3_sends_it(parts: &http::request::Parts, body: bytes::Bytes) -> bytes::Bytes {
    let lists_parts = parts.method == http::Method::GET
        && parts.uri.query().is_some_and(|q| q.split('&').any(|p| p.starts_with("uploadId=")));
    let root = b"<ListPartsResponse";
    if !lists_parts || !body.windows(root.len()).any(|w| w == root) {
        return body;
    }
    let text = String::from_utf8_lossy(&body).replacen("<ListPartsResponse", "<ListPartsResult", 1).replacen(
        "</ListPartsResponse>",
        "</ListPartsResult>",
        1,
    );
    bytes::Bytes::from(text.into_bytes())
}
