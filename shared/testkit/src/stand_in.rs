//! An HTTP/1.1 server on loopback for adapter tests: it answers every request with the reply
//! the test set last, and keeps the request targets it was asked for.

use std::{
    io::{Read, Write},
    net::TcpListener,
    sync::{Arc, Mutex, PoisonError},
};

use serde_json::Value;

/// A status, headers and body.
pub type Reply = (u16, Vec<(String, String)>, Vec<u8>);

/// The server: its base URL (`http://127.0.0.1:{port}`), the reply it gives and the targets
/// (path and query) of the requests it was sent. One thread serves it for the life of the test
/// process, one connection at a time (`connection: close`).
pub struct StandIn {
    pub base: String,
    reply: Arc<Mutex<Reply>>,
    targets: Arc<Mutex<Vec<String>>>,
}

impl StandIn {
    /// A server on a free loopback port, answering 200 with no body until told otherwise.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let reply: Arc<Mutex<Reply>> = Arc::new(Mutex::new((200, vec![], vec![])));
        let targets = Arc::new(Mutex::new(Vec::new()));
        let (shared, seen) = (Arc::clone(&reply), Arc::clone(&targets));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let Some(target) = read_request(&mut conn) else { continue };
                seen.lock().unwrap_or_else(PoisonError::into_inner).push(target);
                let (status, headers, body) = shared.lock().unwrap_or_else(PoisonError::into_inner).clone();
                let mut out = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
                for (name, value) in headers {
                    out.push_str(&format!("{name}: {value}\r\n"));
                }
                out.push_str("\r\n");
                let mut bytes = out.into_bytes();
                bytes.extend_from_slice(&body);
                let _ = conn.write_all(&bytes);
                let _ = conn.flush();
            }
        });
        Self { base, reply, targets }
    }

    /// Answers 200 with `body` as JSON, and `headers` besides its content type.
    pub fn answer(&self, headers: Vec<(String, String)>, body: &Value) {
        let mut headers = headers;
        headers.push(("content-type".into(), "application/json".into()));
        self.answer_with(200, headers, serde_json::to_vec(body).unwrap_or_default());
    }

    /// Answers `status` with `body` as JSON.
    pub fn answer_status(&self, status: u16, body: &Value) {
        self.answer_bytes(status, serde_json::to_vec(body).unwrap_or_default());
    }

    /// Answers `status` with `body` (any bytes) as `application/json`.
    pub fn answer_bytes(&self, status: u16, body: impl Into<Vec<u8>>) {
        self.answer_with(status, vec![("content-type".into(), "application/json".into())], body);
    }

    /// Answers `status` with exactly `headers` and `body`.
    pub fn answer_with(&self, status: u16, headers: Vec<(String, String)>, body: impl Into<Vec<u8>>) {
        *self.reply.lock().unwrap_or_else(PoisonError::into_inner) = (status, headers, body.into());
    }

    /// The targets of the requests since the last call, in order.
    pub fn take_targets(&self) -> Vec<String> {
        std::mem::take(&mut *self.targets.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Reads one request (head, and the body its `content-length` announces); its target.
fn read_request(conn: &mut impl Read) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .to_ascii_lowercase()
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").and_then(|v| v.trim().parse::<usize>().ok()))
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(head.split(' ').nth(1).unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;

    use super::*;

    fn get(base: &str, target: &str) -> String {
        let mut conn = TcpStream::connect(base.trim_start_matches("http://")).expect("connect");
        conn.write_all(format!("GET {target} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes()).expect("write");
        let mut out = String::new();
        conn.read_to_string(&mut out).expect("read");
        out
    }

    #[test]
    fn it_answers_what_it_was_told_and_keeps_the_targets() {
        let server = StandIn::start();
        server.answer(vec![("link".into(), "<x>".into())], &serde_json::json!({ "a": 1 }));
        let got = get(&server.base, "/v1/things?x=1");
        assert!(got.starts_with("HTTP/1.1 200 "), "{got}");
        assert!(got.contains("link: <x>\r\n") && got.contains("content-type: application/json\r\n"));
        assert!(got.ends_with("{\"a\":1}"));
        server.answer_status(404, &serde_json::json!({}));
        assert!(get(&server.base, "/y").starts_with("HTTP/1.1 404 "));
        assert_eq!(server.take_targets(), vec!["/v1/things?x=1".to_owned(), "/y".to_owned()]);
        assert!(server.take_targets().is_empty());
    }
}
