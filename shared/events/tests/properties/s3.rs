//! S3 object keys as S3 encodes them in notifications, and the notifications
//! `on-raw-upload` and `on-converted-output` read.

use proptest::prelude::*;
use serde_json::{Value, json};
use vivid_domain::{media::Bucket, types::VideoId, video::layout};
use vivid_events::{EventHandler, decode_s3_key};

use crate::{any_json, mutate, ports::*};

/// A key encoded as S3 does in event notifications: space as `+`, `%`, `+`, controls and every
/// non-ASCII byte percent-encoded, and some further set of ASCII punctuation (`reserved`, one
/// bit a character) percent-encoded too, with upper- or lower-case hex.
pub(crate) fn s3_encode(key: &str, reserved: u32, lower_hex: bool) -> String {
    const PUNCT: &[u8] = b"!\"#$&'()*,/:;<=>?@[\\]^`{|}~-._";
    let escaped = |b: u8| {
        !b.is_ascii()
            || b.is_ascii_control()
            || b"%+".contains(&b)
            || PUNCT.iter().position(|&p| p == b).is_some_and(|i| reserved & (1 << i) != 0)
    };
    let mut out = String::with_capacity(key.len() * 3);
    for b in key.bytes() {
        if b == b' ' {
            out.push('+');
        } else if escaped(b) {
            out.push_str(&if lower_hex { format!("%{b:02x}") } else { format!("%{b:02X}") });
        } else {
            out.push(char::from(b));
        }
    }
    out
}

pub(crate) fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        "[a-z +%/]{0,20}",
        "(raw|media)/[0-9A-Z]{26}(/[a-z0-9 +%_.-]{0,20}){0,3}",
    ]
}

/// One record of a well-formed S3 notification, and the key it names (decoded).
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) event_name: Option<&'static str>,
    pub(crate) bucket: Option<&'static str>,
    pub(crate) key: Option<String>,
    pub(crate) reserved: u32,
    pub(crate) lower_hex: bool,
}

pub(crate) fn record() -> impl Strategy<Value = Record> {
    let key = prop_oneof![
        any_key(),
        "[ -~]{0,12}".prop_map(|rest| format!("raw/{}{rest}", VideoId::generate())),
        Just(()).prop_map(|_| layout::raw(&VideoId::generate())),
        "(hls/[a-z0-9_]{1,8}\\.(m3u8|ts)|mp4/video\\.mp4|thumbnails/thumb\\.[0-9]{7}\\.jpg|[a-z /+%]{0,10})"
            .prop_map(|rest| format!("{}{rest}", layout::media_prefix(&VideoId::generate()))),
    ];
    (
        prop::sample::select(vec![
            Some("ObjectCreated:Put"),
            Some("ObjectCreated:CompleteMultipartUpload"),
            Some("ObjectCreated:Copy"),
            Some("ObjectRemoved:Delete"),
            Some("ObjectRestore:Completed"),
            Some("objectcreated:put"),
            None,
        ]),
        prop::sample::select(vec![Some(RAW), Some(MEDIA), Some("another-bucket"), None]),
        prop::option::weighted(0.9, key),
        any::<u32>(),
        any::<bool>(),
    )
        .prop_map(|(event_name, bucket, key, reserved, lower_hex)| Record {
            event_name,
            bucket,
            key,
            reserved,
            lower_hex,
        })
}

pub(crate) fn s3_event(records: &[Record]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut rec = json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "eu-central-1",
                "eventTime": "2026-11-25T13:34:22.123Z",
                "userIdentity": { "principalId": "AWS:AROAEXAMPLE" },
                "requestParameters": { "sourceIPAddress": "203.0.113.7" },
                "responseElements": { "x-amz-request-id": "C3D13FE58DE4C810" },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "vivid",
                    "bucket": { "ownerIdentity": { "principalId": "A3NL1KOZZKExample" } },
                    "object": { "size": 18432, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0A1B2C" }
                }
            });
            if let Some(n) = r.event_name {
                rec["eventName"] = json!(n);
            }
            if let Some(b) = r.bucket {
                rec["s3"]["bucket"]["name"] = json!(b);
                rec["s3"]["bucket"]["arn"] = json!(format!("arn:aws:s3:::{b}"));
            }
            if let Some(k) = &r.key {
                rec["s3"]["object"]["key"] = json!(s3_encode(k, r.reserved, r.lower_hex));
            }
            rec
        })
        .collect();
    json!({ "Records": records })
}

