//! MediaConvert's "Job State Change" events, as `on-transcode-event` reads them.

use proptest::prelude::*;
use serde_json::{Value, json};
use vivid_domain::{
    failure::FailureReason,
    transcode::SourceInfo,
    types::VideoId,
    video::{StatusChange, VideoStatus, layout},
};

use crate::{any_json, mutate, ports::*};

/// A job state change, as its parts (serialised by `job_event`).
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) status: String,
    pub(crate) job_id: String,
    pub(crate) video: Option<String>,
    pub(crate) percent: Option<u8>,
    pub(crate) error_code: Option<Value>,
    pub(crate) error_message: Option<String>,
    pub(crate) groups: Vec<Group>,
    /// `INPUT_INFORMATION`'s inputs: per input its video streams' (width, height).
    pub(crate) inputs: Vec<Vec<(Option<u32>, Option<u32>)>>,
}

/// An output group: its type, playlist paths, and per output its file paths and duration.
pub(crate) type Group = (String, Vec<String>, Vec<Output>);
pub(crate) type Output = (Vec<String>, Option<u64>);

pub(crate) fn s3_uri() -> impl Strategy<Value = String> {
    prop_oneof![
        "s3://[a-z0-9-]{3,20}/media/[0-9A-Z]{26}/(hls/index\\.m3u8|mp4/video\\.mp4|thumbnails/thumb\\.[0-9]{7}\\.jpg)",
        "s3://[a-z0-9-]{0,10}(/\\PC{0,20})?",
        "\\PC{0,30}",
    ]
}

pub(crate) fn job() -> impl Strategy<Value = Job> {
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

pub(crate) fn job_event(j: &Job) -> Value {
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
pub(crate) fn key_of(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("s3://")?;
    let slash = rest.find('/')?;
    Some(rest[slash + 1..].to_owned())
}

/// What a job state change must be turned into.
pub(crate) fn expected_calls(j: &Job) -> Vec<Call> {
    let Some(video) = j.video.as_deref().and_then(|v| v.parse::<VideoId>().ok()) else {
        return vec![];
    };
    let job = Some(j.job_id.clone());
    let transition = |to, change| vec![Call::Transition { video: video.clone(), to, change }];
    match j.status.as_str() {
        "PROGRESSING" => transition(
            VideoStatus::Transcoding,
            StatusChange { job_id: job.clone(), only_for_job: job, ..Default::default() },
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
                StatusChange {
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
                StatusChange {
                    failure_reason: Some(FailureReason::TranscodeFailed),
                    only_for_job: job,
                    ..Default::default()
                },
            )
        }
        "CANCELED" => transition(
            VideoStatus::Failed,
            StatusChange {
                failure_reason: Some(FailureReason::TranscodeCanceled),
                only_for_job: job,
                ..Default::default()
            },
        ),
        _ => vec![],
    }
}

/// The thumbnails' count a COMPLETE event tells: per output of a file group, one more than the
/// highest frame capture of this video it names; the last output that names one decides.
pub(crate) fn thumbnail_count(j: &Job, video: &VideoId) -> Option<u32> {
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
pub(crate) fn last_mp4_key(j: &Job, video: &VideoId) -> Option<String> {
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
pub(crate) fn ours(uri: &str, video: &VideoId) -> Option<String> {
    key_of(uri).filter(|k| k.starts_with(&format!("media/{video}/")))
}

proptest! {
/// A MediaConvert job state change becomes exactly the status change it reports, for the
/// video its metadata names (none when it names no video of ours); whatever else the handler
/// does (look the video up, cancel the job, remove media) concerns that video and job only.
#[test]
fn a_job_state_change_becomes_its_status_change(j in job()) {
    let h = handlers();
    let got = run(&h.transcode, job_event(&j));
    prop_assert!(matches!(got, Ok(Value::Null)), "{:?}", got);
    let calls = h.ports.asked();
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
}}
