//! Captions: WebVTT or SRT per language, checked, listed on the video, served under its grant and
//! offered in the HLS master as subtitles renditions (hls.js loading them: tests/browser).

use reqwest::{Method, StatusCode};
use serde_json::Value;
use vivid_tests::{Reply, TestApp, TestUser};

const VTT: &str = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000 align:start\nToday we study linear algebra.\n\n00:00:04.500 --> 00:00:09.000\nThe eigenvalue of a matrix.\n";
const SRT: &str = "1\r\n00:00:01,000 --> 00:00:03,500\r\nHeute lernen wir lineare Algebra.\r\n\r\n2\r\n00:00:04,000 --> 00:00:06,000\r\nEigenwerte.\r\n";

async fn put(app: &TestApp, video: &str, lang: &str, who: &TestUser, content_type: &str, body: &str) -> Reply {
    app.call_raw(Method::PUT, &format!("/videos/{video}/captions/{lang}"), Some(&who.token), content_type, body.into())
        .await
}

async fn fetch(app: &TestApp, url: &str) -> (StatusCode, String) {
    let resp = app.http.get(url).send().await.expect("fetch");
    (resp.status(), resp.text().await.unwrap_or_default())
}

/// The URL of `relative` next to `url` (a playlist's reference), with the grant's query.
fn beside(url: &str, relative: &str, query: &str) -> String {
    let mut base = url.split('?').next().expect("url").rsplit_once('/').expect("folder").0.to_owned();
    let mut rest = relative;
    while let Some(r) = rest.strip_prefix("../") {
        base = base.rsplit_once('/').expect("parent").0.to_owned();
        rest = r;
    }
    format!("{base}/{rest}?{query}")
}