/// The records a handler acts on: created objects of its bucket, with a key.
pub(crate) fn created_in<'a>(records: &'a [Record], bucket: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    records
        .iter()
        .filter(move |r| r.event_name.is_some_and(|n| n.starts_with("ObjectCreated:")) && r.bucket == Some(bucket))
        .filter_map(|r| r.key.as_deref())
}

proptest! {
    /// Any key, encoded as S3 encodes keys in notifications, decodes to itself.
    #[test]
    fn s3_keys_decode_to_what_was_uploaded(key in any_key(), reserved in any::<u32>(), lower_hex in any::<bool>()) {
        let encoded = s3_encode(&key, reserved, lower_hex);
        prop_assert!(!encoded.contains(' '), "S3 sends no spaces: {}", encoded);
        prop_assert_eq!(decode_s3_key(&encoded), key);
    }

    /// Any key text at all decodes without panicking; text with no escapes only has its `+`
    /// turned into spaces, and valid escapes of ASCII become their byte.
    #[test]
    fn any_s3_key_text_decodes(raw in prop_oneof![any::<String>(), "[%+a-fA-F0-9 ]{0,20}", "(%[0-9A-Fa-f]{0,2}|[^%]){0,10}"]) {
        let decoded = decode_s3_key(&raw);
        if !raw.contains('%') {
            prop_assert_eq!(decoded, raw.replace('+', " "));
        } else {
            prop_assert!(decoded.chars().count() <= raw.chars().count(), "{:?} -> {:?}", raw, decoded);
        }
    }

    /// A well-formed S3 notification, then with one value replaced or removed anywhere in it: the
    /// handlers answer `Ok` or malformed, and never touch an object of another bucket than their
    /// own (`on-raw-upload` the raw bucket's, `on-converted-output` the media bucket's: it removes
    /// the output of a video that is gone, as every video is here).
    #[test]
    fn a_mutated_s3_event_gives_ok_or_malformed(
        records in prop::collection::vec(record(), 1..4),
        path in prop::collection::vec(any::<prop::sample::Index>(), 1..7),
        new in any_json(),
        remove in any::<bool>(),
    ) {
        let h = handlers();
        let mut event = s3_event(&records);
        mutate(&mut event, &path, new, remove);
        for (handler, own) in [(&h.raw as &dyn EventHandler, Bucket::Raw), (&h.converted, Bucket::Media)] {
            let got = run(handler, event.clone());
            prop_assert!(ok_or_malformed(&got), "{} -> {:?}", event, got);
            for call in h.ports.asked() {
                if let Call::Delete(bucket, _) | Call::Head(bucket, _) = call {
                    prop_assert_eq!(bucket, own);
                }
            }
        }
    }

    /// `on-raw-upload` looks at exactly the created objects under `raw/` of the raw bucket, by
    /// their decoded keys: one that names no video (none exist here) is removed, one under
    /// `raw/{videoId}` is looked up first. Nothing else is touched.
    #[test]
    fn raw_upload_acts_on_the_created_raw_objects(records in prop::collection::vec(record(), 0..6)) {
        let h = handlers();
        let got = run(&h.raw, s3_event(&records));
        prop_assert!(matches!(got, Ok(Value::Null)), "{:?}", got);
        let mut expected = vec![];
        // Only objects under `raw/` are uploads; anything else is left alone.
        for key in created_in(&records, RAW) {
            let Some(name) = key.strip_prefix("raw/") else { continue };
            if let Ok(id) = name.parse::<VideoId>() {
                expected.push(Call::GetVideo(id));
            }
            expected.push(Call::Delete(Bucket::Raw, key.to_owned()));
        }
        prop_assert_eq!(h.ports.asked(), expected);
    }

    /// `on-converted-output` records exactly the created objects of the media bucket that lie under
    /// `media/{videoId}/`, by their decoded keys and kinds.
    #[test]
    fn converted_output_records_the_created_media_objects(records in prop::collection::vec(record(), 0..6)) {
        let h = handlers();
        let got = run(&h.converted, s3_event(&records));
        prop_assert!(matches!(got, Ok(Value::Null)), "{:?}", got);
        let expected: Vec<Call> = created_in(&records, MEDIA)
            .filter_map(|key| layout::classify(key).map(|(video, kind)| Call::RecordOutput(video, kind, key.to_owned())))
            .collect();
        let calls: Vec<Call> = h.ports.asked().into_iter().filter(Call::is_status).collect();
        prop_assert_eq!(calls, expected);
    }
}
