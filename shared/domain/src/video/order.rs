//! The order of a space's lectures and a video's chapters.

use serde::{Deserialize, Serialize};

use crate::types::{Invalid, Seconds, VideoId};

use super::{Title, Video};

/// Why an order of lectures cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("video {0} is listed twice")]
    Duplicate(VideoId),
    #[error("video {0} is not a video of this space")]
    Unknown(VideoId),
}

/// What ordering a space's lectures as `order` changes: the videos of `all` (every video of the
/// space) whose place moves, with their new position — the listed ones take 0, 1, 2… in that
/// order, every other one goes back among the unplaced (`None`), which follow the placed ones,
/// newest first.
pub fn placements<'a>(all: &'a [Video], order: &[VideoId]) -> Result<Vec<(&'a Video, Option<u32>)>, OrderError> {
    let mut wanted = std::collections::HashMap::with_capacity(order.len());
    for (i, id) in order.iter().enumerate() {
        let position = u32::try_from(i).map_err(|_| OrderError::Unknown(id.clone()))?;
        if wanted.insert(id, position).is_some() {
            return Err(OrderError::Duplicate(id.clone()));
        }
    }
    if let Some(unknown) = order.iter().find(|id| !all.iter().any(|v| &v.video_id == *id)) {
        return Err(OrderError::Unknown(unknown.clone()));
    }
    Ok(all
        .iter()
        .filter_map(|v| {
            let position = wanted.get(&v.video_id).copied();
            (position != v.position).then_some((v, position))
        })
        .collect())
}

/// A space's videos in the order a member sees them: the placed ones by position, then the
/// others newest first.
pub fn in_order(mut videos: Vec<Video>) -> Vec<Video> {
    videos.sort_by(|a, b| match (a.position, b.position) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => (&b.created_at, &b.video_id).cmp(&(&a.created_at, &a.video_id)),
    });
    videos
}

/// A chapter of a video: where it starts and what it is called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Chapter {
    pub start_seconds: Seconds,
    pub title: Title,
}

/// The most chapters a video has.
pub const MAX_CHAPTERS: usize = 200;

/// A video's chapters as the host sends them: at most [`MAX_CHAPTERS`], each starting at its
/// own time, within the video when its duration is known. Sorted by start.
pub fn chapters(mut list: Vec<Chapter>, duration_seconds: Option<f64>) -> Result<Vec<Chapter>, Invalid> {
    if list.len() > MAX_CHAPTERS {
        return Err(Invalid(format!("at most {MAX_CHAPTERS} chapters")));
    }
    list.sort_by(|a, b| a.start_seconds.get().total_cmp(&b.start_seconds.get()));
    if list.windows(2).any(|w| w[0].start_seconds == w[1].start_seconds) {
        return Err(Invalid("two chapters start at the same time".to_owned()));
    }
    if let (Some(d), Some(last)) = (duration_seconds, list.last())
        && last.start_seconds.get() >= d
    {
        return Err(Invalid(format!("a chapter starts at or after the video's end ({d} s)")));
    }
    Ok(list)
}

/// The chapters as a WebVTT chapters track (`<track kind="chapters">`): each cue runs to the
/// next chapter's start, the last one to the video's end (or a day, when it is not known).
pub fn chapters_webvtt(list: &[Chapter], duration_seconds: Option<f64>) -> String {
    fn stamp(t: f64) -> String {
        let ms = (t * 1000.0).round() as u64;
        format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }
    let mut out = String::from("WEBVTT\n");
    for (i, c) in list.iter().enumerate() {
        let end = list.get(i + 1).map(|n| n.start_seconds.get()).or(duration_seconds).unwrap_or(Seconds::MAX);
        out.push_str(&format!(
            "\n{}\n{} --> {}\n{}\n",
            i + 1,
            stamp(c.start_seconds.get()),
            stamp(end),
            c.title.as_str()
        ));
    }
    out
}

#[cfg(test)]
mod chapter_tests {
    use super::*;

    fn chapter(t: f64, title: &str) -> Chapter {
        Chapter {
            start_seconds: Seconds::new(t).expect("seconds"),
            title: Title::try_from(title.to_owned()).expect("title"),
        }
    }

    #[test]
    fn chapters_are_sorted_distinct_and_within_the_video() {
        let sorted = chapters(vec![chapter(90.0, "Proof"), chapter(0.0, "Intro")], Some(600.0)).expect("valid");
        assert_eq!(sorted.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(), ["Intro", "Proof"]);
        assert!(chapters(vec![chapter(5.0, "A"), chapter(5.0, "B")], None).is_err());
        assert!(chapters(vec![chapter(600.0, "After")], Some(600.0)).is_err());
        assert!(chapters((0..=MAX_CHAPTERS).map(|i| chapter(i as f64, "C")).collect(), None).is_err());
        let vtt = chapters_webvtt(&sorted, Some(3725.5));
        assert_eq!(
            vtt,
            "WEBVTT\n\n1\n00:00:00.000 --> 00:01:30.000\nIntro\n\n2\n00:01:30.000 --> 01:02:05.500\nProof\n"
        );
    }
}

#[cfg(test)]
mod order_tests {
    use super::*;
    use crate::types::{SpaceId, UserId};

    fn video(created_at: &str, position: Option<u32>) -> Video {
        let mut v: Video = serde_json::from_value(serde_json::json!({
            "videoId": VideoId::generate(), "spaceId": SpaceId::generate(), "title": "T", "description": "",
            "status": "READY", "fileName": "a.mp4", "contentType": "video/mp4", "sizeBytes": 1,
            "createdBy": UserId::generate(), "createdAt": created_at, "updatedAt": created_at,
        }))
        .expect("video");
        v.position = position;
        v
    }

    #[test]
    fn an_order_places_the_listed_videos_and_unplaces_the_others() {
        let all = vec![video("2026-01-01", None), video("2026-01-02", Some(0)), video("2026-01-03", Some(1))];
        let ids = |vs: &[&Video]| vs.iter().map(|v| v.video_id.clone()).collect::<Vec<_>>();
        // [2, 0]: video 2 moves to 0, video 0 is placed at 1, video 1 goes back among the unplaced.
        let moves = placements(&all, &ids(&[&all[2], &all[0]])).expect("valid");
        let got: Vec<(VideoId, Option<u32>)> = moves.iter().map(|(v, p)| (v.video_id.clone(), *p)).collect();
        assert_eq!(
            got,
            vec![
                (all[0].video_id.clone(), Some(1)),
                (all[1].video_id.clone(), None),
                (all[2].video_id.clone(), Some(0))
            ]
        );
        // The order as it stands changes nothing.
        assert!(placements(&all, &ids(&[&all[1], &all[2]])).expect("valid").is_empty());
        assert_eq!(
            placements(&all, &ids(&[&all[0], &all[0]])).err(),
            Some(OrderError::Duplicate(all[0].video_id.clone()))
        );
        let stranger = VideoId::generate();
        assert_eq!(placements(&all, std::slice::from_ref(&stranger)).err(), Some(OrderError::Unknown(stranger)));
    }

    #[test]
    fn members_see_the_placed_videos_first_then_the_newest() {
        let all = vec![
            video("2026-01-01", None),
            video("2026-01-02", Some(1)),
            video("2026-01-03", None),
            video("2026-01-04", Some(0)),
        ];
        let dates: Vec<String> = in_order(all).into_iter().map(|v| v.created_at).collect();
        assert_eq!(dates, ["2026-01-04", "2026-01-02", "2026-01-03", "2026-01-01"]);
    }
}
