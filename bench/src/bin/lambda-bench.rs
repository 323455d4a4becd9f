//! `lambda-bench`: every function of the suite and the baselines, one run, one table.
//!
//! Each target is a release binary run as Lambda runs it — a process with Lambda's environment
//! (and the variables the template declares for the function, as the local stack resolves them)
//! whose runtime client polls a fake Runtime API on loopback — against a fresh local stack (its
//! own emulator) behind a proxy that counts AWS calls by service. Per target:
//!
//! - the arm64 artifact zipped as `sam build` / `sam package` ship it (`zip -9` of `bootstrap`);
//! - init: exec → first `GET /next`, median of `VIVID_BENCH_INIT_RUNS` fresh processes (x86_64);
//! - the first invocation, then warm p50 / p99 over `VIVID_BENCH_N` invocations (default 1000);
//! - peak RSS (VmHWM) after them; DynamoDB and S3 calls per invocation;
//! - ratios to the baseline that links the same SDK clients, to the DynamoDB-only baseline and to
//!   the empty one.
//!
//! The targets come from a manifest that `scripts/bench.sh` writes after building everything
//! (`make bench`); `lambda-bench [names…]` runs only those.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use vivid_bench::{
    lambda_env::{lambda_env, spawn},
    peak_rss_kib,
    proxy::{CountingProxy, Counts, delta},
    quantile,
    runtime_api::{RuntimeApi, await_init},
    scenarios, sorted,
};
use vivid_local::infra::template::Template;
use vivid_tests::{TestApp, World, repo_root};

type Error = Box<dyn std::error::Error>;

/// The DynamoDB-only baseline and the empty one, by name.
const DYNAMODB_BASELINE: &str = "baseline-http-dynamodb";
const EMPTY_BASELINE: &str = "baseline-empty";

/// One line of the manifest. A name `<function>@<label>` runs the function's scenario on
/// another build of it (e.g. `get-space@fat`, to compare profiles in one run).
#[derive(Debug, Clone)]
struct Target {
    name: String,
    baseline: bool,
    http: bool,
    clients: String,
    same_clients: String,
    x86: PathBuf,
    arm64: PathBuf,
}

impl Target {
    /// The function (or baseline) this target is a build of.
    fn function(&self) -> &str {
        self.name.split('@').next().unwrap_or(&self.name)
    }
}

