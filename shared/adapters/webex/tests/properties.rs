//! Properties of what the Webex adapter reads from Webex: recording lists (with their `Link`
//! header; MP4 recordings only), recording details (with the temporary download link and the
//! format), and the request paths made of ids a client gives. A stand-in server on loopback answers with whatever each case makes up
//! (the adapter's parsers are only reachable through HTTP).

use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};
use vivid_domain::{
    connectors::ConnectorError,
    webex::{Recording, WebexApi},
};
use vivid_oauth::{DownloadRules, Hosts, PlatformHttp};
use vivid_testkit::{AnyJson, StandIn, percent_decode};
use vivid_webex::{WebexHttp, WebexSettings};

/// One runtime, adapter and stand-in per test thread.
struct Fixture {
    rt: tokio::runtime::Runtime,
    webex: WebexHttp,
    server: StandIn,
}

thread_local! {
    static FIXTURE: &'static Fixture = {
        let server = StandIn::start();
        let settings = WebexSettings {
            client_id: "client".into(),
            client_secret: Some(vivid_webex::client_secret("secret")),
            authorize_url: format!("{}/v1/authorize", server.base),
            api_base: format!("{}/v1", server.base),
            redirect_uri: "https://app.example.com/webex".into(),
        };
        let rules = DownloadRules { hosts: Hosts::new(["*.webex.com".to_owned()]), max_bytes: 1 << 20, deadline: Duration::from_secs(5) };
        Box::leak(Box::new(Fixture {
            rt: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"),
            webex: WebexHttp::new(PlatformHttp::new(true).expect("client"), settings, rules),
            server,
        }))
    };
}

fn fixture() -> &'static Fixture {
    FIXTURE.with(|f| *f)
}

// ------------------------------------------------------------------------------- strategies

/// A JSON value of any shape, with Webex's field names often enough to matter.
fn any_json() -> impl Strategy<Value = Value> {
    AnyJson::named(&[
        "items",
        "id",
        "topic",
        "hostEmail",
        "timeRecorded",
        "durationSeconds",
        "sizeBytes",
        "format",
        "temporaryDirectDownloadLinks",
        "recordingDownloadLink",
    ])
    .strategy()
}

/// A recording as Webex documents it, some optional fields left out, and what it must read as.
fn recording() -> impl Strategy<Value = (Value, Recording, Option<String>)> {
    (
        (
            prop_oneof!["[A-Za-z0-9]{32}", "\\PC{1,40}"],
            prop::option::weighted(0.95, prop::sample::select(vec!["MP4", "MP4", "MP4", "ARF", "UPLOADED"])),
        ),
        prop::option::of("\\PC{0,60}"),
        prop::option::of("[a-z.]{1,10}@example\\.com"),
        prop::option::of("20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z"),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        prop::option::of(prop::option::of("https://[a-z]{1,8}\\.webex\\.com/[A-Za-z0-9/?=&]{0,40}")),
    )
        .prop_map(|((id, format), topic, host, time, duration, size, links)| {
            let mut v = json!({ "id": id, "status": "available" });
            if let Some(f) = format {
                v["format"] = json!(f);
            }
            if let Some(t) = &topic {
                v["topic"] = json!(t);
            }
            if let Some(h) = &host {
                v["hostEmail"] = json!(h);
            }
            if let Some(t) = &time {
                v["timeRecorded"] = json!(t);
            }
            if let Some(d) = duration {
                v["durationSeconds"] = json!(d);
            }
            if let Some(s) = size {
                v["sizeBytes"] = json!(s);
            }
            let link = links.clone().flatten();
            if let Some(l) = &links {
                let mut links =
                    json!({ "audioDownloadLink": "https://x.webex.com/audio", "expiration": "2026-11-25T13:34:22Z" });
                if let Some(l) = l {
                    links["recordingDownloadLink"] = json!(l);
                }
                v["temporaryDirectDownloadLinks"] = links;
            }
            let expected = Recording {
                recording_id: id,
                topic: topic.unwrap_or_default(),
                host_email: host.unwrap_or_default(),
                time_recorded: time.unwrap_or_default(),
                duration_seconds: duration.unwrap_or_default(),
                size_bytes: size.unwrap_or_default(),
                format: format.unwrap_or_default().to_owned(),
            };
            (v, expected, link)
        })
}

