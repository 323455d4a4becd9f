//! Captions: per video and language, a WebVTT track (uploaded as WebVTT or SRT, checked and
//! written out again as plain WebVTT), served beside the video's media and referenced from an HLS
//! master of our own as a subtitles rendition, so hls.js and native players offer it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{storyboard::vtt_time, types::Invalid};

/// The largest caption file accepted (a three-hour lecture's captions are about 300 KB).
pub const MAX_BYTES: usize = 1024 * 1024;
/// The most cues a track may hold.
pub const MAX_CUES: usize = 20_000;
/// The most characters one cue's text may hold.
pub const MAX_CUE_CHARS: usize = 1_000;
/// The most caption languages one video may have.
pub const MAX_TRACKS: usize = 20;
/// Cues end within a day.
const MAX_SECONDS: f64 = 24.0 * 3600.0;

/// A language tag (BCP 47, the common forms): `en`, `de-CH`, `zh-Hant`, `es-419`. Kept as given
/// with the language in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Lang(String);

impl Lang {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Lang {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        let bad = || Invalid("lang must be a language tag such as en, de-CH or zh-Hant".to_owned());
        let mut parts = s.split('-');
        let primary = parts.next().ok_or_else(bad)?;
        if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(bad());
        }
        let rest: Vec<&str> = parts.collect();
        if rest.len() > 2
            || rest.iter().any(|p| !(2..=8).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(bad());
        }
        let mut out = primary.to_ascii_lowercase();
        for p in rest {
            out.push('-');
            out.push_str(p);
        }
        Ok(Self(out))
    }
}

impl std::str::FromStr for Lang {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::try_from(s.to_owned())
    }
}

impl From<Lang> for String {
    fn from(l: Lang) -> String {
        l.0
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a track came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptionSource {
    /// Uploaded by the host or a co-host.
    Upload,
    /// The transcript Zoom made of the recording.
    Zoom,
    /// Recognised automatically (Amazon Transcribe).
    Transcribe,
}

/// One caption track of a video, as the video item lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptionTrack {
    pub lang: Lang,
    /// What a player shows in its menu.
    pub label: String,
    pub source: CaptionSource,
    pub cues: u32,
    pub updated_at: String,
}

/// One cue.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// Why a caption file was refused (a 422 naming the line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptionError {
    #[error("the file is larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("the file is not UTF-8 text")]
    NotText,
    #[error("a WebVTT file starts with the line WEBVTT")]
    NoHeader,
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("the file holds no cue")]
    Empty,
    #[error("the file holds more than {MAX_CUES} cues")]
    TooManyCues,
}

fn at(line: usize, reason: impl Into<String>) -> CaptionError {
    CaptionError::Line { line, reason: reason.into() }
}

/// A timestamp: `hh:mm:ss.ttt` or `mm:ss.ttt` (WebVTT), `hh:mm:ss,ttt` (SRT).
fn timestamp(s: &str, srt: bool) -> Option<f64> {
    let sep = if srt { ',' } else { '.' };
    let (clock, millis) = s.trim().split_once(sep)?;
    if millis.len() != 3 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let number = |p: &str, max: u64| -> Option<u64> {
        (!p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
            .filter(|v| *v <= max)
    };
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => (number(h, 999)?, number(m, 59)?, number(s, 59)?),
        [m, s] if !srt => (0, number(m, 59)?, number(s, 59)?),
        _ => return None,
    };
    if parts.last().is_some_and(|s| s.len() != 2) {
        return None;
    }
    let ms: u64 = millis.parse().ok()?;
    Some((h * 3600 + m * 60 + sec) as f64 + ms as f64 / 1000.0)
}