fn read_manifest(path: &Path) -> Result<Vec<Target>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e} (run `make bench`)", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 7 {
                return Err(format!("manifest line with {} fields: {line}", f.len()).into());
            }
            Ok(Target {
                name: f[0].to_owned(),
                baseline: f[1] == "baseline",
                http: f[2] == "http",
                clients: f[3].to_owned(),
                same_clients: f[4].to_owned(),
                x86: f[5].into(),
                arm64: f[6].into(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Figures {
    name: String,
    clients: String,
    same_clients: String,
    baseline: bool,
    read_route: bool,
    zip_bytes: u64,
    init_ms: Vec<f64>,
    init_median_ms: f64,
    /// Init over the same-SDK baseline's and the empty one's, from runs alternated with theirs.
    init_vs_same_clients: Option<f64>,
    init_vs_empty: Option<f64>,
    first_ms: f64,
    warm_p50_ms: f64,
    warm_p99_ms: f64,
    peak_rss_kib: u64,
    invocations: usize,
    calls: Counts,
    failures: usize,
    failure_sample: Option<String>,
    load_average: String,
}

impl Figures {
    fn per_request(&self, service: &str) -> f64 {
        self.calls.get(service).copied().unwrap_or(0) as f64 / self.invocations.max(1) as f64
    }
}

/// `zip -9` of the arm64 `bootstrap`, as SAM packages it; the archive's size.
fn zipped_size(bootstrap: &Path) -> Result<u64, Error> {
    let dir = tempdir()?;
    let zip = dir.join("artifact.zip");
    let status = std::process::Command::new("zip")
        .args(["-q", "-9", "-X", "-j"])
        .arg(&zip)
        .arg(bootstrap)
        .status()
        .map_err(|e| format!("zip: {e} (apt-get install zip)"))?;
    if !status.success() {
        return Err(format!("zip -9 {} failed", bootstrap.display()).into());
    }
    let size = std::fs::metadata(&zip)?.len();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(size)
}

fn tempdir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("lambda-bench-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The function of the `$default` route: its answer is a refusal (404, or 405 with `Allow`).
const NO_ROUTE: &str = "no-route";

/// Whether a response is a failure: an `/error` post, or an HTTP status of 400 and above (for
/// the `$default` route, anything but its 404/405).
fn failed(ok: bool, body: &[u8], target: &Target) -> bool {
    if !ok {
        return true;
    }
    let status = serde_json::from_slice::<Value>(body).ok().and_then(|v| v["statusCode"].as_u64());
    match status {
        _ if !target.http => false,
        Some(404 | 405) if target.function() == NO_ROUTE => false,
        s => s.is_some_and(|s| s >= 400),
    }
}

fn env_of(app: &TestApp, target: &Target, runtime_api: &str, aws: &str) -> Vec<(String, String)> {
    let mut env = lambda_env(target.function(), runtime_api, aws);
    if target.baseline {
        env.push(("VIVID_TABLE_NAME".into(), app.table.clone()));
    } else if let Some(vars) = app.stack.environments.get(target.function()) {
        env.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    env
}

/// One fresh process of `target`: exec → first poll, in ms.
async fn init_once(app: &TestApp, target: &Target, proxy: &CountingProxy) -> Result<f64, Error> {
    let api = RuntimeApi::start().await?;
    let env = env_of(app, target, &api.addr.to_string(), &proxy.endpoint);
    let started = Instant::now();
    let mut child = spawn(&target.x86, &env)?;
    let polled =
        await_init(&api, &mut child, Duration::from_secs(20)).await.map_err(|e| format!("{}: {e}", target.name))?;
    let _ = child.kill().await;
    Ok((polled - started).as_secs_f64() * 1000.0)
}

async fn measure(target: &Target, all: &[Target], n: usize, init_runs: usize) -> Result<Figures, Error> {
    // A thousand creations in one space and account: counts and the daily budget out of the way
    // (their refusals are tested in tests/tests/stack/limits.rs).
    let app = TestApp::spawn_configured(|c| {
        for name in [
            "MaxHostedSpaces",
            "MaxVideosPerSpace",
            "MaxSnapshotsPerVideo",
            "MaxDrawingsPerVideo",
            "MaxCheckpointsPerVideo",
            "MaxBookmarksPerVideo",
            "DailyInvitationMails",
        ] {
            c.parameters.insert(name.into(), "1000000".into());
        }
        c.parameters.insert("DailyTranscodeBytes".into(), (1u64 << 60).to_string());
        c.parameters.insert("MaxStorageBytesPerAccount".into(), (1u64 << 60).to_string());
        // Every route many times a minute as one user from one address.
        c.parameters.insert("RateLimitPerUser".into(), "1000000".into());
        c.parameters.insert("RateLimitPerIp".into(), "1000000".into());
    })
    .await;
    let world = World::new(&app).await;
    let template = Template::load(&repo_root().join("template.yaml"))?;
    let routes = template.routes()?;
    let upstream = app.stack.sdk.endpoint_url().ok_or("the stack's SDK has no endpoint")?.to_owned();
    let proxy = CountingProxy::start(&upstream).await?;
    let read_route = routes.iter().any(|r| r.function == target.function() && r.method == "GET");

    let events: Vec<Value> = if target.baseline {
        let sample = if target.http { vivid_tests::sample_event("get-me") } else { json!({ "bench": true }) };
        vec![sample; n]
    } else {
        scenarios::events_for(&app, &world, &routes, target.function(), n)
            .await
            .map_err(|e| format!("{}: {e}", target.name))?
    };

    // Init: fresh processes, exec → first poll. A function's runs alternate with its baselines'
    // (same SDK clients, empty), so that the ratios compare runs made under the same load.
    let companions: Vec<&Target> = if target.baseline {
        Vec::new()
    } else {
        all.iter().filter(|t| t.name == target.same_clients || t.name == EMPTY_BASELINE).collect()
    };
    let mut init_ms = Vec::with_capacity(init_runs);
    let mut paired: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for _ in 0..init_runs {
        init_ms.push(init_once(&app, target, &proxy).await?);
        for c in &companions {
            paired.entry(c.name.clone()).or_default().push(init_once(&app, c, &proxy).await?);
        }
    }
    let init_median = quantile(&sorted(&init_ms), 0.5);
    let paired_ratio =
        |name: &str| paired.get(name).map(|v| quantile(&sorted(v), 0.5)).filter(|m| *m > 0.0).map(|m| init_median / m);

    // The invocations, in one process.
    let api = RuntimeApi::start().await?;
    let env = env_of(&app, target, &api.addr.to_string(), &proxy.endpoint);
    let mut child = spawn(&target.x86, &env)?;
    let pid = child.id().unwrap_or_default();
    await_init(&api, &mut child, Duration::from_secs(20)).await.map_err(|e| format!("{}: {e}", target.name))?;
    let before = proxy.counts();
    let mut latencies = Vec::with_capacity(events.len());
    let mut failures = 0;
    let mut failure_sample = None;
    for event in events {
        let out = api.invoke(event, Duration::from_secs(60)).await.map_err(|e| format!("{}: {e}", target.name))?;
        if failed(out.ok, &out.body, target) {
            failures += 1;
            failure_sample.get_or_insert_with(|| String::from_utf8_lossy(&out.body).chars().take(300).collect());
        }
        latencies.push(out.latency.as_secs_f64() * 1000.0);
    }
    let calls = delta(&before, &proxy.counts());
    let peak = peak_rss_kib(pid).unwrap_or_default();
    let _ = child.kill().await;
    let warm = sorted(latencies.get(1..).unwrap_or_default());
    Ok(Figures {
        name: target.name.clone(),
        clients: target.clients.clone(),
        same_clients: target.same_clients.clone(),
        baseline: target.baseline,
        read_route,
        // 0 while the arm64 half is still being built: the table reads it again (below).
        zip_bytes: if target.arm64.exists() { zipped_size(&target.arm64)? } else { 0 },
        init_median_ms: init_median,
        init_vs_same_clients: paired_ratio(&target.same_clients),
        init_vs_empty: paired_ratio(EMPTY_BASELINE),
        init_ms,
        first_ms: latencies.first().copied().unwrap_or_default(),
        warm_p50_ms: quantile(&warm, 0.5),
        warm_p99_ms: quantile(&warm, 0.99),
        peak_rss_kib: peak,
        invocations: latencies.len(),
        calls,
        failures,
        failure_sample,
        load_average: load_average(),
    })
}

fn report_progress(target: &Target, took: Duration, result: &Result<Figures, String>) {
    match result {
        Ok(f) => {
            eprintln!(
                "  {:<28} init {:>6.2} ms  p50 {:>6.2} ms  rss {:>5.1} MiB  failed {}  ({:.0} s, load {})",
                f.name,
                f.init_median_ms,
                f.warm_p50_ms,
                f.peak_rss_kib as f64 / 1024.0,
                f.failures,
                took.as_secs_f64(),
                f.load_average
            );
            if let Some(s) = &f.failure_sample {
                eprintln!("    first failure: {s}");
            }
        }
        Err(e) => eprintln!("  {:<28} FAILED: {e}", target.name),
    }
}

fn ratio(a: f64, b: Option<f64>) -> Option<f64> {
    b.filter(|b| *b > 0.0).map(|b| a / b)
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.2}×")).unwrap_or_else(|| "—".into())
}

/// The table of docs/benchmarks.md, and each function's budget misses.
fn table(all: &[Figures]) -> String {
    let by_name: BTreeMap<&str, &Figures> = all.iter().map(|f| (f.name.as_str(), f)).collect();
    let zip = |name: &str| by_name.get(name).map(|f| f.zip_bytes as f64);
    let init = |name: &str| by_name.get(name).map(|f| f.init_median_ms);
    let mut out = String::new();
    out.push_str(
        "| function | SDK clients | zip (KiB) | × same-SDK baseline | × DynamoDB baseline | init (ms) | × same-SDK baseline | × empty | first invocation (ms) | warm p50 / p99 (ms) | peak RSS (MiB) | DynamoDB / req | S3 / req | failed | budget misses |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let mut rows: Vec<&Figures> = all.iter().collect();
    rows.sort_by_key(|f| (!f.baseline, f.name.clone()));
    for f in rows {
        let same_zip = if f.baseline { None } else { ratio(f.zip_bytes as f64, zip(&f.same_clients)) };
        let same_init =
            if f.baseline { None } else { f.init_vs_same_clients.or(ratio(f.init_median_ms, init(&f.same_clients))) };
        let dynamodb = ratio(f.zip_bytes as f64, zip(DYNAMODB_BASELINE));
        let empty = f.init_vs_empty.or(ratio(f.init_median_ms, init(EMPTY_BASELINE)));
        let (ddb, s3) = (f.per_request("dynamodb"), f.per_request("s3"));
        let rss_mib = f.peak_rss_kib as f64 / 1024.0;
        let mut misses = Vec::new();
        if !f.baseline {
            if same_zip.is_some_and(|r| r > 1.25) {
                misses.push("zip > 1.25×");
            }
            if same_init.is_some_and(|r| r > 1.1) {
                misses.push("init > 1.1×");
            }
            if rss_mib > 25.0 {
                misses.push("RSS > 25 MB");
            }
            if f.read_route && ddb > 1.0 {
                misses.push("read > 1 DynamoDB call");
            }
            if !f.read_route && ddb > 2.0 {
                misses.push("write > 2 DynamoDB calls");
            }
            if f.failures > 0 {
                misses.push("failures");
            }
        }
        out.push_str(&format!(
            "| {}{} | {} | {:.0} | {} | {} | {:.2} | {} | {} | {:.2} | {:.2} / {:.2} | {:.1} | {:.2} | {:.2} | {} | {} |\n",
            f.name,
            if f.baseline { " *(baseline)*" } else { "" },
            f.clients,
            f.zip_bytes as f64 / 1024.0,
            fmt_ratio(same_zip),
            fmt_ratio(dynamodb),
            f.init_median_ms,
            fmt_ratio(same_init),
            fmt_ratio(empty),
            f.first_ms,
            f.warm_p50_ms,
            f.warm_p99_ms,
            rss_mib,
            ddb,
            s3,
            f.failures,
            if misses.is_empty() { "—".to_owned() } else { misses.join(", ") },
        ));
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let root = repo_root();
    let manifest = std::env::var("VIVID_BENCH_MANIFEST")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/bench/manifest.tsv"));
    let out_dir = manifest.parent().map(Path::to_path_buf).unwrap_or_else(|| root.join("target/bench"));
    // `VIVID_BENCH_TABLE=<report json>`: the table of figures measured before (a partial run's).
    // A size measured as 0 (its arm64 build was not there yet) is taken from the manifest's path.
    if let Ok(json) = std::env::var("VIVID_BENCH_TABLE") {
        let mut all: Vec<Figures> = serde_json::from_str(&std::fs::read_to_string(json)?)?;
        let paths: BTreeMap<String, PathBuf> =
            read_manifest(&manifest)?.into_iter().map(|t| (t.name, t.arm64)).collect();
        for f in all.iter_mut().filter(|f| f.zip_bytes == 0) {
            if let Some(path) = paths.get(&f.name).filter(|p| p.exists()) {
                f.zip_bytes = zipped_size(path)?;
            }
        }
        println!("{}", table(&all));
        return Ok(());
    }
    let n: usize = std::env::var("VIVID_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let init_runs: usize = std::env::var("VIVID_BENCH_INIT_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let only: Vec<String> = std::env::args().skip(1).collect();
    let mut targets: Vec<Target> = read_manifest(&manifest)?
        .into_iter()
        .filter(|t| only.is_empty() || only.contains(&t.name) || t.baseline)
        .collect();
    // The baselines first: every ratio needs them, also in a run cut short.
    targets.sort_by_key(|t| !t.baseline);
    // Targets measured side by side (each against its own emulator): the init ratios stay fair,
    // as each function's runs alternate with its baselines' under the same load.
    let jobs: usize = std::env::var("VIVID_BENCH_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
    eprintln!("lambda-bench: {} targets, {n} invocations each, {init_runs} init runs, {jobs} at a time", targets.len());
    std::fs::create_dir_all(&out_dir)?;
    let mut results = stream::iter(targets.iter())
        .map(|target| {
            let targets = &targets;
            async move {
                let started = Instant::now();
                let result = measure(target, targets, n, init_runs).await.map_err(|e| e.to_string());
                report_progress(target, started.elapsed(), &result);
                result
            }
        })
        .buffer_unordered(jobs);
    let mut all: Vec<Figures> = Vec::new();
    while let Some(result) = results.next().await {
        if let Ok(f) = result {
            all.push(f);
            // The figures so far, after every target: a run cut short still leaves its table.
            std::fs::write(out_dir.join("report.partial.json"), serde_json::to_string_pretty(&all)?)?;
        }
    }
    drop(results);
    let report = table(&all);
    println!("{report}");
    std::fs::write(out_dir.join("report.md"), &report)?;
    std::fs::write(out_dir.join("report.json"), serde_json::to_string_pretty(&all)?)?;
    eprintln!("written: {} and report.json", out_dir.join("report.md").display());
    Ok(())
}
