//! The process a Lambda function runs as: a clean environment with what Lambda sets for a
//! `provided.al2023` function (region, credentials, runtime API, function metadata, paths),
//! plus the function's own variables as the template declares them.

use std::{path::Path, process::Stdio};

use tokio::process::{Child, Command};

/// Lambda's reserved variables for a function (credentials and region as the execution role's,
/// `HOME` unset as in Lambda). `aws_endpoint` replaces AWS for the SDK (`AWS_ENDPOINT_URL`).
pub fn lambda_env(function: &str, runtime_api: &str, aws_endpoint: &str) -> Vec<(String, String)> {
    [
        ("_HANDLER", "bootstrap"),
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", function),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/27/[$LATEST]bench"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_SESSION_TOKEN", "local"),
        ("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR"),
        ("AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000"),
        ("AWS_ENDPOINT_URL", aws_endpoint),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
        (
            "LD_LIBRARY_PATH",
            "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Starts `binary` with exactly `env` (nothing inherited); its output is discarded unless
/// `VIVID_BENCH_LOG` is set (then its `RUST_LOG` is that value and the output is shown).
pub fn spawn(binary: &Path, env: &[(String, String)]) -> std::io::Result<Child> {
    let log = std::env::var("VIVID_BENCH_LOG").ok();
    let mut cmd = Command::new(binary);
    cmd.env_clear().envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    match &log {
        Some(level) => {
            cmd.env("RUST_LOG", level).stdout(Stdio::inherit()).stderr(Stdio::inherit());
        }
        None => {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
    }
    cmd.stdin(Stdio::null()).kill_on_drop(true).spawn()
}
