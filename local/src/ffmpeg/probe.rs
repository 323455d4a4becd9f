//! What ffprobe tells of a job's input: what the transcoding needs (duration, frame rate,
//! audio), and the input as MediaConvert's `INPUT_INFORMATION` event describes it.

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
