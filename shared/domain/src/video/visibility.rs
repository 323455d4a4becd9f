//! Who sees a video (issue 30): its host and co-hosts always; its students only once it is
//! published — at once, or at a scheduled time checked when it is read (no event, no client: a
//! scheduled video is shown from `publishAt` on by every read, at no extra cost, as the video item
//! is read anyway). A draft and a hidden video are the managers' alone.

use serde::{Deserialize, Serialize};

/// A video's visibility to its space's students.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Shown to every member (the default, and every video's from before visibility).
    #[default]
    Published,
    /// Being prepared: the host's and co-hosts' only.
    Draft,
    /// Shown from `publishAt` on.
    Scheduled,
    /// Withdrawn from the students (their notes on it stay theirs, out of reach until it is
    /// shown again).
    Hidden,
}

impl Visibility {
    pub fn is_published(&self) -> bool {
        *self == Self::Published
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Hidden => "hidden",
        }
    }
}

/// Why a visibility change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisibilityError {
    #[error("a scheduled video needs publishAt, an RFC 3339 date-time")]
    NoTime,
    #[error("publishAt goes with visibility scheduled only")]
    TimeWithout,
    #[error("publishAt must be an RFC 3339 date-time from 1970 on, at most 366 days ahead")]
    BadTime,
    #[error("a space's default visibility is published or draft")]
    BadDefault,
}

/// The longest a video may be scheduled ahead.
const MAX_AHEAD_SECS: i64 = 366 * 24 * 3600;

/// A visibility as set: the state and, for a scheduled one, its time (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub visibility: Visibility,
    pub publish_at: Option<i64>,
}

impl Shown {
    pub const PUBLISHED: Self = Self { visibility: Visibility::Published, publish_at: None };

    /// A change as asked (`visibility` and `publishAt` of a PATCH), checked at `now` (unix
    /// seconds): a time only with `scheduled`, and one no more than a year ahead (a time past
    /// is taken: the video is shown at once).
    pub fn parse(visibility: Visibility, publish_at: Option<&str>, now: i64) -> Result<Self, VisibilityError> {
        match (visibility, publish_at) {
            (Visibility::Scheduled, None) => Err(VisibilityError::NoTime),
            (Visibility::Scheduled, Some(at)) => {
                let at = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| VisibilityError::BadTime)?
                    .unix_timestamp();
                if at < 0 || at > now.saturating_add(MAX_AHEAD_SECS) {
                    return Err(VisibilityError::BadTime);
                }
                Ok(Self { visibility, publish_at: Some(at) })
            }
            (_, Some(_)) => Err(VisibilityError::TimeWithout),
            (visibility, None) => Ok(Self { visibility, publish_at: None }),
        }
    }

    /// Whether the space's students see it at `now` (unix seconds).
    pub fn shown_at(&self, now: i64) -> bool {
        match self.visibility {
            Visibility::Published => true,
            Visibility::Scheduled => self.publish_at.is_some_and(|at| at <= now),
            Visibility::Draft | Visibility::Hidden => false,
        }
    }
}

/// A space's visibility for new videos and imports: published or draft.
pub fn default_for_space(v: Visibility) -> Result<Visibility, VisibilityError> {
    match v {
        Visibility::Published | Visibility::Draft => Ok(v),
        Visibility::Scheduled | Visibility::Hidden => Err(VisibilityError::BadDefault),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000; // 2026-11-30

    #[test]
    fn students_see_a_published_video_and_a_scheduled_one_from_its_time() {
        assert!(Shown::PUBLISHED.shown_at(NOW));
        let draft = Shown::parse(Visibility::Draft, None, NOW).expect("draft");
        let hidden = Shown::parse(Visibility::Hidden, None, NOW).expect("hidden");
        assert!(!draft.shown_at(NOW) && !hidden.shown_at(NOW + 10_000_000));
        let at = time::OffsetDateTime::from_unix_timestamp(NOW + 60).expect("time");
        let at = at.format(&time::format_description::well_known::Rfc3339).expect("format");
        let scheduled = Shown::parse(Visibility::Scheduled, Some(&at), NOW).expect("scheduled");
        assert_eq!(scheduled.publish_at, Some(NOW + 60));
        assert!(!scheduled.shown_at(NOW + 59) && scheduled.shown_at(NOW + 60) && scheduled.shown_at(NOW + 61));
        // A time in another offset is the same moment.
        let offset = Shown::parse(Visibility::Scheduled, Some("2026-11-30T01:53:20+01:00"), NOW).expect("offset");
        assert_eq!(offset.publish_at, Some(NOW));
    }

    #[test]
    fn a_change_without_its_time_or_with_a_stray_one_is_refused() {
        assert_eq!(Shown::parse(Visibility::Scheduled, None, NOW), Err(VisibilityError::NoTime));
        for v in [Visibility::Published, Visibility::Draft, Visibility::Hidden] {
            assert_eq!(Shown::parse(v, Some("2026-12-01T00:00:00Z"), NOW), Err(VisibilityError::TimeWithout));
        }
        for bad in ["tomorrow", "2026-12-01", "2026-12-01 10:00:00", "", "2028-01-01T00:00:00Z", "1969-12-31T23:59:59Z"]
        {
            assert_eq!(Shown::parse(Visibility::Scheduled, Some(bad), NOW), Err(VisibilityError::BadTime), "{bad}");
        }
        // A time past: shown at once.
        assert!(Shown::parse(Visibility::Scheduled, Some("2020-01-01T00:00:00Z"), NOW).expect("past").shown_at(NOW));
        assert_eq!(default_for_space(Visibility::Draft), Ok(Visibility::Draft));
        assert_eq!(default_for_space(Visibility::Hidden), Err(VisibilityError::BadDefault));
        assert_eq!(default_for_space(Visibility::Scheduled), Err(VisibilityError::BadDefault));
    }
}
