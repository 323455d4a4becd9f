//! Automatic transcripts: when a video of a space with transcription on becomes `READY`, an
//! Amazon Transcribe job (named after the video: starting it twice starts one) writes its result
//! into the media bucket; the job's state-change event turns it into a caption track
//! (`source: transcribe`) and a word-timed transcript that `GET /videos/{id}/transcript?q=`
//! searches. A failed job is retried, as a job of its own (`{name}.2`, `{name}.3`), up to
//! [`MAX_ATTEMPTS`] in all; the last failure is recorded on the video.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{captions::Cue, types::VideoId};

/// A cue of generated captions ends at a sentence's end, after this many seconds or words.
const CUE_MAX_SECONDS: f64 = 6.0;
const CUE_MAX_WORDS: usize = 12;

/// A space's transcription setting (the host's; Transcribe is billed per minute).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transcription {
    pub enabled: bool,
    /// The lectures' language (`en-US`, `de-DE`, …); none: Transcribe identifies it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The environment variable of the stack's `TranscriptionDefault`: `on` or `off`.
pub const DEFAULT_VAR: &str = "VIVID_TRANSCRIPTION_DEFAULT";

impl Transcription {
    /// A new course space's setting (created by a host, or by an instructor's first LTI launch):
    /// on unless the stack's `TranscriptionDefault` says `off` — captions for every lecture are
    /// what accessibility rules ask of course video. On, Transcribe identifies the language.
    /// A personal space starts off (what its owner uploads is their own).
    pub fn for_new_space(setting: Option<&str>) -> Option<Self> {
        match setting.map(str::trim) {
            Some("off") => None,
            _ => Some(Self { enabled: true, language: None }),
        }
    }
}

/// Where a video's transcript stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TranscriptStatus {
    InProgress,
    Completed,
    Failed,
}

/// A video's transcript, as the video item records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptState {
    pub status: TranscriptStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Why it failed: a code of a closed set (see [`crate::failure`]), never Transcribe's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<crate::failure::FailureReason>,
    pub updated_at: String,
    /// Which job this state is of: 1 the first, 2 and 3 its retries.
    #[serde(default = "first_attempt", skip_serializing_if = "is_first_attempt")]
    pub attempt: u32,
}

/// The most jobs one video's transcript takes: the first and two retries. A failed job costs
/// nothing at Transcribe (it bills the minutes of completed jobs); the retries are for what fails
/// now and then (a throttled or interrupted job), a media Transcribe cannot read fails thrice.
pub const MAX_ATTEMPTS: u32 = 3;

fn first_attempt() -> u32 {
    1
}

fn is_first_attempt(n: &u32) -> bool {
    *n <= 1
}

/// A transcript's state as the API shows it: a failure as its code and fixed text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptView {
    pub status: TranscriptStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// `failureCode` and `failureReason`, when it failed.
    #[serde(flatten)]
    pub failure: Option<crate::failure::FailureView>,
    pub updated_at: String,
}

impl From<TranscriptState> for TranscriptView {
    fn from(s: TranscriptState) -> Self {
        Self {
            status: s.status,
            language: s.language,
            failure: s.failure_reason.map(Into::into),
            updated_at: s.updated_at,
        }
    }
}

/// One recognised word with its times (seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    #[serde(rename = "w")]
    pub text: String,
    #[serde(rename = "s")]
    pub start: f64,
    #[serde(rename = "e")]
    pub end: f64,
}

/// A recognised transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// The language Transcribe used (given or identified).
    pub language: Option<String>,
    pub words: Vec<Word>,
}

/// A job to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptionJob {
    pub name: String,
    /// `s3://bucket/key` of the media (the MP4 rendition).
    pub media_uri: String,
    pub output_bucket: String,
    pub output_key: String,
    /// `None`: identify the language.
    pub language: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    /// Throttled or unavailable: the job was not started; the event is delivered again.
    #[error("the transcription service is unavailable: {0}")]
    Unavailable(String),
    /// The service refused the job (a bad language code, media it cannot read).
    #[error("the transcription service refused the job: {0}")]
    Refused(String),
}

#[async_trait]
pub trait Transcriber: Send + Sync {
    /// Starts the job; a job of that name that exists already counts as started.
    async fn start(&self, job: &TranscriptionJob) -> Result<(), TranscribeError>;
}

/// The names of one stack's transcription jobs, `{stack}_{videoId}`. Transcribe's job names are
/// the account's (per region), and every stack's rule sees every job's event: the name carries the
/// stack, so that dev's jobs never reach prod's consumer, nor collide with prod's for a video id
/// both tables hold (a restored backup). The `_` is no character of a stack name
/// (`[A-Za-z][-A-Za-z0-9]*`): the rule's prefix `{stack}_` matches no job of a stack whose name
/// extends this one's (`vivid-dev_…` does not start with `vivid_`). At most 128 + 1 + 26
/// characters, within Transcribe's 200 of `[0-9a-zA-Z._-]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobNames {
    prefix: String,
}

