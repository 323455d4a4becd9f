//! The moto server: started from the repository's virtualenv on a free port, the SDK aimed at it.

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("moto_server not found at {0}: run `make venv` (or set VIVID_MOTO_SERVER)")]
    NotInstalled(PathBuf),
    #[error("cannot start moto_server: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("moto_server did not accept connections on {0} within 30 s")]
    NotReady(SocketAddr),
    #[error("moto_server did not say which port it listens on within 30 s")]
    NotAnnounced,
}

/// A running moto server, stopped when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

/// The port of werkzeug's ` * Running on http://127.0.0.1:PORT` line.
fn announced_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("Running on http://")? + "Running on http://".len()..];
    let port = rest.split_once(':')?.1;
    let digits: String = port.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|p| *p != 0)
}

/// How many times the SDK tries a call (its standard retry mode's default): a fault injected
/// on fewer consecutive attempts is absorbed, on this many it surfaces.
pub const SDK_MAX_ATTEMPTS: u32 = 3;

/// SDK configuration for the emulator: fixed region and dummy credentials. Retries are the
/// SDK's standard ones (three attempts, as in Lambda) with a shorter backoff: on loopback a
/// throttled or dropped call is retried in milliseconds rather than seconds.
pub async fn emulator_sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("local", "local", None, None, "vivid-local"))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(SDK_MAX_ATTEMPTS)
                .with_initial_backoff(std::time::Duration::from_millis(10))
                .with_max_backoff(std::time::Duration::from_millis(100)),
        )
        .load()
        .await
}

/// Where `make venv` installs moto, under the repository root; `VIVID_MOTO_SERVER` overrides.
pub fn moto_server_path(repo_root: &Path) -> PathBuf {
    std::env::var_os("VIVID_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root.join(".venv/bin/vivid-moto-server"))
}

impl Moto {
    pub async fn start(moto_server: &Path) -> Result<Self, EmulatorError> {
        if !moto_server.exists() {
            return Err(EmulatorError::NotInstalled(moto_server.to_owned()));
        }
        // Port 0: the server binds a port of its own and says which. Picking a free port first
        // and passing it races with every other process binding one meanwhile (dozens of test
        // stacks start at once): the emulator then fails to bind and the stack talks to a
        // stranger's server.
        let mut child = Command::new(moto_server)
            .args(["-H", "127.0.0.1", "-p", "0"])
            // S3 answers CORS by each bucket's rules alone (the proxy applies them); moto's
            // default adds `Access-Control-Allow-Origin: *` to everything.
            .env("MOTO_DISABLE_GLOBAL_CORS", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stderr = child.stderr.take().ok_or_else(|| std::io::Error::other("no stderr"))?;
        let mut lines = BufReader::new(stderr).lines();
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(port) = announced_port(&line) {
                    return Ok(port);
                }
            }
            Err(std::io::Error::other("moto_server exited before it listened"))
        })
        .await
        .map_err(|_| EmulatorError::NotAnnounced)??;
        // The server logs every request to stderr: keep reading it, or a full pipe stalls it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        wait_for(addr).await?;
        Ok(Self { child, endpoint: format!("http://{addr}") })
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Waits until something accepts TCP connections on `addr`.
pub async fn wait_for(addr: SocketAddr) -> Result<(), EmulatorError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(EmulatorError::NotReady(addr))
}

#[cfg(test)]
mod port_tests {
    use super::announced_port;

    #[test]
    fn the_port_comes_from_werkzeugs_running_on_line() {
        assert_eq!(announced_port(" * Running on http://127.0.0.1:41715"), Some(41715));
        assert_eq!(announced_port(" * Running on http://127.0.0.1:41715\u{1b}[0m"), Some(41715));
        assert_eq!(announced_port("Press CTRL+C to quit"), None);
        assert_eq!(announced_port(" * Running on http://127.0.0.1:0"), None);
    }
}
