//! `vivid-local`: the local stack in one command (`make dev`).
//!
//! Settings from the environment (all optional):
//!
//! | variable | what |
//! |---|---|
//! | `VIVID_HOST`, `VIVID_PORT` | where the gateway binds (`127.0.0.1`, `3000`; port `0` takes a free one) |
//! | `VIVID_AWS_ENDPOINT` | an emulator you already run, instead of starting moto |
//! | `VIVID_FRONTEND_ORIGIN` | the web front end's origin: allowed by CORS (API, upload buckets, CDN), and a sign-in may return to it (`http://localhost:5173`) |
//! | `VIVID_FRONTEND_SERVE` | `off`: leave the front end's port to a dev server of your own; by default the study page (`web/`) is served on that origin when it is this machine's plain HTTP (`infra::frontend`), bound to the origin's loopback address (its IPv4 literal, else `127.0.0.1`; never `VIVID_HOST`; an IPv6 origin is not served) |
//! | `VIVID_LMS_ORIGINS` | the LMSs whose pages may frame where an LTI launch lands (`signed-in.html`, `/lti`), separated by `,`: `https://host[:port]`, or `http://` on this machine (none by default: no site may frame the page; docs/lti.md) |
//! | `VIVID_FRONTEND_API_URL` | the API's base URL the study page's `/config.js` names (`http://{the front end's host}:{VIVID_PORT}`: one site, so the refresh cookie flows) |
//! | `VIVID_ACCESS_TOKEN_TTL_SECS` | the access tokens' lifetime (template parameter `AccessTokenTtlSeconds`) |
//! | `VIVID_MULTIPART_THRESHOLD_BYTES` | from which size uploads are multipart (every function that reads it) |
//! | `VIVID_WEBEX_REDIRECT_URI` | where Webex returns after consent (template parameter `WebexRedirectUri`; a page of the front end) |
//! | `VIVID_WEBEX_RECORDINGS` | video files, separated by `:`, that the Webex stand-in offers as MP4 recordings (topic: the file's name), besides the two it always offers (a generated MP4 lecture and an ARF one) |
//! | `VIVID_ZOOM_REDIRECT_URI` | where Zoom returns after consent (template parameter `ZoomRedirectUri`) |
//! | `VIVID_STOP_ON_STDIN_EOF` | `1`: stop when standard input closes (a test runner that dies cannot leave the stack behind) |
//! | `VIVID_ZOOM_RECORDINGS` | video files, separated by `:`, that the Zoom stand-in offers as cloud recordings of meetings an hour ago, besides its sample lecture |
//! | `VIVID_ZOOM_TRANSCRIPT_AFTER_SECS` | when Zoom "finishes" the sample lecture's transcript and delivers `recording.transcript_completed` to the webhook (default 120) |
//! | `VIVID_SES_SANDBOX` | `off`: the SES account has production access (mail to any address); on by default, as on a new account: mail only to verified identities |
//! | `VIVID_SES_VERIFIED_IDENTITIES` | addresses or domains, separated by `,`, verified in SES at start (the sandbox's recipients; the template's `MailIdentity` always is) |
//! | `VIVID_GRANTS_AUDIT` | a file: calls the template's grants do not allow are listed there (`function action resource`) and let through, instead of refused |
//! | `VIVID_TEMPLATE_PARAMETERS` | any template parameters, `Name=value` separated by `,` (e.g. `MaxHostedSpaces=1000,DailyTranscodeBytes=1099511627776`) |

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::Path,
};

use vivid_local::{
    infra::{
        emulator::{Moto, moto_server_path},
        frontend::{self, FrontEnd, LmsOrigins},
    },
    stack::{LOCAL_FRONTEND_ORIGIN, Stack, StackConfig, find_repo_root},
    standins::zoom::NewFile,
};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Names to values (template parameters, environment overrides).
type Values = HashMap<String, String>;

