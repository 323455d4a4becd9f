//! What ffmpeg is run with: each rendition's scaling and x264 settings, trick-play sheets,
//! an input's clipping, and what the files it wrote measure.

use std::{path::Path, process::Stdio};

use serde_json::Value;
use tokio::process::Command;

use super::{JobFailure, Probe, unsupported};

/// One rendition of a group.
#[derive(Debug, Clone)]
pub(super) struct VideoOut {
    pub(super) width: i64,
    pub(super) height: i64,
    pub(super) max_bitrate: i64,
    pub(super) audio_bitrate: i64,
    pub(super) gop_seconds: f64,
}

pub(super) fn video_out(o: &Value, path: &str) -> Result<VideoOut, JobFailure> {
    let vd = &o["videoDescription"];
    let codec = vd["codecSettings"]["codec"].as_str().unwrap_or("");
    if codec != "H_264" {
        return Err(unsupported(format!("{path}.videoDescription.codecSettings.codec = {codec}")));
    }
    let h264 = &vd["codecSettings"]["h264Settings"];
    match vd["scalingBehavior"].as_str() {
        None | Some("FIT_NO_UPSCALE") => {}
        Some(other) => return Err(unsupported(format!("{path}.videoDescription.scalingBehavior = {other}"))),
    }
    if let Some(units) = h264["gopSizeUnits"].as_str().filter(|u| *u != "SECONDS") {
        return Err(unsupported(format!("{path} gopSizeUnits = {units}")));
    }
    let audio = &o["audioDescriptions"][0]["codecSettings"];
    if !audio.is_null() && audio["codec"] != "AAC" {
        return Err(unsupported(format!("{path}.audioDescriptions[0].codecSettings.codec = {}", audio["codec"])));
    }
    Ok(VideoOut {
        width: vd["width"].as_i64().ok_or_else(|| unsupported(format!("{path} without width")))?,
        height: vd["height"].as_i64().ok_or_else(|| unsupported(format!("{path} without height")))?,
        max_bitrate: h264["maxBitrate"].as_i64().unwrap_or(3_000_000),
        audio_bitrate: audio["aacSettings"]["bitrate"].as_i64().unwrap_or(96_000),
        gop_seconds: h264["gopSize"].as_f64().unwrap_or(2.0),
    })
}

/// Fit within width × height, never upscaled, even dimensions, in 8-bit 4:2:0: MediaConvert's
/// H.264 outputs take a 4:4:4, 4:2:2 or 10-bit source and convert it, as x264's main profile
/// needs (without the conversion ffmpeg keeps the source's chroma and the encoder refuses it).
pub(super) fn scale(v: &VideoOut) -> String {
    format!(
        "scale=w='min({},iw)':h='min({},ih)':force_original_aspect_ratio=decrease:force_divisible_by=2,format=yuv420p",
        v.width, v.height
    )
}

pub(super) fn x264_args(v: &VideoOut, stream: Option<usize>, fps: f64) -> Vec<String> {
    let s = |flag: &str| match stream {
        Some(i) => format!("-{flag}:v:{i}"),
        None => format!("-{flag}:v"),
    };
    let gop = ((v.gop_seconds * fps).round() as i64).max(1);
    vec![
        s("c"),
        "libx264".into(),
        s("profile"),
        "main".into(),
        s("preset"),
        "veryfast".into(),
        s("crf"),
        "23".into(),
        s("maxrate"),
        v.max_bitrate.to_string(),
        s("bufsize"),
        (v.max_bitrate * 2).to_string(),
        s("g"),
        gop.to_string(),
        s("keyint_min"),
        gop.to_string(),
    ]
}

pub(super) async fn ffmpeg(args: Vec<String>) -> Result<(), JobFailure> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| JobFailure { code: 1999, message: format!("cannot run ffmpeg: {e}") })?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String =
            err.lines().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | ");
        Err(JobFailure { code: 1040, message: format!("Transcoding failed: {tail}") })
    }
}

