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
//! - [`public_host`], checked before a call: an IP address written into the URL is connected to
//!   directly (hyper's connector parses it and never asks the resolver), so it is refused here
//!   when it is not public.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is on the public internet: not private (10/8, 172.16/12, 192.168/16), loopback,
/// link-local (169.254/16, the metadata service's), unspecified, broadcast, documentation,
/// shared (CGNAT, 100.64/10) or reserved (240/4); for IPv6 not loopback, unspecified, unique
/// local (fc00::/7), link-local (fe80::/10), nor an IPv4-mapped address that is not public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 100 && (64..128).contains(&b)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| !is_public(IpAddr::V4(v4))))
        }
    }
}

/// Whether `url`'s host may be connected to: any with `allow_private` (the local stack, whose
/// stand-ins listen on 127.0.0.1); else a name (the resolver [`public_only`] checks where it
/// leads when connecting) or a public IP address. An unparsable URL is not.
pub fn public_host(url: &str, allow_private: bool) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else { return false };
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else { return false };
    if allow_private {
        return true;
    }
    // The url crate writes an IPv6 host in brackets and any IPv4 form (`0x7f.1`, `2130706433`)
    // as dotted decimal, as hyper then parses it.
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(ip) => is_public(ip),
        Err(_) => true,
    }
}

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
                .filter(|a| is_public(a.ip()))
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

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            // IPv4: private, loopback, link-local (the metadata service), unspecified, broadcast,
            // shared (CGNAT), reserved, documentation.
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "0.0.0.0",
            "255.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "240.0.0.1",
            "250.1.2.3",
            "192.0.2.7",
            "198.51.100.7",
            "203.0.113.7",
            // IPv6: loopback, unspecified, unique local, link-local, IPv4-mapped non-public.
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "febf::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public(private.parse().expect("ip")), "{private}");
        }
        for public in [
            "52.1.2.3",
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "192.0.3.1",
            "223.255.255.254",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "fec0::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().expect("ip")), "{public}");
        }
    }

    #[test]
    fn an_address_in_the_url_must_be_public_unless_private_ones_are_allowed() {
        for url in [
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.5/jwks",
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
            "https://0x7f.1/jwks",
            "https://2130706433/jwks",
            "https://[::1]/jwks",
            "https://[::ffff:a9fe:a9fe]/jwks",
            "https://[fd00:ec2::254]/jwks",
        ] {
            assert!(!public_host(url, false), "{url}");
            assert!(public_host(url, true), "{url}");
        }
        // Names pass: the resolver decides when connecting.
        for url in
            ["https://lms.example/jwks", "https://localhost/jwks", "https://8.8.8.8/jwks", "https://[2606:4700::1111]/"]
        {
            assert!(public_host(url, false), "{url}");
        }
        for url in ["not a url", "data:text/plain,x", "file:///etc/passwd"] {
            assert!(!public_host(url, true), "{url}");
        }
    }

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
