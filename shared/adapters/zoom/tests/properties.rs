//! Properties of what the Zoom adapter reads from Zoom: the connected user, recording listings,
//! one meeting's recording files, and the request paths and queries made of what a client
//! gives. A stand-in server on loopback answers with whatever each case makes up (the adapter's
//! parsers are only reachable through HTTP).

use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};
use vivid_domain::{
    connectors::ConnectorError,
    zoom::{ZoomApi, ZoomFile, ZoomMeeting},
};
use vivid_oauth::{DownloadRules, Hosts, PlatformHttp};
use vivid_testkit::{AnyJson, StandIn, percent_decode};
use vivid_zoom::{ZoomHttp, ZoomSettings};

/// One runtime, adapter and stand-in per test thread.
struct Fixture {
    rt: tokio::runtime::Runtime,
    zoom: ZoomHttp,
    server: StandIn,
}

thread_local! {
    static FIXTURE: &'static Fixture = {
        let server = StandIn::start();
        let settings = ZoomSettings {
            client_id: "client".into(),
            client_secret: Some(vivid_zoom::client_secret("secret")),
            oauth_base: server.base.clone(),
            api_base: format!("{}/v2", server.base),
            redirect_uri: "https://app.example.com/zoom".into(),
        };
        let rules = DownloadRules { hosts: Hosts::new(["zoom.us".to_owned()]), max_bytes: 1 << 20, deadline: Duration::from_secs(5) };
        Box::leak(Box::new(Fixture {
            rt: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"),
            zoom: ZoomHttp::new(PlatformHttp::new(true).expect("client"), settings, rules),
            server,
        }))
    };
}

fn fixture() -> &'static Fixture {
    FIXTURE.with(|f| *f)
}

// ------------------------------------------------------------------------------- strategies

/// A JSON value of any shape, with Zoom's field names often enough to matter.
fn any_json() -> impl Strategy<Value = Value> {
    AnyJson::named(&[
        "id",
        "meetings",
        "next_page_token",
        "uuid",
        "topic",
        "start_time",
        "duration",
        "total_size",
        "recording_files",
        "file_type",
        "recording_type",
        "file_size",
        "download_url",
        "status",
    ])
    .words(&["MP4", "TRANSCRIPT", "CC", "completed", "processing"])
    .strategy()
}

/// One recording file as Zoom documents it (optional fields left out).
#[derive(Debug, Clone)]
struct File {
    id: Option<String>,
    file_type: Option<String>,
    recording_type: Option<String>,
    file_size: Option<u64>,
    status: Option<String>,
}

fn file() -> impl Strategy<Value = File> {
    (
        prop::option::weighted(0.9, prop_oneof!["[a-f0-9-]{8,36}", Just(String::new())]),
        prop::option::weighted(
            0.95,
            prop_oneof![
                prop::sample::select(vec![
                    "MP4",
                    "mp4",
                    "M4A",
                    "CHAT",
                    "TRANSCRIPT",
                    "transcript",
                    "CC",
                    "TIMELINE",
                    "SUMMARY"
                ])
                .prop_map(str::to_owned),
                "[A-Za-z0-9]{0,6}",
            ],
        ),
        prop::option::of(
            prop::sample::select(vec!["shared_screen_with_speaker_view", "active_speaker", "audio_only"])
                .prop_map(str::to_owned),
        ),
        prop::option::of(any::<u64>()),
        prop::option::of(prop::sample::select(vec!["completed", "processing", "Processing"]).prop_map(str::to_owned)),
    )
        .prop_map(|(id, file_type, recording_type, file_size, status)| File {
            id,
            file_type,
            recording_type,
            file_size,
            status,
        })
}

impl File {
    fn json(&self) -> Value {
        let mut v = json!({
            "meeting_id": "m",
            "recording_start": "2026-11-01T09:00:00Z",
            "download_url": "https://zoom.us/rec/download/x"
        });
        let fields = [
            ("id", self.id.clone().map(Value::from)),
            ("file_type", self.file_type.clone().map(Value::from)),
            ("recording_type", self.recording_type.clone().map(Value::from)),
            ("file_size", self.file_size.map(Value::from)),
            ("status", self.status.clone().map(Value::from)),
        ];
        for (k, x) in fields {
            if let Some(x) = x {
                v[k] = x;
            }
        }
        v
    }

    /// Zoom documents MP4 (any case) as the video files; one still processing is not one yet.
    fn is_video(&self) -> bool {
        let id = self.id.as_deref().unwrap_or_default();
        self.file_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("mp4"))
            && !id.is_empty()
            && self.status.as_deref() != Some("processing")
    }

    fn is_transcript(&self) -> bool {
        self.file_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("transcript") || t.eq_ignore_ascii_case("cc"))
            && self.id.as_deref().is_some_and(|i| !i.is_empty())
    }
}