/// Template parameters and environment overrides the variables above ask for.
fn settings() -> Result<(Values, Values), Box<dyn std::error::Error>> {
    let mut parameters = HashMap::new();
    let mut overrides = HashMap::new();
    if let Some(ttl) = env("VIVID_ACCESS_TOKEN_TTL_SECS") {
        let secs: u64 = ttl.parse().map_err(|_| "VIVID_ACCESS_TOKEN_TTL_SECS must be a number of seconds")?;
        parameters.insert("AccessTokenTtlSeconds".to_owned(), secs.to_string());
    }
    if let Some(threshold) = env("VIVID_MULTIPART_THRESHOLD_BYTES") {
        let bytes: u64 = threshold.parse().map_err(|_| "VIVID_MULTIPART_THRESHOLD_BYTES must be a number of bytes")?;
        overrides.insert("VIVID_MULTIPART_THRESHOLD_BYTES".to_owned(), bytes.to_string());
    }
    if let Some(uri) = env("VIVID_WEBEX_REDIRECT_URI") {
        parameters.insert("WebexRedirectUri".to_owned(), uri);
    }
    if let Some(uri) = env("VIVID_ZOOM_REDIRECT_URI") {
        parameters.insert("ZoomRedirectUri".to_owned(), uri);
    }
    if let Some(list) = env("VIVID_TEMPLATE_PARAMETERS") {
        for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').ok_or("VIVID_TEMPLATE_PARAMETERS takes Name=value pairs")?;
            parameters.insert(name.trim().to_owned(), value.trim().to_owned());
        }
    }
    Ok((parameters, overrides))
}

/// The recordings to seed the stand-ins with: (variable, file, topic, bytes).
type Seed = (&'static str, std::path::PathBuf, String, Vec<u8>);

fn seed_files() -> Result<Vec<Seed>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for variable in ["VIVID_WEBEX_RECORDINGS", "VIVID_ZOOM_RECORDINGS"] {
        for file in env(variable).iter().flat_map(std::env::split_paths) {
            let bytes = std::fs::read(&file).map_err(|e| format!("{variable}: {}: {e}", file.display()))?;
            let topic = Path::new(&file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            out.push((variable, file, topic, bytes));
        }
    }
    Ok(out)
}

/// Resolves when standard input closes, with `VIVID_STOP_ON_STDIN_EOF=1`; never otherwise.
async fn stdin_closed() {
    if env("VIVID_STOP_ON_STDIN_EOF").as_deref() != Some("1") {
        return std::future::pending().await;
    }
    let _ = tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())).await;
}

/// Resolves on Ctrl-C, SIGTERM (a runner stopping the stack) or a closed standard input (when
/// asked), so that moto and the stand-ins stop with it.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
                _ = stdin_closed() => {}
            }
            return;
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = stdin_closed() => {}
    }
}

