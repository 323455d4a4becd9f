//! Which addresses a third party's URL may lead the tool to: public ones only, outside the local
//! stack. A registered LMS or OpenID provider names hosts the tool then connects to (its key set,
//! token endpoint, NRPS and AGS URLs from a launch); without this it could point the tool at the
//! instance metadata service (169.254.169.254), the VPC (10.x), or a name that resolves to
//! loopback (in Lambda, the runtime API).
//!
//! Two halves, because reqwest resolves only names:
//!
//! - [`public_only`], the client's DNS resolver: a name is connected to only at the public
//!   addresses it resolves to. It runs for every new connection, so a DNS answer that changed
//!   between a check and the call cannot get past it (nor a redirect, for a client that follows
//!   any — ours follow none);
//! - [`public_host`](crate::public_host), checked before a call: an IP address written into the
//!   URL is connected to directly (hyper's connector parses it and never asks the resolver), so it
//!   is refused there when it is not public.
//!
//! Which addresses are public is the domain's rule (`vivid_domain::urls::is_public_ip`, here
//! [`is_public`](crate::is_public)), which an operator's registration is checked by too.

use std::{net::SocketAddr, sync::Arc};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use vivid_domain::urls::is_public_ip;

/// Resolves names to public addresses only (see the module).
#[derive(Debug, Clone, Copy)]
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?
                .filter(|a| is_public_ip(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The DNS resolver of a client that calls third parties' URLs outside the local stack
/// (`reqwest::ClientBuilder::dns_resolver`): names resolve to their public addresses only, and
/// one with none fails the connection with "… resolves to no public address".
pub fn public_only() -> Arc<dyn Resolve> {
    Arc::new(PublicOnly)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-shot HTTP server on 127.0.0.1 answering 200 `ok`.
    async fn serve_ok() -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            if let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
            }
        });
        port
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_not_connected_to() {
        // Whether the server is reached is asked of a listener bound now, so the refusal is the
        // resolver's, not an empty port's.
        let port = serve_ok().await;
        let guarded = reqwest::Client::builder().dns_resolver(public_only()).build().expect("client");
        let err = guarded.get(format!("http://localhost:{port}/")).send().await.expect_err("refused");
        let text = crate::describe(err);
        assert!(text.contains("localhost resolves to no public address"), "{text}");
        assert!(!text.contains(&port.to_string()), "the URL is left out: {text}");

        let open = reqwest::Client::builder().build().expect("client");
        let resp = open.get(format!("http://localhost:{port}/")).send().await.expect("answered");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.text().await.expect("body"), "ok");
    }
}
