//! What ffprobe tells of a job's input: what the transcoding needs (duration, frame rate,
//! audio), the input as MediaConvert's `INPUT_INFORMATION` event describes it, and a file's
//! container as MediaConvert's `Probe` answers it.

use std::path::Path;

use serde_json::{Value, json};
use tokio::process::Command;

use super::JobFailure;

/// What ffprobe tells of the input.
#[derive(Debug, Clone)]
pub struct Probe {
    pub duration_ms: u64,
    pub fps: f64,
    pub has_audio: bool,
    /// The streams as ffprobe lists them (for `INPUT_INFORMATION`).
    pub streams: Vec<Value>,
}

/// MediaConvert's names of a few codecs ffprobe names.
fn mediaconvert_codec(ffprobe: &str) -> String {
    match ffprobe {
        "h264" => "H_264".into(),
        "hevc" => "H_265".into(),
        "mpeg2video" => "MPEG2".into(),
        "prores" => "PRORES".into(),
        "vp8" => "VP8".into(),
        "vp9" => "VP9".into(),
        "av1" => "AV1".into(),
        "aac" => "AAC".into(),
        "mp3" => "MP3".into(),
        "opus" => "OPUS".into(),
        "pcm_s16le" | "pcm_s24le" => "PCM".into(),
        other => other.to_ascii_uppercase(),
    }
}

impl Probe {
    /// The input as MediaConvert's `INPUT_INFORMATION` event describes it (AWS's documented
    /// shape: `video[]` with `bitDepth`, `codec`, `colorFormat`, `fourCC`, `frameRate`, `height`,
    /// `interlaceMode`, `sar`, `standard`, `streamId`, `width`; `audio[]` with `channels`,
    /// `codec`, `language`, `sampleRate`, `streamId`). No duration: the documented event has none.
    pub fn input_details(&self, uri: &str) -> Value {
        let mut video = Vec::new();
        let mut audio = Vec::new();
        for s in &self.streams {
            let id = s["index"].as_u64().unwrap_or(0) + 1;
            let codec = mediaconvert_codec(s["codec_name"].as_str().unwrap_or(""));
            match s["codec_type"].as_str() {
                Some("video") => {
                    let pix = s["pix_fmt"].as_str().unwrap_or("");
                    let color = if pix.contains("444") {
                        "YUV_444"
                    } else if pix.contains("422") {
                        "YUV_422"
                    } else {
                        "YUV_420"
                    };
                    let depth = if pix.contains("p10") || pix.contains("p12") { 10 } else { 8 };
                    video.push(json!({
                        "bitDepth": depth,
                        "codec": codec,
                        "colorFormat": color,
                        "fourCC": s["codec_tag_string"].as_str().unwrap_or(""),
                        "frameRate": (self.fps * 1000.0).round() / 1000.0,
                        "height": s["height"].as_u64().unwrap_or(0),
                        "interlaceMode": "PROGRESSIVE",
                        "sar": s["sample_aspect_ratio"].as_str().unwrap_or("1:1"),
                        "standard": "UNSPECIFIED",
                        "streamId": id,
                        "width": s["width"].as_u64().unwrap_or(0),
                    }));
                }
                Some("audio") => audio.push(json!({
                    "channels": s["channels"].as_u64().unwrap_or(2),
                    "codec": codec,
                    "language": "UND",
                    "sampleRate": s["sample_rate"].as_str().and_then(|r| r.parse::<u64>().ok()).unwrap_or(48_000),
                    "streamId": id,
                })),
                _ => {}
            }
        }
        json!([{ "id": 1, "uri": uri, "audio": audio, "video": video }])
    }
}

