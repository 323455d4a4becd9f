//! `invoke`: the development loop without Docker (`make invoke FN=<function>`).
//!
//! Runs a function's real binary as Lambda runs it — Lambda's environment plus the variables the
//! template declares for the function, as the local stack resolves them; its runtime client
//! polling a Runtime API on loopback — on the function's sample event `events/<fn>.json`, against
//! a local stack started in-process from `template.yaml` (its own emulator, or the one of a
//! running `make dev` when `VIVID_AWS_ENDPOINT` names it). The sample is made current first
//! (a seeded world: users, a space, videos, a memo, a drawing; real ids and a real token), as
//! the benchmark and `tests/tests/stack/events.rs` do; `--as-is` sends it unchanged.
//!
//! ```text
//! invoke <function> [--binary <path>] [--event <file>] [--as-is] [--keep]
//! ```
//!
//! It prints the response (an HTTP response's body decoded), the init time and the AWS calls the
//! invocation made, and writes, under `target/invoke/`:
//! - `env.json`: every function's environment in `sam local invoke --env-vars` form,
//! - `<fn>.env`: this function's environment for `cargo lambda watch --env-file`,
//! - `<fn>.event.json`: the event it sent (for `cargo lambda invoke --data-file`).
//!
//! With `--keep` the stack stays up (Ctrl-C stops it), so those files stay valid for other tools.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use vivid_bench::{
    lambda_env::{lambda_env, spawn},
    proxy::{CountingProxy, delta},
    runtime_api::{RuntimeApi, await_init},
    scenarios,
};
use vivid_local::infra::template::Template;
use vivid_tests::{TestApp, World, repo_root};

type Error = Box<dyn std::error::Error>;

struct Args {
    function: String,
    binary: Option<PathBuf>,
    event: Option<PathBuf>,
    as_is: bool,
    keep: bool,
}

fn args() -> Result<Args, Error> {
    let mut it = std::env::args().skip(1);
    let mut a = Args { function: String::new(), binary: None, event: None, as_is: false, keep: false };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--binary" => a.binary = it.next().map(PathBuf::from),
            "--event" => a.event = it.next().map(PathBuf::from),
            "--as-is" => a.as_is = true,
            "--keep" => a.keep = true,
            "-h" | "--help" => {
                return Err("usage: invoke <function> [--binary <path>] [--event <file>] [--as-is] [--keep]".into());
            }
            f if a.function.is_empty() && !f.starts_with('-') => a.function = f.to_owned(),
            other => return Err(format!("unexpected argument {other}").into()),
        }
    }
    if a.function.is_empty() {
        return Err("usage: invoke <function> [--binary <path>] [--event <file>] [--as-is] [--keep]".into());
    }
    Ok(a)
}

/// An HTTP response as a reader wants it: status, headers, the body parsed when it is JSON.
fn readable(response: &[u8]) -> Value {
    let Ok(mut v) = serde_json::from_slice::<Value>(response) else {
        return Value::String(String::from_utf8_lossy(response).into_owned());
    };
    if let Some(body) = v.get("body").and_then(Value::as_str)
        && let Ok(parsed) = serde_json::from_str::<Value>(body)
    {
        v["body"] = parsed;
    }
    v
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let a = args()?;
    let root = repo_root().canonicalize()?;
    let name = a.function.as_str();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let binary = a.binary.clone().unwrap_or_else(|| target.join("debug").join(name));
    if !binary.exists() {
        return Err(format!("{}: not built (cargo build -p {name})", binary.display()).into());
    }
    let template = Template::load(&root.join("template.yaml"))?;
    let functions = template.functions()?;
    let function = functions
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| format!("{name} is not a function of template.yaml"))?;
    let routes = template.routes()?;

    eprintln!("starting the local stack (emulator, table, buckets, secrets) …");
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let upstream = app.stack.sdk.endpoint_url().ok_or("the stack's SDK has no endpoint")?.to_owned();
    let proxy = CountingProxy::start(&upstream).await?;

    let event: Value = match (&a.event, a.as_is) {
        (Some(path), _) => serde_json::from_str(&std::fs::read_to_string(path)?)?,
        (None, true) => vivid_tests::sample_event(name),
        (None, false) => scenarios::events_for(&app, &world, &routes, name, 1).await?.pop().ok_or("no event made")?,
    };

    // The files other tools read: SAM's --env-vars (every function, by logical id), and this
    // function's environment and event for cargo lambda.
    let out = root.join("target/invoke");
    std::fs::create_dir_all(&out)?;
    let mut sam_env = BTreeMap::new();
    for f in &functions {
        if let Some(vars) = app.stack.environments.get(&f.name) {
            let mut vars: BTreeMap<String, String> = vars.clone().into_iter().collect();
            vars.insert("AWS_ENDPOINT_URL".into(), proxy.endpoint.clone());
            sam_env.insert(f.logical_id.clone(), vars);
        }
    }
    std::fs::write(out.join("env.json"), serde_json::to_string_pretty(&sam_env)?)?;
    let own: BTreeMap<String, String> = sam_env.get(&function.logical_id).cloned().unwrap_or_default();
    let mut dotenv: String = own.iter().map(|(k, v)| format!("{k}={}\n", v.replace('\n', "\\n"))).collect();
    dotenv.push_str("AWS_REGION=us-east-1\nAWS_ACCESS_KEY_ID=local\nAWS_SECRET_ACCESS_KEY=local\n");
    std::fs::write(out.join(format!("{name}.env")), dotenv)?;
    std::fs::write(out.join(format!("{name}.event.json")), serde_json::to_string_pretty(&event)?)?;

    let api = RuntimeApi::start().await?;
    let mut env = lambda_env(name, &api.addr.to_string(), &proxy.endpoint);
    env.extend(own.into_iter().filter(|(k, _)| k != "AWS_ENDPOINT_URL"));
    let started = Instant::now();
    let mut child = spawn(&binary, &env)?;
    let init = await_init(&api, &mut child, Duration::from_secs(30)).await? - started;
    let before = proxy.counts();
    let outcome = api.invoke(event, Duration::from_secs(120)).await?;
    // Asynchronous work the function started (S3 events, invocations) lands in the stack.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let calls = delta(&before, &proxy.counts());
    let _ = child.kill().await;

    let summary = json!({
        "function": name,
        "binary": binary.display().to_string(),
        "initMs": init.as_secs_f64() * 1000.0,
        "latencyMs": outcome.latency.as_secs_f64() * 1000.0,
        "awsCalls": calls,
        "outcome": if outcome.ok { "response" } else { "error" },
    });
    println!("{}", serde_json::to_string_pretty(&readable(&outcome.body))?);
    eprintln!("{}", serde_json::to_string_pretty(&summary)?);
    eprintln!(
        "files: {} (sam local invoke --env-vars), {name}.env (cargo lambda watch --env-file), {name}.event.json",
        out.join("env.json").display()
    );
    if a.keep {
        eprintln!(
            "the stack stays up: API {}  AWS (counting proxy) {}  emulator {} — Ctrl-C stops it",
            app.base, proxy.endpoint, app.aws_endpoint
        );
        tokio::signal::ctrl_c().await?;
    }
    if outcome.ok { Ok(()) } else { Err("the function answered with an error".into()) }
}
