//! Runs a MediaConvert job's settings with ffmpeg: the HLS renditions (master, variant playlists,
//! segments), MP4 files and frame captures, written to the emulator's media bucket under the
//! settings' destinations, with the job-state events MediaConvert sends. Settings it does not
//! support fail the job loudly (an `ERROR` event naming the setting), never silently.

use std::{path::Path, process::Stdio};

use serde_json::{Value, json};
use tokio::{process::Command, sync::mpsc};

mod probe;
pub use probe::{Probe, probe, probe_container};

/// Why a job failed: MediaConvert's error code and message.
#[derive(Debug)]
pub struct JobFailure {
    pub code: u32,
    pub message: String,
}

fn unsupported(what: impl Into<String>) -> JobFailure {
    JobFailure { code: 1030, message: format!("unsupported setting for the local stand-in: {}", what.into()) }
}

fn s3_parts(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    Some((bucket.to_owned(), key.to_owned()))
}

/// One rendition of a group.
#[derive(Debug, Clone)]
struct VideoOut {
    width: i64,
    height: i64,
    max_bitrate: i64,
    audio_bitrate: i64,
    gop_seconds: f64,
}

fn video_out(o: &Value, path: &str) -> Result<VideoOut, JobFailure> {
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
fn scale(v: &VideoOut) -> String {
    format!(
        "scale=w='min({},iw)':h='min({},ih)':force_original_aspect_ratio=decrease:force_divisible_by=2,format=yuv420p",
        v.width, v.height
    )
}

fn x264_args(v: &VideoOut, stream: Option<usize>, fps: f64) -> Vec<String> {
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

async fn ffmpeg(args: Vec<String>) -> Result<(), JobFailure> {
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
async fn trick_play(
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
fn clip_end(input: &Value, fps: f64) -> Result<Option<f64>, JobFailure> {
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

/// Where a destination's files go: `s3://bucket/dir/base` → (bucket, `dir/`, `base`).
fn destination(dest: &str) -> Result<(String, String, String), JobFailure> {
    let (bucket, key) = s3_parts(dest).ok_or_else(|| unsupported(format!("destination {dest}")))?;
    let (dir, base) =
        key.rsplit_once('/').map(|(d, b)| (format!("{d}/"), b.to_owned())).unwrap_or((String::new(), key));
    Ok((bucket, dir, base))
}

/// Runs the job; sends its events through `emit`; returns the final status.
pub struct Runner {
    pub s3: aws_sdk_s3::Client,
    pub emit: mpsc::UnboundedSender<Value>,
}

impl Runner {
    fn event(&self, job_id: &str, body: &Value, detail: Value) -> Value {
        let mut detail = detail;
        if let Some(obj) = detail.as_object_mut() {
            obj.insert("timestamp".into(), json!(vivid_domain::types::unix_now() * 1000));
            obj.insert("accountId".into(), json!("000000000000"));
            obj.insert("queue".into(), json!("arn:aws:mediaconvert:us-east-1:000000000000:queues/Default"));
            obj.insert("jobId".into(), json!(job_id));
            obj.insert("userMetadata".into(), body.get("userMetadata").cloned().unwrap_or_else(|| json!({})));
        }
        json!({
            "version": "0",
            "id": ulid::Ulid::new().to_string(),
            "detail-type": "MediaConvert Job State Change",
            "source": "aws.mediaconvert",
            "account": "000000000000",
            "time": vivid_domain::types::now_rfc3339(),
            "region": "us-east-1",
            "resources": [format!("arn:aws:mediaconvert:us-east-1:000000000000:jobs/{job_id}")],
            "detail": detail,
        })
    }

    /// Runs the job to its end and returns `COMPLETE` or `ERROR`.
    pub async fn run(&self, job_id: &str, body: &Value) -> &'static str {
        let _ = self.emit.send(self.event(job_id, body, json!({ "status": "PROGRESSING" })));
        let work = std::env::temp_dir().join(format!("vivid-job-{job_id}"));
        let result = self.transcode(job_id, body, &work).await;
        let _ = tokio::fs::remove_dir_all(&work).await;
        match result {
            Ok(groups) => {
                let _ = self.emit.send(self.event(
                    job_id,
                    body,
                    json!({ "status": "COMPLETE", "outputGroupDetails": groups }),
                ));
                "COMPLETE"
            }
            Err(f) => {
                tracing::warn!(job_id, code = f.code, message = f.message, "job failed");
                let _ = self.emit.send(self.event(
                    job_id,
                    body,
                    json!({ "status": "ERROR", "errorCode": f.code, "errorMessage": f.message }),
                ));
                "ERROR"
            }
        }
    }

    fn progress(&self, job_id: &str, body: &Value, percent: u64) {
        let detail = json!({
            "status": "STATUS_UPDATE",
            "jobProgress": { "jobPercentComplete": percent, "currentPhase": "TRANSCODING", "retryCount": 0 },
        });
        let _ = self.emit.send(self.event(job_id, body, detail));
    }

    async fn transcode(&self, job_id: &str, body: &Value, work: &Path) -> Result<Vec<Value>, JobFailure> {
        let settings = &body["settings"];
        let inputs = settings["inputs"].as_array().cloned().unwrap_or_default();
        if inputs.len() != 1 {
            return Err(unsupported(format!("{} inputs (one is supported)", inputs.len())));
        }
        let groups = settings["outputGroups"].as_array().cloned().unwrap_or_default();
        // Check every setting before any work.
        for (i, g) in groups.iter().enumerate() {
            match g["outputGroupSettings"]["type"].as_str() {
                Some("HLS_GROUP_SETTINGS") | Some("FILE_GROUP_SETTINGS") => {}
                other => return Err(unsupported(format!("outputGroups[{i}].type = {other:?}"))),
            }
        }
        let (bucket, key) = inputs[0]["fileInput"]
            .as_str()
            .and_then(s3_parts)
            .ok_or_else(|| unsupported("inputs[0].fileInput (an s3:// URI is supported)"))?;
        tokio::fs::create_dir_all(work).await.map_err(|e| JobFailure { code: 1999, message: e.to_string() })?;
        let input = work.join("input");
        let object = self.s3.get_object().bucket(&bucket).key(&key).send().await.map_err(|e| JobFailure {
            code: 1020,
            message: format!("cannot read {bucket}/{key}: {}", aws_sdk_s3::error::DisplayErrorContext(e)),
        })?;
        let bytes =
            object.body.collect().await.map_err(|e| JobFailure { code: 1020, message: e.to_string() })?.into_bytes();
        tokio::fs::write(&input, &bytes).await.map_err(|e| JobFailure { code: 1999, message: e.to_string() })?;
        let probe = probe(&input).await?;
        let uri = format!("s3://{bucket}/{key}");
        let info = json!({ "status": "INPUT_INFORMATION", "inputDetails": probe.input_details(&uri) });
        let _ = self.emit.send(self.event(job_id, body, info));
        let (input, probe) = match clip_end(&inputs[0], probe.fps)? {
            // Longer than the clipping, or of a length its container does not state.
            Some(end) if probe.duration_ms == 0 || probe.duration_ms as f64 > end * 1000.0 => {
                let clipped = work.join("clipped.mkv");
                ffmpeg(vec![
                    "-i".into(),
                    input.display().to_string(),
                    "-t".into(),
                    format!("{end:.3}"),
                    "-map".into(),
                    "0".into(),
                    "-c".into(),
                    "copy".into(),
                    clipped.display().to_string(),
                ])
                .await?;
                let probe = self::probe(&clipped).await?;
                (clipped, probe)
            }
            _ => (input, probe),
        };
        self.progress(job_id, body, 5);
        let mut details = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let out = work.join(format!("group{i}"));
            tokio::fs::create_dir_all(&out).await.map_err(|e| JobFailure { code: 1999, message: e.to_string() })?;
            let detail = match g["outputGroupSettings"]["type"].as_str() {
                Some("HLS_GROUP_SETTINGS") => self.hls(g, i, &input, &out, &probe).await?,
                _ => self.file_group(g, i, &input, &out, &probe).await?,
            };
            details.push(detail);
            self.progress(job_id, body, 5 + 90 * (i as u64 + 1) / groups.len().max(1) as u64);
        }
        Ok(details)
    }

    async fn upload_dir(&self, dir: &Path, bucket: &str, prefix: &str) -> Result<Vec<String>, JobFailure> {
        let mut names = Vec::new();
        let mut entries =
            tokio::fs::read_dir(dir).await.map_err(|e| JobFailure { code: 1999, message: e.to_string() })?;
        while let Ok(Some(entry)) = entries.next_entry().await {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        // Playlists last, as MediaConvert writes them after their segments.
        names.sort_by_key(|n| n.ends_with(".m3u8"));
        for name in &names {
            let content_type = match name.rsplit('.').next() {
                Some("m3u8") => "application/vnd.apple.mpegurl",
                Some("ts") => "video/mp2t",
                Some("mp4") => "video/mp4",
                Some("jpg") => "image/jpeg",
                _ => "application/octet-stream",
            };
            let body = aws_sdk_s3::primitives::ByteStream::from_path(dir.join(name))
                .await
                .map_err(|e| JobFailure { code: 1999, message: e.to_string() })?;
            self.s3
                .put_object()
                .bucket(bucket)
                .key(format!("{prefix}{name}"))
                .content_type(content_type)
                .body(body)
                .send()
                .await
                .map_err(|e| JobFailure {
                    code: 1401,
                    message: format!("cannot write the output: {}", aws_sdk_s3::error::DisplayErrorContext(e)),
                })?;
        }
        Ok(names)
    }

    async fn hls(&self, g: &Value, i: usize, input: &Path, out: &Path, probe: &Probe) -> Result<Value, JobFailure> {
        let hls = &g["outputGroupSettings"]["hlsGroupSettings"];
        let dest =
            hls["destination"].as_str().ok_or_else(|| unsupported(format!("outputGroups[{i}] without destination")))?;
        let (bucket, dir, base) = destination(dest)?;
        let segment = hls["segmentLength"].as_i64().unwrap_or(6);
        let outputs = g["outputs"].as_array().cloned().unwrap_or_default();
        let mut renditions = Vec::new();
        for (j, o) in outputs.iter().enumerate() {
            let path = format!("outputGroups[{i}].outputs[{j}]");
            if o["containerSettings"]["container"] != "M3U8" {
                return Err(unsupported(format!(
                    "{path}.containerSettings.container = {}",
                    o["containerSettings"]["container"]
                )));
            }
            let name = o["nameModifier"].as_str().ok_or_else(|| unsupported(format!("{path} without nameModifier")))?;
            renditions.push((name.trim_start_matches('_').to_owned(), name.to_owned(), video_out(o, &path)?));
        }
        let n = renditions.len();
        let split: Vec<String> = (0..n).map(|k| format!("[s{k}]")).collect();
        let mut filter = format!("[0:v]split={n}{}", split.join(""));
        for (k, (_, _, v)) in renditions.iter().enumerate() {
            filter.push_str(&format!(";[s{k}]{}[o{k}]", scale(v)));
        }
        let mut args: Vec<String> = vec!["-i".into(), input.display().to_string(), "-filter_complex".into(), filter];
        for k in 0..n {
            args.extend(["-map".into(), format!("[o{k}]")]);
            if probe.has_audio {
                args.extend(["-map".into(), "0:a:0".into()]);
            }
        }
        for (k, (_, _, v)) in renditions.iter().enumerate() {
            args.extend(x264_args(v, Some(k), probe.fps));
            if probe.has_audio {
                args.extend([format!("-c:a:{k}"), "aac".into(), format!("-b:a:{k}"), v.audio_bitrate.to_string()]);
            }
        }
        if probe.has_audio {
            args.extend(["-ar".into(), "48000".into(), "-ac".into(), "2".into()]);
        }
        let map: Vec<String> = renditions
            .iter()
            .enumerate()
            .map(
                |(k, (name, _, _))| {
                    if probe.has_audio { format!("v:{k},a:{k},name:{name}") } else { format!("v:{k},name:{name}") }
                },
            )
            .collect();
        args.extend([
            "-sc_threshold".into(),
            "0".into(),
            "-f".into(),
            "hls".into(),
            "-hls_time".into(),
            segment.to_string(),
            "-hls_playlist_type".into(),
            "vod".into(),
            "-hls_segment_filename".into(),
            out.join(format!("{base}_%v_%05d.ts")).display().to_string(),
            "-master_pl_name".into(),
            format!("{base}.m3u8"),
            "-var_stream_map".into(),
            map.join(" "),
            out.join(format!("{base}_%v.m3u8")).display().to_string(),
        ]);
        ffmpeg(args).await?;
        trick_play(hls, i, input, out, &base, probe).await?;
        self.upload_dir(out, &bucket, &dir).await?;
        let mut output_details = Vec::new();
        for (_, modifier, v) in &renditions {
            let (w, h) = dimensions(&out.join(format!("{base}{modifier}_00000.ts"))).await;
            let _ = v;
            output_details.push(json!({
                "outputFilePaths": [format!("s3://{bucket}/{dir}{base}{modifier}.m3u8")],
                "durationInMs": probe.duration_ms,
                "videoDetails": { "widthInPx": w, "heightInPx": h },
            }));
        }
        Ok(json!({
            "type": "HLS_GROUP",
            "playlistFilePaths": [format!("s3://{bucket}/{dir}{base}.m3u8")],
            "outputDetails": output_details,
        }))
    }

    async fn file_group(
        &self,
        g: &Value,
        i: usize,
        input: &Path,
        out: &Path,
        probe: &Probe,
    ) -> Result<Value, JobFailure> {
        let dest = g["outputGroupSettings"]["fileGroupSettings"]["destination"]
            .as_str()
            .ok_or_else(|| unsupported(format!("outputGroups[{i}] without destination")))?;
        let (bucket, dir, base) = destination(dest)?;
        let mut output_details = Vec::new();
        for (j, o) in g["outputs"].as_array().cloned().unwrap_or_default().iter().enumerate() {
            let path = format!("outputGroups[{i}].outputs[{j}]");
            let modifier = o["nameModifier"].as_str().unwrap_or("");
            match o["containerSettings"]["container"].as_str() {
                Some("MP4") => {
                    let v = video_out(o, &path)?;
                    let file = out.join(format!("{base}{modifier}.mp4"));
                    let mut args: Vec<String> = vec!["-i".into(), input.display().to_string(), "-vf".into(), scale(&v)];
                    args.extend(x264_args(&v, None, probe.fps));
                    args.extend(["-sc_threshold".into(), "0".into()]);
                    if probe.has_audio {
                        args.extend([
                            "-c:a".into(),
                            "aac".into(),
                            "-b:a".into(),
                            v.audio_bitrate.to_string(),
                            "-ar".into(),
                            "48000".into(),
                            "-ac".into(),
                            "2".into(),
                        ]);
                    }
                    args.extend(["-movflags".into(), "+faststart".into(), file.display().to_string()]);
                    ffmpeg(args).await?;
                    let (w, h) = dimensions(&file).await;
                    output_details.push(json!({
                        "outputFilePaths": [format!("s3://{bucket}/{dir}{base}{modifier}.mp4")],
                        "durationInMs": probe.duration_ms,
                        "videoDetails": { "widthInPx": w, "heightInPx": h },
                    }));
                }
                Some("RAW") if o["videoDescription"]["codecSettings"]["codec"] == "FRAME_CAPTURE" => {
                    let vd = &o["videoDescription"];
                    let fc = &vd["codecSettings"]["frameCaptureSettings"];
                    let (num, den) = (
                        fc["framerateNumerator"].as_i64().unwrap_or(1),
                        fc["framerateDenominator"].as_i64().unwrap_or(1),
                    );
                    let (w, h) = (vd["width"].as_i64().unwrap_or(480), vd["height"].as_i64().unwrap_or(270));
                    let quality = fc["quality"].as_i64().unwrap_or(80).clamp(1, 100);
                    let qscale = (31 - (quality * 29 / 100)).max(2);
                    let pattern = out.join(format!("{base}{modifier}.%07d.jpg"));
                    // The first frame, then the first at or after every interval, as MediaConvert
                    // captures: ⌈duration / interval⌉ captures.
                    let interval = den.max(1) as f64 / num.max(1) as f64;
                    let filter = format!(
                        "select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,{interval})',scale=w='min({w},iw)':h='min({h},ih)':force_original_aspect_ratio=decrease:force_divisible_by=2"
                    );
                    ffmpeg(vec![
                        "-i".into(),
                        input.display().to_string(),
                        "-vf".into(),
                        filter,
                        "-fps_mode".into(),
                        "vfr".into(),
                        "-q:v".into(),
                        qscale.to_string(),
                        "-start_number".into(),
                        "0".into(),
                        pattern.display().to_string(),
                    ])
                    .await?;
                    // MediaConvert names the last capture in its event, and reports the output's
                    // duration as captures × interval: longer than the video (5.0 s for a
                    // 1.96 s clip, 185.0 s for 180.041 s, in AWS's own events).
                    let captures = count_files(out, &format!("{base}{modifier}."), ".jpg").await.max(1);
                    let last = captures - 1;
                    output_details.push(json!({
                        "outputFilePaths": [format!("s3://{bucket}/{dir}{base}{modifier}.{last:07}.jpg")],
                        "durationInMs": (captures as f64 * interval * 1000.0).round() as u64,
                        "videoDetails": { "widthInPx": w, "heightInPx": h },
                    }));
                }
                other => return Err(unsupported(format!("{path}.containerSettings.container = {other:?}"))),
            }
        }
        self.upload_dir(out, &bucket, &dir).await?;
        Ok(json!({ "type": "FILE_GROUP", "outputDetails": output_details }))
    }
}

/// How many files of `dir` have this prefix and suffix.
async fn count_files(dir: &Path, prefix: &str, suffix: &str) -> u64 {
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
