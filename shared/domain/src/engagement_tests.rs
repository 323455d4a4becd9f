use super::*;
use crate::types::{SpaceId, UserId};

fn video(title: &str, created_at: &str, position: Option<u32>) -> Video {
    let mut v: Video = serde_json::from_value(serde_json::json!({
        "videoId": VideoId::generate(), "spaceId": SpaceId::generate(), "title": title, "description": "",
        "status": "READY", "fileName": "a.mp4", "contentType": "video/mp4", "sizeBytes": 1,
        "createdBy": UserId::generate(), "createdAt": created_at, "updatedAt": created_at,
    }))
    .expect("video");
    v.position = position;
    v
}

fn student(name: &str, completed: u32, last: Option<&str>) -> Student {
    Student {
        user_id: UserId::generate(),
        name: name.into(),
        email: format!("{}@example.edu", name.to_lowercase().replace(['=', ' ', '"', ','], "")).parse().expect("email"),
        joined_at: "2026-12-01T09:00:00Z".into(),
        standing: Standing { completed_videos: completed, progress_sum: 0, last_access_at: last.map(str::to_owned) },
    }
}

fn progress(video: &Video, user: &UserId, coverage: Option<u8>, completed_at: Option<&str>) -> Progress {
    serde_json::from_value(serde_json::json!({
        "videoId": video.video_id, "userId": user, "spaceId": video.space_id, "progressRate": 0,
        "positionSeconds": 0.0, "lastAccessAt": "2026-12-02T10:00:00Z",
        "completedAt": completed_at, "coveragePercent": coverage,
    }))
    .expect("progress")
}

#[test]
fn the_export_is_one_row_per_student_and_two_columns_per_video_in_the_hosts_order() {
    // The host's order: "Waves" placed first; the unplaced follow, newest first.
    let old = video("Optics", "2026-11-01T00:00:00Z", None);
    let new = video("Lab", "2026-11-20T00:00:00Z", None);
    let first = video("Waves", "2026-11-10T00:00:00Z", Some(0));
    let mut gone = video("Gone", "2026-11-11T00:00:00Z", Some(1));
    gone.deleting = true;
    let mut e = Engagement::new(vec![old.clone(), new.clone(), gone, first.clone()]);
    assert_eq!(e.videos().iter().map(|v| v.title.as_str()).collect::<Vec<_>>(), ["Waves", "Lab", "Optics"]);
    assert_eq!(e.cells(500), 1_500);

    let ana = student("Ana", 1, Some("2026-12-03T08:00:00Z"));
    let bo = student("Bo, \"the\" second", 0, None);
    e.add_progress(0, vec![progress(&first, &ana.user_id, Some(93), Some("2026-12-03T07:00:00Z"))]);
    e.add_progress(2, vec![progress(&old, &ana.user_id, None, None), progress(&old, &bo.user_id, Some(40), None)]);
    // A column past the videos is ignored.
    e.add_progress(7, vec![progress(&old, &bo.user_id, Some(1), None)]);
    // Added out of order: sorted by name.
    e.add_student(bo.clone());
    e.add_student(ana.clone());
    assert_eq!(e.students(), 2);

    let csv = e.to_csv().expect("csv");
    let text = std::str::from_utf8(&csv).expect("utf-8");
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark first");
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines.len(), 4, "header, two rows, and the last line's end: {lines:?}");
    assert_eq!(
        lines[0],
        format!(
            "name,email,user_id,joined_at,videos_completed,last_watched_at,\
             Waves [{0}] coverage %,Waves [{0}] completed_at,Lab [{1}] coverage %,Lab [{1}] completed_at,\
             Optics [{2}] coverage %,Optics [{2}] completed_at",
            first.video_id, new.video_id, old.video_id
        )
    );
    assert_eq!(
        lines[1],
        format!(
            "Ana,{},{},2026-12-01T09:00:00Z,1,2026-12-03T08:00:00Z,93,2026-12-03T07:00:00Z,,,0,",
            ana.email.as_str(),
            ana.user_id
        )
    );
    assert_eq!(
        lines[2],
        format!("\"Bo, \"\"the\"\" second\",{},{},2026-12-01T09:00:00Z,0,,,,,,40,", bo.email.as_str(), bo.user_id)
    );
    assert_eq!(lines[3], "");
}

#[test]
fn a_cell_a_spreadsheet_would_run_is_neutralised() {
    for (cell, shown) in [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ana", "Ana"),
        ("a=b", "a=b"),
        ("", ""),
    ] {
        assert_eq!(neutralised(cell), shown, "{cell:?}");
    }
    let mut e = Engagement::new(vec![video("=cmd|' /C calc'!A0", "2026-11-01T00:00:00Z", None)]);
    e.add_student(student("=1+1", 0, None));
    let csv = String::from_utf8(e.to_csv().expect("csv")).expect("utf-8");
    assert!(csv.contains("'=cmd|' /C calc'!A0 ["), "{csv}");
    assert!(csv.contains("\r\n'=1+1,"), "{csv}");
    assert!(!csv.contains(",=") && !csv.contains("\n="), "{csv}");
}
