//! The engagement export (issue 29): a space's students × its videos as CSV, for hosts and
//! co-hosts of classes too large to read in the class views a page at a time. One row per
//! participant (hosts and co-hosts are not students), one pair of columns per video in the host's
//! order: the watched coverage in percent (empty: never played) and when the video was completed
//! (empty: not completed). The file is written to the user-content bucket under
//! [`export_key`] and offered as a short-lived download; the bucket's lifecycle removes it a day
//! later, and a space's deletion removes its exports at once.
//!
//! Every cell a person wrote (names, titles) is neutralised against formula injection: a
//! spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a
//! formula, so such a cell gets a leading `'` (OWASP's advice for CSV injection).

use std::{borrow::Cow, cmp::Reverse, collections::HashMap, time::Duration};

use async_trait::async_trait;

use crate::{
    error::StoreError,
    spaces::Standing,
    types::{Email, SpaceId, UserId, VideoId},
    video::{Progress, Video},
};

/// How long the download link works.
pub const DOWNLOAD_TTL: Duration = Duration::from_secs(15 * 60);
/// The most members × videos one export reads (about 100,000 progress items, read in well
/// under the API's 30 s): a larger class is refused (422 `export_too_large`), not cut short.
pub const MAX_CELLS: usize = 100_000;
/// The most members one export reads (their standings and profiles, 100 a page, one page after
/// another): 100 pages.
pub const MAX_MEMBERS: usize = 10_000;
/// One export of a space at a time: the next starts a minute after the last (429 before).
pub const COOLDOWN_SECS: u64 = 60;
/// The highest place a placed video's order holds (the list's sort key's six digits).
const MAX_POSITION: u32 = 999_999;
/// Where every export of a space lies (deleted with the space).
pub fn exports_prefix(space: &SpaceId) -> String {
    format!("exports/{space}/")
}
/// The object one export is written to: `exports/{spaceId}/{exportId}.csv`.
pub fn export_key(space: &SpaceId, export: &ulid::Ulid) -> String {
    format!("{}{export}.csv", exports_prefix(space))
}

/// What an export reads and claims.
#[async_trait]
pub trait EngagementStore: Send + Sync {
    /// Every member's progress on one video (the progress items of its partition).
    async fn class_progress(&self, video: &VideoId) -> Result<Vec<Progress>, StoreError>;
    /// Claims the space's next export at `now` (unix seconds), one conditional write: `Ok(None)`
    /// when claimed, `Ok(Some(seconds))` when the last one started less than
    /// [`COOLDOWN_SECS`] ago (the seconds until the next may start).
    async fn claim_export(&self, space: &SpaceId, now: u64) -> Result<Option<u64>, StoreError>;
}

/// Why a class is too large for one export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TooLarge {
    #[error("{members} members are more than one export reads ({MAX_MEMBERS})")]
    Members { members: usize },
    #[error("{members} members × {videos} videos are more than one export reads ({MAX_CELLS} cells)")]
    Cells { members: usize, videos: usize },
}

/// A student, as a row starts.
#[derive(Debug, Clone)]
pub struct Student {
    pub user_id: UserId,
    pub name: String,
    pub email: Email,
    pub joined_at: String,
    pub standing: Standing,
}

/// The export's table: its columns (the videos) and rows (the students), and what each student
/// did on each video.
#[derive(Debug, Default)]
pub struct Engagement {
    videos: Vec<Video>,
    students: Vec<Student>,
    /// Per video (by its column), each student's progress.
    progress: Vec<HashMap<UserId, Progress>>,
}

/// The header of the students' own columns.
const STUDENT_COLUMNS: [&str; 6] = ["name", "email", "user_id", "joined_at", "videos_completed", "last_watched_at"];