/// A `Link` header with the other relations Webex sends, and the next link it holds (if any).
fn link_header(base: &'static str) -> impl Strategy<Value = (Option<String>, Option<String>)> {
    (
        prop::option::of("[A-Za-z0-9_-]{1,40}"),
        prop::collection::vec((prop::sample::select(vec!["prev", "first", "last"]), "[A-Za-z0-9_-]{1,20}"), 0..3),
        any::<prop::sample::Index>(),
        "[ ]{0,2}",
    )
        .prop_map(move |(next, others, at, space)| {
            let mut parts: Vec<String> = others
                .iter()
                .map(|(rel, c)| format!("<{base}/v1/recordings?cursor={c}>;{space}rel=\"{rel}\""))
                .collect();
            let next_url = next.map(|c| format!("{base}/v1/recordings?max=10&cursor={c}"));
            if let Some(u) = &next_url {
                let i = at.index(parts.len() + 1);
                parts.insert(i, format!("<{u}>;{space}rel=\"next\""));
            }
            let header = (!parts.is_empty()).then(|| parts.join(&format!(",{space}")));
            (header, next_url)
        })
}

// ------------------------------------------------------------------------------- properties

proptest! {
    /// Any JSON answer to a recordings listing is read (`Ok`) or `Unavailable`, never a panic;
    /// the request asked for the page size given, and for MP4 recordings only.
    #[test]
    fn any_listing_answer_gives_ok_or_unavailable(body in any_json(), max in 1u16..=100) {
        let Fixture { rt, webex, server } = fixture();
        server.answer(vec![], &body);
        let got = rt.block_on(webex.recordings("token", None, None, max, None));
        prop_assert!(matches!(got, Ok(_) | Err(ConnectorError::Unavailable(_))), "{} -> {:?}", body, got);
        let targets = server.take_targets();
        prop_assert_eq!(targets.len(), 1);
        prop_assert_eq!(&targets[0], &format!("/v1/recordings?max={max}&format=MP4"));
        if let Ok(page) = got {
            prop_assert!(page.items.iter().all(|r| r.format == "MP4"), "{:?}", page.items);
        }
    }

    /// A listing as Webex sends it reads as its MP4 recordings, in order (any other format that
    /// comes back despite the filter is left out), with the next page's link taken from the
    /// `Link` header (`None` on the last page).
    #[test]
    fn a_listing_reads_as_its_recordings_and_next_link(
        items in prop::collection::vec(recording(), 0..5),
        (link, next) in link_header("https://webexapis.com"),
        from in prop::option::of("2026-0[1-9]-[0-2][0-9]T00:00:00Z"),
    ) {
        let Fixture { rt, webex, server } = fixture();
        let body = json!({ "items": items.iter().map(|i| i.0.clone()).collect::<Vec<_>>() });
        server.answer(link.iter().map(|l| ("link".to_owned(), l.clone())).collect(), &body);
        let page = rt.block_on(webex.recordings("token", from.as_deref(), None, 10, None));
        let page = page.map_err(|e| TestCaseError::fail(format!("{body} -> {e:?}")))?;
        prop_assert_eq!(page.items, items.into_iter().map(|i| i.1).filter(|r| r.format == "MP4").collect::<Vec<_>>());
        prop_assert_eq!(page.next, next);
        let targets = server.take_targets();
        let expected_query = match &from {
            Some(f) => format!("/v1/recordings?max=10&format=MP4&from={}", f.replace(':', "%3A")),
            None => "/v1/recordings?max=10&format=MP4".to_owned(),
        };
        prop_assert_eq!(targets, vec![expected_query]);
    }

    /// A listing with one field of one recording replaced by any JSON value, or removed: `Ok`
    /// or `Unavailable`; a recording without its id is never read as one, one that is not an MP4
    /// is left out.
    #[test]
    fn a_mutated_listing_gives_ok_or_unavailable(
        items in prop::collection::vec(recording(), 1..4),
        at in any::<prop::sample::Index>(),
        field in prop::sample::select(vec!["id", "topic", "hostEmail", "timeRecorded", "durationSeconds", "sizeBytes", "format", "temporaryDirectDownloadLinks"]),
        new in prop::option::of(any_json()),
    ) {
        let Fixture { rt, webex, server } = fixture();
        let mut values: Vec<Value> = items.iter().map(|i| i.0.clone()).collect();
        let i = at.index(values.len());
        let map = values[i].as_object_mut().expect("object");
        match &new {
            Some(v) => { map.insert(field.to_owned(), v.clone()); }
            None => { map.remove(field); }
        }
        let importable: Vec<bool> =
            values.iter().map(|v| v.get("format").and_then(Value::as_str).is_some_and(|f| f.eq_ignore_ascii_case("MP4"))).collect();
        let body = json!({ "items": values });
        server.answer(vec![], &body);
        let got = rt.block_on(webex.recordings("token", None, None, 10, None));
        match &got {
            Ok(page) => {
                prop_assert_eq!(page.items.len(), importable.iter().filter(|m| **m).count());
                if field == "id" && importable[i] {
                    let at = importable[..i].iter().filter(|m| **m).count();
                    prop_assert_eq!(new.as_ref().and_then(Value::as_str), Some(page.items[at].recording_id.as_str()));
                }
            }
            Err(ConnectorError::Unavailable(_)) => {}
            Err(e) => prop_assert!(false, "{} -> {:?}", body, e),
        }
        server.take_targets();
    }

    /// A recording's details read as the recording (whatever its format) when they carry its
    /// download link, and are `Unavailable` without one; the request names the recording as one
    /// path segment.
    #[test]
    fn recording_details_read_as_the_recording_with_its_link(
        (value, expected, link) in recording(),
        id in prop_oneof!["[A-Za-z0-9]{32}", "\\PC{1,40}"],
    ) {
        prop_assume!(id != "." && id != "..");
        let Fixture { rt, webex, server } = fixture();
        server.answer(vec![], &value);
        let got = rt.block_on(webex.recording("token", &id));
        match (link, got) {
            (Some(_), Ok(r)) => prop_assert_eq!(r, expected),
            (None, Err(ConnectorError::Unavailable(_))) => {}
            (link, got) => prop_assert!(false, "{} (link {:?}) -> {:?}", value, link, got),
        }
        let targets = server.take_targets();
        prop_assert_eq!(targets.len(), 1);
        let segment = targets[0].strip_prefix("/v1/recordings/").expect("below /v1/recordings/");
        prop_assert!(!segment.contains('/') && !segment.contains('?'), "{}", targets[0]);
        prop_assert_eq!(percent_decode(segment), id.as_bytes().to_vec());
    }

    /// Any JSON answer to a recording's details is `Ok` or `Unavailable`.
    #[test]
    fn any_details_answer_gives_ok_or_unavailable(body in any_json()) {
        let Fixture { rt, webex, server } = fixture();
        server.answer(vec![], &body);
        let got = rt.block_on(webex.recording("token", "r1"));
        prop_assert!(matches!(got, Ok(_) | Err(ConnectorError::Unavailable(_))), "{} -> {:?}", body, got);
        server.take_targets();
    }

    /// A next-page link is followed only on Webex's own API base; any other is refused before a
    /// request leaves (the access token goes nowhere else).
    #[test]
    fn only_next_links_on_the_api_base_are_followed(link in prop_oneof!["\\PC{0,40}", "https?://[a-z.]{1,20}(:[0-9]{1,5})?/v1/recordings\\?cursor=[a-z]{1,5}"]) {
        let Fixture { rt, webex, server } = fixture();
        server.answer(vec![], &json!({ "items": [] }));
        let on_base = link.starts_with(&format!("{}/v1", server.base));
        let got = rt.block_on(webex.recordings("token", None, None, 10, Some(&link)));
        if !on_base {
            prop_assert!(matches!(got, Err(ConnectorError::Unavailable(_))), "{} -> {:?}", link, got);
            prop_assert!(server.take_targets().is_empty(), "a request left for {}", link);
        }
        server.take_targets();
        let own = format!("{}/v1/recordings?cursor={}", server.base, link.len());
        let got = rt.block_on(webex.recordings("token", None, None, 10, Some(&own)));
        prop_assert!(got.is_ok(), "{:?}", got);
        prop_assert_eq!(server.take_targets(), vec![format!("/v1/recordings?cursor={}", link.len())]);
    }
}

