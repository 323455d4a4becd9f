//! Every HLS player plays the signed stream: `playback.nativeHlsUrl` names the master on
//! `GET /videos/{videoId}/hls/{playlist}`, whose playlists carry the grant on every URI they name,
//! so a player that never copies the master's query to what it fetches next (Safari's native HLS,
//! ffmpeg, VLC) plays it. ffmpeg's HLS demuxer is such a player: it plays the new URL and fails on
//! the CDN's master with the query appended once. The route is anonymous and checks the grant it
//! is given as the CDN would (signature, exactly this video, unexpired).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use vivid_cdn::CloudFrontSigner;
use vivid_domain::{playback::PlaybackSigner, types::unix_now, video::MediaOutputs};
use vivid_tests::{TestApp, generated_clip};

/// What ffmpeg or ffprobe (`program`) says given `args` (the URL among them): (success, stderr, stdout).
async fn run(program: &'static str, args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(program)
            .arg("-hide_banner")
            .args((program == "ffmpeg").then_some("-nostdin"))
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e} (install it: `make deps`)"));
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stderr), text(&out.stdout))
    })
    .await
    .expect("the player ran")
}

/// ffmpeg decoding every stream of every variant of `url` to nothing, as a player would.
async fn ffmpeg_decode(url: &str) -> (bool, String) {
    let args = ["-loglevel", "info", "-i", url, "-map", "0", "-f", "null", "-"];
    let (ok, log, _) = run("ffmpeg", args.map(str::to_owned).to_vec()).await;
    (ok, log)
}

/// The frames ffmpeg's last progress line counts.
fn frames(log: &str) -> u64 {
    log.rsplit("frame=").next().and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// The URI lines of a playlist.
fn uris(playlist: &str) -> Vec<&str> {
    playlist.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

/// A grant signed by the stack's own CDN key, for `video`, from `now` for `lifetime`: what
/// `GET /videos/{id}/playback` would issue at that time (the query only).
async fn grant_for(app: &TestApp, video: &str, now: u64, lifetime: Duration) -> String {
    let env = &app.stack.environments["get-playback"];
    let secrets = aws_sdk_secretsmanager::Client::new(&app.stack.sdk);
    let pem = secrets
        .get_secret_value()
        .secret_id(&env["VIVID_CDN_PRIVATE_KEY_SECRET_ARN"])
        .send()
        .await
        .expect("the CDN key")
        .secret_string
        .expect("a PEM");
    let signer =
        CloudFrontSigner::from_pem(&pem, &env["VIVID_CDN_KEY_PAIR_ID"], &env["VIVID_CDN_URL"]).expect("a signer");
    let id = video.parse().expect("a video id");
    signer.sign(&id, &MediaOutputs::default(), now, lifetime).await.expect("signed").signed_query
}

async fn get(app: &TestApp, url: &str) -> (StatusCode, Option<String>, String) {
    let resp = app.http.get(url).send().await.expect("GET");
    let status = resp.status();
    let cache = resp.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, cache, resp.text().await.expect("body"))
}

fn problem(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("a problem document: {body}"))
}

