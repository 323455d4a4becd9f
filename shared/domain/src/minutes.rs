//! Minutes: what MediaConvert and Transcribe bill. A video's length is known before its job is
//! paid for (the transcoder's probe of the source's container), so a lecture longer than the
//! longest allowed never starts, and each job is charged to its creator's daily budget of minutes
//! before it starts — once per video, whichever delivery of the event gets there first.

use async_trait::async_trait;

use crate::{
    error::StoreError,
    failure::FailureReason,
    quota::{Exceeded, Quota, Quotas},
    types::{UserId, VideoId},
};

/// A service billed by the minute of media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metered {
    /// MediaConvert: four outputs (three HLS renditions and the MP4) and the frame captures.
    Transcode,
    /// Transcribe: the MP4's audio.
    Transcribe,
}

impl Metered {
    /// The daily budget it is charged to.
    pub fn quota(self) -> Quota {
        match self {
            Metered::Transcode => Quota::DailyTranscodeMinutes,
            Metered::Transcribe => Quota::DailyTranscribeMinutes,
        }
    }

    /// Why a video (or its transcript) fails when the budget would be passed.
    pub fn over_budget(self) -> FailureReason {
        match self {
            Metered::Transcode => FailureReason::TranscodeMinutesExceeded,
            Metered::Transcribe => FailureReason::TranscribeMinutesExceeded,
        }
    }
}

/// The whole minutes `seconds` of media are charged as: started minutes count, at least one.
pub fn billed_minutes(seconds: f64) -> u64 {
    if !seconds.is_finite() || seconds <= 0.0 {
        return 1;
    }
    // At most 2^53 seconds fit an f64 exactly; a longer "length" is a lie, and a huge charge.
    (seconds.min(9.0e15) / 60.0).ceil().max(1.0) as u64
}

/// What a source's probe decides before its transcoding is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Transcode it, charging this many minutes first.
    Charge(u64),
    /// Longer than the longest lecture allowed: it fails, nothing is charged or started.
    TooLong,
}

/// The rule for a source of `duration` seconds (`None`: its container does not say, as a
/// recording a browser made often does not) under `quotas`. An unknown length is charged as the
/// longest allowed — the job is clipped there, so it cannot cost more — and settled to what was
/// transcoded when the job completes.
pub fn admit(duration: Option<f64>, quotas: &Quotas) -> Admission {
    let longest = quotas.lecture_seconds as f64;
    match duration.filter(|d| d.is_finite() && *d >= 0.0) {
        Some(d) if d > longest => Admission::TooLong,
        Some(d) => Admission::Charge(billed_minutes(d)),
        None => Admission::Charge(billed_minutes(longest)),
    }
}

/// How a charge went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    /// Charged now.
    Charged,
    /// The video was charged before (a redelivered event): nothing charged again.
    AlreadyCharged,
    /// The budget would be passed: nothing charged.
    Exceeded(Exceeded),
    /// The video is gone or being deleted: nothing charged.
    Gone,
}

/// The daily budgets of minutes, per user, kept beside the other daily budgets.
#[async_trait]
pub trait MinutesBudget: Send + Sync {
    /// Charges `minutes` of `what` for `video` to `user`'s budget of `day` (UTC), within `limit`
    /// minutes that day; the video records the charge in the same transaction, so a video is
    /// charged once for each service.
    async fn charge_minutes(
        &self,
        what: Metered,
        video: &VideoId,
        user: &UserId,
        minutes: u64,
        day: &str,
        limit: u64,
    ) -> Result<Charge, StoreError>;

    /// Settles the video's charge of `what` to the `minutes` that were really processed (the
    /// estimate of a source whose length was unknown or misstated), once: the difference goes
    /// to the budget of the day that was charged, without a limit (it was spent). `Ok(false)`
    /// when there is no charge to settle or it was settled already.
    async fn settle_minutes(&self, what: Metered, video: &VideoId, minutes: u64) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn started_minutes_count() {
        assert_eq!(billed_minutes(0.0), 1);
        assert_eq!(billed_minutes(1.96), 1);
        assert_eq!(billed_minutes(60.0), 1);
        assert_eq!(billed_minutes(60.01), 2);
        assert_eq!(billed_minutes(21_600.0), 360);
        assert_eq!(billed_minutes(f64::NAN), 1);
        assert_eq!(billed_minutes(-5.0), 1);
        assert!(billed_minutes(f64::MAX) > 100_000_000_000);
    }

    #[test]
    fn a_source_longer_than_the_longest_lecture_is_refused_and_an_unknown_one_charged_as_the_longest() {
        let q = Quotas { lecture_seconds: 3600, ..Quotas::default() };
        assert_eq!(admit(Some(3600.0), &q), Admission::Charge(60));
        assert_eq!(admit(Some(3600.5), &q), Admission::TooLong);
        assert_eq!(admit(Some(90.0), &q), Admission::Charge(2));
        assert_eq!(admit(None, &q), Admission::Charge(60));
        assert_eq!(admit(Some(f64::INFINITY), &q), Admission::Charge(60), "no length read: the longest");
        assert_eq!(admit(Some(-1.0), &q), Admission::Charge(60));
    }
}