/// The study page (`web/`) on the front end's origin when that origin is this machine's plain
/// HTTP, unless `VIVID_FRONTEND_SERVE=off`; and what the banner says of it.
async fn study_page(root: &Path, origin: &str, api_port: u16, lms: &LmsOrigins) -> (Option<FrontEnd>, String) {
    if matches!(env("VIVID_FRONTEND_SERVE").as_deref(), Some("off" | "0" | "false")) {
        return (None, "not served (VIVID_FRONTEND_SERVE=off)".to_owned());
    }
    let Some(port) = frontend::local_port(origin) else {
        return (None, format!("not served ({origin} is not this machine's plain HTTP)"));
    };
    // The origin's loopback address, whatever VIVID_HOST says (the page is not on every interface).
    let ip = match frontend::bind_ip(origin) {
        Ok(ip) => ip,
        Err(e) => return (None, format!("not served: {e}")),
    };
    let host = frontend::origin_host(origin).unwrap_or("localhost");
    let api = env("VIVID_FRONTEND_API_URL").unwrap_or_else(|| format!("http://{host}:{api_port}"));
    match frontend::serve(&root.join("web"), SocketAddr::from((ip, port)), host, &api, lms).await {
        Ok(page) => (Some(page), format!("{origin}/  (the API as {api})")),
        Err(e) => (None, format!("not served: port {port}: {e}")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    vivid_config::telemetry::init();
    let cwd = std::env::current_dir()?;
    let root = find_repo_root(&cwd).ok_or("run vivid-local inside the repository (no template.yaml found)")?;
    let port: u16 = env("VIVID_PORT").map(|p| p.parse()).transpose()?.unwrap_or(3000);
    let host: IpAddr = env("VIVID_HOST").map(|h| h.parse()).transpose()?.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let frontend_origin = env("VIVID_FRONTEND_ORIGIN")
        .map(|o| o.trim_end_matches('/').to_owned())
        .unwrap_or(LOCAL_FRONTEND_ORIGIN.into());
    let (parameters, overrides) = settings()?;
    let lms_origins = LmsOrigins::parse(&env("VIVID_LMS_ORIGINS").unwrap_or_default())
        .map_err(|e| format!("VIVID_LMS_ORIGINS: {e}"))?;

    let (moto, endpoint) = match env("VIVID_AWS_ENDPOINT") {
        Some(endpoint) => (None, endpoint),
        None => {
            let moto = Moto::start(&moto_server_path(&root)).await?;
            let endpoint = moto.endpoint.clone();
            (Some(moto), endpoint)
        }
    };
    let template_path = root.join("template.yaml");
    let mut cfg =
        StackConfig::new(template_path, endpoint.clone(), "vivid-local".to_owned(), SocketAddr::from((host, port)));
    cfg.frontend_origin = frontend_origin.clone();
    cfg.parameters = parameters;
    cfg.overrides = overrides;
    cfg.ses_sandbox = !matches!(env("VIVID_SES_SANDBOX").as_deref(), Some("off" | "0" | "false"));
    cfg.ses_verified_identities = env("VIVID_SES_VERIFIED_IDENTITIES")
        .iter()
        .flat_map(|l| l.split(','))
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty())
        .collect();
    let stack = Stack::start(cfg).await?;

    let seed = seed_files()?;
    // Something to import out of the box: a generated MP4 lecture, and an ARF one the import refuses.
    let mut seeded = stack.webex.seed_samples().await;
    // And a Zoom lecture whose transcript Zoom finishes a little later, announced to the webhook.
    let after = env("VIVID_ZOOM_TRANSCRIPT_AFTER_SECS").map(|s| s.parse()).transpose()?.unwrap_or(120);
    let webhook = format!("http://{}/zoom/webhook", stack.addr);
    seeded.push(stack.zoom.seed_sample(webhook, std::time::Duration::from_secs(after)).await);
    for (variable, file, topic, bytes) in seed {
        seeded.push(format!("{topic} ({} bytes, {})", bytes.len(), file.display()));
        if variable == "VIVID_WEBEX_RECORDINGS" {
            stack.webex.add_recording(&topic, bytes);
        } else {
            let start = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
            stack.zoom.add_meeting(&topic, start, vec![NewFile::mp4(bytes)]);
        }
    }

    let (page, page_line) = study_page(&root, &frontend_origin, stack.addr.port(), &lms_origins).await;

    let base = format!("http://{}", stack.addr);
    println!("VIVID local stack");
    println!("  API (every route of template.yaml)  {base}");
    println!("  AWS emulator (DynamoDB, S3, SQS)    {endpoint}  table vivid-local");
    println!("  front end origin (CORS, sign-in)    {frontend_origin}");
    println!("  study page (web/)                   {page_line}");
    println!("  dev access token                    curl '{base}/_local/token?email=ana@example.com'");
    println!(
        "  token issuer / audience             {} / {}",
        vivid_local::stack::LOCAL_ISSUER,
        vivid_local::stack::LOCAL_AUDIENCE
    );
    for line in &seeded {
        println!("  stand-in recording                  {line}");
    }
    println!("Ctrl-C stops everything; data lives in memory and is replaced on the next start.");

    stopped().await;
    drop(page);
    drop(stack);
    if let Some(moto) = moto {
        moto.stop().await;
    }
    Ok(())
}
