//! The platforms' published samples (`tests/fixtures/vendor/`, each with its source beside it)
//! through the real consumers: Zoom's webhooks and REST answers, API Gateway's HTTP API requests.
//! The stand-ins answer the samples verbatim where a sample is a platform's answer; a sample is
//! changed only where it must name our items (the linked Zoom user, our routes, our cookie).

use reqwest::StatusCode;
use serde_json::{Value, json};
use vivid_edge::{http::dispatch, lambda_http};
use vivid_local::standins::platform::Content;
use vivid_tests::{TestApp, generated_clip, vendor_sample};

const VTT: &str = "WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.000\nJack Hill: Welcome to the lecture on eigenvalues.\n";

async fn deliver(app: &TestApp, event: &Value) -> (u16, Value) {
    // Zoom's events come seconds to minutes apart, after the indexes caught up (the webhook finds
    // links and imports on them; the host lists the space later still).
    app.indexes_settled().await;
    let zoom = &app.stack.zoom;
    zoom.deliver(&format!("{}/zoom/webhook", app.base), event, &zoom.webhook_secret).await
}

/// A Zoom sample about the stand-in's (connected) Zoom user.
fn from_our_zoom_user(app: &TestApp, mut event: Value) -> Value {
    event["payload"]["object"]["host_id"] = app.stack.zoom.user_id().into();
    event
}

