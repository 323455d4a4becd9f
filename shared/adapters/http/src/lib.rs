//! Calls to URLs a third party names (an LMS platform's configuration, key set and endpoints; an
//! OpenID provider's discovery document; a meeting platform's download links): which may be
//! fetched, at which addresses, and their bodies read with a cap.
//!
//! Only `https://` is fetched in AWS. Plain HTTP to a loopback host is allowed only when the wiring
//! says so (`VIVID_ALLOW_PRIVATE_DOWNLOADS`, which the local stack sets for its stand-ins and no
//! deployment does): inside Lambda, loopback is the runtime API's own address.
//!
//! Without that flag, only public addresses are connected to ([`is_public`]): a client gets the
//! resolver [`public_only`] (a name is connected to at its public addresses only, checked at each
//! connection) and a URL is checked by [`public_host`] before it is called (an IP address written
//! in the URL never reaches a resolver). The clients that use them follow no redirects.

mod resolve;

pub use resolve::public_only;
/// Whether an IP address is on the public internet: the domain's rule, the one an operator's
/// registration is checked by too.
pub use vivid_domain::urls::is_public_ip as is_public;
/// Whether a URL's host may be connected to: a name (the resolver [`public_only`] checks where it
/// leads), or an IP address written in it that [`is_public`] (any with `allow_private`, the local
/// stack). The domain's, as the address rule.
pub use vivid_domain::urls::public_host;

/// Whether `url` may be fetched: `https://` with a host; `http://` on a loopback host only with
/// `loopback_http` (the local stack). The domain's rule (an operator's registration is checked
/// by it before anything is fetched), here for the callers.
pub use vivid_domain::urls::fetchable;

/// What went wrong with a call, without its URL (which may carry a token) but with its causes,
/// which say why: `error sending request: client error (Connect): dns error: error resolving
/// DNS: lms.example resolves to no public address`, not just `error sending request`.
pub fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The body of `resp`, refused once it passes `max` bytes: a declared length over it is refused
/// before any byte is read, and the read stops at the first chunk past it (a third party cannot
/// make the function hold more than `max` plus one chunk). Errors name `what`, never the URL.
pub async fn read_capped(mut resp: reqwest::Response, max: usize, what: &str) -> Result<Vec<u8>, String> {
    let too_large = || format!("{what}: the answer is larger than {max} bytes");
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| format!("{what}: {}", describe(e)))? {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-shot HTTP server answering `body` (with or without a declared length).
    async fn serve(body: Vec<u8>, declare_length: bool) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            if let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let head = if declare_length {
                    format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len())
                } else {
                    "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_owned()
                };
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            }
        });
        format!("http://{addr}/")
    }

    #[tokio::test]
    async fn a_body_is_read_up_to_its_cap_and_refused_past_it() {
        for declare in [true, false] {
            let url = serve(vec![b'x'; 100], declare).await;
            let resp = reqwest::get(&url).await.expect("answered");
            assert_eq!(read_capped(resp, 100, "keys").await.map(|b| b.len()), Ok(100));
            let url = serve(vec![b'x'; 101], declare).await;
            let resp = reqwest::get(&url).await.expect("answered");
            let err = read_capped(resp, 100, "keys").await.expect_err("refused");
            assert!(err.contains("larger than 100 bytes") && !err.contains("127.0.0.1"), "{err}");
        }
    }
}
