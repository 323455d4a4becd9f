//! Search inside a space's lectures: titles, descriptions, chapters and transcripts, ranked,
//! with moments; kept in step with edits and deletions; members only.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{TestApp, TestUser};

async fn search(app: &TestApp, space: &str, who: &TestUser, q: &str) -> Vec<Value> {
    let r = app.get(&format!("/spaces/{space}/search?q={q}"), &who.token).await;
    assert_eq!(r.status, StatusCode::OK, "{q}: {:?}", r.body);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

fn ids(items: &[Value]) -> Vec<&str> {
    items.iter().filter_map(|i| i["videoId"].as_str()).collect()
}

#[tokio::test]
async fn given_titles_chapters_and_transcripts_then_a_member_finds_lectures_ranked_with_moments() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let stranger = app.user("Cy").await;
    let space = app.space(&ana, "Linear algebra").await;
    app.join(&space, &ana, &bo).await;

    // A lecture titled after the topic, one that speaks of it, one about something else.
    let titled = app.ready_video(&space, &ana).await;
    let r = app
        .call(
            Method::PATCH,
            &format!("/videos/{titled}"),
            Some(&ana.token),
            Some(json!({ "title": "Eigenvalues and eigenvectors", "chapters": [{ "startSeconds": 0, "title": "Intro" }, { "startSeconds": 300, "title": "The characteristic polynomial" }] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let spoken = app
        .transcribed_video(
            &space,
            &ana,
            &[
                ("today", 0.5, 0.9),
                ("the", 1.0, 1.1),
                ("eigenvalues", 12.5, 13.2),
                ("of", 13.2, 13.3),
                ("a", 13.3, 13.4),
                ("matrix", 13.4, 14.0),
            ],
        )
        .await;
    let other = app
        .transcribed_video(&space, &ana, &[("photosynthesis", 3.0, 3.8), ("in", 3.8, 3.9), ("plants", 4.0, 4.4)])
        .await;

    let found = search(&app, &space, &bo, "Eigenvalues").await;
    assert_eq!(ids(&found), [titled.as_str(), spoken.as_str()], "the title first: {found:?}");
    assert_eq!(found[0]["matchedIn"], json!(["title"]));
    assert_eq!(found[1]["matchedIn"], json!(["transcript"]));
    assert_eq!(found[1]["moments"], json!([12.5]), "where it is spoken");
    assert_eq!(found[0]["title"], "Eigenvalues and eigenvectors");
    // Every word must be there; common words are ignored.
    assert_eq!(ids(&search(&app, &space, &bo, "the%20eigenvalues%20of%20a%20matrix").await), [spoken.as_str()]);
    let chapter = search(&app, &space, &bo, "polynomial").await;
    assert_eq!((ids(&chapter), chapter[0]["moments"].clone()), (vec![titled.as_str()], json!([300.0])));
    assert_eq!(ids(&search(&app, &space, &bo, "photosynthesis").await), [other.as_str()]);
    assert!(search(&app, &space, &bo, "quantum").await.is_empty());
    assert!(search(&app, &space, &bo, "the%20of").await.is_empty(), "only common words: nothing to find");

    // Edits and deletions keep the index in step.
    let r = app
        .call(
            Method::PATCH,
            &format!("/videos/{titled}"),
            Some(&ana.token),
            Some(json!({ "title": "Determinants", "chapters": [] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(ids(&search(&app, &space, &bo, "eigenvalues").await), [spoken.as_str()]);
    assert_eq!(ids(&search(&app, &space, &bo, "determinants").await), [titled.as_str()]);
    app.delete_and_wait(&format!("/videos/{spoken}"), &ana.token).await;
    assert!(search(&app, &space, &bo, "eigenvalues").await.is_empty());
    let left: Vec<_> = app
        .scan_all()
        .await
        .into_iter()
        .filter(|i| i.get("GSI2PK").and_then(|v| v.as_s().ok()).is_some_and(|k| k == &format!("INDEXED#{spoken}")))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Strangers learn nothing; a query must say something.
    assert_eq!(
        app.get(&format!("/spaces/{space}/search?q=plants"), &stranger.token).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&format!("/spaces/{space}/search?q="), &bo.token).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get(&format!("/spaces/{space}/search"), &bo.token).await.status, StatusCode::BAD_REQUEST);

    // Deleting the space takes its index with it.
    app.delete_and_wait(&format!("/spaces/{space}"), &ana.token).await;
    let postings: Vec<_> = app
        .scan_all()
        .await
        .into_iter()
        .filter(|i| vivid_tests::pk(i).starts_with(&format!("SEARCH#{space}#")))
        .collect();
    assert!(postings.is_empty(), "{postings:?}");
}

/// The items of the notes index, of one member (all without).
async fn note_postings(app: &TestApp, space: &str, who: Option<&TestUser>) -> Vec<String> {
    let prefix = match who {
        Some(u) => format!("NOTES#{space}#{}#", u.id()),
        None => format!("NOTES#{space}#"),
    };
    app.scan_all().await.iter().map(vivid_tests::pk).filter(|pk| pk.starts_with(&prefix)).map(str::to_owned).collect()
}

#[tokio::test]
async fn given_notes_then_only_their_author_finds_lectures_by_them_and_they_go_with_the_memo() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let cy = app.user("Cy").await;
    let space = app.space(&ana, "Linear algebra").await;
    app.join(&space, &ana, &bo).await;
    app.join(&space, &ana, &cy).await;
    let first = app.ready_video(&space, &ana).await;
    let second = app.ready_video(&space, &ana).await;
    let save = |video: &str, who: &TestUser, state: &str| {
        let (path, token, body) =
            (format!("/videos/{video}/text-memo"), who.token.clone(), json!({ "stateJson": state }));
        let app = &app;
        async move {
            let r = app.call(Method::PUT, &path, Some(&token), Some(body)).await;
            assert!(r.status.is_success(), "{:?}", r.body);
        }
    };
    // Bo's notes: an editor's JSON on one lecture, HTML on the other.
    let doc = r#"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"Gershgorin circles bound every eigenvalue"}]}]}"#;
    save(&first, &bo, doc).await;
    save(&second, &bo, "<p>Gershgorin again, and <b>Jordan</b> blocks</p>").await;
    save(&second, &cy, "<p>Cy's own: Jordan form</p>").await;

    let found = search(&app, &space, &bo, "gershgorin").await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|f| f["matchedIn"] == json!(["notes"]) && f["moments"] == json!([])), "{found:?}");
    assert_eq!(ids(&search(&app, &space, &bo, "gershgorin%20jordan").await), [second.as_str()]);
    // Nobody else finds anything by Bo's notes: not the host, not another member.
    assert!(search(&app, &space, &ana, "gershgorin").await.is_empty());
    assert!(search(&app, &space, &cy, "gershgorin").await.is_empty());
    assert_eq!(ids(&search(&app, &space, &cy, "jordan").await), [second.as_str()], "Cy's own notes");

    // A word taken out of the memo is no longer found; the others stay.
    save(&first, &bo, r#"{"type":"doc","content":[{"type":"text","text":"Power iteration"}]}"#).await;
    assert_eq!(ids(&search(&app, &space, &bo, "gershgorin").await), [second.as_str()]);
    assert_eq!(ids(&search(&app, &space, &bo, "iteration").await), [first.as_str()]);

    // Bo leaves the space: his memos and their terms go; Cy's stay.
    assert!(!note_postings(&app, &space, Some(&bo)).await.is_empty());
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", bo.id()), Some(&bo.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    app.deletions_settled().await;
    assert_eq!(note_postings(&app, &space, Some(&bo)).await, Vec::<String>::new());
    assert!(!note_postings(&app, &space, Some(&cy)).await.is_empty());

    // Deleting the lecture takes Cy's terms on it with it.
    app.delete_and_wait(&format!("/videos/{second}"), &ana.token).await;
    assert_eq!(note_postings(&app, &space, None).await, Vec::<String>::new());
    assert!(search(&app, &space, &cy, "jordan").await.is_empty());
}