#[tokio::test]
async fn zoom_s_published_webhooks_import_the_recording_and_its_later_transcript() {
    let app = TestApp::spawn_pipeline().await;
    let (host, space) = app.zoom_linked_host().await;
    let zoom = &app.stack.zoom;

    // Endpoint validation, as published: the answer has the published response's shape.
    let validation = vendor_sample("zoom/webhook-endpoint-url-validation.json");
    let (status, answer) = deliver(&app, &validation).await;
    assert_eq!(status, 200);
    let expected_shape = vendor_sample("zoom/webhook-endpoint-url-validation-response.json");
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    assert_eq!(keys(&answer), keys(&expected_shape), "{answer}");
    assert_eq!(answer["plainToken"], validation["payload"]["plainToken"]);
    let plain = validation["payload"]["plainToken"].as_str().expect("plainToken");
    let signer = vivid_domain::zoom::WebhookSigner::new(&zoom.webhook_secret).expect("signer");
    assert_eq!(answer["encryptedToken"], signer.encrypt_token(plain).as_str());

    // The meeting of Zoom's samples, held by the stand-in: its recording now, its transcript
    // (the other sample's file) when Zoom finishes it.
    let completed = vendor_sample("zoom/webhook-recording-completed.json");
    let transcript = vendor_sample("zoom/webhook-recording-transcript-completed.json");
    zoom.add_published_meeting(&completed["payload"]["object"], Some(&transcript["payload"]["object"]), |kind| {
        match kind {
            "MP4" => Some(Content::Bytes(generated_clip(3).into())),
            "TRANSCRIPT" => Some(Content::Bytes(VTT.as_bytes().to_vec().into())),
            _ => None,
        }
    });
    let (status, body) = deliver(&app, &from_our_zoom_user(&app, completed.clone())).await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(1)), "{body}");
    app.indexes_settled().await;
    let list = app.get(&format!("/spaces/{space}/videos"), &host.token).await;
    let video = list.body["items"][0].clone();
    assert_eq!(video["title"], completed["payload"]["object"]["topic"], "{video}");
    let id = video["videoId"].as_str().expect("videoId").to_owned();
    let v = app.wait_for_video(&host.token, &id, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
    assert_eq!(v["status"], "READY", "{v}");

    zoom.complete_transcripts(completed["payload"]["object"]["uuid"].as_str().expect("uuid"));
    let (status, body) = deliver(&app, &from_our_zoom_user(&app, transcript)).await;
    assert_eq!((status, body["transcripts"].as_u64()), (200, Some(1)), "{body}");
    let v = app
        .wait_for_video(&host.token, &id, |v| v["transcript"]["status"] == "COMPLETED" || v["status"] == "FAILED")
        .await;
    assert_eq!(v["captions"][0]["source"], "zoom", "{v}");
    let r = app.get(&format!("/videos/{id}/transcript?q=eigenvalues"), &host.token).await;
    assert!(r.body["items"][0]["matchSeconds"].as_f64().is_some(), "{}", r.body);

    // The deauthorization notices (Zoom's and a client library's copy) are taken without error;
    // they name placeholder Zoom users, none of ours, so nothing is forgotten here
    // (`platform_grants.rs` runs Zoom's notice naming our user).
    for sample in ["zoom/webhook-app-deauthorized.json", "zoom/webhook-app-deauthorized-zoomnet.json"] {
        let (status, _) = deliver(&app, &vendor_sample(sample)).await;
        assert!((200..300).contains(&status), "{sample}: {status}");
    }
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

#[tokio::test]
async fn zoom_s_published_rest_answers_are_listed_imported_and_connected() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let zoom = &app.stack.zoom;

    // The token response of Zoom's documentation connects the account.
    zoom.answer_as_published("token", vendor_sample("zoom/oauth-token-response-authorization-code.json"));
    app.connect_zoom(&host).await;
    let me = app.get("/users/me", &host.token).await;
    assert_eq!(me.body["zoomConnected"], true, "{}", me.body);

    // Zoom's listing: its meetings, each with its MP4 files only.
    let published = vendor_sample("zoom/rest-list-user-recordings.json");
    zoom.answer_as_published("list", published.clone());
    let r = app.get("/zoom/recordings", &host.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let meetings = published["meetings"].as_array().cloned().unwrap_or_default();
    let items = r.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), meetings.len(), "{}", r.body);
    for (item, meeting) in items.iter().zip(&meetings) {
        assert_eq!(item["meetingId"], meeting["uuid"], "{item}");
        assert_eq!(item["topic"], meeting["topic"]);
        let mp4: Vec<&Value> = meeting["recording_files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["file_type"] == "MP4" && f["status"] != "processing")
            .collect();
        assert_eq!(item["files"].as_array().map(Vec::len), Some(mp4.len()), "{item}");
    }

    // A meeting's recording as Zoom answers it: its MP4 is importable.
    let meeting = vendor_sample("zoom/rest-get-meeting-recordings.json");
    zoom.answer_as_published("meeting", meeting.clone());
    let file = meeting["recording_files"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["file_type"] == "MP4")
        .cloned()
        .expect("an MP4");
    let r = app
        .post(
            &format!("/spaces/{space}/videos/zoom"),
            &host.token,
            json!({ "meetingId": meeting["uuid"], "recordingFileId": file["id"], "title": "From Zoom's sample" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["sizeBytes"], file["file_size"]);

    // A server-to-server token (no refresh token) is not a user's authorization: refused clearly.
    let other = app.user("Other").await;
    zoom.answer_as_published("token", vendor_sample("zoom/oauth-token-response-server-to-server.json"));
    let (code, state) = app.zoom_code(&other).await;
    let r = app.post("/zoom/token", &other.token, json!({ "code": code, "state": state })).await;
    assert!(r.status.is_client_error() || r.status == StatusCode::BAD_GATEWAY, "{:?} {:?}", r.status, r.body);
    assert!(r.body["code"].as_str().is_some(), "a problem with a code: {:?}", r.body);
}

/// An API Gateway sample sent to one of our routes (the path and the route's parameters are
/// ours; everything else as published), through `lambda_http`'s parsing into the handler.
async fn through(
    app: &TestApp,
    function: &str,
    path: &str,
    mut event: Value,
) -> lambda_http::Response<lambda_http::Body> {
    event["rawPath"] = path.into();
    event["requestContext"]["http"]["path"] = path.into();
    event["requestContext"]["domainName"] = app.stack.addr.to_string().into();
    let request = lambda_http::request::from_str(&event.to_string()).unwrap_or_else(|e| panic!("{function}: {e}"));
    let handler = app.stack.http_handler(function).await.expect("handler");
    dispatch(handler.as_ref(), request).await
}

fn body_json(resp: &lambda_http::Response<lambda_http::Body>) -> Value {
    serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null)
}

#[tokio::test]
async fn api_gateway_s_published_requests_reach_the_handlers_as_sent() {
    let app = TestApp::spawn().await;
    let google = &app.stack.google;

    // Cookies as HTTP APIs send them (an array of `name=value`): ours among the others is found.
    for sample in ["apigateway/rust-runtime-v2-cookies.json", "apigateway/http-api-v2-docs-example.json"] {
        let signed = app.google_token(&google.id_token(&google.claims_for("ana@example.com", "Ana"))).await;
        let refresh = signed.body["refreshToken"].as_str().expect("refresh token").to_owned();
        let mut event = vendor_sample(sample);
        let cookies = event["cookies"].as_array_mut().expect("the sample has cookies");
        cookies.push(format!("__Host-vivid_refresh={refresh}").into());
        event["requestContext"]["http"]["method"] = "POST".into();
        event["body"] = Value::Null;
        event["isBase64Encoded"] = false.into();
        event["headers"].as_object_mut().map(|h| h.remove("content-length"));
        let resp = through(&app, "refresh-token", "/auth/refresh", event).await;
        assert_eq!(resp.status(), StatusCode::OK, "{sample}: {:?}", resp.body());
        assert!(body_json(&resp)["accessToken"].as_str().is_some(), "{sample}");
        let set: Vec<String> =
            resp.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
        let next = vivid_tests::cookie_value(&set, "__Host-vivid_refresh").expect("the rotated token in the cookie");
        assert_ne!(next, refresh, "{sample}: rotated");
    }

    // Requests without our token, as published: refused as unauthenticated (a problem), never a
    // failure of parsing — whatever their cookies, authorizer context or encoding flag.
    for sample in [
        "apigateway/rust-runtime-v2-no-authorizer.json",
        "apigateway/rust-runtime-v2-jwt-authorizer.json",
        "apigateway/lambda-devguide-v2-browser-cookies.json",
        "apigateway/http-api-v2-docs-example.json",
        "apigateway/rust-runtime-v2-cookies.json",
    ] {
        let mut event = vendor_sample(sample);
        event["requestContext"]["http"]["method"] = "GET".into();
        let resp = through(&app, "get-me", "/users/me", event).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{sample}: {:?}", resp.body());
        assert_eq!(
            resp.headers().get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{sample}"
        );
    }

    // A base64-encoded body (AWS's .NET sample flags one, but its body is the plain text;
    // API Gateway encodes what it flags, so the text is encoded here as API Gateway would):
    // decoded, then refused as the JSON it is not, with a problem.
    let host = app.user("Host").await;
    let mut event = vendor_sample("apigateway/dotnet-v2-isbase64encoded-true.json");
    assert_eq!(event["isBase64Encoded"], true);
    let text = event["body"].as_str().expect("body").to_owned();
    event["body"] = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text).into();
    event["requestContext"]["http"]["method"] = "POST".into();
    event["headers"]["authorization"] = format!("Bearer {}", host.token).into();
    event["headers"]["content-type"] = "application/json".into();
    let resp = through(&app, "create-space", "/spaces", event).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{:?}", resp.body());
    assert_eq!(body_json(&resp)["code"], "malformed_json", "{:?}", resp.body());
}