#[tokio::test]
async fn given_a_transcoded_lecture_then_a_player_that_copies_no_query_plays_every_variant_of_native_hls_url() {
    let app = TestApp::spawn_pipeline().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Acoustics").await;
    let id = app.uploaded_video(&space, &ana, generated_clip(6)).await;
    let video = app.wait_for_video(&ana.token, &id, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
    assert_eq!(video["status"], "READY", "{video}");
    let playback = &video["playback"];
    let query = playback["signedQuery"].as_str().expect("signedQuery");
    let native = playback["nativeHlsUrl"].as_str().expect("nativeHlsUrl");
    assert_eq!(native, format!("{}/videos/{id}/hls/index.m3u8?{query}", app.base));
    let renewed = app.get(&format!("/videos/{id}/playback"), &ana.token).await;
    let renewed_native = renewed.body["nativeHlsUrl"].as_str().expect("the renewal names it too");
    assert!(renewed_native.ends_with(renewed.body["signedQuery"].as_str().expect("query")), "{renewed_native}");

    // The master, as any player reads it: no token, each variant on the route with the grant.
    let (status, cache, master) = get(&app, native).await;
    assert_eq!(status, StatusCode::OK, "{master}");
    let max_age: u64 = cache
        .as_deref()
        .and_then(|c| c.strip_prefix("private, max-age="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("private, with a max-age: {cache:?}"));
    assert!((1..=300).contains(&max_age), "{max_age}");
    let variants = uris(&master);
    assert!(variants.len() >= 2, "a ladder: {master}");
    for v in &variants {
        let (name, q) = v.split_once('?').expect("a query");
        assert!(name.starts_with("index_") && name.ends_with(".m3u8") && q == query, "{v}");
    }
    // A variant names its segments on the CDN, absolute and signed.
    let (status, _, variant) = get(&app, &format!("{}/videos/{id}/hls/{}", app.base, variants[0])).await;
    assert_eq!(status, StatusCode::OK, "{variant}");
    let cdn = format!("{}/_local/cdn/media/{id}/hls/", app.base);
    assert!(uris(&variant).iter().all(|s| s.starts_with(&cdn) && s.ends_with(&format!("?{query}"))), "{variant}");

    // ffmpeg given the one URL: every variant opened and decoded, no refusal.
    let (ok, log) = ffmpeg_decode(native).await;
    assert!(ok, "ffmpeg plays nativeHlsUrl: {log}");
    // ffmpeg's words for a refusal (`HTTP error 403 Forbidden`), not a port or signature with 403 in it.
    assert!(!log.contains("403 Forbidden"), "{log}");
    for v in &variants {
        let name = v.split('?').next().unwrap_or_default();
        assert!(log.contains(&format!("/hls/{name}?")), "ffmpeg opened {name}: {log}");
    }
    // 6 s at 25 fps: `frame=` counts the first video output stream's frames only (one variant's),
    // so 150 is that stream decoded whole; the other variants' opening is checked above.
    assert!(frames(&log) >= 150, "frames decoded: {}", frames(&log));
    let probe = ["-v", "error", "-show_entries", "format=duration:program=program_id:stream=codec_type,width,height"];
    let (ok, err, out) =
        run("ffprobe", probe.iter().copied().chain(["-of", "json", native]).map(str::to_owned).collect()).await;
    assert!(ok, "ffprobe reads nativeHlsUrl: {err}");
    let probed: Value = serde_json::from_str(&out).expect("ffprobe's JSON");
    let duration: f64 = probed["format"]["duration"].as_str().and_then(|d| d.parse().ok()).expect("a duration");
    assert!((duration - 6.0).abs() < 0.5, "{probed}");
    assert_eq!(probed["programs"].as_array().map(Vec::len), Some(variants.len()), "a program per variant: {probed}");
    eprintln!("nativeHlsUrl: {} variants, {} frames decoded, {duration:.2} s probed", variants.len(), frames(&log));

    // The CDN's master with the query appended once is what such a player could play before:
    // the variants it fetches carry no grant and the CDN refuses them.
    let old = playback["hlsUrl"].as_str().expect("hlsUrl");
    assert!(old.starts_with(&format!("{}/_local/cdn/", app.base)), "{old}");
    let (ok, log) = ffmpeg_decode(old).await;
    assert!(!ok && log.contains("403 Forbidden"), "ffmpeg fails on the CDN's master alone: {log}");
}

#[tokio::test]
async fn given_the_hls_route_then_only_a_live_grant_of_the_video_is_served_and_bad_names_are_refused() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Optics").await;
    let id = app.ready_video(&space, &ana).await;
    let other = app.ready_video(&space, &ana).await;
    let grant = app.get(&format!("/videos/{id}/playback"), &ana.token).await;
    assert_eq!(grant.status, StatusCode::OK);
    let query = grant.body["signedQuery"].as_str().expect("signedQuery").to_owned();
    let route = |video: &str, name: &str, q: &str| format!("{}/videos/{video}/hls/{name}?{q}", app.base);
    let refused = |body: &str, why: &str| {
        let p = problem(body);
        assert_eq!((p["status"].as_u64(), p["code"].as_str()), (Some(403), Some("invalid_grant")), "{p}");
        let detail = p["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(why) && detail.contains("GET /videos/{videoId}/playback"), "{detail}");
    };

    // Anonymous, with the grant: the master with its one variant signed.
    let (status, _, master) = get(&app, &route(&id, "index.m3u8", &query)).await;
    assert_eq!(status, StatusCode::OK, "{master}");
    assert_eq!(uris(&master), [format!("index_360p.m3u8?{query}")]);

    // No grant, a forged signature, another video's grant, an expired one: 403, saying what to do.
    let (status, _, body) = get(&app, &format!("{}/videos/{id}/hls/index.m3u8", app.base)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    refused(&body, "no grant");
    let signature = query.split('&').find_map(|kv| kv.strip_prefix("Signature=")).expect("a signature");
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let forged = query.replacen(&format!("Signature={}", &signature[..1]), &format!("Signature={flipped}"), 1);
    let (status, _, body) = get(&app, &route(&id, "index.m3u8", &forged)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    refused(&body, "signature");
    let (status, _, body) = get(&app, &route(&other, "index.m3u8", &query)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a grant opens its own video only");
    refused(&body, "other media");
    let expired = grant_for(&app, &id, unix_now() - 7_200, Duration::from_secs(3_600)).await;
    let (status, _, body) = get(&app, &route(&id, "index.m3u8", &expired)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    refused(&body, "expired");
    // Key-Pair-Id and Hash-Algorithm are part of the grant: absent, another key, another hash.
    let key_pair = query.split('&').find(|kv| kv.starts_with("Key-Pair-Id=")).expect("a key pair id");
    for (q, why) in [
        (query.replace(&format!("&{key_pair}"), ""), "no grant"),
        (query.replace("&Hash-Algorithm=SHA256", ""), "no grant"),
        (query.replace(key_pair, "Key-Pair-Id=KOTHERKEY"), "Key-Pair-Id"),
        (query.replace("Hash-Algorithm=SHA256", "Hash-Algorithm=SHA1"), "Hash-Algorithm"),
    ] {
        let (status, _, body) = get(&app, &route(&id, "index.m3u8", &q)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{q}");
        refused(&body, why);
    }

    // Names: only the transcode's; a missing one is 404, anything else 400, never a way out.
    let (status, _, _) = get(&app, &route(&id, "index_999p.m3u8", &query)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for name in ["other.m3u8", "index_360p_00001.ts", "..%2F..%2Fraw%2Fx.m3u8", "..%2Findex.m3u8", "index.m3u8%00"] {
        let (status, _, body) = get(&app, &route(&id, name, &query)).await;
        assert!(matches!(status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND), "{name}: {status} {body}");
    }
    let (status, _, body) = get(&app, &route("not-a-ulid", "index.m3u8", &query)).await;
    assert_eq!((status, problem(&body)["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_id")));

    // A video not READY has no playlists: even a grant signed for it finds nothing (404), and the
    // API issues none (409 not_ready).
    let waiting = app.uploaded_video(&space, &ana, vec![1u8; 256]).await;
    assert_eq!(app.get(&format!("/videos/{waiting}/playback"), &ana.token).await.code(), "not_ready");
    let signed = grant_for(&app, &waiting, unix_now(), Duration::from_secs(600)).await;
    let (status, _, body) = get(&app, &route(&waiting, "index.m3u8", &signed)).await;
    assert_eq!((status, problem(&body)["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
}

#[tokio::test]
async fn given_captions_then_native_hls_url_names_the_captioned_master_and_its_subtitles_come_signed() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Optics").await;
    let id = app.ready_video(&space, &ana).await;
    let vtt = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n".to_vec();
    let path = format!("/videos/{id}/captions/en?label=English");
    let put = app.call_raw(reqwest::Method::PUT, &path, Some(&ana.token), "text/vtt", vtt).await;
    assert_eq!(put.status, StatusCode::CREATED, "{:?}", put.body);
    let grant = app.get(&format!("/videos/{id}/playback"), &ana.token).await;
    let query = grant.body["signedQuery"].as_str().expect("signedQuery");
    let native = grant.body["nativeHlsUrl"].as_str().expect("nativeHlsUrl");
    assert!(native.starts_with(&format!("{}/videos/{id}/hls/captioned-", app.base)), "{native}");

    // The subtitles rendition is named on the route, its WebVTT file on the CDN, each signed.
    let (status, _, master) = get(&app, native).await;
    assert_eq!(status, StatusCode::OK, "{master}");
    let subtitles = master
        .lines()
        .find(|l| l.starts_with("#EXT-X-MEDIA:TYPE=SUBTITLES"))
        .and_then(|l| l.split("URI=\"").nth(1))
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("a subtitles rendition: {master}"));
    assert_eq!(subtitles, format!("captions-en.m3u8?{query}"));
    assert_eq!(uris(&master), [format!("index_360p.m3u8?{query}")]);
    let (status, _, track) = get(&app, &format!("{}/videos/{id}/hls/{subtitles}", app.base)).await;
    assert_eq!(status, StatusCode::OK, "{track}");
    assert_eq!(uris(&track), [format!("{}/_local/cdn/media/{id}/captions/en.vtt?{query}", app.base)]);
    let (status, _, file) = get(&app, uris(&track)[0]).await;
    assert_eq!(status, StatusCode::OK, "{file}");
    assert!(file.starts_with("WEBVTT") && file.contains("Hello"), "{file}");
}

#[tokio::test]
async fn given_the_hls_function_then_it_reads_the_media_bucket_only_and_no_secret() {
    use aws_sdk_s3::error::ProvideErrorMetadata;
    let app = TestApp::spawn().await;
    let env = &app.stack.environments["get-hls-playlist"];
    assert!(
        !env.iter().any(|(k, v)| k.ends_with("_SECRET_ARN") || v.contains(":secretsmanager:")),
        "get-hls-playlist checks grants with the public key, no secret: {env:?}"
    );
    if std::env::var_os("VIVID_GRANTS_AUDIT").is_some() {
        return;
    }
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&vivid_local::stack::function_sdk(&app.stack.sdk, "get-hls-playlist"))
            .force_path_style(true)
            .build(),
    );
    let (media, raw) = (app.stack.buckets.media.clone(), app.stack.buckets.raw.clone());
    app.put_object(&media, "media/x/hls/index.m3u8", b"#EXTM3U\n".to_vec(), "application/vnd.apple.mpegurl").await;
    app.put_object(&raw, "raw/x", b"raw".to_vec(), "video/mp4").await;
    assert!(s3.get_object().bucket(&media).key("media/x/hls/index.m3u8").send().await.is_ok(), "reads media/*");
    let code = |e: Option<&str>| e.unwrap_or_default().to_owned();
    let raw_read = s3.get_object().bucket(&raw).key("raw/x").send().await.expect_err("not the raw bucket");
    assert_eq!(code(raw_read.code()), "AccessDenied");
    let write = s3.put_object().bucket(&media).key("media/x/hls/index.m3u8").send().await.expect_err("no write");
    assert_eq!(code(write.code()), "AccessDenied");
}