/// A timing line `start --> end[ settings]`.
fn timing(line: &str, n: usize, srt: bool) -> Result<(f64, f64), CaptionError> {
    let (start, rest) = line.split_once("-->").ok_or_else(|| at(n, "expected a timing line start --> end"))?;
    let end = rest.split_whitespace().next().ok_or_else(|| at(n, "a timing line needs an end"))?;
    let start = timestamp(start, srt).ok_or_else(|| at(n, format!("malformed start time {:?}", start.trim())))?;
    let end = timestamp(end, srt).ok_or_else(|| at(n, format!("malformed end time {end:?}")))?;
    if end <= start {
        return Err(at(n, "a cue must end after it starts"));
    }
    if end > MAX_SECONDS {
        return Err(at(n, "a cue must end within 24 hours"));
    }
    Ok((start, end))
}

fn clean_text(text: &str, n: usize) -> Result<String, CaptionError> {
    if text.chars().count() > MAX_CUE_CHARS {
        return Err(at(n, format!("a cue's text must have at most {MAX_CUE_CHARS} characters")));
    }
    if text.chars().any(|c| crate::types::forbidden_char(c, true)) || text.contains("-->") {
        return Err(at(n, "a cue's text must not hold control characters or -->"));
    }
    Ok(text.to_owned())
}

/// The blocks of a file (separated by blank lines), each with the number of its first line.
fn blocks(text: &str) -> Vec<(usize, Vec<&str>)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Vec<&str>)> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            out.extend(current.take());
        } else {
            current.get_or_insert_with(|| (i + 1, Vec::new())).1.push(line);
        }
    }
    out.extend(current);
    out
}

fn text_of(bytes: &[u8]) -> Result<&str, CaptionError> {
    if bytes.len() > MAX_BYTES {
        return Err(CaptionError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CaptionError::NotText)?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn finish(cues: Vec<Cue>) -> Result<Vec<Cue>, CaptionError> {
    match cues.len() {
        0 => Err(CaptionError::Empty),
        n if n > MAX_CUES => Err(CaptionError::TooManyCues),
        _ => Ok(cues),
    }
}

/// The cue of a block whose timing line is `lines[timing_at]` (the text follows it), added to
/// `cues`; `n` is the block's first line.
fn push_cue(cues: &mut Vec<Cue>, n: usize, lines: &[&str], timing_at: usize, srt: bool) -> Result<(), CaptionError> {
    let timing_line = *lines.get(timing_at).ok_or_else(|| at(n, "a cue without timing"))?;
    let (start, end) = timing(timing_line, n + timing_at, srt)?;
    let body = lines[timing_at + 1..].join("\n");
    if body.trim().is_empty() {
        return Err(at(n, "a cue without text"));
    }
    cues.push(Cue { start, end, text: clean_text(&body, n)? });
    if cues.len() > MAX_CUES {
        return Err(CaptionError::TooManyCues);
    }
    Ok(())
}

/// The cues of a WebVTT file. Comments (`NOTE`), styles and regions are dropped; cue settings
/// and identifiers are not kept.
pub fn parse_vtt(bytes: &[u8]) -> Result<Vec<Cue>, CaptionError> {
    let text = text_of(bytes)?;
    let first = text.lines().next().unwrap_or_default();
    if !(first == "WEBVTT" || first.starts_with("WEBVTT ") || first.starts_with("WEBVTT\t")) {
        return Err(CaptionError::NoHeader);
    }
    let mut cues = Vec::new();
    for (n, lines) in blocks(text).into_iter().skip(1) {
        let head = lines[0];
        if head.starts_with("NOTE") || head == "STYLE" || head == "REGION" {
            continue;
        }
        if !head.contains("-->") && head.contains("->") {
            return Err(at(n, format!("malformed timing line {head:?}: start --> end")));
        }
        // An optional identifier line, then the timing.
        let timing_at = usize::from(!head.contains("-->"));
        push_cue(&mut cues, n, &lines, timing_at, false)?;
    }
    finish(cues)
}

/// The cues of an SRT file (numbered blocks, `hh:mm:ss,ttt --> hh:mm:ss,ttt`).
pub fn parse_srt(bytes: &[u8]) -> Result<Vec<Cue>, CaptionError> {
    let text = text_of(bytes)?;
    let mut cues = Vec::new();
    for (n, lines) in blocks(text) {
        let timing_at = usize::from(!lines[0].contains("-->"));
        if timing_at == 1 && !lines[0].trim().bytes().all(|b| b.is_ascii_digit()) {
            return Err(at(n, "expected a cue number or a timing line"));
        }
        push_cue(&mut cues, n, &lines, timing_at, true)?;
        if let Some(cue) = cues.last_mut() {
            cue.text = srt_text(&cue.text);
        }
    }
    finish(cues)
}

/// SRT cue text as WebVTT cue text: `&` and a `<` that opens no `b`, `i` or `u` tag escaped
/// (WebVTT would read them as markup and drop the text), `<font …>` tags left out.
fn srt_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => {
                let tag = rest[1..].split('>').next().unwrap_or_default().to_ascii_lowercase();
                let closed = rest[1..].contains('>');
                if closed && matches!(tag.as_str(), "b" | "i" | "u" | "/b" | "/i" | "/u") {
                    out.push('<');
                } else if closed && (tag.starts_with("font") || tag == "/font") {
                    rest = &rest[1 + tag.len() + 1..];
                    continue;
                } else {
                    out.push_str("&lt;");
                }
            }
            other => out.push(other),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The cues as a WebVTT file.
pub fn to_vtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n");
    for cue in cues {
        out.push_str(&format!("\n{} --> {}\n{}\n", vtt_time(cue.start), vtt_time(cue.end), cue.text));
    }
    out
}

/// The cues as an SRT file (SubRip: numbered cues, `00:00:01,500` times, CRLF-free lines), for
/// editors and players that take no WebVTT; each cue's text as SRT's ([`srt_text_of`]).
pub fn to_srt(cues: &[Cue]) -> String {
    let time = |s: f64| vtt_time(s).replacen('.', ",", 1);
    let mut out = String::new();
    for (n, cue) in cues.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{}\n{} --> {}\n{}\n", n + 1, time(cue.start), time(cue.end), srt_text_of(&cue.text)));
    }
    out
}

