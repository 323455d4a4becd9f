//! Two stacks in one account and region (dev beside prod, as samconfig.toml deploys them), on one
//! emulator: one moto server holds both stacks' tables, buckets, queues and secrets, one
//! MediaConvert and one Transcribe run both stacks' jobs, and every job's event is offered to
//! both stacks' rules, as the account's default bus does. Each stack must see its own jobs and
//! events only: a lecture transcoded and transcribed in each reaches READY with its outputs in
//! its own buckets, and neither stack's functions are invoked for, or touch, the other's.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_local::{
    infra::account::Account,
    infra::emulator::{Moto, moto_server_path},
};
use vivid_tests::{TestApp, repo_root};

/// One stack's lecture: its space and video.
struct Lecture {
    space: String,
    video: String,
}

/// A host's lecture with a spoken track, in a space with transcription on, uploaded through the
/// presigned URL: the stack's pipeline takes it from there.
async fn upload_lecture(app: &TestApp, clip: Vec<u8>) -> (vivid_tests::TestUser, Lecture) {
    let host = app.user("Host").await;
    let space = app.space(&host, "Linear algebra").await;
    let setting = json!({ "transcription": { "enabled": true, "language": "en-US" } });
    let r = app.call(Method::PATCH, &format!("/spaces/{space}"), Some(&host.token), Some(setting)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let created = app.new_video(&space, &host, clip.len() as u64).await;
    let video = created["videoId"].as_str().expect("videoId").to_owned();
    app.upload_single(&created, clip).await;
    (host, Lecture { space, video })
}

/// The video once its transcript has ended (READY first, then the transcription job's event).
async fn transcribed(app: &TestApp, token: &str, video: &str) -> Value {
    let ready = app.wait_for_video(token, video, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
    assert_eq!(ready["status"], "READY", "{}: {ready}", app.table);
    app.wait_for_video(token, video, |v| matches!(v["transcript"]["status"].as_str(), Some("COMPLETED" | "FAILED")))
        .await
}

/// Every string value of every item of the stack's table.
async fn table_text(app: &TestApp) -> String {
    fn strings(v: &AttributeValue, out: &mut String) {
        match v {
            AttributeValue::S(s) => out.push_str(s),
            AttributeValue::M(m) => m.values().for_each(|v| strings(v, out)),
            AttributeValue::L(l) => l.iter().for_each(|v| strings(v, out)),
            AttributeValue::Ss(s) => s.iter().for_each(|s| out.push_str(s)),
            _ => {}
        }
        out.push('\n');
    }
    let mut out = String::new();
    for item in app.scan_all().await {
        item.values().for_each(|v| strings(v, &mut out));
    }
    out
}

#[tokio::test]
async fn two_stacks_in_one_account_transcode_and_transcribe_each_their_own_lectures() {
    if std::env::var_os("RUST_LOG").is_some() {
        vivid_config::telemetry::init();
    }
    // Declared first, dropped last: the emulator, then the account, outlive the stacks.
    let moto = Moto::start(&moto_server_path(&repo_root())).await.expect("the emulator (make venv)");
    let account = Account::start(&moto.endpoint, &repo_root()).await.expect("the account");
    // The second stack's name extends the first's (`vivid` and `vivid-dev`): a prefix of one is
    // a prefix of the other's names, the case a rule matching `{stack}-` gets wrong.
    let prod = TestApp::spawn_in(&account, |_| {}).await;
    let dev_name = format!("{}-dev", prod.table);
    let dev = TestApp::spawn_in(&account, |c| c.table_name = dev_name).await;
    let buckets = |app: &TestApp| {
        let b = &app.stack.buckets;
        [b.raw.clone(), b.media.clone(), b.user.clone()]
    };
    assert!(buckets(&prod).iter().all(|b| !buckets(&dev).contains(b)), "each stack has buckets of its own");

    let clip = vivid_local::standins::platform::generated_mp4(3).await.expect("a lecture with sound (ffmpeg)");
    let (prod_host, prod_lecture) = upload_lecture(&prod, clip.clone()).await;
    let (dev_host, dev_lecture) = upload_lecture(&dev, clip).await;
    let (prod_video, dev_video) = tokio::join!(
        transcribed(&prod, &prod_host.token, &prod_lecture.video),
        transcribed(&dev, &dev_host.token, &dev_lecture.video),
    );
    let lectures = [(&prod, &prod_lecture, &prod_video), (&dev, &dev_lecture, &dev_video)];

    // The account's MediaConvert ran one job for each, tagged with its stack, and nobody
    // cancelled one (a stack's consumer cancels a job whose video it does not know).
    let jobs = account.mediaconvert.jobs();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    for (app, lecture, _) in lectures {
        let job = jobs.iter().find(|j| j.body["userMetadata"]["videoId"] == lecture.video.as_str()).expect("its job");
        assert_eq!(job.body["userMetadata"]["application"], app.table.as_str());
        assert_eq!(job.body["clientRequestToken"], format!("{}-{}", app.table, lecture.video));
        assert_eq!(job.status, "COMPLETE", "{}", app.table);
    }
    assert!(jobs.iter().all(|j| j.status != "CANCELED"), "{jobs:?}");
    // The account's Transcribe ran one job for each, named after its stack.
    let names: Vec<String> = account.transcribe.jobs().into_iter().map(|j| j.name).collect();
    let mut expected: Vec<String> = lectures.iter().map(|(app, l, _)| app.transcription_job(&l.video)).collect();
    let mut sorted = names.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected);

    for (app, lecture, video) in lectures {
        let who = &app.table;
        assert_eq!(video["transcript"]["status"], "COMPLETED", "{who}: {video}");
        // Both stacks' rules were offered every event of the account's bus; each stack's
        // consumers were invoked for its own jobs' events only.
        let events = app.stack.bus_events();
        let own_transcode = events
            .iter()
            .filter(|e| e["source"] == "aws.mediaconvert" && e["detail"]["userMetadata"]["application"] == who.as_str())
            .count() as u64;
        let own_transcribe = events
            .iter()
            .filter(|e| {
                e["source"] == "aws.transcribe"
                    && e["detail"]["TranscriptionJobName"] == app.transcription_job(&lecture.video).as_str()
            })
            .count() as u64;
        assert!(events.len() as u64 > own_transcode + own_transcribe, "{who}: the bus carried the other's events too");
        assert_eq!(own_transcribe, 1, "{who}: {events:?}");
        assert_eq!(app.stack.invocations("on-transcode-event"), own_transcode, "{who}: MediaConvert's events");
        assert_eq!(app.stack.invocations("on-transcribe-event"), own_transcribe, "{who}: Transcribe's events");
        assert_eq!(app.stack.invocations("on-raw-upload"), 1, "{who}");
        assert_eq!(app.stack.denied_grants(), [], "{who}: every call allowed by its template's grants");
    }

    // Each stack's outputs are in its own buckets, and nothing of the other's is.
    for ((app, lecture, _), (other, theirs, _)) in lectures.into_iter().zip(lectures.into_iter().rev()) {
        let who = &app.table;
        let media = app.list_keys(&app.stack.buckets.media, &format!("media/{}/", lecture.video)).await;
        for part in ["hls/index.m3u8", "transcript/transcribe.json", ".mp4"] {
            assert!(media.iter().any(|k| k.contains(part)), "{who}: no {part} in {media:?}");
        }
        for bucket in [&app.stack.buckets.raw, &app.stack.buckets.media, &app.stack.buckets.user] {
            let keys = app.list_keys(bucket, "").await;
            assert!(
                keys.iter().all(|k| !k.contains(&theirs.video)),
                "{who}: {bucket} holds {}'s {keys:?}",
                other.table
            );
        }
        // Neither table holds the other's items.
        let text = table_text(app).await;
        assert!(text.contains(&lecture.video) && text.contains(&lecture.space), "{who}: its own items");
        for id in [&theirs.video, &theirs.space] {
            assert!(!text.contains(id.as_str()), "{who}'s table holds {}'s {id}", other.table);
        }
    }
}
