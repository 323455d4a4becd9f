//! Every `events/` sample, made current (real tokens, ids of a seeded world), goes through
//! `lambda_http`'s own event parsing into the function's handler and succeeds.

use std::fs;

use serde_json::{Value, json};
use vivid_shared::{http::dispatch, lambda_http, routes::http_function};
use vivid_tests::{TestApp, World, query_param, repo_root};

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
    let app = TestApp::spawn().await;
    let template = vivid_local::template::Template::load(&repo_root().join("template.yaml")).expect("template");
    let google = &app.stack.google;
    for route in template.routes().expect("routes") {
        let world = World::new(&app).await;
        let path = repo_root().join(format!("events/{}.json", route.function));
        let mut event: Value = serde_json::from_str(&fs::read_to_string(&path).expect("event")).expect("json");
        if event["headers"].get("authorization").is_some() {
            event["headers"]["authorization"] = format!("Bearer {}", world.host.token).into();
        }
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
        match route.function.as_str() {
            "add-member" => event["body"] = json!({ "email": world.invitee.email() }).to_string().into(),
            "google-callback" => {
                let pending = app.start_login(None).await;
                let callback = app.approve_at_google(&pending, "ana@example.com", "Ana", true).await;
                set_query(&mut event, &callback);
                event["cookies"] = json!([format!("vivid_login={}", pending.login_cookie)]);
            }
            "google-token" => {
                let token = google.id_token(&google.claims_for("ana@example.com", "Ana"));
                event["body"] = json!({ "idToken": token }).to_string().into();
            }
            "refresh-token" | "logout" => {
                let signed = app.google_token(&google.id_token(&google.claims_for("bo@example.com", "Bo"))).await;
                let refresh = signed.body["refreshToken"].as_str().expect("refresh token");
                event["cookies"] = json!([format!("vivid_refresh={refresh}")]);
                if route.function == "logout" {
                    let access = signed.body["accessToken"].as_str().expect("access token");
                    event["headers"]["authorization"] = format!("Bearer {access}").into();
                }
            }
            _ => {}
        }
        let request = lambda_http::request::from_str(&event.to_string()).expect("lambda_http reads the event");
        let handler =
            (http_function(&route.function).expect("handler").build)(&app.stack.deps).expect("handler builds");
        let response = dispatch(handler.as_ref(), request).await;
        let status = response.status();
        assert!(status.is_success() || status.is_redirection(), "{}: {status} {:?}", route.function, response.body());
    }
}
