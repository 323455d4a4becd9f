//! Properties of what the event functions read from outside: S3 object keys as S3 encodes them in
//! notifications, S3 event bodies (`on-raw-upload`, `on-converted-output`) and EventBridge
//! "MediaConvert Job State Change" bodies (`on-transcode-event`). The handlers run against the
//! in-memory world of `vivid-testkit`, which notes what its ports are asked; any JSON gives `Ok`
//! or `EventError::Malformed`, and a well-formed event gives exactly the calls it stands for.
//!
//! `ports`: the handlers built on the in-memory world; `s3`: keys and S3 notifications; `jobs`:
//! MediaConvert's job state changes.

mod jobs;
mod ports;
mod s3;

use proptest::prelude::*;
use serde_json::Value;
use vivid_domain::{
    types::VideoId,
    video::{VideoStatus, layout},
};
use vivid_events::EventHandler;
use vivid_testkit::{AnyJson, memory::uploading};

use crate::ports::{Call, MEDIA, RAW, handlers, ok_or_malformed, run};

/// A JSON value of any shape, with the field names the events use often enough to build the
/// shapes the parsers look into.
pub(crate) fn any_json() -> impl Strategy<Value = Value> {
    AnyJson::named(&[
        "Records",
        "s3",
        "bucket",
        "name",
        "object",
        "key",
        "size",
        "eventName",
        "eventTime",
        "userIdentity",
        "requestParameters",
        "responseElements",
        "detail",
        "detail-type",
        "source",
        "status",
        "jobId",
        "userMetadata",
        "videoId",
        "jobProgress",
        "jobPercentComplete",
        "errorCode",
        "errorMessage",
        "outputGroupDetails",
        "type",
        "playlistFilePaths",
        "outputDetails",
        "outputFilePaths",
        "durationInMs",
    ])
    .words(&[
        "ObjectCreated:Put",
        "COMPLETE",
        "ERROR",
        "PROGRESSING",
        "STATUS_UPDATE",
        "CANCELED",
        "HLS_GROUP",
        "FILE_GROUP",
        "1970-01-01T00:00:00Z",
        RAW,
        MEDIA,
        "01JD6Q5C7B8D9E0F1G2H3J4K5M",
        "raw/01JD6Q5C7B8D9E0F1G2H3J4K5M",
        "s3://b/media/01JD6Q5C7B8D9E0F1G2H3J4K5M/mp4/video.mp4",
    ])
    .depth(5, 64)
    .strategy()
}

/// Replaces the value at a random place of a JSON tree by `new` (or removes it from its object).
pub(crate) fn mutate(v: &mut Value, path: &[prop::sample::Index], new: Value, remove: bool) {
    let Some((at, rest)) = path.split_first() else {
        *v = new;
        return;
    };
    match v {
        Value::Object(map) if !map.is_empty() => {
            let name = map.keys().nth(at.index(map.len())).cloned().expect("a key");
            if rest.is_empty() && remove {
                map.remove(&name);
            } else if let Some(child) = map.get_mut(&name) {
                mutate(child, rest, new, remove);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = at.index(items.len());
            mutate(&mut items[i], rest, new, remove);
        }
        _ => *v = new,
    }
}

proptest! {
    /// Any JSON at all, given to any event handler, is handled (`Ok`) or refused as malformed,
    /// never a panic or another error.
    #[test]
    fn any_json_gives_ok_or_malformed(event in any_json()) {
        let h = handlers();
        for handler in [&h.raw as &dyn EventHandler, &h.converted, &h.transcode] {
            let got = run(handler, event.clone());
            prop_assert!(ok_or_malformed(&got), "{} -> {:?}", event, got);
        }
    }
}

/// The sample events shipped for `sam local invoke` are read as the handlers expect.
#[test]
fn the_shipped_sample_events_parse() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/");
    let read = |name: &str| -> Value {
        let text = std::fs::read_to_string(format!("{root}{name}")).expect("sample event");
        serde_json::from_str(&text).expect("JSON")
    };
    let h = handlers();
    // The samples' video, transcoding in a space its creator hosts.
    let host = h.ports.sign_up("host@example.com");
    let space = h.ports.shared_space(&host.user_id, "Samples");
    let id: VideoId = "01JD6Q5C7B8D9E0F1G2H3J4K5M".parse().expect("the samples' video");
    h.ports.add_video(&uploading(id, &space.space_id, &host.user_id, 18432), VideoStatus::Transcoding);
    assert!(matches!(run(&h.converted, read("on-converted-output.json")), Ok(Value::Null)));
    let recorded = h.ports.asked();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert!(matches!(&recorded[0], Call::RecordOutput(_, layout::MediaKind::Thumbnail(_), _)));
    for sample in [
        "on-transcode-event.json",
        "on-transcode-event-error.json",
        "on-transcode-event-progressing.json",
        "on-transcode-event-status-update.json",
    ] {
        assert!(matches!(run(&h.transcode, read(sample)), Ok(Value::Null)), "{sample}");
        assert_eq!(h.ports.asked().iter().filter(|c| c.is_status()).count(), 1, "{sample}");
    }
    for sample in ["on-raw-upload.json", "on-raw-upload-foreign-key.json"] {
        let event = read(sample);
        assert!(matches!(run(&h.raw, event), Ok(Value::Null)), "{sample}");
    }
}