#[tokio::test]
async fn webex_s_published_recordings_are_arf_and_never_offered_nor_imported() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    app.connect_webex(&host).await;
    let webex = &app.stack.webex;

    // Webex's list, as published: every item is ARF, so none is offered; we asked for MP4s.
    let list = vendor_sample("webex/rest-list-recordings.json");
    assert!(list["items"].as_array().is_some_and(|i| i.iter().all(|r| r["format"] == "ARF")));
    webex.answer_as_published("list", list);
    let r = app.get("/webex/recordings", &host.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["items"], json!([]), "{}", r.body);
    assert!(webex.list_queries().iter().all(|q| q.contains("format=MP4")), "{:?}", webex.list_queries());

    // Its details, as published (an ARF with its temporary links): the import is refused before
    // anything is created or downloaded.
    let details = vendor_sample("webex/rest-get-recording-details.json");
    let id = details["id"].as_str().expect("id").to_owned();
    webex.answer_as_published("details", details);
    let r = app
        .post(&format!("/spaces/{space}/videos/webex"), &host.token, json!({ "recordingId": id, "title": "ARF" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["code"], "unsupported_recording_format");
    assert_eq!(webex.downloads(), 0);
    let videos = app.get(&format!("/spaces/{space}/videos"), &host.token).await;
    assert_eq!(videos.body["items"], json!([]), "{}", videos.body);
}

#[tokio::test]
async fn google_s_published_id_token_and_key_sets_sign_in() {
    let app = TestApp::spawn().await;
    let google = &app.stack.google;

    // Google's documented payload (`"email_verified": "true"`, the legacy issuer), for our client.
    let mut claims = vendor_sample("google/id-token-claims.json");
    let now = vivid_domain::types::unix_now();
    claims["aud"] = google.client_id.clone().into();
    claims["iat"] = now.into();
    claims["exp"] = (now + 600).into();
    claims.as_object_mut().map(|c| c.remove("nonce"));
    let r = app.google_token(&google.sign_claims(&claims, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let me = app.get("/users/me", r.body["accessToken"].as_str().expect("access token")).await;
    assert_eq!(me.body["email"], "jsmith@example.com", "{}", me.body);

    // Google's key sets, as published, before the key that signed: the verifier picks by `kid`.
    for sample in ["google/jwks-oauthcertsjwk.json", "google/jwks-oauthcerts.json"] {
        let app = TestApp::spawn().await;
        let google = &app.stack.google;
        let document = vendor_sample(sample);
        google.publish_jwks(&document);
        let token = google.id_token(&google.claims_for("ana@example.com", "Ana"));
        let r = app.google_token(&token).await;
        assert_eq!(r.status, StatusCode::OK, "{sample}: {:?}", r.body);
        // A token naming one of the published keys but not signed by it is refused.
        let kid = document["keys"][0]["kid"].as_str().expect("kid");
        let claims = serde_json::to_value(google.claims_for("bo@example.com", "Bo")).expect("claims");
        let forged = google.sign_claims(&claims, Some(kid));
        let r = app.google_token(&forged).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{sample}: {:?}", r.body);
    }
}
