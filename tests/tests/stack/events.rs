//! Every `events/` sample, made current (real tokens, ids of a seeded world), goes through
//! `lambda_http`'s own event parsing into the function's handler and succeeds.

use std::fs;

use serde_json::{Value, json};
use vivid_edge::{http::dispatch, lambda_http};
use vivid_tests::{IDP_CLIENT_ID, Idp, LtiSamples, TestApp, World, query_param, repo_root};

/// Links the provider `uni`'s `account` to the user of `token`: the id of one identity of theirs
/// at `uni`.
async fn link_identity(app: &TestApp, token: &str, account: &str) -> String {
    let resp = app.http.post(format!("{}/auth/oidc/uni/link", app.base)).bearer_auth(token).send().await.expect("link");
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let cookie =
        vivid_tests::cookie_value(&vivid_tests::set_cookies(resp.headers()), "vivid_oidc_login").expect("cookie");
    let body: Value = resp.json().await.expect("json");
    let callback = app.sign_in_at_idp(body["authorizeUrl"].as_str().expect("authorizeUrl"), account).await;
    assert_eq!(app.oidc_callback(&callback, &cookie).await.status(), reqwest::StatusCode::FOUND);
    let ids = app.get("/users/me/identities", token).await;
    let items = ids.body["items"].as_array().cloned().unwrap_or_default();
    let linked = items.iter().find(|i| i["identityId"] != "google").expect("the linked identity");
    linked["identityId"].as_str().expect("identityId").to_owned()
}

/// Fills an event's query string from a URL's.
fn set_query(event: &mut Value, url: &str) {
    let raw = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    event["rawQueryString"] = raw.into();
    let mut params = serde_json::Map::new();
    for name in ["state", "code"] {
        if let Some(v) = query_param(url, name) {
            params.insert(name.into(), v.into());
        }
    }
    event["queryStringParameters"] = Value::Object(params);
}

