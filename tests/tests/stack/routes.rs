//! Requests no route serves: the HTTP API's `$default` route (`functions/no-route`) answers an
//! undeclared method on a known path 405 with `Allow` (RFC 9110 §15.5.6) and an unknown path
//! 404, both as problem documents; CORS preflights are still answered before any route.
//!
//! No authorizer runs on `$default` (auth is in the functions) and the function reads no token:
//! the method is judged before, and without, authentication, so the answer is the same with a
//! token, a bad one or none — it tells nothing the OpenAPI document does not.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use vivid_api::fallback::NoRoute;
use vivid_edge::{http::dispatch, lambda_http};
use vivid_local::{infra::template::Template, stack::LOCAL_FRONTEND_ORIGIN};
use vivid_tests::{Reply, TestApp, repo_root, sample_event};

const ID: &str = "01JD6Q5C7B8D9E0F1G2H3J4K5M";

fn assert_problem(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.code(), code, "{:?}", r.body);
    assert_eq!(r.body["status"], status.as_u16());
}

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).expect("method")
}

#[tokio::test]
async fn an_undeclared_method_on_a_known_path_is_405_with_allow_signed_in_or_not() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Physics").await;
    let videos = format!("/spaces/{space}/videos");
    for (m, path, allow) in [
        ("TRACE", "/users/me", "GET, DELETE"),
        ("PUT", "/spaces", "GET, POST"),
        ("PATCH", "/spaces", "GET, POST"),
        ("DELETE", "/spaces", "GET, POST"),
        ("DELETE", videos.as_str(), "GET, POST"),
        ("GET", "/auth/refresh", "POST"),
    ] {
        let signed_in = app.call(method(m), path, Some(&ana.token), None).await;
        assert_problem(&signed_in, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        assert_eq!(signed_in.header("allow"), Some(allow), "{m} {path}");
        let detail = signed_in.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("the Allow header lists the methods it does"), "{m} {path}: {detail}");
        for token in [None, Some("not-a-token")] {
            let other = app.call(method(m), path, token, None).await;
            assert_problem(&other, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
            assert_eq!(other.header("allow"), Some(allow), "{m} {path} with {token:?}");
            assert_eq!(other.body["detail"], signed_in.body["detail"]);
        }
    }
    // The declared methods still reach their functions.
    assert_eq!(app.get("/users/me", &ana.token).await.status, StatusCode::OK);
    assert_eq!(app.get(&videos, &ana.token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_path_of_the_template_refuses_every_other_method_with_its_allow() {
    let app = TestApp::spawn().await;
    let table = Template::load(&repo_root().join("template.yaml")).expect("template").route_table().expect("table");
    let mut checked = 0;
    for (template, methods) in table.paths() {
        let path: String =
            template.split('/').map(|seg| if seg.starts_with('{') { ID } else { seg }).collect::<Vec<_>>().join("/");
        for m in ["GET", "POST", "PUT", "PATCH", "DELETE", "TRACE"] {
            if methods.iter().any(|x| x == m) {
                continue;
            }
            let r = app.call(method(m), &path, None, None).await;
            assert_problem(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
            assert_eq!(r.header("allow"), Some(methods.join(", ").as_str()), "{m} {path}");
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} requests");
}

#[tokio::test]
async fn an_unknown_path_is_a_404_problem_not_api_gateways_message() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    for (m, path) in [
        (Method::GET, "/nope"),
        (Method::GET, "/"),
        (Method::POST, "/spaces/a/b/c/d"),
        (Method::GET, "/users/me/nope"),
        (Method::DELETE, "/videos"),
    ] {
        for token in [Some(ana.token.as_str()), None] {
            let r = app.call(m.clone(), path, token, None).await;
            assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
            assert_eq!(r.header("allow"), None, "{m} {path}");
            assert!(r.body.get("message").is_none(), "{:?}", r.body);
            // Where to look instead: the document that lists the routes.
            let detail = r.body["detail"].as_str().unwrap_or_default();
            assert!(detail.contains("no route serves this path") && detail.contains("docs/openapi.yaml"), "{detail}");
        }
    }
}

#[tokio::test]
async fn cors_preflights_are_still_answered_before_any_route_and_refusals_carry_cors_headers() {
    let app = TestApp::spawn().await;
    for path in ["/spaces", "/spaces/01JD6Q5C7B8D9E0F1G2H3J4K5M", "/nope"] {
        let preflight = app
            .http
            .request(Method::OPTIONS, format!("{}{path}", app.base))
            .header("origin", LOCAL_FRONTEND_ORIGIN)
            .header("access-control-request-method", "PATCH")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
            .await
            .expect("preflight");
        assert_eq!(preflight.status(), StatusCode::NO_CONTENT, "{path}");
        let h = preflight.headers();
        let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(header("access-control-allow-origin"), LOCAL_FRONTEND_ORIGIN);
        assert!(header("access-control-allow-methods").contains("PATCH"), "{path}");
        assert!(header("access-control-allow-headers").contains("authorization"), "{path}");
        assert!(h.get("allow").is_none(), "the gateway's answer, not the function's: {path}");
    }
    // A refusal reaches a page of the front end like any answer.
    let resp = app
        .http
        .request(Method::PUT, format!("{}/spaces", app.base))
        .header("origin", LOCAL_FRONTEND_ORIGIN)
        .send()
        .await
        .expect("put");
    let r = TestApp::reply(resp).await;
    assert_problem(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(r.header("access-control-allow-origin"), Some(LOCAL_FRONTEND_ORIGIN));
}

#[tokio::test]
async fn a_plain_options_request_learns_what_the_path_offers() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::OPTIONS, "/spaces", None, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.header("allow"), Some("GET, POST"));
    let r = app.call(Method::OPTIONS, "/nope", None, None).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
}

/// The function as Lambda runs it, on the events API Gateway sends to `$default`: the sample,
/// and a CORS preflight (should API Gateway hand one over instead of answering it, a 2xx keeps
/// the browser going; API Gateway adds the configured CORS headers to it).
#[tokio::test]
async fn the_function_answers_its_sample_and_a_preflight_that_reaches_it() {
    let app = TestApp::spawn().await;
    let handler = app.stack.http_handler("no-route").await.expect("no-route wires from its environment");
    let call = |event: Value| {
        let handler = handler.clone();
        async move {
            let request = lambda_http::request::from_str(&event.to_string()).expect("lambda_http reads it");
            dispatch(handler.as_ref(), request).await
        }
    };
    let sample = sample_event("no-route");
    let resp = call(sample.clone()).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.headers().get("allow").and_then(|v| v.to_str().ok()), Some("GET, DELETE"));
    let doc: Value = serde_json::from_slice(resp.body().as_ref()).expect("problem");
    assert_eq!(doc["code"], "method_not_allowed");

    for path in ["/spaces/01JD6Q5C7B8D9E0F1G2H3J4K5M", "/nope"] {
        let mut preflight = sample.clone();
        preflight["requestContext"]["http"]["method"] = "OPTIONS".into();
        preflight["rawPath"] = path.into();
        preflight["requestContext"]["http"]["path"] = path.into();
        preflight["headers"]["origin"] = "https://app.example".into();
        preflight["headers"]["access-control-request-method"] = "PATCH".into();
        assert_eq!(call(preflight).await.status(), StatusCode::NO_CONTENT, "{path}");
    }

    // Built directly from its table, the handler answers the same.
    let table = Template::load(&repo_root().join("template.yaml")).expect("template").route_table().expect("table");
    let direct = NoRoute { routes: table };
    let request = lambda_http::request::from_str(&sample.to_string()).expect("sample");
    assert_eq!(dispatch(&direct, request).await.status(), StatusCode::METHOD_NOT_ALLOWED);
}

/// Lambda allows 4 KB for a function's whole environment (names and values): the route table
/// rides with the globals every function gets, and must leave room for a key rotation (a second
/// public key in `VIVID_JWT_VERIFY_KEYS`).
#[tokio::test]
async fn the_default_route_environment_fits_lambdas_limit_with_room_to_spare() {
    let app = TestApp::spawn().await;
    let env = app.stack.environments.get("no-route").expect("no-route's environment");
    let total: usize = env.iter().map(|(k, v)| k.len() + v.len()).sum();
    let routes = env.get(vivid_api::fallback::ROUTES_VAR).map(String::len).unwrap_or_default();
    eprintln!("no-route environment: {total} bytes in all, VIVID_ROUTES {routes} bytes");
    assert!(total <= 4096 - 1024, "{total} bytes");
}
