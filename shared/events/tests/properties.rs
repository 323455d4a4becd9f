//! Properties of what the event functions read from outside: S3 object keys as S3 encodes them in
//! notifications, S3 event bodies (`on-raw-upload`, `on-converted-output`) and EventBridge
//! "MediaConvert Job State Change" bodies (`on-transcode-event`). The handlers run against
//! in-memory ports that record what they are asked to do; any JSON gives `Ok` or
//! `EventError::Malformed`, and a well-formed event gives exactly the calls it stands for.

use std::{
    pin::pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
    time::Duration,
};

use async_trait::async_trait;
use proptest::prelude::*;
use serde_json::{Value, json};
use vivid_domain::{
    error::StoreError,
    failure::FailureReason,
    media::{Bucket, MediaStore, ObjectInfo, UploadedPart},
    minutes::{Charge, Metered, MinutesBudget},
    page::{Page, PageKey},
    quota::Quotas,
    transcode::{SourceInfo, SourceProbe, TranscodeError, Transcoder},
    types::{Limit, Seconds, SnapshotId, SpaceId, UserId, VideoId},
    video::{Progress, Snapshot, StatusChange, Video, VideoAccess, VideoPatch, VideoStatus, VideoStore, layout},
};
use vivid_events::{
    EventError, EventHandler, OnConvertedOutput, OnRawUpload, OnTranscodeEvent, UploadLimit, decode_s3_key,
};

// ------------------------------------------------------------------------------ in-memory ports

/// What a handler asked of the ports, in order.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    GetVideo(VideoId),
    Transition { video: VideoId, to: VideoStatus, change: Change },
    RaisePercent(VideoId, u8),
    RecordSource(VideoId, String, SourceInfo),
    RecordOutput(VideoId, layout::MediaKind, String),
    Delete(Bucket, String),
    DeletePrefix(Bucket, String),
    Head(Bucket, String),
    Submit(VideoId),
    Cancel(String),
}

impl Call {
    /// Whether the call records a video's state (what a job event is turned into), as opposed
    /// to looking a video up or cleaning up after it.
    fn is_status(&self) -> bool {
        matches!(
            self,
            Call::Transition { .. } | Call::RaisePercent(..) | Call::RecordSource(..) | Call::RecordOutput(..)
        )
    }
}

/// The fields of a `StatusChange` (which has no `PartialEq`).
#[derive(Debug, Clone, Default, PartialEq)]
struct Change {
    job_id: Option<String>,
    percent_complete: Option<u8>,
    duration_seconds: Option<f64>,
    failure_reason: Option<FailureReason>,
    hls_master: Option<String>,
    mp4: Option<String>,
    thumbnail_count: Option<u32>,
    only_for_job: Option<String>,
}

impl From<&StatusChange> for Change {
    fn from(c: &StatusChange) -> Self {
        Self {
            job_id: c.job_id.clone(),
            percent_complete: c.percent_complete,
            duration_seconds: c.duration_seconds,
            failure_reason: c.failure_reason,
            hls_master: c.hls_master.clone(),
            mp4: c.mp4.clone(),
            thumbnail_count: c.thumbnail_count,
            only_for_job: c.only_for_job.clone(),
        }
    }
}

#[derive(Default)]
struct Ports {
    calls: Mutex<Vec<Call>>,
}

impl Ports {
    fn record(&self, call: Call) {
        self.calls.lock().expect("calls").push(call);
    }
    fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().expect("calls"))
    }
}

fn unused<T>() -> Result<T, StoreError> {
    Err(StoreError::backend("not a port this handler uses"))
}

const RAW: &str = "vivid-raw-123456789012";
const MEDIA: &str = "vivid-media-123456789012";