#[tokio::test]
async fn given_webvtt_and_srt_tracks_then_the_master_offers_them_as_subtitles_served_under_the_grant() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Algebra").await;
    let video = app.ready_video(&space, &ana).await;

    let r = put(&app, &video, "en", &ana, "text/vtt", VTT).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(
        (r.body["label"].as_str(), r.body["cues"].as_u64(), r.body["source"].as_str()),
        (Some("English"), Some(2), Some("upload"))
    );
    let r = app
        .call_raw(
            Method::PUT,
            &format!("/videos/{video}/captions/de?label=Deutsch%20(Kurs)"),
            Some(&ana.token),
            "application/x-subrip",
            SRT.into(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["label"], "Deutsch (Kurs)");

    let v = app.get(&format!("/videos/{video}"), &ana.token).await.body;
    let langs: Vec<&str> =
        v["captions"].as_array().expect("captions").iter().filter_map(|c| c["lang"].as_str()).collect();
    assert_eq!(langs, ["de", "en"]);
    let playback = &v["playback"];
    let query = playback["signedQuery"].as_str().expect("query");
    let hls = playback["hlsUrl"].as_str().expect("hlsUrl");
    assert!(hls.contains("/hls/captioned-2.m3u8"), "{hls}");
    let (status, master) = fetch(&app, hls).await;
    assert_eq!(status, StatusCode::OK);
    let media: Vec<&str> = master.lines().filter(|l| l.starts_with("#EXT-X-MEDIA:TYPE=SUBTITLES")).collect();
    assert_eq!(media.len(), 2, "{master}");
    assert!(media.iter().any(|l| l.contains("LANGUAGE=\"de\"") && l.contains("NAME=\"Deutsch (Kurs)\"")), "{master}");
    let variants: Vec<&str> = master.lines().filter(|l| l.starts_with("#EXT-X-STREAM-INF:")).collect();
    assert!(!variants.is_empty() && variants.iter().all(|l| l.contains("SUBTITLES=\"subs\"")), "{master}");
    assert!(master.contains("\nindex_360p.m3u8\n"), "the variants stay the transcoder's: {master}");

    // Each rendition's playlist names the track's file, served under the same grant as WebVTT.
    let uri = media[0].split("URI=\"").nth(1).and_then(|r| r.split('"').next()).expect("URI");
    let (status, playlist) = fetch(&app, &beside(hls, uri, query)).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    let file = playlist.lines().find(|l| l.ends_with(".vtt")).expect("a .vtt segment");
    let (status, vtt) = fetch(&app, &beside(&beside(hls, uri, query), file, query)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        vtt.starts_with("WEBVTT\n") && vtt.contains("00:00:01.000 --> 00:00:03.500\nHeute lernen wir lineare Algebra."),
        "{vtt}"
    );
    let signed: Vec<&Value> = playback["captions"].as_array().expect("playback captions").iter().collect();
    assert_eq!(signed.len(), 2);
    let (status, en) =
        fetch(&app, signed.iter().find(|c| c["lang"] == "en").and_then(|c| c["url"].as_str()).expect("en url")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        en.contains("00:00:04.500 --> 00:00:09.000\nThe eigenvalue of a matrix.") && !en.contains("align:start"),
        "{en}"
    );
    let bare = signed[0]["url"].as_str().expect("url").split('?').next().expect("bare").to_owned();
    assert_eq!(fetch(&app, &bare).await.0, StatusCode::FORBIDDEN, "no grant, no captions");

    // Replacing is 200; deleting one leaves the other; deleting the last restores the plain master.
    assert_eq!(put(&app, &video, "en", &ana, "text/vtt", VTT).await.status, StatusCode::OK);
    let path = format!("/videos/{video}/captions/de");
    assert_eq!(app.call(Method::DELETE, &path, Some(&ana.token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.call(Method::DELETE, &path, Some(&ana.token), None).await.status, StatusCode::NOT_FOUND);
    let v = app.get(&format!("/videos/{video}"), &ana.token).await.body;
    let (_, master) = fetch(&app, v["playback"]["hlsUrl"].as_str().expect("hls")).await;
    assert_eq!(master.matches("TYPE=SUBTITLES").count(), 1, "{master}");
    let path = format!("/videos/{video}/captions/en");
    assert_eq!(app.call(Method::DELETE, &path, Some(&ana.token), None).await.status, StatusCode::NO_CONTENT);
    let v = app.get(&format!("/videos/{video}"), &ana.token).await.body;
    assert!(v.get("captions").is_none(), "{v}");
    assert!(v["playback"]["hlsUrl"].as_str().expect("hls").contains("/hls/index.m3u8"));
    let left = app.list_keys(&app.stack.buckets.media, &format!("media/{video}/captions/")).await;
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn given_bad_caption_files_or_callers_then_nothing_changes() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let space = app.space(&ana, "Algebra").await;
    app.join(&space, &ana, &bo).await;
    let video = app.ready_video(&space, &ana).await;

    for (content_type, body, status, line) in [
        ("text/vtt", "1\n00:00:01.000 --> 00:00:02.000\nno header\n", 422, None),
        ("text/vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nbackwards\n", 422, Some("line 3")),
        (
            "text/vtt",
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfine\n\n00:01.000 -> 00:02.000\nbroken arrow\n",
            422,
            Some("line 6"),
        ),
        ("text/vtt", "WEBVTT\n", 422, None),
        ("application/x-subrip", "1\n00:00:01.000 --> 00:00:02.000\nwrong separator\n", 422, Some("line 2")),
        ("application/json", "{\"cues\": []}", 415, None),
    ] {
        let r = put(&app, &video, "en", &ana, content_type, body).await;
        assert_eq!(r.status.as_u16(), status, "{body:?}: {:?}", r.body);
        if let Some(line) = line {
            assert!(r.body["detail"].as_str().is_some_and(|d| d.contains(line)), "{body:?}: {:?}", r.body);
        }
    }
    let big = format!(
        "WEBVTT\n\n{}",
        "00:00:01.000 --> 00:00:02.000\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\n".repeat(20_000)
    );
    assert_eq!(put(&app, &video, "en", &ana, "text/vtt", &big).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = put(&app, &video, "english", &ana, "text/vtt", VTT).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    // A participant adds none; a video still uploading takes none.
    assert_eq!(put(&app, &video, "en", &bo, "text/vtt", VTT).await.status, StatusCode::FORBIDDEN);
    let uploading = app.new_video(&space, &ana, 1024).await["videoId"].as_str().expect("id").to_owned();
    let r = put(&app, &uploading, "en", &ana, "text/vtt", VTT).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_ready"), "{:?}", r.body);
    assert!(app.get(&format!("/videos/{video}"), &ana.token).await.body.get("captions").is_none());

    // Twenty languages at most.
    for i in 0..20 {
        let lang = format!("e{}-{i:02}", (b'a' + i as u8) as char);
        assert_eq!(put(&app, &video, &lang, &ana, "text/vtt", VTT).await.status, StatusCode::CREATED, "{lang}");
    }
    let r = put(&app, &video, "fr", &ana, "text/vtt", VTT).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "too_many_captions"), "{:?}", r.body);
    assert_eq!(
        put(&app, &video, "ea-00", &ana, "text/vtt", VTT).await.status,
        StatusCode::OK,
        "replacing one still works"
    );

    // Deleting the video takes its tracks with it.
    app.delete_and_wait(&format!("/videos/{video}"), &ana.token).await;
    let left = app.list_keys(&app.stack.buckets.media, &format!("media/{video}/")).await;
    assert!(left.is_empty(), "{left:?}");
}

/// What `GET /videos/{id}/captions/{lang}` answers `who`: status, content type, disposition, body.
async fn download(
    app: &TestApp,
    video: &str,
    lang: &str,
    query: &str,
    who: Option<&TestUser>,
) -> (u16, String, String, String) {
    let mut req = app.http.get(format!("{}/videos/{video}/captions/{lang}{query}", app.base));
    if let Some(u) = who {
        req = req.bearer_auth(&u.token);
    }
    let resp = req.send().await.expect("download");
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    (resp.status().as_u16(), content_type, disposition, resp.text().await.unwrap_or_default())
}

/// Issue 30: a member keeps a track as WebVTT or SRT (what editors and other players take); a
/// stranger, a student of a draft and a missing track get 404, a made-up format 400.
#[tokio::test]
async fn given_a_track_then_every_member_downloads_it_as_webvtt_or_srt() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let stu = app.user("Stu").await;
    let eve = app.user("Eve").await;
    let space = app.space(&ana, "Algebra").await;
    app.join(&space, &ana, &stu).await;
    let video = app.ready_video(&space, &ana).await;
    let r = put(&app, &video, "de", &ana, "application/x-subrip", SRT).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);

    let (status, content_type, disposition, vtt) = download(&app, &video, "de", "", Some(&stu)).await;
    assert_eq!((status, content_type.as_str()), (200, "text/vtt; charset=utf-8"), "{vtt}");
    assert_eq!(disposition, format!("attachment; filename=\"{video}.de.vtt\""));
    assert!(
        vtt.starts_with("WEBVTT\n") && vtt.contains("00:00:01.000 --> 00:00:03.500\nHeute lernen wir lineare Algebra."),
        "{vtt}"
    );
    let (status, content_type, disposition, srt) = download(&app, &video, "de", "?format=srt", Some(&stu)).await;
    assert_eq!((status, content_type.as_str()), (200, "application/x-subrip; charset=utf-8"), "{srt}");
    assert_eq!(disposition, format!("attachment; filename=\"{video}.de.srt\""));
    assert_eq!(
        srt,
        "1\n00:00:01,000 --> 00:00:03,500\nHeute lernen wir lineare Algebra.\n\n2\n00:00:04,000 --> 00:00:06,000\nEigenwerte.\n",
        "the SRT the host uploaded, its cues as they were"
    );

    let (status, ..) = download(&app, &video, "de", "?format=docx", Some(&stu)).await;
    assert_eq!(status, 400);
    let (status, ..) = download(&app, &video, "en", "", Some(&stu)).await;
    assert_eq!(status, 404, "no track in that language");
    let (status, ..) = download(&app, &video, "de", "", Some(&eve)).await;
    assert_eq!(status, 404, "a stranger");
    let (status, ..) = download(&app, &video, "de", "", None).await;
    assert_eq!(status, 401);
    // A draft is not the student's, its captions neither; the host still downloads them.
    let r = app
        .call(
            Method::PATCH,
            &format!("/videos/{video}"),
            Some(&ana.token),
            Some(serde_json::json!({ "visibility": "draft" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let (status, ..) = download(&app, &video, "de", "?format=srt", Some(&stu)).await;
    assert_eq!(status, 404, "a draft's captions");
    let (status, ..) = download(&app, &video, "de", "?format=srt", Some(&ana)).await;
    assert_eq!(status, 200);
}