/// A meeting's recording as Zoom documents it, and what it must read as.
fn meeting() -> impl Strategy<Value = (Value, ZoomMeeting)> {
    (
        prop_oneof!["[A-Za-z0-9+/]{22}==", "\\PC{1,30}"],
        prop::option::of("\\PC{0,40}"),
        prop::option::of("2026-[01][0-9]-[0-3][0-9]T[0-2][0-9]:00:00Z"),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        prop::collection::vec(file(), 0..6),
    )
        .prop_map(|(uuid, topic, start, duration, total, files)| {
            let mut v = json!({ "uuid": uuid, "id": 123456789, "host_id": "h", "recording_count": files.len() });
            if let Some(t) = &topic {
                v["topic"] = json!(t);
            }
            if let Some(s) = &start {
                v["start_time"] = json!(s);
            }
            if let Some(d) = duration {
                v["duration"] = json!(d);
            }
            if let Some(t) = total {
                v["total_size"] = json!(t);
            }
            v["recording_files"] = Value::Array(files.iter().map(File::json).collect());
            let expected = ZoomMeeting {
                meeting_id: uuid,
                topic: topic.unwrap_or_default(),
                start_time: start.unwrap_or_default(),
                duration_minutes: duration.unwrap_or_default(),
                total_size_bytes: total.unwrap_or_default(),
                files: files
                    .iter()
                    .filter(|f| f.is_video())
                    .map(|f| ZoomFile {
                        recording_file_id: f.id.clone().unwrap_or_default(),
                        recording_type: f.recording_type.clone().unwrap_or_default(),
                        size_bytes: f.file_size.unwrap_or_default(),
                        recording_start: "2026-11-01T09:00:00Z".into(),
                    })
                    .collect(),
                transcript_file_id: files.iter().find(|f| f.is_transcript()).and_then(|f| f.id.clone()),
            };
            (v, expected)
        })
}