/// No video exists: every raw object is one to remove.
#[async_trait]
impl VideoStore for Ports {
    async fn create_video(&self, _: &Video, _: &Quotas, _: &str) -> Result<(), StoreError> {
        unused()
    }
    async fn get_video(&self, id: &VideoId) -> Result<Option<Video>, StoreError> {
        self.record(Call::GetVideo(id.clone()));
        Ok(None)
    }
    async fn videos_by_id(&self, _: &[VideoId]) -> Result<Vec<Video>, StoreError> {
        unused()
    }
    async fn video_access(&self, _: &VideoId, _: &UserId) -> Result<Option<VideoAccess>, StoreError> {
        unused()
    }
    async fn list_videos(&self, _: &SpaceId, _: Limit, _: Option<PageKey>) -> Result<Page<Video>, StoreError> {
        unused()
    }
    async fn all_videos(&self, _: &SpaceId) -> Result<Vec<Video>, StoreError> {
        unused()
    }
    async fn progress_on(&self, _: &UserId, _: &[VideoId]) -> Result<Vec<Progress>, StoreError> {
        unused()
    }
    async fn update_video(&self, _: &VideoId, _: &VideoPatch, _: &str) -> Result<Video, StoreError> {
        unused()
    }
    async fn transition(
        &self,
        id: &VideoId,
        to: VideoStatus,
        change: &StatusChange,
        _: &str,
    ) -> Result<bool, StoreError> {
        self.record(Call::Transition { video: id.clone(), to, change: change.into() });
        Ok(true)
    }
    async fn raise_percent(&self, id: &VideoId, percent: u8) -> Result<bool, StoreError> {
        self.record(Call::RaisePercent(id.clone(), percent));
        Ok(true)
    }
    async fn record_source(&self, id: &VideoId, job: &str, source: &SourceInfo) -> Result<bool, StoreError> {
        self.record(Call::RecordSource(id.clone(), job.to_owned(), source.clone()));
        Ok(true)
    }
    async fn record_output(&self, id: &VideoId, kind: &layout::MediaKind, key: &str) -> Result<bool, StoreError> {
        self.record(Call::RecordOutput(id.clone(), kind.clone(), key.to_owned()));
        Ok(true)
    }
    async fn tombstone_video(&self, _: &Video) -> Result<bool, StoreError> {
        unused()
    }
    async fn delete_video(&self, _: &Video) -> Result<Vec<String>, StoreError> {
        unused()
    }
    async fn abandon_upload(&self, _: &Video, _: &str) -> Result<bool, StoreError> {
        unused()
    }
    async fn put_caption(&self, _: &VideoId, _: &vivid_domain::captions::CaptionTrack) -> Result<Video, StoreError> {
        unused()
    }
    async fn remove_caption(&self, _: &VideoId, _: &vivid_domain::captions::Lang) -> Result<Option<Video>, StoreError> {
        unused()
    }
    async fn set_captioned_master(&self, _: &VideoId, _: u32, _: Option<&str>) -> Result<bool, StoreError> {
        unused()
    }
    async fn set_transcript(
        &self,
        _: &VideoId,
        _: &vivid_domain::transcripts::TranscriptState,
        _: bool,
    ) -> Result<bool, StoreError> {
        unused()
    }
    async fn touch_progress(&self, _: &VideoId, _: &UserId, _: u8, _: Seconds, _: &str) -> Result<bool, StoreError> {
        unused()
    }
    async fn put_progress(&self, _: &Progress) -> Result<(), StoreError> {
        unused()
    }
    async fn place_videos(&self, _: &SpaceId, _: &[(&Video, Option<u32>)]) -> Result<(), StoreError> {
        unreachable!("no event handler orders lectures")
    }
    async fn progress_by(&self, _: &VideoId, _: &[UserId]) -> Result<Vec<Progress>, StoreError> {
        unreachable!("no event handler reads class progress")
    }
    async fn recent_progress(&self, _: &UserId, _: Limit) -> Result<Vec<Progress>, StoreError> {
        unused()
    }
    async fn completed_count(&self, _: &UserId) -> Result<u32, StoreError> {
        unused()
    }
    async fn put_snapshot(&self, _: &Snapshot, _: vivid_domain::storage::Limits) -> Result<(), StoreError> {
        unused()
    }
    async fn snapshots(
        &self,
        _: &VideoId,
        _: &UserId,
        _: Limit,
        _: Option<PageKey>,
    ) -> Result<Page<Snapshot>, StoreError> {
        unused()
    }
    async fn delete_snapshot(&self, _: &VideoId, _: &UserId, _: &SnapshotId) -> Result<Option<Snapshot>, StoreError> {
        unused()
    }
    async fn videos(&self, _: &[VideoId]) -> Result<Vec<Video>, StoreError> {
        unused()
    }
    async fn pending_before(&self, _: &str, _: Limit) -> Result<Vec<VideoId>, StoreError> {
        unused()
    }
    async fn claim_import(&self, _: &VideoId, _: &str) -> Result<bool, StoreError> {
        unused()
    }
}