/// A recording id of `.` or `..` (which a client may send) must not name another resource: URL
/// path building drops such segments, so `..` would ask for `/v1/recordings` itself.
#[test]
fn dot_segments_are_not_dropped_from_recording_paths() {
    let Fixture { rt, webex, server } = fixture();
    for id in [".", ".."] {
        server.answer(
            vec![],
            &json!({ "id": "x", "temporaryDirectDownloadLinks": { "recordingDownloadLink": "https://a.webex.com/r" } }),
        );
        let got = rt.block_on(webex.recording("token", id));
        let targets = server.take_targets();
        assert!(got.is_err() || targets.iter().all(|t| t.starts_with("/v1/recordings/")), "{id:?} -> {targets:?}");
    }
}

/// Webex's published Get Recording Details example (an ARF recording).
const PUBLISHED_DETAILS: &str = include_str!("../../../../tests/fixtures/vendor/webex/rest-get-recording-details.json");
/// Webex's published List Recordings example (three ARF recordings).
const PUBLISHED_LIST: &str = include_str!("../../../../tests/fixtures/vendor/webex/rest-list-recordings.json");

/// Webex's published details of an ARF recording read with their format; the recording is
/// refused before its download link is followed.
#[test]
fn the_published_arf_recording_reads_and_is_never_downloaded() {
    use vivid_domain::connectors::RecordingSource;
    let Fixture { rt, webex, server } = fixture();
    let published: Value = serde_json::from_str(PUBLISHED_DETAILS).expect("the published example");
    server.answer(vec![], &published);
    let details = rt.block_on(webex.recording("token", "4f914b1dfe3c4d11a61730f18c0f5387")).expect("details");
    let expected = Recording {
        recording_id: "4f914b1dfe3c4d11a61730f18c0f5387".into(),
        topic: "Example Topic".into(),
        host_email: String::new(),
        time_recorded: "2020-07-13T17:05:35Z".into(),
        duration_seconds: 18416,
        size_bytes: 168103,
        format: "ARF".into(),
    };
    assert_eq!(details, expected);
    server.take_targets();
    let got = rt.block_on(webex.open("token", "4f914b1dfe3c4d11a61730f18c0f5387"));
    assert!(matches!(&got, Err(ConnectorError::UnsupportedFormat(f)) if f == "ARF"), "{:?}", got.err());
    assert_eq!(server.take_targets(), vec!["/v1/recordings/4f914b1dfe3c4d11a61730f18c0f5387".to_owned()]);
}

/// Webex's published listing (ARF recordings only, as a site that records in ARF answers when
/// the filter is not honoured) reads as no recording; the same items as MP4 read in order.
#[test]
fn the_published_listing_keeps_only_mp4_recordings() {
    let Fixture { rt, webex, server } = fixture();
    let mut published: Value = serde_json::from_str(PUBLISHED_LIST).expect("the published example");
    server.answer(vec![], &published);
    let page = rt.block_on(webex.recordings("token", None, None, 10, None)).expect("a page");
    assert!(page.items.is_empty(), "{:?}", page.items);
    let items = published["items"].as_array_mut().expect("items");
    items[1]["format"] = json!("MP4");
    server.answer(vec![], &published);
    let page = rt.block_on(webex.recordings("token", None, None, 10, None)).expect("a page");
    let ids: Vec<_> = page.items.iter().map(|r| (r.recording_id.as_str(), r.format.as_str())).collect();
    assert_eq!(ids, vec![("3324fb76946249cfa07fc30b3ccbf580", "MP4")]);
    assert_eq!(page.items[0].duration_seconds, 181562);
    server.take_targets();
}