pub async fn probe(input: &Path) -> Result<Probe, JobFailure> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
        .arg(input)
        .output()
        .await
        .map_err(|e| JobFailure { code: 1999, message: format!("cannot run ffprobe: {e}") })?;
    let demux_error =
        |detail: String| JobFailure { code: 1010, message: format!("Demuxer: cannot read the input: {detail}") };
    if !out.status.success() {
        return Err(demux_error(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    let info: Value = serde_json::from_slice(&out.stdout).map_err(|e| demux_error(e.to_string()))?;
    let streams = info["streams"].as_array().cloned().unwrap_or_default();
    let video =
        streams.iter().find(|s| s["codec_type"] == "video").ok_or_else(|| demux_error("no video stream".into()))?;
    let fps = video["avg_frame_rate"]
        .as_str()
        .and_then(|r| r.split_once('/'))
        .and_then(|(n, d)| Some(n.parse::<f64>().ok()? / d.parse::<f64>().ok().filter(|d| *d > 0.0)?))
        .filter(|f| f.is_finite() && *f > 0.0)
        .unwrap_or(30.0);
    let seconds = info["format"]["duration"].as_str().and_then(|d| d.parse::<f64>().ok()).unwrap_or(0.0);
    Ok(Probe {
        duration_ms: (seconds * 1000.0).round() as u64,
        fps,
        has_audio: streams.iter().any(|s| s["codec_type"] == "audio"),
        streams,
    })
}

/// The `Probe` API's codec names (its `Codec` enum) for the codecs ffprobe names.
fn probe_codec(ffprobe: &str) -> &'static str {
    match ffprobe {
        "h264" => "AVC",
        "hevc" => "HEVC",
        "av1" => "AV1",
        "mpeg2video" => "MPEG2",
        "mpeg4" => "MP4V",
        "prores" => "PRORES",
        "vp8" => "VP8",
        "vp9" => "VP9",
        "mjpeg" => "MJPEG",
        "theora" => "THEORA",
        "aac" => "AAC",
        "ac3" => "AC3",
        "eac3" => "EAC3",
        "flac" => "FLAC",
        "mp3" => "MP3",
        "opus" => "OPUS",
        "vorbis" => "VORBIS",
        c if c.starts_with("pcm_") => "PCM",
        _ => "UNKNOWN",
    }
}

/// The `Probe` API's container format for ffprobe's format name (`None`: one it does not list).
fn probe_format(info: &Value) -> Option<&'static str> {
    let name = info["format"]["format_name"].as_str().unwrap_or("");
    let codecs: Vec<&str> = info["streams"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["codec_name"].as_str()).collect())
        .unwrap_or_default();
    Some(match name {
        n if n.starts_with("mov,mp4") => {
            if info["format"]["tags"]["major_brand"].as_str().is_some_and(|b| b.trim() == "qt") {
                "quicktime"
            } else {
                "mp4"
            }
        }
        n if n.starts_with("matroska") => {
            let web = codecs.iter().all(|c| ["vp8", "vp9", "av1", "opus", "vorbis"].contains(c));
            if web { "webm" } else { "matroska" }
        }
        "mpegts" => "mpegts",
        "mpeg" => "mpegps",
        "avi" => "avi",
        "mxf" => "mxf",
        "wav" => "wave",
        "asf" => "asf",
        "flac" => "flac",
        "mp3" => "mp3",
        "ogg" => "ogg",
        "aac" => "aac",
        "ac3" => "ac3",
        "eac3" => "eac3",
        _ => return None,
    })
}

/// A file's container as MediaConvert's `Probe` describes it (`format`, `duration` in seconds,
/// `tracks` with `index`, `trackType`, `codec` and `duration`), read by ffprobe from `target` (a
/// path or an HTTP URL, of which it fetches what the container needs). Blank (`{}`) when ffprobe
/// cannot read it or its format is none `Probe` lists.
pub async fn probe_container(target: &str) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
        .arg(target)
        .output()
        .await;
    let Some(info) =
        out.ok().filter(|o| o.status.success()).and_then(|o| serde_json::from_slice::<Value>(&o.stdout).ok())
    else {
        return json!({});
    };
    let Some(format) = probe_format(&info) else { return json!({}) };
    let seconds = |v: &Value| v.as_str().and_then(|d| d.parse::<f64>().ok()).filter(|d| d.is_finite() && *d >= 0.0);
    let tracks: Vec<Value> = info["streams"]
        .as_array()
        .map(|streams| {
            streams
                .iter()
                .map(|s| {
                    let kind = match s["codec_type"].as_str() {
                        Some("video") => "video",
                        Some("audio") => "audio",
                        _ => "data",
                    };
                    let mut track = json!({
                        "index": s["index"].as_u64().unwrap_or(0),
                        "trackType": kind,
                        "codec": probe_codec(s["codec_name"].as_str().unwrap_or("")),
                    });
                    if let Some(d) = seconds(&s["duration"]) {
                        track["duration"] = json!(d);
                    }
                    track
                })
                .collect()
        })
        .unwrap_or_default();
    let mut container = json!({ "format": format, "tracks": tracks });
    if let Some(d) = seconds(&info["format"]["duration"]) {
        container["duration"] = json!(d);
    }
    container
}