#[async_trait]
impl MediaStore for Ports {
    fn bucket_name(&self, bucket: Bucket) -> &str {
        match bucket {
            Bucket::Raw => RAW,
            Bucket::Media => MEDIA,
            Bucket::User => "vivid-user-content-123456789012",
        }
    }
    async fn presign_put(&self, _: Bucket, _: &str, _: &str, _: u64, _: Duration) -> Result<String, StoreError> {
        unused()
    }
    async fn presign_get(&self, _: Bucket, _: &str, _: Duration) -> Result<String, StoreError> {
        unused()
    }
    async fn create_multipart(&self, _: &str, _: &str) -> Result<String, StoreError> {
        unused()
    }
    async fn presign_part(&self, _: &str, _: &str, _: u32, _: u64, _: Duration) -> Result<String, StoreError> {
        unused()
    }
    async fn upload_part(&self, _: &str, _: &str, _: u32, _: Vec<u8>) -> Result<String, StoreError> {
        unused()
    }
    async fn complete_multipart(&self, _: &str, _: &str, _: &[(u32, String)]) -> Result<(), StoreError> {
        unused()
    }
    async fn abort_multipart(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
    async fn uploaded_parts(&self, _: &str, _: &str) -> Result<Vec<UploadedPart>, StoreError> {
        unused()
    }
    async fn head(&self, bucket: Bucket, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        self.record(Call::Head(bucket, key.to_owned()));
        Ok(None)
    }
    async fn put(&self, _: Bucket, _: &str, _: &str, _: Vec<u8>) -> Result<(), StoreError> {
        unused()
    }
    /// No object is there (a completed job's master included: no storyboard to write).
    async fn get(&self, _: Bucket, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(None)
    }
    async fn delete(&self, bucket: Bucket, key: &str) -> Result<(), StoreError> {
        self.record(Call::Delete(bucket, key.to_owned()));
        Ok(())
    }
    async fn delete_prefix(&self, bucket: Bucket, prefix: &str) -> Result<(), StoreError> {
        self.record(Call::DeletePrefix(bucket, prefix.to_owned()));
        Ok(())
    }
}

/// Every source is a minute long and every charge fits (the minutes' rules have their own tests).
#[async_trait]
impl MinutesBudget for Ports {
    async fn charge_minutes(
        &self,
        _: Metered,
        _: &VideoId,
        _: &UserId,
        _: u64,
        _: &str,
        _: u64,
    ) -> Result<Charge, StoreError> {
        Ok(Charge::Charged)
    }
    async fn settle_minutes(&self, _: Metered, _: &VideoId, _: u64) -> Result<bool, StoreError> {
        Ok(false)
    }
}

#[async_trait]
impl Transcoder for Ports {
    async fn probe(&self, _: &VideoId, _: &str) -> Result<SourceProbe, TranscodeError> {
        Ok(SourceProbe { duration_seconds: Some(60.0) })
    }
    async fn submit(&self, video: &VideoId, _: &str, _: &str, _: u64) -> Result<String, TranscodeError> {
        self.record(Call::Submit(video.clone()));
        Ok("job".to_owned())
    }
    async fn cancel(&self, job_id: &str) -> Result<bool, TranscodeError> {
        self.record(Call::Cancel(job_id.to_owned()));
        Ok(true)
    }
}

/// Runs a handler to completion: the in-memory ports never wait, so one poll finishes it.
fn run(handler: &dyn EventHandler, event: Value) -> Result<Value, EventError> {
    let mut fut = pin!(handler.handle(event));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => panic!("the in-memory ports never wait"),
    }
}

struct Handlers {
    ports: Arc<Ports>,
    raw: OnRawUpload,
    converted: OnConvertedOutput,
    transcode: OnTranscodeEvent,
}