/// An HLS group's image-based trick play, as MediaConvert's `ADVANCED` mode writes it: thumbnails
/// every `thumbnailInterval` seconds tiled `tileWidth × tileHeight` into JPEG sheets
/// (`{base}_thumb_00001.jpg`, ...), an image media playlist naming them (`{base}_thumb.m3u8`,
/// `#EXT-X-IMAGES-ONLY`, `#EXT-X-TILES`) and its `#EXT-X-IMAGE-STREAM-INF` in the master.
pub(super) async fn trick_play(
    hls: &Value,
    i: usize,
    input: &Path,
    out: &Path,
    base: &str,
    probe: &Probe,
) -> Result<(), JobFailure> {
    let path = format!("outputGroups[{i}].outputGroupSettings.hlsGroupSettings");
    match hls["imageBasedTrickPlay"].as_str() {
        None | Some("NONE") => return Ok(()),
        Some("ADVANCED") => {}
        Some(other) => return Err(unsupported(format!("{path}.imageBasedTrickPlay = {other}"))),
    }
    let t = &hls["imageBasedTrickPlaySettings"];
    if t["intervalCadence"] != "FOLLOW_CUSTOM" {
        return Err(unsupported(format!(
            "{path}.imageBasedTrickPlaySettings.intervalCadence = {}",
            t["intervalCadence"]
        )));
    }
    let number = |name: &str| t[name].as_f64().filter(|v| v.is_finite() && *v > 0.0);
    let (Some(interval), Some(width), Some(columns), Some(rows)) =
        (number("thumbnailInterval"), number("thumbnailWidth"), number("tileWidth"), number("tileHeight"))
    else {
        return Err(unsupported(format!("{path}.imageBasedTrickPlaySettings without interval, width or tile layout")));
    };
    let height = number("thumbnailHeight").map(|h| h.to_string()).unwrap_or_else(|| "-2".into());
    ffmpeg(vec![
        "-i".into(),
        input.display().to_string(),
        "-an".into(),
        "-vf".into(),
        // The first frame, then one every `interval` seconds (a clip shorter than the interval
        // still gets its one thumbnail, as MediaConvert gives it).
        format!("select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,{interval})',scale={width}:{height},tile={columns}x{rows}"),
        "-fps_mode".into(),
        "vfr".into(),
        "-q:v".into(),
        "4".into(),
        out.join(format!("{base}_thumb_%05d.jpg")).display().to_string(),
    ])
    .await?;
    let first = out.join(format!("{base}_thumb_00001.jpg"));
    let (sheet_w, sheet_h) = dimensions(&first).await;
    let mut sheets = 0;
    while tokio::fs::try_exists(out.join(format!("{base}_thumb_{:05}.jpg", sheets + 1))).await.unwrap_or(false) {
        sheets += 1;
    }
    if sheets == 0 || sheet_w <= 0 || sheet_h <= 0 {
        return Err(JobFailure { code: 1040, message: "Transcoding failed: no trick-play sheet".into() });
    }
    let thumb = ((sheet_w as f64 / columns) as u32, (sheet_h as f64 / rows) as u32);
    let playlist = vivid_domain::storyboard::image_playlist(
        |k| format!("{base}_thumb_{:05}.jpg", k + 1),
        sheets,
        probe.duration_ms as f64 / 1000.0,
        thumb,
        (columns as u32, rows as u32),
        interval,
    );
    let name = format!("{base}_thumb.m3u8");
    tokio::fs::write(out.join(&name), playlist)
        .await
        .map_err(|e| JobFailure { code: 1401, message: format!("cannot write the output: {e}") })?;
    let master = out.join(format!("{base}.m3u8"));
    let mut text = tokio::fs::read_to_string(&master)
        .await
        .map_err(|e| JobFailure { code: 1401, message: format!("cannot read the master: {e}") })?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        "#EXT-X-IMAGE-STREAM-INF:BANDWIDTH={},RESOLUTION={sheet_w}x{sheet_h},CODECS=\"jpeg\",URI=\"{name}\"\n",
        (sheet_w * sheet_h / 8).max(1000)
    ));
    tokio::fs::write(&master, text)
        .await
        .map_err(|e| JobFailure { code: 1401, message: format!("cannot write the output: {e}") })
}

/// Where an input's clipping ends, in seconds of its zero-based timeline (`inputClippings` with
/// one `endTimecode` `HH:MM:SS:FF` and no start is what is supported; frames count at `fps`).
pub(super) fn clip_end(input: &Value, fps: f64) -> Result<Option<f64>, JobFailure> {
    let Some(clips) = input.get("inputClippings").and_then(Value::as_array) else { return Ok(None) };
    let [clip] = clips.as_slice() else {
        return Err(unsupported(format!("inputs[0].inputClippings with {} clippings (one is supported)", clips.len())));
    };
    if clip.get("startTimecode").is_some() || input["timecodeSource"] != "ZEROBASED" {
        return Err(unsupported("inputs[0].inputClippings other than an end on a ZEROBASED timecode"));
    }
    let end = clip["endTimecode"].as_str().unwrap_or("");
    let parts: Vec<f64> = end.split([':', ';']).filter_map(|p| p.parse::<f64>().ok()).collect();
    let [h, m, s, f] = parts.as_slice() else {
        return Err(unsupported(format!("inputs[0].inputClippings[0].endTimecode = {end}")));
    };
    Ok(Some(h * 3600.0 + m * 60.0 + s + f / fps.max(1.0)))
}

/// How many files of `dir` have this prefix and suffix.
pub(super) async fn count_files(dir: &Path, prefix: &str, suffix: &str) -> u64 {
    let mut n = 0;
    if let Ok(mut entries) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            n += u64::from(name.starts_with(prefix) && name.ends_with(suffix));
        }
    }
    n
}

/// The width and height of a media file (0 × 0 when unreadable).
pub async fn dimensions(file: &Path) -> (i64, i64) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "json"])
        .arg(file)
        .output()
        .await;
    let Ok(out) = out else { return (0, 0) };
    let info: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (info["streams"][0]["width"].as_i64().unwrap_or(0), info["streams"][0]["height"].as_i64().unwrap_or(0))
}
