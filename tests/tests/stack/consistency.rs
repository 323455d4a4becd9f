//! The template is the route table: it, the handlers, the `functions/` packages, the `events/`
//! samples and the OpenAPI document stay in step.

use std::{collections::BTreeSet, fs};

use vivid_api::fallback::{ROUTES_VAR, RouteTable, unnamed};
use vivid_local::{
    functions::{EVENT_FUNCTIONS, HTTP_FUNCTIONS},
    infra::template::Template,
    stack::{StackError, bind_routes},
};
use vivid_tests::{TestApp, repo_root};

fn template() -> Template {
    Template::load(&repo_root().join("template.yaml")).expect("template.yaml parses")
}

#[test]
fn every_function_package_is_in_the_template_and_the_registry() {
    let t = template();
    let in_template: BTreeSet<String> = t.functions().expect("functions").into_iter().map(|f| f.name).collect();
    let packages: BTreeSet<String> = fs::read_dir(repo_root().join("functions"))
        .expect("functions/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(in_template, packages, "template functions vs functions/ packages");
    let registry: BTreeSet<String> = HTTP_FUNCTIONS.iter().map(|f| f.name.to_owned()).collect();
    let http: BTreeSet<String> = t.routes().expect("routes").into_iter().map(|r| r.function).collect();
    assert_eq!(http, registry, "functions with HttpApi events vs HTTP handlers");
    let events: BTreeSet<String> = EVENT_FUNCTIONS.iter().map(|f| f.name.to_owned()).collect();
    let all: BTreeSet<String> = registry.union(&events).cloned().collect();
    assert_eq!(in_template, all, "template functions vs HTTP and event handlers");
}

#[test]
fn every_function_main_serves_its_own_wiring() {
    // An HTTP function is served behind the per-caller rate limit, counted in the table.
    let mains = HTTP_FUNCTIONS
        .iter()
        .map(|f| (f.name, "vivid_edge::serve", ", vivid_dynamo::rate_counter"))
        .chain(EVENT_FUNCTIONS.iter().map(|f| (f.name, "vivid_events::serve", "")));
    for (name, serve, counter) in mains {
        let main = fs::read_to_string(repo_root().join(format!("functions/{name}/src/main.rs"))).expect("main.rs");
        let wire = name.replace('-', "_");
        let call = format!("{serve}({wire}::wire{counter})");
        // A route that calls no AWS service starts without the SDK configuration; its wiring
        // fails at init if it asks for one (Config::sdk).
        let without_aws = format!("vivid_edge::serve_without_aws({wire}::wire)");
        assert!(main.contains(&call) || main.contains(&without_aws), "functions/{name} must call {call}");
    }
}

#[test]
fn every_event_function_has_sample_events_of_its_source() {
    for f in EVENT_FUNCTIONS {
        let samples: Vec<_> = fs::read_dir(repo_root().join("events"))
            .expect("events/")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(f.name))
            .collect();
        assert!(!samples.is_empty(), "{} has no sample event", f.name);
        for sample in samples {
            let text = fs::read_to_string(sample.path()).expect("sample");
            let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            if f.name == "on-transcode-event" {
                assert_eq!(value["detail-type"], "MediaConvert Job State Change");
            } else if f.name == "on-transcribe-event" {
                assert_eq!(value["detail-type"], "Transcribe Job State Change");
                assert_eq!(value["source"], "aws.transcribe");
            } else if f.name == "sweep-stale-videos" {
                assert_eq!(value["detail-type"], "Scheduled Event");
                assert_eq!(value["source"], "aws.events");
            } else if f.name == "import-worker" {
                serde_json::from_value::<vivid_domain::imports::ImportJob>(value).expect("an import job");
            } else if f.name == "deletion-worker" {
                serde_json::from_value::<vivid_domain::deletion::Deletion>(value).expect("a deletion job");
            } else if f.name == "lti-grade-worker" {
                serde_json::from_value::<vivid_domain::lti::grades::GradeJob>(value).expect("a grade job");
            } else if f.name == "lti-roster-worker" {
                serde_json::from_value::<vivid_domain::lti::roster::RosterJob>(value).expect("a roster job");
            } else {
                assert!(value["Records"][0]["s3"]["object"]["key"].is_string(), "{:?}", sample.path());
            }
        }
    }
}

#[test]
fn every_function_has_a_sample_event_matching_its_route() {
    let t = template();
    let mut sampled = BTreeSet::new();
    for route in t.routes().expect("routes") {
        // A function's first route is its own (`Api`); the ones after it are deprecated aliases
        // of it (`Alias1`, ...), served by the same handler: the sample is the first one's.
        if !sampled.insert(route.function.clone()) {
            continue;
        }
        let path = repo_root().join(format!("events/{}.json", route.function));
        let text = fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing", path.display()));
        let event: serde_json::Value = serde_json::from_str(&text).expect("event JSON");
        assert_eq!(event["routeKey"], route.key(), "{}", path.display());
        assert_eq!(event["requestContext"]["routeKey"], route.key(), "{}", path.display());
        if route.is_default() {
            // `$default` receives whatever matched no route: its sample is a method no route of
            // that path serves, and carries no path parameters.
            let (method, raw) = (event["requestContext"]["http"]["method"].as_str(), event["rawPath"].as_str());
            let (method, raw) = (method.expect("a method"), raw.expect("a rawPath"));
            assert!(
                !t.routes().expect("routes").iter().any(|r| r.method == method && r.path == raw),
                "{}: {method} {raw} is a route",
                path.display()
            );
            assert!(event.get("pathParameters").is_none(), "{}", path.display());
        } else {
            assert_eq!(event["requestContext"]["http"]["method"], route.method.as_str());
        }
        vivid_edge::lambda_http::request::from_str(&text).expect("lambda_http reads the sample");
    }
}