impl JobNames {
    /// The jobs of the stack named `stack` (`AWS::StackName`).
    pub fn of_stack(stack: &str) -> Self {
        Self { prefix: format!("{stack}_") }
    }

    /// A video's job name (so starting it again starts nothing new).
    pub fn name(&self, video: &VideoId) -> String {
        self.name_of_attempt(video, 1)
    }

    /// The job name of a video's `attempt`: the first `{stack}_{videoId}`, a retry's
    /// `{stack}_{videoId}.{attempt}` (Transcribe keeps a job's name taken while it keeps the job).
    pub fn name_of_attempt(&self, video: &VideoId, attempt: u32) -> String {
        if attempt <= 1 { format!("{}{video}", self.prefix) } else { format!("{}{video}.{attempt}", self.prefix) }
    }

    /// The video a job of this stack names; `None` for another stack's job, or anything else.
    pub fn video_of(&self, name: &str) -> Option<VideoId> {
        self.job_of(name).map(|(video, _)| video)
    }

    /// The video and the attempt a job of this stack names, as [`Self::name_of_attempt`] wrote them.
    pub fn job_of(&self, name: &str) -> Option<(VideoId, u32)> {
        let rest = name.strip_prefix(&self.prefix)?;
        match rest.split_once('.') {
            None => Some((rest.parse().ok()?, 1)),
            Some((video, n)) => {
                let attempt: u32 = n.parse().ok().filter(|a| (2..=MAX_ATTEMPTS).contains(a))?;
                (attempt.to_string() == n).then_some(())?;
                Some((video.parse().ok()?, attempt))
            }
        }
    }

