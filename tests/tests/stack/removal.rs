//! Removal that sticks: a member removed while they write and watch keeps nothing and gets no
//! grant from the moment the removal is answered (the local stack's indexes lag, as DynamoDB's
//! global secondary indexes do, so a purge that read an index at once would miss their last writes).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_tests::{TestApp, TestUser};

/// What one removed member's loop saw after the removal was answered.
#[derive(Debug, Default)]
struct After {
    /// Requests served before the removal.
    before: usize,
    /// Requests sent after the 204, by outcome.
    refused: usize,
    served: Vec<String>,
}

/// How far a member's loop got, for the removal to wait on.
#[derive(Default)]
struct Progressed {
    served: AtomicUsize,
    refused_after: AtomicUsize,
}

/// `ana` studies `videos` in a loop — progress, memo, drawing, bookmark, playback — until
/// `stop`; what her requests sent after `removed` was set got.
async fn study(
    app: &TestApp,
    ana: &TestUser,
    videos: &[String],
    removed: &AtomicBool,
    stop: &AtomicBool,
    progressed: &Progressed,
) -> After {
    let mut after = After::default();
    let mut round = 0u32;
    while !stop.load(Ordering::SeqCst) {
        round += 1;
        for video in videos {
            let calls = [
                (
                    Method::PUT,
                    format!("/videos/{video}/progress"),
                    Some(json!({ "progressRate": round % 100, "positionSeconds": f64::from(round) })),
                ),
                (
                    Method::PUT,
                    format!("/videos/{video}/text-memo"),
                    Some(json!({ "stateJson": format!("<p>round {round} eigenvalue</p>") })),
                ),
                (
                    Method::PUT,
                    format!("/videos/{video}/drawings/01JD6Q5C7B8D9E0F1G2H3J4K5M"),
                    Some(json!({ "kind": "page", "document": { "objects": [round] } })),
                ),
                (
                    Method::POST,
                    format!("/videos/{video}/bookmarks"),
                    Some(json!({ "videoSeconds": 1.0, "label": "here" })),
                ),
                (Method::GET, format!("/videos/{video}/playback"), None),
            ];
            for (method, path, body) in calls {
                let sent_after = removed.load(Ordering::SeqCst);
                let r = app.call(method.clone(), &path, Some(&ana.token), body).await;
                if sent_after {
                    if r.status == StatusCode::NOT_FOUND {
                        after.refused += 1;
                        progressed.refused_after.fetch_add(1, Ordering::SeqCst);
                    } else {
                        after.served.push(format!("{method} {path} -> {}", r.status));
                    }
                } else {
                    // Sent before the removal was answered: served, or refused if the removal
                    // committed while it was on its way.
                    assert!(
                        r.status.is_success() || r.status == StatusCode::NOT_FOUND,
                        "{method} {path} before the removal: {:?}",
                        r.body
                    );
                    after.before += usize::from(r.status.is_success());
                    progressed.served.fetch_add(usize::from(r.status.is_success()), Ordering::SeqCst);
                }
            }
        }
    }
    after
}

#[tokio::test]
async fn a_member_removed_while_studying_keeps_nothing_and_gets_no_grant() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Linear algebra").await;
    let videos = [app.ready_video(&space, &host).await, app.ready_video(&space, &host).await];
    let rounds = 4;
    for round in 0..rounds {
        let ana = app.user(&format!("Ana{round}")).await;
        app.join(&space, &host, &ana).await;
        let (removed, stop, progressed) = (AtomicBool::new(false), AtomicBool::new(false), Progressed::default());
        let remove = async {
            // Let her loop write for a while, then remove her in the middle of it.
            while progressed.served.load(Ordering::SeqCst) < 8 {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            let r = app
                .call(Method::DELETE, &format!("/spaces/{space}/members/{}", ana.id()), Some(&host.token), None)
                .await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
            removed.store(true, Ordering::SeqCst);
            // Her writes go on for longer than the deletion worker waits for the index.
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            while progressed.refused_after.load(Ordering::SeqCst) < 10 {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            stop.store(true, Ordering::SeqCst);
        };
        let ((), after) = tokio::join!(remove, study(&app, &ana, &videos, &removed, &stop, &progressed));
        assert!(after.served.is_empty(), "round {round}: served after the removal: {:?}", after.served);
        assert!(after.refused > 0, "round {round}: her loop went on after the removal");
        assert!(after.before > 0, "round {round}: she studied before the removal");

        app.deletions_settled().await;
        app.indexes_settled().await;
        let scan = app.scan_all().await;
        // Her per-video data, her membership, her notes' search terms (the marker that keeps a
        // code from bringing her back stays: it is the host's record, not her data).
        let (space_pk, notes_pk) = (format!("SPACE#{space}"), format!("NOTES#{space}#{}#", ana.id()));
        let hers: Vec<String> = scan
            .iter()
            .filter_map(|i| {
                let pk = i.get("PK").and_then(|v| v.as_s().ok())?;
                let sk = i.get("SK").and_then(|v| v.as_s().ok())?;
                let theirs = (pk.starts_with("VIDEO#") && sk.contains(&ana.id()))
                    || (*pk == space_pk && sk.contains(&ana.id()) && !sk.starts_with("REMOVED#"))
                    || pk.starts_with(&notes_pk);
                theirs.then(|| format!("{pk} {sk}"))
            })
            .collect();
        assert!(hers.is_empty(), "round {round}: left of hers: {hers:?}");
        for video in &videos {
            let objects = app.list_keys(&app.stack.buckets.user, &format!("drawings/{video}/{}/", ana.id())).await;
            assert!(objects.is_empty(), "round {round}: her drawings' objects: {objects:?}");
        }
        // She is a stranger to the space from then on.
        let r = app.get(&format!("/spaces/{space}"), &ana.token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = app.get(&format!("/videos/{}/playback", videos[0]), &ana.token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    // The class's own data is untouched, and the standing left with her.
    let members = app.get(&format!("/spaces/{space}"), &host.token).await;
    assert_eq!(members.body["memberCount"], 1, "{:?}", members.body);
}

#[tokio::test]
async fn a_co_host_demoted_after_creating_a_video_publishes_nothing_with_its_upload_url() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let ta = app.user("Assistant").await;
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &ta).await;
    app.promote(&space, &host, &ta).await;
    let created = app.new_video(&space, &ta, 256).await;
    let id = created["videoId"].as_str().expect("videoId").to_owned();
    // Demoted while the upload URL is still good for most of its hour.
    app.demote(&space, &host, &ta).await;
    app.upload_single(&created, vec![1u8; 256]).await;
    app.invoke("on-raw-upload", vivid_tests::s3_event(&app.stack.buckets.raw, &format!("raw/{id}"), 256))
        .await
        .expect("handled");
    let v = app.get(&format!("/videos/{id}"), &host.token).await;
    assert_eq!(v.body["status"], "FAILED", "{:?}", v.body);
    assert_eq!(v.body["failureCode"], "uploader_not_manager");
    let jobs = app.stack.mediaconvert.create_requests();
    assert!(!jobs.iter().any(|j| j["userMetadata"]["videoId"] == id.as_str()), "no transcoding job was started for it");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await, "its upload is removed");
    // A host's own upload goes on as ever.
    let mine = app.uploaded_video(&space, &host, vec![1u8; 256]).await;
    assert_eq!(app.get(&format!("/videos/{mine}"), &host.token).await.body["status"], "TRANSCODING");
}
