//! The output groups a job writes: HLS (renditions, master playlist, trick play) and files
//! (MP4s and frame captures).

use std::path::Path;

use serde_json::{Value, json};

use super::{
    JobFailure, Probe, Runner, destination,
    encode::{count_files, dimensions, ffmpeg, scale, trick_play, video_out, x264_args},
    unsupported,
};

impl Runner {
    pub(super) async fn hls(
        &self,
        g: &Value,
        i: usize,
        input: &Path,
        out: &Path,
        probe: &Probe,
    ) -> Result<Value, JobFailure> {
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

    pub(super) async fn file_group(
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
