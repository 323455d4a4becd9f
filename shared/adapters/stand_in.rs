//! The platform adapters' property tests' stand-in: an HTTP/1.1 server on loopback (included
//! by each `tests/properties.rs` with `#[path]`, so the three share one copy).
#![allow(dead_code)]

use std::{
    io::{Read, Write},
    net::TcpListener,
    sync::{Arc, Mutex},
};

use serde_json::Value;

pub type Reply = (u16, Vec<(String, String)>, Vec<u8>);

/// An HTTP/1.1 server on loopback that answers every request with the reply set last, and
/// keeps the request targets it was asked for.
pub struct StandIn {
    pub base: String,
    reply: Arc<Mutex<Reply>>,
    targets: Arc<Mutex<Vec<String>>>,
}

impl StandIn {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let reply: Arc<Mutex<Reply>> = Arc::new(Mutex::new((200, vec![], vec![])));
        let targets = Arc::new(Mutex::new(Vec::new()));
        let (shared, seen) = (Arc::clone(&reply), Arc::clone(&targets));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break Some(i + 4);
                    }
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => break None,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let Some(head_end) = head_end else { continue };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                if let Some(target) = head.split(' ').nth(1) {
                    seen.lock().expect("targets").push(target.to_owned());
                }
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
                let (status, headers, body) = shared.lock().expect("reply").clone();
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

    pub fn answer(&self, headers: Vec<(String, String)>, body: &Value) {
        let mut headers = headers;
        headers.push(("content-type".into(), "application/json".into()));
        *self.reply.lock().expect("reply") = (200, headers, serde_json::to_vec(body).expect("json"));
    }

    pub fn take_targets(&self) -> Vec<String> {
        std::mem::take(&mut *self.targets.lock().expect("targets"))
    }
}

impl StandIn {
    pub fn answer_status(&self, status: u16, body: &Value) {
        self.answer(vec![], body);
        self.reply.lock().expect("reply").0 = status;
    }
}
