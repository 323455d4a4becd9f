//! Upload URLs carry exactly what the upload may put: each multipart part URL is signed for its
//! part's length (the part size, the last part what is left), so a part of any other length is
//! refused as S3 refuses it (403 `SignatureDoesNotMatch`) — a part URL is no 5 GiB allowance. The
//! local stack checks presigned URLs' signatures as S3 does (moto does not).

use reqwest::StatusCode;
use serde_json::{Value, json};
use vivid_tests::TestApp;

const MIB: usize = 1024 * 1024;

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

async fn put(app: &TestApp, url: &str, body: Vec<u8>) -> (StatusCode, String, Option<String>) {
    let resp = app.http.put(url).body(body).send().await.expect("PUT");
    let status = resp.status();
    let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, resp.text().await.unwrap_or_default(), etag)
}

fn url_of(parts: &Value, n: u64) -> String {
    parts
        .as_array()
        .expect("parts")
        .iter()
        .find(|p| p["partNumber"] == n)
        .and_then(|p| p["url"].as_str())
        .expect("the part's url")
        .to_owned()
}

#[tokio::test]
async fn each_part_url_takes_exactly_its_parts_length_and_nothing_else() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    // Three parts: 8 MiB, 8 MiB and what is left (1 MiB and 5 bytes).
    let size = 17 * MIB + 5;
    let created = app.new_video(&space, &host, size as u64).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    let upload = &created["upload"];
    assert_eq!((upload["kind"].as_str(), upload["partSize"].as_u64()), (Some("multipart"), Some(8 * MIB as u64)));
    let parts = upload["parts"].clone();
    assert_eq!(parts.as_array().map(Vec::len), Some(3));
    let data = bytes(size);

    // More bytes than signed (a whole part for the short last one; one byte more), or fewer: refused
    // as S3 refuses a signed header that differs, and nothing is stored.
    for (n, len) in [(3, 8 * MIB), (1, 8 * MIB + 1), (2, 8 * MIB - 1)] {
        let (status, body, _) = put(&app, &url_of(&parts, n), bytes(len)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "part {n} with {len} bytes: {body}");
        assert!(body.contains("<Code>SignatureDoesNotMatch</Code>"), "part {n}: {body}");
    }
    let listed = app.post(&format!("/videos/{id}/upload/parts"), &host.token, json!({})).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    assert_eq!(listed.body["uploadedParts"], json!([]), "no refused part was stored");

    // Each part with its own length: accepted, and the upload completes whole.
    let mut completed = Vec::new();
    for (n, range) in [(1, 0..8 * MIB), (2, 8 * MIB..16 * MIB), (3, 16 * MIB..size)] {
        let (status, body, etag) = put(&app, &url_of(&parts, n), data[range].to_vec()).await;
        assert!(status.is_success(), "part {n}: {status} {body}");
        completed.push(json!({ "partNumber": n, "etag": etag.expect("etag") }));
    }
    let r = app.post(&format!("/videos/{id}/upload/complete"), &host.token, json!({ "parts": completed })).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let head =
        app.s3().head_object().bucket(&app.stack.buckets.raw).key(format!("raw/{id}")).send().await.expect("object");
    assert_eq!(head.content_length, Some(size as i64), "exactly the declared size");
}

#[tokio::test]
async fn resumed_part_urls_are_signed_for_their_lengths_too() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let size = 17 * MIB;
    let created = app.new_video(&space, &host, size as u64).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    let (status, _, _) = put(&app, &url_of(&created["upload"]["parts"], 1), bytes(8 * MIB)).await;
    assert!(status.is_success());

    // After a reload: fresh URLs for what is missing (the second part, and the last, 1 MiB) and
    // for a part asked again (the first, 8 MiB).
    let missing = app.post(&format!("/videos/{id}/upload/parts"), &host.token, json!({})).await;
    assert_eq!(missing.status, StatusCode::OK, "{:?}", missing.body);
    assert_eq!(missing.body["uploadedParts"][0]["size"], 8 * MIB);
    let last = url_of(&missing.body["parts"], 3);
    let (status, body, _) = put(&app, &last, bytes(8 * MIB)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a whole part on the last part's URL: {body}");
    let again = app.post(&format!("/videos/{id}/upload/parts"), &host.token, json!({ "partNumbers": [1] })).await;
    let (status, body, _) = put(&app, &url_of(&again.body["parts"], 1), bytes(8 * MIB + 1)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body, _) = put(&app, &last, bytes(MIB)).await;
    assert!(status.is_success(), "{status} {body}");
}

#[tokio::test]
async fn a_single_put_url_takes_its_declared_size_and_type_only() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let created = app.new_video(&space, &host, 4096).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    let upload = &created["upload"];
    for body in [bytes(4097), bytes(4095)] {
        let resp = app.put_presigned(upload, body).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert!(resp.text().await.unwrap_or_default().contains("SignatureDoesNotMatch"));
    }
    let other_type = app
        .http
        .put(upload["url"].as_str().expect("url"))
        .header("content-type", "text/html")
        .header("if-none-match", "*")
        .body(bytes(4096))
        .send()
        .await
        .expect("PUT");
    assert_eq!(other_type.status(), StatusCode::FORBIDDEN, "another type than signed");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await, "nothing stored");
    app.upload_single(&created, bytes(4096)).await;
    assert!(app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await);
}