fn handlers() -> Handlers {
    let ports = Arc::new(Ports::default());
    Handlers {
        raw: OnRawUpload::new(
            ports.clone(),
            ports.clone(),
            ports.clone(),
            ports.clone(),
            UploadLimit { quotas: Quotas { upload_bytes: 1 << 30, ..Quotas::default() } },
        ),
        converted: OnConvertedOutput::new(ports.clone(), ports.clone()),
        transcode: OnTranscodeEvent::new(ports.clone(), ports.clone(), ports.clone()),
        ports,
    }
}

/// What a handler may answer to input it cannot use: nothing, or "malformed" (never a store or
/// transcoder error: the ports were not asked anything they do not support).
fn ok_or_malformed(r: &Result<Value, EventError>) -> bool {
    matches!(r, Ok(Value::Null) | Err(EventError::Malformed(_)))
}

// ----------------------------------------------------------------------------------- S3 keys

/// A key encoded as S3 does in event notifications: space as `+`, `%`, `+`, controls and every
/// non-ASCII byte percent-encoded, and some further set of ASCII punctuation (`reserved`, one
/// bit a character) percent-encoded too, with upper- or lower-case hex.
fn s3_encode(key: &str, reserved: u32, lower_hex: bool) -> String {
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

fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        "[a-z +%/]{0,20}",
        "(raw|media)/[0-9A-Z]{26}(/[a-z0-9 +%_.-]{0,20}){0,3}",
    ]
}