impl Engagement {
    /// The space's videos in the host's order, as the space's list shows them (its index's sort
    /// key read in descending order: placed ones by place, then the others newest first; ties
    /// by the higher id); videos being deleted are left out.
    pub fn new(mut videos: Vec<Video>) -> Self {
        videos.retain(|v| !v.deleting);
        videos.sort_by(|a, b| place(a).cmp(&place(b)));
        let progress = vec![HashMap::new(); videos.len()];
        Self { videos, students: Vec::new(), progress }
    }

    pub fn videos(&self) -> &[Video] {
        &self.videos
    }

    /// Whether one export reads a class of `members` (hosts and co-hosts counted: an upper
    /// bound of the rows) over these videos.
    pub fn fits(&self, members: usize) -> Result<(), TooLarge> {
        let videos = self.videos.len();
        if members > MAX_MEMBERS {
            return Err(TooLarge::Members { members });
        }
        if members.saturating_mul(videos.max(1)) > MAX_CELLS {
            return Err(TooLarge::Cells { members, videos });
        }
        Ok(())
    }

    pub fn add_student(&mut self, student: Student) {
        self.students.push(student);
    }

    /// A video's progress items (those of members who are not students are ignored).
    pub fn add_progress(&mut self, column: usize, items: Vec<Progress>) {
        if let Some(cells) = self.progress.get_mut(column) {
            cells.extend(items.into_iter().map(|p| (p.user_id.clone(), p)));
        }
    }

    pub fn students(&self) -> usize {
        self.students.len()
    }

    /// The CSV (RFC 4180, UTF-8 with a byte-order mark, so spreadsheets read the names right;
    /// every field but a number quoted, so a spreadsheet whose list separator is `;` splits no
    /// name), students sorted by name regardless of case, then id.
    pub fn to_csv(&mut self) -> Result<Vec<u8>, csv::Error> {
        self.students.sort_by_cached_key(|s| (s.name.to_lowercase(), s.name.clone(), s.user_id.clone()));
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::NonNumeric)
            .from_writer(b"\xEF\xBB\xBF".to_vec());
        let mut header: Vec<Cow<'_, str>> = STUDENT_COLUMNS.iter().map(|c| Cow::Borrowed(*c)).collect();
        for v in &self.videos {
            let title = neutralised(v.title.as_str());
            header.push(Cow::Owned(format!("{title} [{}] coverage %", v.video_id)));
            header.push(Cow::Owned(format!("{title} [{}] completed_at", v.video_id)));
        }
        out.write_record(header.iter().map(|c| c.as_bytes()))?;
        for s in &self.students {
            let mut row: Vec<Cow<'_, str>> = vec![
                neutralised(&s.name),
                neutralised(s.email.as_str()),
                Cow::Borrowed(s.user_id.as_str()),
                Cow::Borrowed(&s.joined_at),
                Cow::Owned(s.standing.completed_videos.min(len_u32(self.videos.len())).to_string()),
                Cow::Borrowed(s.standing.last_access_at.as_deref().unwrap_or("")),
            ];
            for cells in &self.progress {
                let p = cells.get(&s.user_id);
                row.push(match p.and_then(|p| p.coverage_percent) {
                    Some(percent) => Cow::Owned(percent.to_string()),
                    None if p.is_some() => Cow::Borrowed("0"),
                    None => Cow::Borrowed(""),
                });
                row.push(Cow::Borrowed(p.and_then(|p| p.completed_at.as_deref()).unwrap_or("")));
            }
            out.write_record(row.iter().map(|c| c.as_bytes()))?;
        }
        out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
    }
}

/// A video's place in the space's list, smallest first.
fn place(v: &Video) -> (bool, u32, Reverse<(&str, &VideoId)>) {
    match v.position {
        Some(p) => (false, p.min(MAX_POSITION), Reverse(("", &v.video_id))),
        None => (true, 0, Reverse((v.created_at.as_str(), &v.video_id))),
    }
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A cell a spreadsheet would not run as a formula.
fn neutralised(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

#[cfg(test)]
#[path = "engagement_tests.rs"]
mod tests;
