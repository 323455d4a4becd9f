//! Faults the SDK absorbs, and reads.

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_local::{infra::faults::Fault, stack::SDK_MAX_ATTEMPTS};
use vivid_tests::{TestApp, s3_event};

use super::{harness::*, stored::*};

#[tokio::test]
async fn a_fault_on_fewer_attempts_than_the_sdk_makes_is_absorbed() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let host = &course.host;
    let faults = app.stack.faults();
    let transient = SDK_MAX_ATTEMPTS - 1;
    let video = &course.video;
    let progress = json!({ "progressRate": 5, "positionSeconds": 1.0 });
    let cases = [
        (
            dynamodb("TransactWriteItems", Fault::Throttle),
            Req::new(Method::POST, "/spaces", host, Some(json!({ "name": "S" }))),
            StatusCode::CREATED,
        ),
        (
            dynamodb("TransactWriteItems", Fault::Drop),
            Req::new(Method::PUT, format!("/videos/{video}/progress"), host, Some(progress.clone())),
            StatusCode::NO_CONTENT,
        ),
        (
            dynamodb("UpdateItem", Fault::ServerError),
            Req::new(Method::PUT, format!("/videos/{video}/progress"), host, Some(progress)),
            StatusCode::NO_CONTENT,
        ),
        (
            s3("PutObject", Fault::ServerError),
            Req::new(Method::PUT, format!("/videos/{video}/drawings/big"), host, Some(large_drawing("t"))),
            StatusCode::CREATED,
        ),
        (dynamodb("Query", Fault::Throttle), Req::new(Method::GET, "/spaces", host, None), StatusCode::OK),
        // Our own retry of conflicting transactions absorbs a few.
        (
            dynamodb("TransactWriteItems", Fault::CancelTransaction("TransactionConflict".into())),
            Req::new(
                Method::POST,
                format!("/spaces/{}/members", course.space),
                host,
                Some(json!({ "email": app.user("M").await.email() })),
            ),
            StatusCode::CREATED,
        ),
    ];
    for (rule, req, ok) in cases {
        let what = format!("{} {} with {:?} on {}", req.method, req.path, rule.fault, rule.operation);
        let id = faults.add(rule.times(u64::from(transient)));
        let r = req.send(&app).await;
        faults.clear();
        assert_eq!(r.status, ok, "{what}: {:?}", r.body);
        assert_eq!(faults.fired(id), u64::from(transient), "{what}");
    }
    let converted = format!("media/{video}/thumbnails/thumb.0000001.jpg");
    app.put_object(&app.stack.buckets.media, &converted, vec![0xff], "image/jpeg").await;
    let id = faults.add(dynamodb("UpdateItem", Fault::Drop).times(u64::from(transient)));
    app.invoke("on-converted-output", s3_event(&app.stack.buckets.media, &converted, 1)).await.expect("absorbed");
    faults.clear();
    assert_eq!(faults.fired(id), u64::from(transient));
    Stored::read(&app).await.assert_consistent("after transient faults");

    // A read through a persistent fault is a 503 too, never a 500.
    faults.add(dynamodb("BatchGetItem", Fault::ServerError));
    let r = app.get(&format!("/videos/{video}"), &host.token).await;
    faults.clear();
    assert_eq!((r.status, r.code()), (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"), "{:?}", r.body);
}
