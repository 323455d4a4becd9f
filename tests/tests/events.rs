//! Every `events/` sample, made current (a real token, ids of a seeded world), goes through
//! `lambda_http`'s own event parsing into the function's handler and succeeds.

use std::fs;

use vivid_shared::{http::dispatch, lambda_http, routes::http_function};
use vivid_tests::{TestApp, World, repo_root};

#[tokio::test]
async fn every_sample_event_drives_its_handler_to_success() {
    let app = TestApp::spawn().await;
    let template = vivid_local::template::Template::load(&repo_root().join("template.yaml")).expect("template");
    for route in template.routes().expect("routes") {
        let world = World::new(&app).await;
        let path = repo_root().join(format!("events/{}.json", route.function));
        let mut event: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).expect("event")).expect("json");
        event["headers"]["authorization"] = format!("Bearer {}", world.host.token).into();
        if let Some(params) = event["pathParameters"].as_object_mut() {
            if params.contains_key("spaceId") {
                params.insert("spaceId".into(), world.space.clone().into());
            }
            if params.contains_key("userId") {
                params.insert("userId".into(), world.target.id().into());
            }
        }
        let raw = world.fill(&route.path);
        event["rawPath"] = raw.clone().into();
        event["requestContext"]["http"]["path"] = raw.into();
        if route.key() == "POST /spaces/{spaceId}/members" {
            event["body"] = serde_json::json!({ "email": world.invitee.email() }).to_string().into();
        }
        let request = lambda_http::request::from_str(&event.to_string()).expect("lambda_http reads the event");
        let handler =
            (http_function(&route.function).expect("handler").build)(&app.stack.deps).expect("handler builds");
        let response = dispatch(handler.as_ref(), request).await;
        assert!(response.status().is_success(), "{}: {} {:?}", route.function, response.status(), response.body());
    }
}
