//! The AWS emulator (moto server): DynamoDB, S3, SQS and EventBridge on one loopback port.

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("moto_server not found at {0}: run `make venv` (or set VIVID_MOTO_SERVER)")]
    NotInstalled(PathBuf),
    #[error("cannot start moto_server: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("moto_server did not accept connections on {0} within 30 s")]
    NotReady(SocketAddr),
}

/// A running moto server, stopped when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

/// A free loopback port (bound then released; good enough for a local tool).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// Where `make venv` installs moto, under the repository root; `VIVID_MOTO_SERVER` overrides.
pub fn moto_server_path(repo_root: &Path) -> PathBuf {
    std::env::var_os("VIVID_MOTO_SERVER").map(PathBuf::from).unwrap_or_else(|| repo_root.join(".venv/bin/moto_server"))
}

impl Moto {
    pub async fn start(moto_server: &Path) -> Result<Self, EmulatorError> {
        if !moto_server.exists() {
            return Err(EmulatorError::NotInstalled(moto_server.to_owned()));
        }
        let port = free_port()?;
        let child = Command::new(moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
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