/// A cue's WebVTT text as SRT's: WebVTT's character references decoded (`&amp;` is `&`), its
/// tags dropped but for `<b>`, `<i>` and `<u>` (SRT's own; voice, class and time tags are
/// WebVTT's only).
fn srt_text_of(vtt: &str) -> String {
    let mut out = String::with_capacity(vtt.len());
    let mut rest = vtt;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
        {
            let tag = &rest[..=end];
            let name = tag.trim_start_matches(['<', '/']).split(['.', ' ', '>']).next().unwrap_or_default();
            if matches!(name, "b" | "i" | "u") {
                out.push_str(&format!("<{}{name}>", if tag.starts_with("</") { "/" } else { "" }));
            }
            rest = &rest[end + 1..];
            continue;
        }
        if c == '&' {
            let entity = [
                ("&amp;", "&"),
                ("&lt;", "<"),
                ("&gt;", ">"),
                ("&nbsp;", "\u{a0}"),
                ("&lrm;", "\u{200e}"),
                ("&rlm;", "\u{200f}"),
            ]
            .into_iter()
            .find(|(e, _)| rest.starts_with(e));
            if let Some((e, ch)) = entity {
                out.push_str(ch);
                rest = &rest[e.len()..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The HLS media playlist of one caption track: the whole WebVTT file as one segment.
pub fn subtitle_playlist(vtt_name: &str, duration: f64) -> String {
    let duration = if duration.is_finite() && duration > 0.0 { duration } else { 1.0 };
    format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{duration:.3},\n{vtt_name}\n#EXT-X-ENDLIST\n",
        duration.ceil() as u64
    )
}

/// The transcoder's master with a subtitles rendition per track (`uri(lang)` names each track's
/// playlist relative to the master), every variant pointing at the group.
pub fn master_with_subtitles(master: &str, tracks: &[CaptionTrack], uri: impl Fn(&Lang) -> String) -> String {
    const GROUP: &str = "subs";
    let quote = |s: &str| s.replace('"', "'");
    let mut out = String::new();
    let mut media_written = false;
    for line in master.lines() {
        if line.starts_with("#EXT-X-MEDIA:") && line.contains("TYPE=SUBTITLES") {
            // The transcoder's own subtitles (none today) give way to ours.
            continue;
        }
        if line.starts_with("#EXT-X-STREAM-INF:") && !media_written {
            for t in tracks {
                out.push_str(&format!(
                    "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"{GROUP}\",NAME=\"{}\",LANGUAGE=\"{}\",DEFAULT=NO,AUTOSELECT=YES,URI=\"{}\"\n",
                    quote(&t.label),
                    t.lang,
                    uri(&t.lang)
                ));
            }
            media_written = true;
        }
        if let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            let kept: Vec<&str> = attrs.split(',').filter(|a| !a.starts_with("SUBTITLES=")).collect();
            out.push_str(&format!("#EXT-X-STREAM-INF:{},SUBTITLES=\"{GROUP}\"\n", kept.join(",")));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// What a player shows for a language it has no label for.
pub fn default_label(lang: &Lang) -> String {
    let primary = lang.as_str().split('-').next().unwrap_or_default();
    let name = match primary {
        "en" => "English",
        "de" => "Deutsch",
        "fr" => "Français",
        "es" => "Español",
        "it" => "Italiano",
        "pt" => "Português",
        "nl" => "Nederlands",
        "ja" => "日本語",
        "zh" => "中文",
        "ko" => "한국어",
        _ => return lang.as_str().to_owned(),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_track_written_as_srt_reads_back_as_its_cues() {
        let cues = vec![
            Cue { start: 1.5, end: 3.0, text: "Today we study <i>eigenvalues</i>.".into() },
            Cue { start: 3661.25, end: 3662.0, text: "Two lines,\nthe second.".into() },
        ];
        let srt = to_srt(&cues);
        assert!(srt.starts_with("1\n00:00:01,500 --> 00:00:03,000\n"), "{srt}");
        assert!(srt.contains("\n\n2\n01:01:01,250 --> 01:01:02,000\nTwo lines,\nthe second.\n"), "{srt}");
        assert_eq!(parse_srt(srt.as_bytes()), Ok(cues.clone()));
        assert_eq!(parse_vtt(to_vtt(&cues).as_bytes()), Ok(cues));
        assert_eq!(to_srt(&[]), "");
        // WebVTT's escapes and tags become SRT's text: an uploaded SRT's "Q&A <3" comes back so.
        let escaped = parse_srt(b"1\n00:00:01,000 --> 00:00:02,000\nQ&A <3 <i>now</i>\n").expect("srt");
        let vtt = vec![Cue { start: 1.0, end: 2.0, text: "<v Ana>Q&amp;A &lt;3</v> <c.loud><b>yes</b></c>".into() }];
        assert_eq!(to_srt(&escaped), "1\n00:00:01,000 --> 00:00:02,000\nQ&A <3 <i>now</i>\n");
        assert_eq!(to_srt(&vtt), "1\n00:00:01,000 --> 00:00:02,000\nQ&A <3 <b>yes</b>\n");
    }

    #[test]
    fn language_tags() {
        for ok in ["en", "de-CH", "zh-Hant", "es-419", "EN"] {
            assert!(ok.parse::<Lang>().is_ok(), "{ok}");
        }
        assert_eq!("EN-GB".parse::<Lang>().unwrap().as_str(), "en-GB");
        for bad in ["", "e", "english", "en_GB", "en-", "a-b-c-d", "../x", "en-GB-x-private-more"] {
            assert!(bad.parse::<Lang>().is_err(), "{bad}");
        }
    }

    #[test]
    fn webvtt_round_trips_and_drops_what_players_do_not_need() {
        let file = "WEBVTT - lecture\n\nNOTE made by hand\n\n1\n00:01.000 --> 00:04.500 align:start\nHello\nworld\n\n01:00:00.000 --> 01:00:02.000\nLate\n";
        let cues = parse_vtt(file.as_bytes()).unwrap();
        assert_eq!(cues.len(), 2);
        assert_eq!((cues[0].start, cues[0].end, cues[0].text.as_str()), (1.0, 4.5, "Hello\nworld"));
        assert_eq!(cues[1].start, 3600.0);
        let again = parse_vtt(to_vtt(&cues).as_bytes()).unwrap();
        assert_eq!(again, cues);
    }

    #[test]
    fn srt_text_keeps_its_meaning_in_webvtt() {
        assert_eq!(srt_text("x < y & z"), "x &lt; y &amp; z");
        assert_eq!(srt_text("<i>yes</i> <font color=\"red\">red</font>"), "<i>yes</i> red");
        assert_eq!(srt_text("a <b"), "a &lt;b");
        assert_eq!(srt_text("über <3"), "über &lt;3");
    }

    #[test]
    fn srt_becomes_webvtt() {
        let file =
            "\u{feff}1\r\n00:00:01,000 --> 00:00:02,500\r\nOne\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nTwo\r\n";
        let cues = parse_srt(file.as_bytes()).unwrap();
        assert_eq!(
            to_vtt(&cues),
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nOne\n\n00:00:03.000 --> 00:00:04.000\nTwo\n"
        );
    }

    #[test]
    fn broken_files_are_refused_with_the_line() {
        assert_eq!(parse_vtt(b"1\n00:01.000 --> 00:02.000\nx\n"), Err(CaptionError::NoHeader));
        assert_eq!(parse_vtt(b"WEBVTT\n"), Err(CaptionError::Empty));
        assert!(matches!(
            parse_vtt(b"WEBVTT\n\n00:02.000 --> 00:01.000\nx\n"),
            Err(CaptionError::Line { line: 3, .. })
        ));
        assert!(matches!(parse_vtt(b"WEBVTT\n\n00:01.000 --> 00:61.000\nx\n"), Err(CaptionError::Line { .. })));
        assert!(matches!(parse_vtt(b"WEBVTT\n\n00:01.000 --> 00:02.000\n"), Err(CaptionError::Line { .. })));
        assert!(matches!(parse_srt(b"1\n00:00:01.000 --> 00:00:02.000\nx\n"), Err(CaptionError::Line { .. })));
        assert_eq!(parse_vtt(&[0xff, 0xfe]), Err(CaptionError::NotText));
        assert_eq!(parse_vtt(&vec![b'a'; MAX_BYTES + 1]), Err(CaptionError::TooLarge));
    }

    #[test]
    fn the_master_gains_a_subtitles_group() {
        let master = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=640x360\nindex_360p.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2000,RESOLUTION=960x540\nindex_540p.m3u8\n";
        let tracks = vec![CaptionTrack {
            lang: "en".parse().unwrap(),
            label: "English".into(),
            source: CaptionSource::Upload,
            cues: 2,
            updated_at: "t".into(),
        }];
        let out = master_with_subtitles(master, &tracks, |l| format!("../captions/{l}.m3u8"));
        assert_eq!(out.matches("#EXT-X-MEDIA:TYPE=SUBTITLES").count(), 1);
        assert!(out.contains("LANGUAGE=\"en\"") && out.contains("URI=\"../captions/en.m3u8\""));
        assert_eq!(out.matches("SUBTITLES=\"subs\"").count(), 2);
        assert!(out.find("#EXT-X-MEDIA").unwrap() < out.find("#EXT-X-STREAM-INF").unwrap());
        assert!(out.contains("index_540p.m3u8\n"));
    }
}