    /// The job of a video's `attempt`: its MP4 (`mp4_key` in `media_bucket`) in, the result
    /// where the consumer reads it.
    pub fn job(
        &self,
        video: &VideoId,
        attempt: u32,
        media_bucket: &str,
        mp4_key: &str,
        language: Option<String>,
    ) -> TranscriptionJob {
        TranscriptionJob {
            name: self.name_of_attempt(video, attempt),
            media_uri: format!("s3://{media_bucket}/{mp4_key}"),
            output_bucket: media_bucket.to_owned(),
            output_key: crate::video::layout::transcript_result(video),
            language,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable transcription result: {0}")]
pub struct OutputError(pub String);

/// The words of Transcribe's result document (`results.items`: pronunciations with times,
/// punctuation attached to the word before).
pub fn parse_output(json: &[u8]) -> Result<Transcript, OutputError> {
    let doc: serde_json::Value = serde_json::from_slice(json).map_err(|e| OutputError(e.to_string()))?;
    let results = doc.get("results").ok_or_else(|| OutputError("no results".into()))?;
    let items = results.get("items").and_then(|i| i.as_array()).ok_or_else(|| OutputError("no items".into()))?;
    let time = |v: Option<&serde_json::Value>| -> Option<f64> {
        v.and_then(|t| t.as_str().and_then(|s| s.parse().ok()).or_else(|| t.as_f64()))
            .filter(|t: &f64| t.is_finite() && *t >= 0.0)
    };
    let mut words: Vec<Word> = Vec::new();
    for item in items {
        let content = item
            .pointer("/alternatives/0/content")
            .and_then(|c| c.as_str())
            .map(str::trim)
            .filter(|c| !c.is_empty() && c.chars().all(|ch| !ch.is_control()));
        let Some(content) = content else { continue };
        match item.get("type").and_then(|t| t.as_str()) {
            Some("punctuation") => {
                if let Some(last) = words.last_mut() {
                    last.text.push_str(content);
                }
            }
            _ => {
                let (Some(start), Some(end)) = (time(item.get("start_time")), time(item.get("end_time"))) else {
                    continue;
                };
                words.push(Word { text: content.chars().take(100).collect(), start, end: end.max(start) });
            }
        }
    }
    let language = results
        .get("language_code")
        .and_then(|l| l.as_str())
        .map(str::to_owned)
        .filter(|l| !l.is_empty() && l.len() <= 20);
    Ok(Transcript { language, words })
}

/// Words from caption cues (a platform's transcript has cue times, not word times): each cue's
/// words share its time evenly, in order. A speaker's name before a colon (`Ana Li: …`, Zoom's
/// form) is not a spoken word.
pub fn words_of_cues(cues: &[Cue]) -> Vec<Word> {
    let mut out = Vec::new();
    for cue in cues {
        let text = match cue.text.split_once(": ") {
            Some((speaker, said)) if !speaker.is_empty() && speaker.split_whitespace().count() <= 4 => said,
            _ => cue.text.as_str(),
        };
        let spoken: Vec<&str> = text.split_whitespace().collect();
        let step = (cue.end - cue.start).max(0.0) / spoken.len().max(1) as f64;
        out.extend(spoken.iter().enumerate().map(|(i, w)| Word {
            text: (*w).to_owned(),
            start: cue.start + step * i as f64,
            end: cue.start + step * (i + 1) as f64,
        }));
    }
    out
}

/// Captions from the words: a cue per sentence, at most [`CUE_MAX_SECONDS`] or
/// [`CUE_MAX_WORDS`] long.
pub fn cues(words: &[Word]) -> Vec<Cue> {
    let mut out = Vec::new();
    let mut current: Vec<&Word> = Vec::new();
    let flush = |current: &mut Vec<&Word>, out: &mut Vec<Cue>| {
        if let (Some(first), Some(last)) = (current.first(), current.last()) {
            let end = if last.end > first.start { last.end } else { first.start + 0.5 };
            out.push(Cue {
                start: first.start,
                end,
                text: current.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" "),
            });
        }
        current.clear();
    };
    for w in words {
        if let Some(first) = current.first()
            && (w.end - first.start > CUE_MAX_SECONDS || current.len() >= CUE_MAX_WORDS)
        {
            flush(&mut current, &mut out);
        }
        current.push(w);
        if w.text.ends_with(['.', '?', '!']) {
            flush(&mut current, &mut out);
        }
    }
    flush(&mut current, &mut out);
    out
}

/// The moments of a transcript where `query`'s words are spoken: the caption cue around them and
/// when its first matching word starts, in time order. Words compare case-insensitively, without
/// punctuation; a query word of four letters or more also matches words it begins.
pub fn search(words: &[Word], query: &str) -> Vec<(Cue, f64)> {
    let norm = |s: &str| s.chars().filter(|c| c.is_alphanumeric() || *c == '\'').collect::<String>().to_lowercase();
    let terms: Vec<String> = query.split_whitespace().map(norm).filter(|t| !t.is_empty()).collect();
    if terms.is_empty() {
        return Vec::new();
    }
    let hit = |w: &str, t: &str| w == t || (t.len() >= 4 && w.starts_with(t));
    let mut out = Vec::new();
    let mut rest = words;
    for cue in cues(words) {
        // The cue's words: the next ones of the transcript, as many as it holds.
        let n = cue.text.split_whitespace().count().min(rest.len());
        let (mine, after) = rest.split_at(n);
        rest = after;
        let spoken: Vec<String> = mine.iter().map(|w| norm(&w.text)).collect();
        if terms.iter().all(|t| spoken.iter().any(|w| hit(w, t))) {
            let at = mine
                .iter()
                .zip(&spoken)
                .find(|(_, w)| terms.iter().any(|t| hit(w, t)))
                .map_or(cue.start, |(word, _)| word.start);
            out.push((cue, at));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = r#"{"jobName":"vivid-x","results":{"language_code":"en-US","transcripts":[{"transcript":"Today we study algebra. A matrix."}],"items":[
        {"type":"pronunciation","start_time":"0.25","end_time":"0.55","alternatives":[{"content":"Today","confidence":"0.9"}]},
        {"type":"pronunciation","start_time":"0.55","end_time":"0.74","alternatives":[{"content":"we"}]},
        {"type":"pronunciation","start_time":"0.74","end_time":"1.04","alternatives":[{"content":"study"}]},
        {"type":"pronunciation","start_time":"1.52","end_time":"2.08","alternatives":[{"content":"algebra"}]},
        {"type":"punctuation","alternatives":[{"content":"."}]},
        {"type":"pronunciation","start_time":"3.70","end_time":"3.76","alternatives":[{"content":"A"}]},
        {"type":"pronunciation","start_time":"3.82","end_time":"4.59","alternatives":[{"content":"matrix"}]},
        {"type":"punctuation","alternatives":[{"content":"."}]}]}}"#;

    #[test]
    fn transcribe_output_becomes_words_and_sentence_cues() {
        let t = parse_output(OUTPUT.as_bytes()).unwrap();
        assert_eq!(t.language.as_deref(), Some("en-US"));
        assert_eq!(t.words.len(), 6);
        assert_eq!(t.words[3], Word { text: "algebra.".into(), start: 1.52, end: 2.08 });
        let c = cues(&t.words);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].start, c[0].end, c[0].text.as_str()), (0.25, 2.08, "Today we study algebra."));
        assert_eq!(c[1].text, "A matrix.");
    }

    #[test]
    fn long_speech_is_cut_into_short_cues() {
        let words: Vec<Word> = (0..40)
            .map(|i| Word { text: format!("w{i}"), start: f64::from(i) * 0.4, end: f64::from(i) * 0.4 + 0.3 })
            .collect();
        let c = cues(&words);
        assert!(
            c.iter().all(
                |cue| cue.end - cue.start <= CUE_MAX_SECONDS + 0.01 && cue.text.split(' ').count() <= CUE_MAX_WORDS
            )
        );
        assert_eq!(c.iter().map(|cue| cue.text.split(' ').count()).sum::<usize>(), 40);
    }

    #[test]
    fn search_finds_the_moment_a_word_is_spoken() {
        let t = parse_output(OUTPUT.as_bytes()).unwrap();
        let hits = search(&t.words, "Algebra");
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].0.start, hits[0].1), (0.25, 1.52));
        assert_eq!(search(&t.words, "matrix").first().map(|(c, at)| (c.start, *at)), Some((3.70, 3.82)));
        assert_eq!(search(&t.words, "stud").len(), 1, "a word's beginning (four letters or more)");
        assert!(search(&t.words, "eigenvalue").is_empty());
        assert!(search(&t.words, "  ").is_empty());
    }

    #[test]
    fn job_names_name_their_video_and_their_stack() {
        let v = VideoId::generate();
        let (prod, dev) = (JobNames::of_stack("vivid"), JobNames::of_stack("vivid-dev"));
        assert_eq!(prod.name(&v), format!("vivid_{v}"));
        assert_eq!(prod.video_of(&prod.name(&v)), Some(v.clone()));
        assert_eq!(dev.video_of(&dev.name(&v)), Some(v.clone()));
        // A stack's name may extend another's: neither name starts with the other's prefix (what
        // each stack's rule matches).
        assert!(!dev.name(&v).starts_with(&prod.prefix) && !prod.name(&v).starts_with(&dev.prefix));
        assert_eq!(prod.video_of(&dev.name(&v)), None);
        assert_eq!(dev.video_of(&prod.name(&v)), None);
        assert_eq!(prod.video_of("someone-elses-job"), None);
        assert_eq!(prod.video_of(&format!("vivid-{v}")), None, "the names before stacks had their own");
        assert!(dev.name(&v).len() <= 200 && JobNames::of_stack(&"s".repeat(128)).name(&v).len() <= 200);
        assert!(parse_output(b"{}").is_err());
    }

    #[test]
    fn new_spaces_transcribe_unless_the_stack_says_off() {
        let on = Some(Transcription { enabled: true, language: None });
        assert_eq!(Transcription::for_new_space(Some("on")), on);
        assert_eq!(Transcription::for_new_space(None), on);
        assert_eq!(Transcription::for_new_space(Some("off")), None);
    }

    #[test]
    fn a_retry_s_job_names_its_attempt_and_reads_back() {
        let v = VideoId::generate();
        let jobs = JobNames::of_stack("vivid");
        assert_eq!(jobs.job_of(&jobs.name(&v)), Some((v.clone(), 1)));
        for n in 2..=MAX_ATTEMPTS {
            let name = jobs.name_of_attempt(&v, n);
            assert_eq!(name, format!("vivid_{v}.{n}"));
            assert_eq!(jobs.job_of(&name), Some((v.clone(), n)));
            assert_eq!(jobs.video_of(&name), Some(v.clone()));
        }
        for bad in [format!("vivid_{v}.1"), format!("vivid_{v}.02"), format!("vivid_{v}.4"), format!("vivid_{v}.")] {
            assert_eq!(jobs.job_of(&bad), None, "{bad}");
        }
        let state: TranscriptState =
            serde_json::from_str(r#"{"status":"FAILED","updatedAt":"2026-12-08T00:00:00Z"}"#).expect("state");
        assert_eq!(state.attempt, 1, "a state from before retries is its first attempt's");
        assert!(!serde_json::to_string(&state).expect("json").contains("attempt"));
    }

    #[test]
    fn cue_words_share_the_cue_and_leave_the_speaker_out() {
        let cue = |start: f64, end: f64, text: &str| Cue { start, end, text: text.into() };
        let words = words_of_cues(&[cue(1.0, 3.0, "Ana Li: eigen values matter"), cue(4.0, 5.0, "Note: 3")]);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["eigen", "values", "matter", "3"]);
        assert!((words[1].start - (1.0 + 2.0 / 3.0)).abs() < 1e-9 && (words[2].end - 3.0).abs() < 1e-9);
        assert_eq!(words[3].start, 4.0);
        assert!(words_of_cues(&[cue(0.0, 1.0, "  ")]).is_empty());
    }
}
