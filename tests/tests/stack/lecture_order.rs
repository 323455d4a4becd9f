//! Lecture order: the host (or a co-host) orders the space's videos and every member lists them
//! in that order.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{TestApp, TestUser};

async fn listed(app: &TestApp, space: &str, who: &TestUser) -> Vec<String> {
    // The list reads an index: a new order shows there once the index caught up (read at once,
    // its pages can straddle the move and name a video twice, as in AWS).
    app.indexes_settled().await;
    let (items, _) = app.all_pages(&format!("/spaces/{space}/videos"), &who.token, 2).await;
    items.iter().map(|v| v["videoId"].as_str().unwrap_or_default().to_owned()).collect()
}

async fn order(app: &TestApp, space: &str, who: &TestUser, ids: Value) -> vivid_tests::Reply {
    app.call(Method::PUT, &format!("/spaces/{space}/videos/order"), Some(&who.token), Some(json!({ "videoIds": ids })))
        .await
}

#[tokio::test]
async fn given_an_order_then_members_list_the_lectures_in_it_and_new_ones_follow() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let cy = app.user("Cy").await;
    let space = app.space(&ana, "Course").await;
    app.join(&space, &ana, &bo).await;
    app.join(&space, &ana, &cy).await;
    let mut v = Vec::new();
    for _ in 0..4 {
        v.push(app.new_video(&space, &ana, 1024).await["videoId"].as_str().expect("videoId").to_owned());
    }
    // Unordered: newest first.
    assert_eq!(listed(&app, &space, &bo).await, [v[3].as_str(), v[2].as_str(), v[1].as_str(), v[0].as_str()]);

    let r = order(&app, &space, &ana, json!([v[1], v[0], v[3]])).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["videoIds"], json!([v[1], v[0], v[3], v[2]]), "the unlisted one follows");
    // Paged two at a time, as a participant sees it.
    assert_eq!(listed(&app, &space, &bo).await, [v[1].as_str(), v[0].as_str(), v[3].as_str(), v[2].as_str()]);
    assert_eq!(app.get(&format!("/videos/{}", v[0]), &bo.token).await.body["position"], 1);

    // A new lecture follows the ordered ones; the placed ones keep their places.
    let new = app.new_video(&space, &ana, 1024).await["videoId"].as_str().expect("videoId").to_owned();
    assert_eq!(
        listed(&app, &space, &bo).await,
        [v[1].as_str(), v[0].as_str(), v[3].as_str(), new.as_str(), v[2].as_str()]
    );

    // A co-host reorders; leaving videos out puts them back among the unplaced, newest first.
    app.promote(&space, &ana, &cy).await;
    let r = order(&app, &space, &cy, json!([v[2]])).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        listed(&app, &space, &ana).await,
        [v[2].as_str(), new.as_str(), v[3].as_str(), v[1].as_str(), v[0].as_str()]
    );
    // An empty order is "newest first" again.
    let r = order(&app, &space, &ana, json!([])).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        listed(&app, &space, &bo).await,
        [new.as_str(), v[3].as_str(), v[2].as_str(), v[1].as_str(), v[0].as_str()]
    );
    assert!(app.get(&format!("/videos/{}", v[2]), &bo.token).await.body.get("position").is_none());
}

#[tokio::test]
async fn given_a_bad_order_then_422_409_or_403_and_nothing_moves() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let space = app.space(&ana, "Course").await;
    app.join(&space, &ana, &bo).await;
    let a = app.new_video(&space, &ana, 1024).await["videoId"].as_str().expect("videoId").to_owned();
    let b = app.new_video(&space, &ana, 1024).await["videoId"].as_str().expect("videoId").to_owned();
    let other_space = app.space(&ana, "Other").await;
    let elsewhere = app.new_video(&other_space, &ana, 1024).await["videoId"].as_str().expect("videoId").to_owned();
    for bad in [json!([a, a]), json!(["not-an-id"]), json!("a")] {
        let r = order(&app, &space, &ana, bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {:?}", r.body);
    }
    // A video of another space (or one deleted meanwhile): the list and the space disagree.
    let r = order(&app, &space, &ana, json!([a, elsewhere])).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "unknown_video"), "{:?}", r.body);
    let too_many: Vec<String> = (0..1001).map(|_| a.clone()).collect();
    let r = order(&app, &space, &ana, json!(too_many)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let r = order(&app, &space, &bo, json!([a, b])).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "managers_only"));
    assert_eq!(listed(&app, &space, &bo).await, [b.as_str(), a.as_str()], "nothing moved");
}