/// Form-encoding of a query value, as the adapter sends it.
fn form(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

// ------------------------------------------------------------------------------- properties

proptest! {
    /// The connected user is the answer's `id` when it is a string; any other answer is
    /// `Unavailable`.
    #[test]
    fn the_user_id_is_the_answers_id(
        body in prop_oneof![any_json(), "\\PC{0,30}".prop_map(|id| json!({ "id": id, "type": 1 }))]
    ) {
        let Fixture { rt, zoom, server } = fixture();
        server.answer(vec![], &body);
        let got = rt.block_on(zoom.user_id("token"));
        // serde also reads a struct from an array of its fields in order: `["id"]`.
        let id = match &body {
            Value::Object(o) => o.get("id").and_then(Value::as_str),
            Value::Array(a) if a.len() == 1 => a[0].as_str(),
            _ => None,
        };
        match id {
            Some(id) => prop_assert_eq!(got.ok(), Some(id.to_owned())),
            None => prop_assert!(matches!(got, Err(ConnectorError::Unavailable(_))), "{} -> {:?}", body, got),
        }
        prop_assert_eq!(server.take_targets(), vec!["/v2/users/me".to_owned()]);
    }

    /// A listing reads as its meetings, each with its importable (MP4) files and transcript, and
    /// its next-page token (none when empty or absent). The request carries the window, the page
    /// size brought into 1..=300 and the token, form-encoded.
    #[test]
    fn a_listing_reads_as_its_meetings(
        meetings in prop::collection::vec(meeting(), 0..4),
        token in prop::option::of(prop_oneof![Just(String::new()), "[A-Za-z0-9]{1,32}"]),
        asked_token in prop::option::of("\\PC{1,20}"),
        size in any::<u16>(),
    ) {
        let Fixture { rt, zoom, server } = fixture();
        let mut body = json!({ "from": "2026-11-01", "to": "2026-11-30", "page_size": 30, "total_records": meetings.len() });
        body["meetings"] = Value::Array(meetings.iter().map(|m| m.0.clone()).collect());
        if let Some(t) = &token {
            body["next_page_token"] = json!(t);
        }
        server.answer(vec![], &body);
        let page = rt.block_on(zoom.recordings("token", "2026-11-01", "2026-11-30", size, asked_token.as_deref()));
        let page = page.map_err(|e| TestCaseError::fail(format!("{body} -> {e:?}")))?;
        prop_assert_eq!(page.meetings, meetings.into_iter().map(|m| m.1).collect::<Vec<_>>());
        prop_assert_eq!(page.next_page_token, token.filter(|t| !t.is_empty()));
        let mut query = format!("/v2/users/me/recordings?from=2026-11-01&to=2026-11-30&page_size={}", size.clamp(1, 300));
        if let Some(t) = &asked_token {
            query.push_str(&format!("&next_page_token={}", form(t)));
        }
        prop_assert_eq!(server.take_targets(), vec![query]);
    }

    /// Any JSON answer to a listing is `Ok` or `Unavailable`, never a panic.
    #[test]
    fn any_listing_answer_gives_ok_or_unavailable(body in any_json()) {
        let Fixture { rt, zoom, server } = fixture();
        server.answer(vec![], &body);
        let got = rt.block_on(zoom.recordings("token", "2026-11-01", "2026-11-30", 30, None));
        prop_assert!(matches!(got, Ok(_) | Err(ConnectorError::Unavailable(_))), "{} -> {:?}", body, got);
        server.take_targets();
    }

    /// One meeting's recording reads as the meeting with its importable files; the request names
    /// the meeting UUID as one path segment (double-encoded when it starts with `/` or holds
    /// `//`, as Zoom asks).
    #[test]
    fn a_meeting_reads_as_its_files(
        (value, expected) in meeting(),
        uuid in prop_oneof!["[A-Za-z0-9+/=]{1,24}", "/[A-Za-z0-9+/=]{1,22}", "\\PC{1,30}"],
    ) {
        prop_assume!(uuid != "." && uuid != "..");
        let Fixture { rt, zoom, server } = fixture();
        server.answer(vec![], &value);
        let got = rt.block_on(zoom.meeting("token", &uuid));
        prop_assert_eq!(got.map_err(|e| e.to_string()), Ok(expected));
        let targets = server.take_targets();
        prop_assert_eq!(targets.len(), 1);
        let segment = targets[0]
            .strip_prefix("/v2/meetings/")
            .and_then(|s| s.strip_suffix("/recordings"))
            .ok_or_else(|| TestCaseError::fail(format!("unexpected path {}", targets[0])))?;
        prop_assert!(!segment.contains('/') && !segment.contains('?'), "{}", segment);
        let once = percent_decode(segment);
        let decoded = if uuid.starts_with('/') || uuid.contains("//") {
            percent_decode(&String::from_utf8(once).expect("ASCII after one decoding"))
        } else {
            once
        };
        prop_assert_eq!(decoded, uuid.as_bytes().to_vec());
    }

    /// A meeting with one field replaced by any JSON value, or removed, in the meeting or one of
    /// its files: `Ok` or `Unavailable`, and an `Ok` never lists a file that is not an MP4.
    #[test]
    fn a_mutated_meeting_gives_ok_or_unavailable(
        (value, _) in meeting(),
        at in any::<prop::sample::Index>(),
        field in prop::sample::select(vec!["uuid", "topic", "duration", "recording_files", "id", "file_type", "status", "file_size"]),
        new in prop::option::of(any_json()),
    ) {
        let Fixture { rt, zoom, server } = fixture();
        let mut body = value;
        let in_file = ["id", "file_type", "status", "file_size"].contains(&field);
        let target = match body["recording_files"].as_array_mut() {
            Some(files) if !files.is_empty() && in_file => {
                let i = at.index(files.len());
                &mut files[i]
            }
            _ => &mut body,
        };
        let map = target.as_object_mut().expect("object");
        match new {
            Some(v) => {
                map.insert(field.to_owned(), v);
            }
            None => {
                map.remove(field);
            }
        }
        server.answer(vec![], &body);
        let got = rt.block_on(zoom.meeting("token", "abc=="));
        match &got {
            Ok(m) => {
                let files = body["recording_files"].as_array().cloned().unwrap_or_default();
                for f in &m.files {
                    let source = files.iter().find(|x| x["id"].as_str() == Some(f.recording_file_id.as_str()));
                    let kind = source.and_then(|x| x["file_type"].as_str()).unwrap_or_default();
                    prop_assert!(kind.eq_ignore_ascii_case("mp4"), "{:?} listed from {}", f, body);
                }
            }
            Err(ConnectorError::Unavailable(_)) => {}
            Err(e) => prop_assert!(false, "{} -> {:?}", body, e),
        }
        server.take_targets();
    }
}

/// A meeting id of `.` or `..` (a client may send one) must not name another resource: URL path
/// building drops such segments, so the request becomes `GET /v2/meetings//recordings`.
#[test]
fn dot_segments_are_not_dropped_from_meeting_paths() {
    let Fixture { rt, zoom, server } = fixture();
    for id in [".", ".."] {
        server.answer(vec![], &json!({ "uuid": "u", "recording_files": [] }));
        let got = rt.block_on(zoom.meeting("token", id));
        let targets = server.take_targets();
        assert!(got.is_err() || targets.iter().all(|t| !t.contains("//")), "{id:?} -> {targets:?}");
    }
}
