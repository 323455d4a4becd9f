//! A video's way in and through the transcoder: its creation and undoing, its status, its caption
//! tracks and its charges of minutes (`uploads.rs`, `deletions.rs`, `transcode_state.rs`,
//! `captions.rs` and `minutes.rs` of the DynamoDB adapter).

use async_trait::async_trait;
use vivid_domain::{
    captions::{CaptionTrack, Lang, MAX_TRACKS},
    error::{Guard, StoreError},
    minutes::{Charge, Metered, MinutesBudget},
    quota::{Exceeded, Quota, Quotas},
    transcode::SourceInfo,
    transcripts::TranscriptState,
    types::{Limit, UserId, VideoId, rfc3339_at, unix_now},
    video::{CaptionStore, StatusChange, TranscodeState, UploadStore, Video, VideoStatus, layout::MediaKind},
};

use super::{Asked, Memory, MinuteCharge, VideoRow, failed};

/// A byte count as a counter's change.
fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The slot of a metered service in a video's charges and a day's budget.
fn metered(what: Metered) -> usize {
    match what {
        Metered::Transcode => 0,
        Metered::Transcribe => 1,
    }
}

#[async_trait]
impl UploadStore for Memory {
    async fn create_video(&self, video: &Video, quotas: &Quotas, day: &str) -> Result<(), StoreError> {
        let full = Guard::Quota(quotas.exceeded(Quota::VideosPerSpace));
        let budget = Guard::Quota(quotas.exceeded(Quota::DailyTranscodeBytes));
        if video.size_bytes > quotas.daily_transcode_bytes {
            return failed(budget);
        }
        let mut w = self.world();
        if w.videos.contains_key(&video.video_id) {
            return failed(Guard::Video);
        }
        match w.spaces.get(&video.space_id).filter(|s| !s.deleting) {
            None => return failed(Guard::Space),
            Some(s) if u64::from(s.video_count) + 1 > quotas.videos_per_space => return failed(full),
            Some(_) => {}
        }
        let day_key = (video.created_by.clone(), day.to_owned());
        let spent = w.budgets.get(&day_key).map_or(0, |b| b.bytes);
        if spent.saturating_add(signed(video.size_bytes)) > signed(quotas.daily_transcode_bytes) {
            return failed(budget);
        }
        if !w.account_live(&video.created_by) {
            return failed(Guard::Account);
        }
        let lock = video.recording_id.as_ref().map(|r| (video.space_id.clone(), r.clone()));
        if lock.as_ref().is_some_and(|l| w.recordings.contains_key(l)) {
            return failed(Guard::Recording);
        }
        w.videos
            .insert(video.video_id.clone(), VideoRow { video: video.clone(), claimed_at: None, charges: [None, None] });
        if let Some(space) = w.spaces.get_mut(&video.space_id) {
            space.video_count += 1;
        }
        w.budgets.entry(day_key).or_default().bytes += signed(video.size_bytes);
        if let Some(lock) = lock {
            w.recordings.insert(lock, video.video_id.clone());
        }
        Ok(())
    }

    async fn withdraw_video(&self, video: &Video, day: &str) -> Result<(), StoreError> {
        self.world().remove_video_item(video, Some(day));
        Ok(())
    }

    async fn abandon_upload(&self, video: &Video, day: &str) -> Result<bool, StoreError> {
        let mut w = self.world();
        let Some(row) = w.videos.get_mut(&video.video_id) else { return Ok(false) };
        if row.video.deleting || row.video.status != VideoStatus::Uploading {
            return Ok(false);
        }
        row.video.deleting = true;
        if let Some(space) = w.spaces.get_mut(&video.space_id) {
            space.video_count = space.video_count.saturating_sub(1);
        }
        if let Some(budget) = w.budgets.get_mut(&(video.created_by.clone(), day.to_owned())) {
            budget.bytes -= signed(video.size_bytes);
        }
        Ok(true)
    }

    async fn pending_before(&self, before: &str, limit: Limit) -> Result<Vec<VideoId>, StoreError> {
        let w = self.world();
        let mut pending: Vec<(String, VideoId)> = w
            .videos
            .values()
            .map(|r| &r.video)
            .filter(|v| v.status.is_pending() && !v.deleting)
            .map(|v| (format!("{}#{}", v.created_at, v.video_id), v.video_id.clone()))
            .filter(|(since, _)| since.as_str() < before)
            .collect();
        pending.sort();
        Ok(pending.into_iter().take(usize::from(limit.get())).map(|(_, id)| id).collect())
    }