/// A JSON value of any shape, with the field names the events use often enough to build the
/// shapes the parsers look into.
fn any_json() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        prop::sample::select(vec![
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
        .prop_map(str::to_owned),
        "\\PC{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![
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
        .prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((name.clone(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// One record of a well-formed S3 notification, and the key it names (decoded).
#[derive(Debug, Clone)]
struct Record {
    event_name: Option<&'static str>,
    bucket: Option<&'static str>,
    key: Option<String>,
    reserved: u32,
    lower_hex: bool,
}

fn record() -> impl Strategy<Value = Record> {
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

fn s3_event(records: &[Record]) -> Value {
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
fn created_in<'a>(records: &'a [Record], bucket: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    records
        .iter()
        .filter(move |r| r.event_name.is_some_and(|n| n.starts_with("ObjectCreated:")) && r.bucket == Some(bucket))
        .filter_map(|r| r.key.as_deref())
}

/// Replaces the value at a random place of a JSON tree by `new` (or removes it from its object).
fn mutate(v: &mut Value, path: &[prop::sample::Index], new: Value, remove: bool) {
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

// --------------------------------------------------------------------- MediaConvert job events

/// A job state change, as its parts (serialised by `job_event`).
#[derive(Debug, Clone)]
struct Job {
    status: String,
    job_id: String,
    video: Option<String>,
    percent: Option<u8>,
    error_code: Option<Value>,
    error_message: Option<String>,
    groups: Vec<Group>,
    /// `INPUT_INFORMATION`'s inputs: per input its video streams' (width, height).
    inputs: Vec<Vec<(Option<u32>, Option<u32>)>>,
}

/// An output group: its type, playlist paths, and per output its file paths and duration.
type Group = (String, Vec<String>, Vec<Output>);
type Output = (Vec<String>, Option<u64>);

fn s3_uri() -> impl Strategy<Value = String> {
    prop_oneof![
        "s3://[a-z0-9-]{3,20}/media/[0-9A-Z]{26}/(hls/index\\.m3u8|mp4/video\\.mp4|thumbnails/thumb\\.[0-9]{7}\\.jpg)",
        "s3://[a-z0-9-]{0,10}(/\\PC{0,20})?",
        "\\PC{0,30}",
    ]
}

fn job() -> impl Strategy<Value = Job> {
    let group = (
        prop_oneof![Just("HLS_GROUP".to_owned()), Just("FILE_GROUP".to_owned()), "[A-Z_]{0,12}"],
        prop::collection::vec(s3_uri(), 0..3),
        prop::collection::vec(
            (prop::collection::vec(s3_uri(), 0..3), prop::option::of(prop_oneof![0u64..10_000_000, any::<u64>()])),
            0..3,
        ),
    );
    (
        prop_oneof![
            4 => prop::sample::select(vec!["PROGRESSING", "STATUS_UPDATE", "COMPLETE", "ERROR", "CANCELED", "INPUT_INFORMATION", "NEW_WARNING", "SUBMITTED"]).prop_map(str::to_owned),
            1 => "\\PC{0,12}",
        ],
        "[0-9]{13}-[a-z0-9]{6}",
        prop_oneof![
            4 => Just(()).prop_map(|_| Some(VideoId::generate().to_string())),
            1 => Just(None),
            1 => "\\PC{0,30}".prop_map(Some),
        ],
        prop::option::of(any::<u8>()),
        prop::option::of(prop_oneof![
            any::<i64>().prop_map(Value::from),
            "\\PC{0,10}".prop_map(Value::from),
            Just(json!({"nested": [1, 2]})),
        ]),
        prop::option::of("\\PC{0,40}"),
        prop::collection::vec(group, 0..4),
        prop::collection::vec(
            prop::collection::vec((prop::option::of(0u32..5000), prop::option::of(0u32..5000)), 0..3),
            0..3,
        ),
    )
        .prop_map(|(status, job_id, video, percent, error_code, error_message, mut groups, inputs)| {
            // Most outputs lie under the job's own video, as a real job's do.
            if let Some(v) = video.as_deref().filter(|v| v.len() == 26) {
                for (_, playlists, outputs) in &mut groups {
                    for path in playlists.iter_mut().chain(outputs.iter_mut().flat_map(|o| o.0.iter_mut())) {
                        if let Some(at) = path.find("/media/").map(|i| i + "/media/".len())
                            && path.get(at..at + 26).is_some_and(|id| id.bytes().all(|b| b.is_ascii_alphanumeric()))
                            && path.len() % 3 != 0
                        {
                            path.replace_range(at..at + 26, v);
                        }
                    }
                }
            }
            Job { status, job_id, video, percent, error_code, error_message, groups, inputs }
        })
}

fn job_event(j: &Job) -> Value {
    let mut metadata = json!({ "application": "vivid" });
    if let Some(v) = &j.video {
        metadata["videoId"] = json!(v);
    }
    let mut detail = json!({
        "timestamp": 1_795_614_012_124u64,
        "accountId": "123456789012",
        "queue": "arn:aws:mediaconvert:eu-central-1:123456789012:queues/Default",
        "jobId": j.job_id,
        "status": j.status,
        "userMetadata": metadata,
        "outputGroupDetails": j.groups.iter().map(|(kind, playlists, outputs)| json!({
            "type": kind,
            "playlistFilePaths": playlists,
            "outputDetails": outputs.iter().map(|(paths, ms)| {
                let mut o = json!({ "outputFilePaths": paths, "videoDetails": { "widthInPx": 1280 } });
                if let Some(ms) = ms {
                    o["durationInMs"] = json!(ms);
                }
                o
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    if !j.inputs.is_empty() {
        detail["inputDetails"] = j
            .inputs
            .iter()
            .enumerate()
            .map(|(i, streams)| {
                let video: Vec<Value> = streams
                    .iter()
                    .map(|(w, h)| {
                        let mut v =
                            json!({ "codec": "H_264", "bitDepth": 8, "colorFormat": "YUV_420", "frameRate": 24 });
                        if let Some(w) = w {
                            v["width"] = json!(w);
                        }
                        if let Some(h) = h {
                            v["height"] = json!(h);
                        }
                        v
                    })
                    .collect();
                json!({ "id": i + 1, "uri": "s3://vivid-raw-123456789012/raw/x", "video": video })
            })
            .collect();
    }
    if let Some(p) = j.percent {
        detail["jobProgress"] = json!({ "jobPercentComplete": p, "currentPhase": "TRANSCODING" });
    }
    if let Some(c) = &j.error_code {
        detail["errorCode"] = c.clone();
    }
    if let Some(m) = &j.error_message {
        detail["errorMessage"] = json!(m);
    }
    json!({
        "version": "0",
        "id": "1234abcd-12ab-34cd-56ef-1234567890ab",
        "detail-type": "MediaConvert Job State Change",
        "source": "aws.mediaconvert",
        "account": "123456789012",
        "time": "2026-11-25T13:40:12Z",
        "region": "eu-central-1",
        "resources": ["arn:aws:mediaconvert:eu-central-1:123456789012:jobs/1"],
        "detail": detail,
    })
}

/// The key of an `s3://bucket/key` URI, as the media table records it.
fn key_of(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("s3://")?;
    let slash = rest.find('/')?;
    Some(rest[slash + 1..].to_owned())
}

/// What a job state change must be turned into.
fn expected_calls(j: &Job) -> Vec<Call> {
    let Some(video) = j.video.as_deref().and_then(|v| v.parse::<VideoId>().ok()) else {
        return vec![];
    };
    let job = Some(j.job_id.clone());
    let transition = |to, change| vec![Call::Transition { video: video.clone(), to, change }];
    match j.status.as_str() {
        "PROGRESSING" => transition(
            VideoStatus::Transcoding,
            Change { job_id: job.clone(), only_for_job: job, ..Default::default() },
        ),
        "STATUS_UPDATE" => vec![Call::RaisePercent(video.clone(), j.percent.unwrap_or(0).min(99))],
        // The first input's first stream with a picture size; nothing without one.
        "INPUT_INFORMATION" => j
            .inputs
            .iter()
            .find_map(|streams| {
                streams.iter().find_map(|(w, h)| match (w, h) {
                    (Some(w), Some(h)) if *w > 0 && *h > 0 => Some((*w, *h)),
                    _ => None,
                })
            })
            .map(|(width, height)| {
                let source = SourceInfo {
                    width,
                    height,
                    frame_rate: Some(24.0),
                    codec: Some("H_264".into()),
                    bit_depth: Some(8),
                    color_format: Some("YUV_420".into()),
                };
                vec![Call::RecordSource(video.clone(), j.job_id.clone(), source)]
            })
            .unwrap_or_default(),
        "COMPLETE" => {
            // The last HLS group's master playlist and the last MP4 of the file groups decide (a
            // path that is no `s3://` URI records nothing), with the longest video output's
            // duration: an HLS rendition or an MP4, never a frame capture (MediaConvert reports
            // captures × interval, longer than the video) or any other file.
            let hls_master =
                j.groups.iter().rfind(|g| g.0 == "HLS_GROUP").and_then(|g| g.1.first()).and_then(|p| ours(p, &video));
            let mp4_key = last_mp4_key(j, &video);
            let is_video = |paths: &Vec<String>| {
                paths
                    .iter()
                    .any(|p| p.to_ascii_lowercase().ends_with(".m3u8") || p.to_ascii_lowercase().ends_with(".mp4"))
            };
            let ms = j.groups.iter().flat_map(|g| &g.2).filter(|o| is_video(&o.0)).filter_map(|o| o.1).max();
            transition(
                VideoStatus::Ready,
                Change {
                    job_id: job.clone(),
                    only_for_job: job,
                    percent_complete: Some(100),
                    duration_seconds: ms.map(|ms| ms as f64 / 1000.0),
                    hls_master,
                    mp4: mp4_key,
                    thumbnail_count: thumbnail_count(j, &video),
                    ..Default::default()
                },
            )
        }
        "ERROR" => {
            // MediaConvert's code and message go to the log; members get the fixed reason.
            transition(
                VideoStatus::Failed,
                Change {
                    failure_reason: Some(FailureReason::TranscodeFailed),
                    only_for_job: job,
                    ..Default::default()
                },
            )
        }
        "CANCELED" => transition(
            VideoStatus::Failed,
            Change { failure_reason: Some(FailureReason::TranscodeCanceled), only_for_job: job, ..Default::default() },
        ),
        _ => vec![],
    }
}

/// The thumbnails' count a COMPLETE event tells: per output of a file group, one more than the
/// highest frame capture of this video it names; the last output that names one decides.
fn thumbnail_count(j: &Job, video: &VideoId) -> Option<u32> {
    let mut count = None;
    for (_, _, outputs) in j.groups.iter().filter(|g| g.0 == "FILE_GROUP") {
        for (paths, _) in outputs {
            let highest = paths
                .iter()
                .filter_map(|p| key_of(p))
                .filter_map(|k| match layout::classify(&k) {
                    Some((v, layout::MediaKind::Thumbnail(i))) if &v == video => i.checked_add(1),
                    _ => None,
                })
                .max();
            if highest.is_some() {
                count = highest;
            }
        }
    }
    count
}

/// The MP4 a COMPLETE event names: each output of a file group that has an `.mp4` path sets it.
fn last_mp4_key(j: &Job, video: &VideoId) -> Option<String> {
    let mut mp4 = None;
    for (_, _, outputs) in j.groups.iter().filter(|g| g.0 == "FILE_GROUP") {
        for (paths, _) in outputs {
            if let Some(p) = paths.iter().find(|p| p.ends_with(".mp4")) {
                mp4 = ours(p, video);
            }
        }
    }
    mp4
}

/// The key of an output URI when it lies under the video's own prefix (nothing else is its media).
fn ours(uri: &str, video: &VideoId) -> Option<String> {
    key_of(uri).filter(|k| k.starts_with(&format!("media/{video}/")))
}

// --------------------------------------------------------------------------------- properties

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

    /// A well-formed S3 notification, then with one value replaced or removed anywhere in it: the
    /// handlers answer `Ok` or malformed, and never touch an object of another bucket.
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
        for handler in [&h.raw as &dyn EventHandler, &h.converted] {
            let got = run(handler, event.clone());
            prop_assert!(ok_or_malformed(&got), "{} -> {:?}", event, got);
        }
        for call in h.ports.take() {
            if let Call::Delete(bucket, _) | Call::Head(bucket, _) = call {
                prop_assert_eq!(bucket, Bucket::Raw);
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
        prop_assert_eq!(h.ports.take(), expected);
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
        let calls: Vec<Call> = h.ports.take().into_iter().filter(Call::is_status).collect();
        prop_assert_eq!(calls, expected);
    }

    /// A MediaConvert job state change becomes exactly the status change it reports, for the
    /// video its metadata names (none when it names no video of ours); whatever else the handler
    /// does (look the video up, cancel the job, remove media) concerns that video and job only.
    #[test]
    fn a_job_state_change_becomes_its_status_change(j in job()) {
        let h = handlers();
        let got = run(&h.transcode, job_event(&j));
        prop_assert!(matches!(got, Ok(Value::Null)), "{:?}", got);
        let calls = h.ports.take();
        let status: Vec<Call> = calls.iter().filter(|c| c.is_status()).cloned().collect();
        prop_assert_eq!(status, expected_calls(&j));
        let video = j.video.as_deref().and_then(|v| v.parse::<VideoId>().ok());
        for call in &calls {
            let ours = match (call, &video) {
                (Call::GetVideo(v), Some(id)) => v == id,
                (Call::Delete(_, k) | Call::DeletePrefix(_, k), Some(id)) => k.contains(id.as_str()),
                (Call::Cancel(job), Some(_)) => *job == j.job_id,
                (c, _) => c.is_status(),
            };
            prop_assert!(ours, "{:?} for {:?}", call, j);
        }
    }

    /// A job state change with one value replaced or removed anywhere gives `Ok` or malformed.
    #[test]
    fn a_mutated_job_event_gives_ok_or_malformed(
        j in job(),
        path in prop::collection::vec(any::<prop::sample::Index>(), 1..7),
        new in any_json(),
        remove in any::<bool>(),
    ) {
        let h = handlers();
        let mut event = job_event(&j);
        mutate(&mut event, &path, new, remove);
        let got = run(&h.transcode, event.clone());
        prop_assert!(ok_or_malformed(&got), "{} -> {:?}", event, got);
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
    assert!(matches!(run(&h.converted, read("on-converted-output.json")), Ok(Value::Null)));
    let recorded = h.ports.take();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert!(matches!(&recorded[0], Call::RecordOutput(_, layout::MediaKind::Thumbnail(_), _)));
    for sample in [
        "on-transcode-event.json",
        "on-transcode-event-error.json",
        "on-transcode-event-progressing.json",
        "on-transcode-event-status-update.json",
    ] {
        assert!(matches!(run(&h.transcode, read(sample)), Ok(Value::Null)), "{sample}");
        assert_eq!(h.ports.take().iter().filter(|c| c.is_status()).count(), 1, "{sample}");
    }
    for sample in ["on-raw-upload.json", "on-raw-upload-foreign-key.json"] {
        let event = read(sample);
        assert!(matches!(run(&h.raw, event), Ok(Value::Null)), "{sample}");
    }
}
