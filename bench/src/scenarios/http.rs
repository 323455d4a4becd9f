//! The HTTP functions' events: each route's call made current, with `n` distinct targets
//! prepared for the routes that consume what they act on.

use super::*;

pub(super) async fn http_events(app: &TestApp, world: &World, route: &Route, n: usize) -> SetupResult<Vec<Value>> {
    let (host, participant) = (&world.host, &world.participant);
    let ev = |call: Call| http_event(app, world, route, call);
    let same = |call: Call| -> Vec<Value> {
        let e = http_event(app, world, route, call);
        vec![e; n]
    };
    let events = match route.function.as_str() {
        // Anonymous and read routes: one event, repeated.
        "google-login" => same(Call::default()),
        "get-me"
        | "get-dashboard"
        | "list-spaces"
        | "get-space"
        | "list-members"
        | "list-videos"
        | "webex-login"
        | "list-class-progress"
        | "list-video-progress"
        | "list-invitations"
        | "list-my-invitations"
        | "list-identities" => same(Call::by(host)),
        // Withdrawing again is harmless: the same call, repeated.
        "revoke-invitation" => same(Call::by(host).param("invitationId", world.invitation.clone())),
        // One e-mail invitation per call: the table writes and one SES send.
        "create-invitations" => same(Call::by(host).body(json!({ "emails": ["bench@example.org"] }))),
        "get-text-memo" | "list-memo-history" | "list-drawings" | "get-drawing" | "list-snapshots"
        | "list-bookmarks" => same(Call::by(participant)),
        "get-video" => {
            let ready = ready_video(app, world).await?;
            same(Call::by(participant).param("videoId", ready))
        }
        "list-recordings" | "webex-disconnect" => {
            app.connect_webex(host).await;
            same(Call::by(host))
        }
        // Writes a client repeats (the same update, progress, memo, drawing saved again).
        "update-space" => same(Call::by(host).body(json!({ "name": "Renamed" }))),
        "update-video" => same(Call::by(host).body(json!({ "title": "Renamed" }))),
        "put-text-memo" | "put-drawing" | "create-memo-checkpoint" | "create-snapshot" => same(Call::by(participant)),
        "put-progress" => (0..n)
            .map(|i| {
                ev(Call::by(participant).body(json!({ "progressRate": (i % 100) as u8, "positionSeconds": i as f64 })))
            })
            .collect(),
        "create-space" => same(Call::by(host).body(json!({ "name": "Bench" }))),
        "create-video" => same(
            Call::by(host)
                .body(json!({ "title": "Bench", "fileName": "b.mp4", "contentType": "video/mp4", "sizeBytes": 1024 })),
        ),
        // Routes that consume their target: one prepared per invocation.
        "delete-space" => {
            prepare(n, |_| async { Ok(ev(Call::by(host).param("spaceId", app.space(host, "Doomed").await))) }).await?
        }
        "add-member" => {
            prepare(n, |_| async {
                let u = app.user("Invitee").await;
                Ok(ev(Call::by(host).body(json!({ "email": u.email() }))))
            })
            .await?
        }
        // The same track uploaded again (the sample's WebVTT; replaced: the master written again).
        "put-captions" => same(Call::by(host).param("videoId", app.ready_video(&world.space, host).await)),
        // A participant downloads a track as SRT (read, parsed and written again).
        "get-captions" => {
            let video = app.ready_video(&world.space, host).await;
            put_track(app, host, &video, "en").await?;
            same(Call::by(participant).param("videoId", video).param("lang", "en").query("format=srt"))
        }
        // One track per invocation, on videos of 20 languages each (the most a video has).
        "delete-captions" => {
            let mut events = Vec::with_capacity(n);
            let mut video = String::new();
            for i in 0..n {
                if i % 20 == 0 {
                    video = app.ready_video(&world.space, host).await;
                }
                let lang = format!("en-{:02}", i % 20);
                put_track(app, host, &video, &lang).await?;
                events.push(ev(Call::by(host).param("videoId", video.clone()).param("lang", lang)));
            }
            events
        }
        "search-space" => {
            let words = [("eigenvalue", 0.2, 0.5), ("of", 0.5, 0.7), ("a", 0.7, 0.8), ("matrix", 1.5, 2.1)];
            app.transcribed_video(&world.space, host, &words).await;
            same(Call::by(participant).query("q=eigenvalue%20matrix"))
        }
        "get-transcript" => {
            let words = [("today", 0.2, 0.5), ("we", 0.5, 0.7), ("study", 0.7, 1.0), ("algebra", 1.5, 2.1)];
            let id = app.transcribed_video(&world.space, host, &words).await;
            same(Call::by(participant).param("videoId", id).query("q=algebra"))
        }
        "accept-invitation" => {
            prepare(n, |_| async {
                let u = app.user("Joiner").await;
                Ok(ev(Call::by(&u).param("code", world.code.clone())))
            })
            .await?
        }
        "remove-member" => {
            prepare(n, |_| async {
                let u = app.user("Member").await;
                app.join(&world.space, host, &u).await;
                Ok(ev(Call::by(host).param("userId", u.id())))
            })
            .await?
        }
        // The host reorders the world's videos, one way and back.
        "order-videos" => {
            let mut ids = Vec::new();
            for _ in 0..3 {
                let v = app.new_video(&world.space, host, 1024).await;
                ids.push(v["videoId"].as_str().ok_or("no videoId")?.to_owned());
            }
            (0..n)
                .map(|i| {
                    let order: Vec<&String> =
                        if i % 2 == 0 { ids.iter().collect() } else { ids.iter().rev().collect() };
                    ev(Call::by(host).body(json!({ "videoIds": order })))
                })
                .collect()
        }
        "update-member" => (0..n)
            .map(|i| {
                let role = if i % 2 == 0 { "co-host" } else { "participant" };
                ev(Call::by(host).param("userId", world.target.id()).body(json!({ "role": role })))
            })
            .collect(),
        "transfer-space" => {
            prepare(n, |_| async {
                let space = app.space(host, "Handed over").await;
                let heir = app.user("Heir").await;
                app.join(&space, host, &heir).await;
                Ok(ev(Call::by(host).param("spaceId", space).body(json!({ "userId": heir.id() }))))
            })
            .await?
        }
        "delete-me" => prepare(n, |_| async { Ok(ev(Call::by(&app.user("Leaver").await))) }).await?,
        "delete-video" | "abort-upload" => {
            prepare(n, |_| async {
                let v = app.new_video(&world.space, host, 1024).await;
                let id = v["videoId"].as_str().ok_or("no videoId")?.to_owned();
                Ok(ev(Call::by(host).param("videoId", id)))
            })
            .await?
        }
        "complete-upload" => {
            prepare(n, |_| async {
                // Declared above the stack's multipart threshold; its small last part (1 MiB: each
                // part URL takes exactly its part's length) completes it alone (the last part of
                // an upload may be of any size).
                let v = app.new_video(&world.space, host, 17 * 1024 * 1024).await;
                let id = v["videoId"].as_str().ok_or("no videoId")?.to_owned();
                let url = v["upload"]["parts"][2]["url"].as_str().ok_or_else(|| format!("not multipart: {v}"))?;
                let put = app.http.put(url).body(vec![7u8; 1024 * 1024]).send().await.map_err(|e| e.to_string())?;
                let etag = put.headers().get("etag").and_then(|v| v.to_str().ok()).ok_or("no etag")?.to_owned();
                Ok(ev(Call::by(host)
                    .param("videoId", id)
                    .body(json!({ "parts": [{ "partNumber": 3, "etag": etag }] }))))
            })
            .await?
        }
        "delete-snapshot" => {
            prepare(n, |_| async {
                let r = app
                    .post(
                        &format!("/videos/{}/snapshots", world.video),
                        &participant.token,
                        json!({ "videoSeconds": 3.0, "contentType": "image/png", "sizeBytes": 1024 }),
                    )
                    .await;
                let id = r.body["snapshotId"].as_str().ok_or_else(|| format!("snapshot: {:?}", r.body))?.to_owned();
                Ok(ev(Call::by(participant).param("snapshotId", id)))
            })
            .await?
        }
        "delete-drawing" => {
            prepare(n, |_| async {
                let id = ulid::Ulid::new().to_string();
                let r = app
                    .call(
                        reqwest::Method::PUT,
                        &format!("/videos/{}/drawings/{id}", world.video),
                        Some(&participant.token),
                        Some(json!({ "kind": "page", "document": { "objects": [] } })),
                    )
                    .await;
                if !r.status.is_success() {
                    return Err(format!("drawing: {:?}", r.body));
                }
                Ok(ev(Call::by(participant).param("drawingId", id)))
            })
            .await?
        }
        "google-callback" => {
            prepare(n, |i| async move {
                let pending = app.start_login(None).await;
                let callback = app.approve_at_google(&pending, &format!("bench{i}@example.com"), "Bench", true).await;
                let query = callback.split_once('?').map(|(_, q)| q).unwrap_or_default().to_owned();
                Ok(ev(Call::default().query(&query).cookie(format!("vivid_login={}", pending.login_cookie))))
            })
            .await?
        }
        "google-token" => {
            let google = &app.stack.google;
            (0..n)
                .map(|i| {
                    let token = google.id_token(&google.claims_for(&format!("bench{}@example.com", i % 10), "Bench"));
                    ev(Call::default().body(json!({ "idToken": token })))
                })
                .collect()
        }
        "refresh-token" => {
            prepare(n, |i| async move {
                let (_, refresh) = signed_in(app, i % 10).await?;
                Ok(ev(Call::default().cookie(format!("__Host-vivid_refresh={refresh}"))))
            })
            .await?
        }
        "logout" => {
            prepare(n, |i| async move {
                let (access, refresh) = signed_in(app, i % 10).await?;
                Ok(
                    ev(Call { token: Some(access), ..Call::default() }
                        .cookie(format!("__Host-vivid_refresh={refresh}"))),
                )
            })
            .await?
        }
        "webex-connect" => {
            prepare(n, |_| async {
                let authorize = app.webex_authorize_url(host).await;
                let back = app.http.get(&authorize).send().await.map_err(|e| e.to_string())?;
                let callback = back.headers().get("location").and_then(|v| v.to_str().ok()).ok_or("no callback")?;
                let (code, state) = (query_param(callback, "code"), query_param(callback, "state"));
                Ok(ev(Call::by(host).body(json!({ "code": code, "state": state }))))
            })
            .await?
        }
        "import-recording" => {
            app.connect_webex(host).await;
            (0..n)
                .map(|i| {
                    let recording = app.stack.webex.add_recording(&format!("Lecture {i}"), vec![0u8; 64]);
                    ev(Call::by(host).body(json!({ "recordingId": recording, "title": "Imported" })))
                })
                .collect()
        }
        "create-bookmark" => same(Call::by(participant).body(json!({ "videoSeconds": 12.5, "label": "Bench" }))),
        "delete-bookmark" => {
            prepare(n, |_| async {
                let r = app
                    .post(
                        &format!("/videos/{}/bookmarks", world.video),
                        &participant.token,
                        json!({ "videoSeconds": 3.0, "label": "Doomed" }),
                    )
                    .await;
                let id = r.body["bookmarkId"].as_str().ok_or_else(|| format!("bookmark: {:?}", r.body))?.to_owned();
                Ok(ev(Call::by(participant).param("bookmarkId", id)))
            })
            .await?
        }
        // The `$default` route: its sample (an undeclared method on a known path), anonymous.
        "no-route" => same(Call::default()),
        "list-sessions" => same(Call::by(host)),
        "end-sessions" => {
            prepare(n, |i| async move {
                let (access, _) = signed_in(app, i % 10).await?;
                Ok(ev(Call { token: Some(access), ..Call::default() }.query("keepCurrent=true")))
            })
            .await?
        }
        "get-playback" => {
            let ready = ready_video(app, world).await?;
            same(Call::by(participant).param("videoId", ready))
        }
        "upload-parts" => {
            let v = app.new_video(&world.space, host, 17 * 1024 * 1024).await;
            let id = v["videoId"].as_str().ok_or("no videoId")?.to_owned();
            same(Call::by(host).param("videoId", id).body(json!({})))
        }
        "zoom-login" => same(Call::by(host)),
        "list-zoom-recordings" | "zoom-auto-import" => {
            app.connect_zoom(host).await;
            let start = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
            app.stack.zoom.add_meeting(
                "Lecture",
                start,
                vec![vivid_local::standins::zoom::NewFile::mp4(vec![0u8; 64])],
            );
            let call = Call::by(host);
            same(if route.function == "zoom-auto-import" { call.body(json!({ "enabled": true })) } else { call })
        }
        "zoom-connect" => {
            prepare(n, |_| async {
                let (code, state) = app.zoom_code(host).await;
                Ok(ev(Call::by(host).body(json!({ "code": code, "state": state }))))
            })
            .await?
        }
        "zoom-disconnect" => {
            prepare(n, |i| async move {
                let user = app.user(&format!("Zoomer{i}")).await;
                app.connect_zoom(&user).await;
                Ok(ev(Call::by(&user)))
            })
            .await?
        }
        "import-zoom-recording" => {
            app.connect_zoom(host).await;
            let start = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
            (0..n)
                .map(|i| {
                    let m = app.stack.zoom.add_meeting(
                        &format!("Lecture {i}"),
                        start,
                        vec![vivid_local::standins::zoom::NewFile::mp4(vec![0u8; 64])],
                    );
                    let file = m.file_ids.first().cloned().unwrap_or_default();
                    ev(Call::by(host)
                        .body(json!({ "meetingId": m.meeting_id, "recordingFileId": file, "title": "Imported" })))
                })
                .collect()
        }
        "zoom-webhook" => {
            // Zoom's endpoint check, signed as Zoom signs: verified and answered, nothing stored.
            let zoom = &app.stack.zoom;
            let signer = vivid_domain::zoom::WebhookSigner::new(&zoom.webhook_secret).ok_or("no webhook secret")?;
            (0..n)
                .map(|i| {
                    let body = json!({
                        "event": "endpoint.url_validation",
                        "event_ts": time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
                        "payload": { "plainToken": format!("bench{i}") },
                    });
                    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
                    let signature = signer.signature(&timestamp, body.to_string().as_bytes());
                    ev(Call::default()
                        .body(body)
                        .header("x-zm-request-timestamp", timestamp)
                        .header("x-zm-signature", signature))
                })
                .collect()
        }
        other => return Err(format!("{other}: no benchmark scenario (add one in bench/src/scenarios/http.rs)")),
    };
    Ok(events)
}

/// The host puts a one-cue WebVTT track in `lang` on `video`.
async fn put_track(app: &TestApp, host: &TestUser, video: &str, lang: &str) -> Result<(), String> {
    let put = app
        .http
        .put(format!("{}/videos/{video}/captions/{lang}", app.base))
        .bearer_auth(&host.token)
        .header("content-type", "text/vtt")
        .body("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if put.status().is_success() { Ok(()) } else { Err(format!("captions {lang}: {}", put.status())) }
}