    async fn claim_import(&self, id: &VideoId, now: &str) -> Result<bool, StoreError> {
        let stale = rfc3339_at(unix_now().saturating_sub(15 * 60));
        let mut w = self.world();
        let Some(row) = w.videos.get_mut(id) else { return Ok(false) };
        let free = row.claimed_at.as_ref().is_none_or(|at| *at < stale);
        if row.video.status != VideoStatus::Importing || row.video.deleting || !free {
            return Ok(false);
        }
        row.claimed_at = Some(now.to_owned());
        Ok(true)
    }

    async fn release_import(&self, id: &VideoId, claimed_at: &str) -> Result<(), StoreError> {
        let mut w = self.world();
        if let Some(row) = w.videos.get_mut(id)
            && row.video.status == VideoStatus::Importing
            && row.claimed_at.as_deref() == Some(claimed_at)
        {
            row.claimed_at = None;
        }
        Ok(())
    }
}

#[async_trait]
impl TranscodeState for Memory {
    async fn transition(
        &self,
        id: &VideoId,
        to: VideoStatus,
        change: &StatusChange,
        now: &str,
    ) -> Result<bool, StoreError> {
        self.note(Asked::Transition { video: id.clone(), to, change: change.clone() });
        let mut w = self.world();
        let Some(row) = w.videos.get_mut(id) else { return Ok(false) };
        let v = &mut row.video;
        let job_ok = change.only_for_job.as_ref().is_none_or(|job| v.job_id.as_ref().is_none_or(|j| j == job));
        if v.deleting || !to.predecessors().contains(&v.status) || !job_ok {
            return Ok(false);
        }
        v.status = to;
        v.updated_at = now.to_owned();
        let c = change.clone();
        v.job_id = c.job_id.or(v.job_id.take());
        v.percent_complete = c.percent_complete.or(v.percent_complete);
        v.duration_seconds = c.duration_seconds.or(v.duration_seconds);
        v.failure_reason = c.failure_reason.or(v.failure_reason);
        v.outputs.hls_master = c.hls_master.or(v.outputs.hls_master.take());
        v.outputs.mp4 = c.mp4.or(v.outputs.mp4.take());
        v.outputs.storyboard = c.storyboard.or(v.outputs.storyboard.take());
        v.outputs.thumbnail_count = c.thumbnail_count.or(v.outputs.thumbnail_count);
        if to.is_terminal() || to == VideoStatus::Uploaded {
            // The upload is over either way (and the video out of the sweep's index).
            v.upload_id = None;
        }
        Ok(true)
    }

    async fn raise_percent(&self, id: &VideoId, percent: u8) -> Result<bool, StoreError> {
        self.note(Asked::RaisePercent(id.clone(), percent));
        let mut w = self.world();
        let Some(v) = w.videos.get_mut(id).map(|r| &mut r.video) else { return Ok(false) };
        let running = matches!(v.status, VideoStatus::Uploaded | VideoStatus::Transcoding);
        if v.deleting || !running || v.percent_complete.is_some_and(|p| p >= percent) {
            return Ok(false);
        }
        v.percent_complete = Some(percent);
        Ok(true)
    }

