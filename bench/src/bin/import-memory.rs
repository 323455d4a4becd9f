//! `import-memory`: imports a 200 MB Webex recording (streamed by the Webex stand-in) through the
//! real `webex-import` handler into the emulator's raw bucket, and prints the process's peak
//! resident memory during the import (VmHWM, reset just before it starts).
//!
//! `cargo run --release -p vivid-bench --bin import-memory [size in MiB]`

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use vivid_bench::peak_rss_kib;
use vivid_local::{
    infra::emulator::{Moto, moto_server_path},
    stack::{Stack, StackConfig, find_repo_root},
};
use vivid_tests::query_param;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let root = find_repo_root(&std::env::current_dir()?).ok_or("run inside the repository")?;
    let moto = Moto::start(&moto_server_path(&root)).await?;
    let mut config = StackConfig::new(
        root.join("template.yaml"),
        moto.endpoint.clone(),
        "vivid-import".into(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    );
    config.pipeline = false;
    config.parameters.insert("MaxUploadBytes".into(), (10u64 * 1024 * 1024 * 1024).to_string());
    let stack = Stack::start(config).await?;
    let base = format!("http://{}", stack.addr);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let me: Value = http.get(format!("{base}/_local/token?email=host@example.com")).send().await?.json().await?;
    let token = me["accessToken"].as_str().unwrap_or_default().to_owned();
    let space: Value = http
        .post(format!("{base}/spaces"))
        .bearer_auth(&token)
        .json(&json!({ "name": "Import" }))
        .send()
        .await?
        .json()
        .await?;
    let space = space["spaceId"].as_str().unwrap_or_default().to_owned();
    // Connect Webex through the stand-in.
    let login = http.get(format!("{base}/webex/login")).bearer_auth(&token).send().await?;
    let authorize = login.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let back = http.get(&authorize).send().await?;
    let callback = back.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (code, state) = (query_param(&callback, "code"), query_param(&callback, "state"));
    http.post(format!("{base}/webex/token"))
        .bearer_auth(&token)
        .json(&json!({ "code": code, "state": state }))
        .send()
        .await?;
    let recording = stack.webex.add_synthetic_recording("Big lecture", mib * 1024 * 1024);

    let pid = std::process::id();
    let before = peak_rss_kib(pid).unwrap_or_default();
    // Reset the peak so that it measures the import alone (on top of what the stack holds).
    std::fs::write("/proc/self/clear_refs", "5")?;
    let started = Instant::now();
    let r: Value = http
        .post(format!("{base}/spaces/{space}/videos/webex"))
        .bearer_auth(&token)
        .json(&json!({ "recordingId": recording, "title": "Big" }))
        .send()
        .await?
        .json()
        .await?;
    let id = r["videoId"].as_str().ok_or(format!("import refused: {r}"))?.to_owned();
    let s3 = aws_sdk_s3_client(&stack).await;
    loop {
        if let Ok(head) = s3.head_object().bucket(&stack.buckets.raw).key(format!("raw/{id}")).send().await {
            println!(
                "imported {} MiB in {:.1} s; peak RSS of the whole process during the import: {:.1} MiB (before it: {:.1} MiB)",
                head.content_length.unwrap_or_default() / (1024 * 1024),
                started.elapsed().as_secs_f64(),
                peak_rss_kib(pid).unwrap_or_default() as f64 / 1024.0,
                before as f64 / 1024.0
            );
            break;
        }
        let v: Value = http.get(format!("{base}/videos/{id}")).bearer_auth(&token).send().await?.json().await?;
        if v["status"] == "FAILED" {
            return Err(format!("the import failed: {v}").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(stack);
    moto.stop().await;
    Ok(())
}

async fn aws_sdk_s3_client(stack: &Stack) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&stack.sdk).force_path_style(true).build())
}