/// The `$default` route's function answers from the route table its environment holds
/// (`VIVID_ROUTES`): it must be the template's routes, written as [`Template::route_table`]
/// writes them, and stay far under Lambda's 4 KB for a whole environment.
#[test]
fn the_default_route_holds_the_template_routes() {
    let t = template();
    let routes = t.routes().expect("routes");
    let default: Vec<_> = routes.iter().filter(|r| r.is_default()).collect();
    assert_eq!(default.len(), 1, "one $default route: {default:?}");
    let f = default[0];
    let value = t
        .properties(&f.logical_id)
        .and_then(|p| p["Environment"]["Variables"][ROUTES_VAR].as_str())
        .unwrap_or_else(|| panic!("{} has no plain {ROUTES_VAR}", f.logical_id));
    let want = t.route_table().expect("route table");
    let listing: String = want.to_string().split(' ').map(|e| format!("            {e}\n")).collect();
    assert_eq!(
        value,
        want.to_string(),
        "{}'s {ROUTES_VAR} is not the template's routes; write it as:\n          {ROUTES_VAR}: >-\n{listing}",
        f.logical_id
    );
    let parsed: RouteTable = value.parse().expect("the function reads it");
    assert_eq!(parsed, want);
    let served: BTreeSet<String> =
        parsed.paths().flat_map(|(path, methods)| methods.iter().map(move |m| format!("{m} {path}"))).collect();
    // Written without the parameters' names (`/spaces/{}`: see `RouteTable`).
    let keys: BTreeSet<String> = routes
        .iter()
        .filter(|r| !r.is_default())
        .map(|r| r.key())
        .map(|k| k.split_once(' ').map(|(m, p)| format!("{m} {}", unnamed(p))).unwrap_or(k))
        .collect();
    assert_eq!(served, keys);
    assert!(value.len() <= 2048, "{ROUTES_VAR} is {} bytes: keep the environment far under 4 KB", value.len());
}

#[test]
fn the_openapi_document_lists_exactly_the_template_routes() {
    let t = template();
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(repo_root().join("docs/openapi.yaml")).expect("docs/openapi.yaml"))
            .expect("openapi parses");
    let mut documented = BTreeSet::new();
    let mut deprecated = BTreeSet::new();
    for (path, ops) in doc["paths"].as_mapping().expect("paths") {
        for (method, op) in ops.as_mapping().expect("operations") {
            let (Some(path), Some(method)) = (path.as_str(), method.as_str()) else {
                continue;
            };
            if ["get", "post", "put", "patch", "delete"].contains(&method) {
                let key = format!("{} {path}", method.to_uppercase());
                if op["deprecated"].as_bool() == Some(true) {
                    deprecated.insert(key.clone());
                }
                documented.insert(key);
            }
        }
    }
    // A function's first route is its own; the ones after it are its deprecated aliases, and
    // only they are `deprecated: true`.
    let mut seen = BTreeSet::new();
    let aliases: BTreeSet<String> =
        t.routes().expect("routes").into_iter().filter(|r| !seen.insert(r.function.clone())).map(|r| r.key()).collect();
    assert_eq!(deprecated, aliases, "deprecated operations against the template's aliases");
    // `$default` is no operation: the document's description says what it answers.
    let routes: BTreeSet<String> =
        t.routes().expect("routes").iter().filter(|r| !r.is_default()).map(|r| r.key()).collect();
    assert_eq!(documented, routes);
}

#[tokio::test]
async fn a_route_without_handler_or_a_handler_without_route_stops_the_gateway() {
    let app = TestApp::spawn().await;
    let text = fs::read_to_string(repo_root().join("template.yaml")).expect("template");
    let extra = text.replace(
        "  ListSpacesFunction:\n",
        "  GhostFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: functions/ghost\n      Events:\n        Api:\n          Type: HttpApi\n          Properties:\n            Path: /ghost\n            Method: GET\n\n  ListSpacesFunction:\n",
    );
    let wired = app.stack.wired_http_handlers().await;
    let err = bind_routes(&Template::parse(&extra).expect("parses"), &wired).err();
    assert!(matches!(err, Some(StackError::NoHandler { .. })), "{err:?}");

    let missing = text.replace(
        "            Path: /spaces/{spaceId}/members\n            Method: GET",
        "            Path: /x\n            Method: GET",
    );
    let renamed = missing.replace("CodeUri: functions/list-members", "CodeUri: functions/renamed");
    let err = bind_routes(&Template::parse(&renamed).expect("parses"), &wired).err();
    assert!(matches!(err, Some(StackError::NoRoute(_)) | Some(StackError::NoHandler { .. })), "{err:?}");

    // The `$default` route is a route like the others: its function needs a handler...
    let orphan = text.replace("CodeUri: functions/no-route", "CodeUri: functions/ghost");
    let err = bind_routes(&Template::parse(&orphan).expect("parses"), &wired).err();
    assert!(matches!(err, Some(StackError::NoHandler { .. }) | Some(StackError::NoRoute(_))), "{err:?}");
    // ...and there is one.
    let extra = text.replace(
        "  ListSpacesFunction:\n",
        "  GhostFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: functions/ghost\n      Events:\n        Api:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n\n  ListSpacesFunction:\n",
    );
    assert!(bind_routes(&Template::parse(&extra).expect("parses"), &wired).is_err(), "a second $default route");
}