    async fn record_source(&self, id: &VideoId, job: &str, source: &SourceInfo) -> Result<bool, StoreError> {
        self.note(Asked::RecordSource(id.clone(), job.to_owned(), source.clone()));
        let mut w = self.world();
        match w.videos.get_mut(id).map(|r| &mut r.video) {
            Some(v) if v.job_id.as_deref().is_none_or(|j| j == job) => {
                v.source = Some(source.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn record_output(&self, id: &VideoId, kind: &MediaKind, key: &str) -> Result<bool, StoreError> {
        self.note(Asked::RecordOutput(id.clone(), kind.clone(), key.to_owned()));
        let mut w = self.world();
        let Some(v) = w.videos.get_mut(id).map(|r| &mut r.video) else {
            // Segments are not recorded: nothing is asked of the video.
            return Ok(matches!(kind, MediaKind::HlsOther | MediaKind::Other));
        };
        match kind {
            MediaKind::HlsMaster => v.outputs.hls_master = Some(key.to_owned()),
            MediaKind::Mp4 => v.outputs.mp4 = Some(key.to_owned()),
            // The count only grows (thumbnails land in any order, events come twice).
            MediaKind::Thumbnail(index) => {
                let count = index.saturating_add(1);
                if v.outputs.thumbnail_count.is_none_or(|n| n < count) {
                    v.outputs.thumbnail_count = Some(count);
                }
            }
            MediaKind::HlsOther | MediaKind::Other => {}
        }
        Ok(true)
    }
}

#[async_trait]
impl CaptionStore for Memory {
    async fn put_caption(&self, id: &VideoId, track: &CaptionTrack) -> Result<Video, StoreError> {
        let mut w = self.world();
        let Some(v) = w.videos.get_mut(id).map(|r| &mut r.video) else { return failed(Guard::Video) };
        let captions = &mut v.outputs.captions;
        if !captions.contains_key(&track.lang) && captions.len() >= MAX_TRACKS {
            return failed(Guard::Item);
        }
        captions.insert(track.lang.clone(), track.clone());
        v.outputs.captions_version += 1;
        Ok(v.clone())
    }

    async fn remove_caption(&self, id: &VideoId, lang: &Lang) -> Result<Option<Video>, StoreError> {
        let mut w = self.world();
        let Some(v) = w.videos.get_mut(id).map(|r| &mut r.video) else { return Ok(None) };
        if v.outputs.captions.remove(lang).is_none() {
            return Ok(None);
        }
        v.outputs.captions_version += 1;
        Ok(Some(v.clone()))
    }

    async fn set_captioned_master(&self, id: &VideoId, version: u32, key: Option<&str>) -> Result<bool, StoreError> {
        let mut w = self.world();
        match w.videos.get_mut(id).map(|r| &mut r.video) {
            Some(v) if v.outputs.captions_version == version => {
                v.outputs.captioned_master = key.map(str::to_owned);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn set_transcript(&self, id: &VideoId, state: &TranscriptState, first: bool) -> Result<bool, StoreError> {
        let mut w = self.world();
        match w.videos.get_mut(id).map(|r| &mut r.video) {
            Some(v) if !first || v.transcript.is_none() => {
                v.transcript = Some(state.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl MinutesBudget for Memory {
    async fn charge_minutes(
        &self,
        what: Metered,
        video: &VideoId,
        user: &UserId,
        minutes: u64,
        day: &str,
        limit: u64,
    ) -> Result<Charge, StoreError> {
        let exceeded = Exceeded { quota: what.quota(), limit };
        if minutes > limit {
            return Ok(Charge::Exceeded(exceeded));
        }
        let slot = metered(what);
        let mut w = self.world();
        match w.videos.get(video) {
            Some(r) if !r.video.deleting && r.charges[slot].is_none() => {}
            Some(r) if !r.video.deleting => return Ok(Charge::AlreadyCharged),
            _ => return Ok(Charge::Gone),
        }
        let day_key = (user.clone(), day.to_owned());
        let spent = w.budgets.get(&day_key).map_or(0, |b| b.minutes[slot]);
        if spent.saturating_add(signed(minutes)) > signed(limit) {
            return Ok(Charge::Exceeded(exceeded));
        }
        w.budgets.entry(day_key).or_default().minutes[slot] += signed(minutes);
        if let Some(row) = w.videos.get_mut(video) {
            row.charges[slot] = Some(MinuteCharge { minutes, day: day.to_owned(), settled: false });
        }
        Ok(Charge::Charged)
    }

    async fn settle_minutes(&self, what: Metered, video: &VideoId, minutes: u64) -> Result<bool, StoreError> {
        let slot = metered(what);
        let mut w = self.world();
        let Some(row) = w.videos.get_mut(video) else { return Ok(false) };
        let user = row.video.created_by.clone();
        let Some(charge) = row.charges[slot].as_mut().filter(|c| !c.settled) else { return Ok(false) };
        let correction = signed(minutes) - signed(charge.minutes);
        let day = charge.day.clone();
        *charge = MinuteCharge { minutes, day: day.clone(), settled: true };
        // Into the day that was charged, while its budget lasts: spent, so no limit.
        if let Some(budget) = w.budgets.get_mut(&(user, day)) {
            budget.minutes[slot] += correction;
        }
        Ok(true)
    }
}
