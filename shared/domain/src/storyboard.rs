//! Storyboards: seek previews for players. The transcoder writes thumbnails tiled into sprite
//! sheets and an HLS image media playlist naming them (`#EXT-X-IMAGES-ONLY`, `#EXT-X-TILES`,
//! referenced from the master by `#EXT-X-IMAGE-STREAM-INF`); from that playlist the suite writes
//! a WebVTT storyboard whose cues point at regions of the sheets (`sheet.jpg#xywh=x,y,w,h`), the
//! form Video.js, hls.js-based players, Mux's and JW Player load.

/// One thumbnail every this many seconds (the trick-play interval the job asks for).
pub const INTERVAL_SECS: u32 = 5;
/// Thumbnail width in a sheet (MediaConvert: divisible by 8); the height follows the video's
/// aspect ratio.
pub const THUMB_WIDTH_PX: u32 = 160;
/// Thumbnails per row and per column of a sheet: 100 a sheet, 500 seconds of video.
pub const TILE_COLUMNS: u32 = 10;
pub const TILE_ROWS: u32 = 10;
/// The storyboard's file name, beside the image playlist (its cues name the sheets relative to it).
pub const STORYBOARD_FILE: &str = "storyboard.vtt";

/// One sprite sheet of the image playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The sheet's URI as the playlist names it (relative to the playlist).
    pub uri: String,
    /// The span of video it covers, in seconds.
    pub duration: f64,
    /// One thumbnail's size in pixels.
    pub thumb_width: u32,
    pub thumb_height: u32,
    /// Thumbnails per row and per column.
    pub columns: u32,
    pub rows: u32,
    /// Seconds of video per thumbnail.
    pub interval: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoryboardError {
    #[error("not an image media playlist: {0}")]
    Malformed(String),
}

fn malformed(what: impl Into<String>) -> StoryboardError {
    StoryboardError::Malformed(what.into())
}

/// An attribute of an HLS attribute list (`KEY=value,KEY="quoted"`).
fn attribute<'a>(list: &'a str, key: &str) -> Option<&'a str> {
    let mut rest = list;
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], quoted[end + 1..].trim_start_matches(','))
        } else {
            match after.split_once(',') {
                Some((v, n)) => (v, n),
                None => (after, ""),
            }
        };
        if name.trim() == key {
            return Some(value);
        }
        rest = next;
    }
    None
}

/// The URI of the master playlist's image stream (`#EXT-X-IMAGE-STREAM-INF:…,URI="…"`), if any.
pub fn image_playlist_uri(master: &str) -> Option<String> {
    master
        .lines()
        .filter_map(|l| l.trim().strip_prefix("#EXT-X-IMAGE-STREAM-INF:"))
        .find_map(|attrs| attribute(attrs, "URI"))
        .filter(|uri| !uri.is_empty() && !uri.contains("..") && !uri.starts_with('/') && !uri.contains("://"))
        .map(str::to_owned)
}

fn pair(v: &str, sep: char, what: &str) -> Result<(u32, u32), StoryboardError> {
    let (a, b) = v.split_once(sep).ok_or_else(|| malformed(format!("{what} {v}")))?;
    let parse = |s: &str| s.trim().parse::<u32>().ok().filter(|n| (1..=8192).contains(n));
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(malformed(format!("{what} {v}"))),
    }
}

/// The sheets of an image media playlist, in order.
pub fn parse_image_playlist(text: &str) -> Result<Vec<Sheet>, StoryboardError> {
    if !text.trim_start().starts_with("#EXTM3U") {
        return Err(malformed("no #EXTM3U"));
    }
    if !text.lines().any(|l| l.trim() == "#EXT-X-IMAGES-ONLY") {
        return Err(malformed("no #EXT-X-IMAGES-ONLY"));
    }
    /// The last `#EXT-X-TILES`: thumbnail size, layout and interval.
    type Tiles = ((u32, u32), (u32, u32), f64);
    let mut sheets = Vec::new();
    let (mut duration, mut tiles): (Option<f64>, Option<Tiles>) = (None, None);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(v) = line.strip_prefix("#EXTINF:") {
            let d = v.split(',').next().unwrap_or_default().trim().parse::<f64>().ok();
            duration = Some(d.filter(|d| d.is_finite() && *d > 0.0).ok_or_else(|| malformed(format!("EXTINF {v}")))?);
        } else if let Some(attrs) = line.strip_prefix("#EXT-X-TILES:") {
            let (w, h) = pair(
                attribute(attrs, "RESOLUTION").ok_or_else(|| malformed("TILES without RESOLUTION"))?,
                'x',
                "RESOLUTION",
            )?;
            let (c, r) =
                pair(attribute(attrs, "LAYOUT").ok_or_else(|| malformed("TILES without LAYOUT"))?, 'x', "LAYOUT")?;
            let interval = attribute(attrs, "DURATION")
                .and_then(|d| d.trim().parse::<f64>().ok())
                .filter(|d| d.is_finite() && *d > 0.0)
                .ok_or_else(|| malformed("TILES without a DURATION"))?;
            tiles = Some(((w, h), (c, r), interval));
        } else if !line.starts_with('#') {
            let duration = duration.take().ok_or_else(|| malformed(format!("{line} without EXTINF")))?;
            let ((thumb_width, thumb_height), (columns, rows), interval) =
                tiles.ok_or_else(|| malformed(format!("{line} without EXT-X-TILES")))?;
            if line.contains("..") || line.starts_with('/') || line.contains("://") || line.contains('#') {
                return Err(malformed(format!("sheet URI {line}")));
            }
            sheets.push(Sheet { uri: line.to_owned(), duration, thumb_width, thumb_height, columns, rows, interval });
        }
    }
    if sheets.is_empty() {
        return Err(malformed("no sheet"));
    }
    Ok(sheets)
}