#[tokio::test]
async fn every_sample_event_drives_its_handler_to_success() {
    // The institution's provider of the sign-in samples (`uni`, npm oidc-provider).
    let mut idp = Idp::start().await;
    let providers = json!([
        { "id": "uni", "issuer": idp.issuer, "clientId": IDP_CLIENT_ID, "allowedEmailDomains": ["uni.example"] },
    ]);
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("OidcProviders".into(), providers.to_string());
    })
    .await;
    idp.serve(vec![format!("{}/auth/oidc/uni/callback", app.base)]).await;
    let template = vivid_local::infra::template::Template::load(&repo_root().join("template.yaml")).expect("template");
    let google = &app.stack.google;
    let shared = World::new(&app).await;
    app.connect_webex(&shared.host).await;
    let lti = LtiSamples::new(&app).await;
    for route in template.routes().expect("routes") {
        // Deletes and the hand-over (the host is no longer host after it) get a world of their
        // own; everything else shares one.
        let fresh;
        let world = if route.method == "DELETE" || route.function == "transfer-space" {
            fresh = World::new(&app).await;
            &fresh
        } else {
            &shared
        };
        let path = repo_root().join(format!("events/{}.json", route.function));
        let mut event: Value = serde_json::from_str(&fs::read_to_string(&path).expect("event")).expect("json");
        if event["headers"].get("authorization").is_some() {
            event["headers"]["authorization"] = format!("Bearer {}", world.host.token).into();
        }
        if let Some(params) = event["pathParameters"].as_object_mut() {
            for (name, value) in world.path_parameters() {
                if params.contains_key(name) {
                    params.insert(name.into(), value.into());
                }
            }
        }
        // The `$default` route has no path of its own: its sample asks a known path with a
        // method nobody serves.
        if !route.is_default() {
            let raw = world.fill(&route.path);
            event["rawPath"] = raw.clone().into();
            event["requestContext"]["http"]["path"] = raw.into();
            // A deprecated alias is driven with its function's sample under its own route key.
            event["routeKey"] = route.key().into();
            event["requestContext"]["routeKey"] = route.key().into();
        }
        event["headers"].as_object_mut().map(|h| h.remove("content-length"));
        // Sign-in builds its redirect URI from the domain the request reached; the samples were
        // recorded on an execute-api host, this stack answers on loopback.
        event["requestContext"]["domainName"] = app.stack.addr.to_string().into();
        event["headers"]["x-forwarded-proto"] = "http".into();
        // The LMS a roster sync reads, kept running until the sample is answered.
        let mut _lms = None;
        match route.function.as_str() {
            "add-member" => event["body"] = json!({ "email": world.invitee.email() }).to_string().into(),
            "order-videos" => event["body"] = json!({ "videoIds": [world.video] }).to_string().into(),
            "transfer-space" => event["body"] = json!({ "userId": world.target.id() }).to_string().into(),
            // A stranger joins with the world's code.
            "accept-invitation" => {
                event["headers"]["authorization"] = format!("Bearer {}", world.stranger.token).into()
            }
            // Snapshots and notes are their author's: the participant acts on theirs.
            "delete-snapshot" | "get-drawing" | "delete-drawing" | "create-memo-checkpoint" => {
                event["headers"]["authorization"] = format!("Bearer {}", world.participant.token).into()
            }
            "webex-connect" => {
                let authorize = app.webex_authorize_url(&world.host).await;
                let back = app.http.get(&authorize).send().await.expect("authorize");
                let callback =
                    back.headers().get("location").and_then(|v| v.to_str().ok()).expect("callback").to_owned();
                let (code, state) = (query_param(&callback, "code"), query_param(&callback, "state"));
                event["body"] = json!({ "code": code, "state": state }).to_string().into();
            }
            "import-recording" => {
                let recording = app.stack.webex.add_recording("Lecture", vec![0u8; 64]);
                event["body"] = json!({ "recordingId": recording, "title": "Imported" }).to_string().into();
            }
            "zoom-connect" => {
                let (code, state) = app.zoom_code(&world.host).await;
                event["body"] = json!({ "code": code, "state": state }).to_string().into();
            }
            "list-zoom-recordings" | "zoom-auto-import" => app.connect_zoom(&world.host).await,
            "import-zoom-recording" => {
                app.connect_zoom(&world.host).await;
                let m = app.stack.zoom.add_meeting(
                    "Lecture",
                    time::OffsetDateTime::now_utc(),
                    vec![vivid_local::standins::zoom::NewFile::mp4(vec![0u8; 64])],
                );
                let body = json!({ "meetingId": m.meeting_id, "recordingFileId": m.file_ids[0], "title": "Imported" });
                event["body"] = body.to_string().into();
            }
            "zoom-webhook" => {
                let body = event["body"].as_str().expect("body").to_owned();
                let now = vivid_domain::types::unix_now().to_string();
                let signer = vivid_domain::zoom::WebhookSigner::new(&app.stack.zoom.webhook_secret).expect("signer");
                event["headers"]["x-zm-request-timestamp"] = now.clone().into();
                event["headers"]["x-zm-signature"] = signer.signature(&now, body.as_bytes()).into();
            }
            "get-playback" => {
                let video = app.uploaded_video(&world.space, &world.host, vec![1u8; 256]).await;
                let job = app.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
                let media = app.stack.buckets.media.clone();
                app.invoke("on-transcode-event", vivid_tests::job_event("on-transcode-event", &video, &job, &media))
                    .await
                    .expect("ready");
                event["pathParameters"]["videoId"] = video.clone().into();
                let raw = format!("/videos/{video}/playback");
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
            }
            // Anonymous: the grant of a ready video's playback in the query.
            "get-hls-playlist" => {
                let video = app.ready_video(&world.space, &world.host).await;
                let grant = app.get(&format!("/videos/{video}/playback"), &world.host.token).await;
                let query = grant.body["signedQuery"].as_str().expect("signedQuery").to_owned();
                let params: serde_json::Map<String, Value> =
                    query.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect();
                event["rawQueryString"] = query.into();
                event["queryStringParameters"] = Value::Object(params);
                event["pathParameters"]["videoId"] = video.clone().into();
                let raw = format!("/videos/{video}/hls/index.m3u8");
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
            }
            "get-transcript" => {
                let words = [("today", 0.2, 0.5), ("we", 0.5, 0.7), ("study", 0.7, 1.0), ("algebra", 1.5, 2.1)];
                let video = app.transcribed_video(&world.space, &world.host, &words).await;
                event["pathParameters"]["videoId"] = video.clone().into();
                let raw = format!("/videos/{video}/transcript");
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
            }
            "put-captions" | "delete-captions" | "get-captions" => {
                let video = app.ready_video(&world.space, &world.host).await;
                if route.function != "put-captions" {
                    let put = app
                        .http
                        .put(format!("{}/videos/{video}/captions/en", app.base))
                        .bearer_auth(&world.host.token)
                        .header("content-type", "text/vtt")
                        .body("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n")
                        .send()
                        .await
                        .expect("put captions");
                    assert_eq!(put.status(), reqwest::StatusCode::CREATED);
                }
                event["pathParameters"]["videoId"] = video.clone().into();
                let raw = format!("/videos/{video}/captions/en");
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
            }
            // The world's video is ready (notes are taken on ready videos): an upload to abort is
            // a video of its own.
            "abort-upload" => {
                let created = app.new_video(&world.space, &world.host, 1024).await;
                let video = created["videoId"].as_str().expect("videoId").to_owned();
                event["pathParameters"]["videoId"] = video.clone().into();
                let raw = format!("/videos/{video}/upload");
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
            }
            "upload-parts" => {
                let created = app.new_video(&world.space, &world.host, 17 * 1024 * 1024).await;
                let video = created["videoId"].as_str().expect("videoId").to_owned();
                event["pathParameters"]["videoId"] = video.clone().into();
                let raw = format!("/videos/{video}/upload/parts");
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
            }
            "complete-upload" => {
                let created = app.new_video(&world.space, &world.host, 17 * 1024 * 1024).await;
                let video = created["videoId"].as_str().expect("videoId").to_owned();
                let mut parts = Vec::new();
                for part in created["upload"]["parts"].as_array().expect("parts") {
                    let size = if part["partNumber"] == 3 { 1024 * 1024 } else { 8 * 1024 * 1024 };
                    let resp = app
                        .http
                        .put(part["url"].as_str().expect("url"))
                        .body(vec![7u8; size])
                        .send()
                        .await
                        .expect("part");
                    let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).expect("etag").to_owned();
                    parts.push(json!({ "partNumber": part["partNumber"], "etag": etag }));
                }
                event["pathParameters"]["videoId"] = video.clone().into();
                let raw = format!("/videos/{video}/upload/complete");
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
                event["body"] = json!({ "parts": parts }).to_string().into();
            }
            "delete-bookmark" => {
                let made = app
                    .post(
                        &format!("/videos/{}/bookmarks", world.video),
                        &world.host.token,
                        json!({ "videoSeconds": 1.5, "label": "Doomed" }),
                    )
                    .await;
                let id = made.body["bookmarkId"].as_str().expect("bookmarkId").to_owned();
                event["pathParameters"]["bookmarkId"] = id.clone().into();
                let raw = format!("/videos/{}/bookmarks/{id}", world.video);
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
            }
            "google-callback" => {
                let pending = app.start_login(None).await;
                let callback = app.approve_at_google(&pending, "ana@example.com", "Ana", true).await;
                set_query(&mut event, &callback);
                event["cookies"] = json!([format!("vivid_login={}", pending.login_cookie)]);
            }
            "oidc-callback" => {
                let (authorize, cookie) = app.oidc_login("uni", None).await;
                let callback = app.sign_in_at_idp(&authorize, "sam@uni.example").await;
                set_query(&mut event, &callback);
                event["cookies"] = json!([format!("vivid_oidc_login={cookie}")]);
            }
            // The world's host links two identities and unlinks one (the other stays their way in).
            "delete-identity" => {
                let host = world.host.id();
                link_identity(&app, &world.host.token, &format!("b-{host}@uni.example")).await;
                let id = link_identity(&app, &world.host.token, &format!("a-{host}@uni.example")).await;
                event["pathParameters"]["identityId"] = id.clone().into();
                let raw = format!("/users/me/identities/{id}");
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
            }
            "google-token" => {
                let token = google.id_token(&google.claims_for("ana@example.com", "Ana"));
                event["body"] = json!({ "idToken": token }).to_string().into();
            }
            "refresh-token" | "logout" => {
                let signed = app.google_token(&google.id_token(&google.claims_for("bo@example.com", "Bo"))).await;
                let refresh = signed.body["refreshToken"].as_str().expect("refresh token");
                event["cookies"] = json!([format!("__Host-vivid_refresh={refresh}")]);
                if route.function == "logout" {
                    let access = signed.body["accessToken"].as_str().expect("access token");
                    event["headers"]["authorization"] = format!("Bearer {access}").into();
                }
            }
            // The world's space is no course's: one of the host's linked to the LMS stand-in's.
            "lti-roster-sync" => {
                let platform = crate::lti_roster_route::lms(&app).await;
                let space = crate::lti_roster_route::linked_space(&app, &platform, &world.host).await;
                event["pathParameters"]["spaceId"] = space.clone().into();
                let raw = format!("/spaces/{space}/lti/roster-sync");
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
                _lms = Some(platform);
            }
            f if LtiSamples::drives(f) => lti.fill(&app, f, &mut event).await,
            _ => {}
        }
        let request = lambda_http::request::from_str(&event.to_string()).expect("lambda_http reads the event");
        let handler = app.stack.http_handler(&route.function).await.expect("handler wires");
        let response = dispatch(handler.as_ref(), request).await;
        let status = response.status();
        if route.is_default() {
            // Its answer to the sample is the refusal it exists for: 405 with what the path offers.
            assert_eq!(
                status,
                lambda_http::http::StatusCode::METHOD_NOT_ALLOWED,
                "{}: {:?}",
                route.function,
                response.body()
            );
            assert_eq!(response.headers().get("allow").and_then(|v| v.to_str().ok()), Some("GET, DELETE"));
            continue;
        }
        assert!(status.is_success() || status.is_redirection(), "{}: {status} {:?}", route.function, response.body());
    }
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

#[tokio::test]
async fn every_event_sample_drives_its_consumer() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let host = &world.host;
    for f in vivid_local::functions::EVENT_FUNCTIONS {
        let mut samples: Vec<String> = fs::read_dir(repo_root().join("events"))
            .expect("events/")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().trim_end_matches(".json").to_owned())
            .filter(|n| n.starts_with(f.name))
            .collect();
        samples.sort();
        for sample in samples {
            // A fresh uploaded video per sample, its job known to the stand-in.
            let id = app.uploaded_video(&world.space, host, vec![1u8; 256]).await;
            let job = app.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
            let text = fs::read_to_string(repo_root().join(format!("events/{sample}.json"))).expect("sample");
            let text = text
                .replace("01JD6Q5C7B8D9E0F1G2H3J4K5M", &id)
                .replace("1795613662000-abc123", &job)
                .replace("vivid-raw-123456789012", &app.stack.buckets.raw)
                .replace("vivid-media-123456789012", &app.stack.buckets.media);
            let event: Value = serde_json::from_str(&text).expect("json");
            let handler = app.stack.event_handler(f.name).expect("handler wired");
            handler.handle(event).await.unwrap_or_else(|e| panic!("{sample}: {e}"));
        }
    }
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}