/// `HH:MM:SS.mmm`.
pub fn vtt_time(seconds: f64) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// The WebVTT storyboard of the sheets: one cue per thumbnail, back to back from 0, each naming
/// its region of its sheet. A sheet shows at most `columns × rows` thumbnails; the last one may
/// show fewer (its span is shorter).
pub fn storyboard_vtt(sheets: &[Sheet]) -> String {
    let mut out = String::from("WEBVTT\n");
    let mut start = 0.0;
    for sheet in sheets {
        let capacity = sheet.columns * sheet.rows;
        let end_of_sheet = start + sheet.duration;
        let count = ((sheet.duration / sheet.interval) - 1e-6).ceil().clamp(1.0, f64::from(capacity)) as u32;
        for i in 0..count {
            let from = start + f64::from(i) * sheet.interval;
            let to = if i + 1 == count { end_of_sheet } else { (from + sheet.interval).min(end_of_sheet) };
            if to <= from {
                break;
            }
            let (x, y) = ((i % sheet.columns) * sheet.thumb_width, (i / sheet.columns) * sheet.thumb_height);
            out.push_str(&format!(
                "\n{} --> {}\n{}#xywh={x},{y},{},{}\n",
                vtt_time(from),
                vtt_time(to),
                sheet.uri,
                sheet.thumb_width,
                sheet.thumb_height
            ));
        }
        start = end_of_sheet;
    }
    out
}

/// The image media playlist the local transcoder writes (the form MediaConvert's advanced
/// image-based trick play writes): `sheets` sheets of `columns × rows` thumbnails of
/// `thumb_width × thumb_height`, one every `interval` seconds, over `duration` seconds.
pub fn image_playlist(
    sheet_uri: impl Fn(usize) -> String,
    sheets: usize,
    duration: f64,
    (thumb_width, thumb_height): (u32, u32),
    (columns, rows): (u32, u32),
    interval: f64,
) -> String {
    let span = f64::from(columns * rows) * interval;
    let mut out = format!(
        "#EXTM3U\n#EXT-X-TARGETDURATION:{}\n#EXT-X-VERSION:7\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-IMAGES-ONLY\n",
        span.ceil() as u64
    );
    for k in 0..sheets {
        let d = (duration - k as f64 * span).min(span).max(interval.min(duration.max(0.001)));
        out.push_str(&format!(
            "#EXTINF:{d:.3},\n#EXT-X-TILES:RESOLUTION={thumb_width}x{thumb_height},LAYOUT={columns}x{rows},DURATION={interval:.3}\n{}\n",
            sheet_uri(k)
        ));
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360,CODECS=\"avc1.64001f,mp4a.40.2\"\nindex_360p.m3u8\n#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=12000,RESOLUTION=1600x900,CODECS=\"jpeg\",URI=\"index_thumb.m3u8\"\n";

    #[test]
    fn the_master_names_its_image_stream() {
        assert_eq!(image_playlist_uri(MASTER).as_deref(), Some("index_thumb.m3u8"));
        assert_eq!(image_playlist_uri("#EXTM3U\nindex_360p.m3u8\n"), None);
        assert_eq!(image_playlist_uri("#EXT-X-IMAGE-STREAM-INF:URI=\"../x.m3u8\""), None, "no way out of the folder");
    }

    #[test]
    fn a_playlist_round_trips_into_cues_inside_their_sheets() {
        let text = image_playlist(|k| format!("index_thumb_{:05}.jpg", k + 1), 2, 512.3, (160, 90), (10, 10), 5.0);
        let sheets = parse_image_playlist(&text).unwrap();
        assert_eq!(sheets.len(), 2);
        assert_eq!((sheets[0].duration, sheets[1].duration), (500.0, 12.3));
        let vtt = storyboard_vtt(&sheets);
        assert!(vtt.starts_with("WEBVTT\n"));
        let cues: Vec<&str> = vtt.split("\n\n").skip(1).collect();
        assert_eq!(cues.len(), 103, "100 on the first sheet, 3 on the second (12.3 s)");
        assert!(cues[0].starts_with("00:00:00.000 --> 00:00:05.000\nindex_thumb_00001.jpg#xywh=0,0,160,90"));
        assert!(cues[99].contains("00:08:15.000 --> 00:08:20.000\nindex_thumb_00001.jpg#xywh=1440,810,160,90"));
        assert!(cues[102].starts_with("00:08:30.000 --> 00:08:32.300\nindex_thumb_00002.jpg#xywh=320,0,160,90"));
    }

    #[test]
    fn malformed_playlists_are_refused() {
        for bad in [
            "",
            "#EXTM3U\n#EXTINF:5,\nx.jpg\n",
            "#EXTM3U\n#EXT-X-IMAGES-ONLY\n#EXTINF:5,\nx.jpg\n",
            "#EXTM3U\n#EXT-X-IMAGES-ONLY\n#EXT-X-TILES:RESOLUTION=160x90,LAYOUT=0x10,DURATION=5\n#EXTINF:5,\nx.jpg\n",
            "#EXTM3U\n#EXT-X-IMAGES-ONLY\n#EXT-X-TILES:RESOLUTION=160x90,LAYOUT=10x10,DURATION=5\n#EXTINF:5,\n../x.jpg\n",
        ] {
            assert!(parse_image_playlist(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn times_are_written_to_the_millisecond() {
        assert_eq!(vtt_time(0.0), "00:00:00.000");
        assert_eq!(vtt_time(3725.5), "01:02:05.500");
        assert_eq!(vtt_time(36000.0), "10:00:00.000");
    }
}
