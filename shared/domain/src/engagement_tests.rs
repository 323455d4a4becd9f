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
        email: format!("{}@example.edu", name.to_lowercase().replace([' ', '"', ','], "").replace('é', "e"))
            .parse()
            .expect("email"),
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
    assert_eq!(e.fits(500), Ok(()));

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
    // Every field but a number quoted, lines ended by CRLF.
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines.len(), 4, "header, two rows, and the last line's end: {lines:?}");
    assert_eq!(
        lines[1],
        format!(
            "\"Ana\",\"{}\",\"{}\",\"2026-12-01T09:00:00Z\",1,\"2026-12-03T08:00:00Z\",93,\"2026-12-03T07:00:00Z\",\"\",\"\",0,\"\"",
            ana.email.as_str(),
            ana.user_id
        )
    );
    let rows = records(&csv);
    assert_eq!(
        rows[0],
        [
            "name",
            "email",
            "user_id",
            "joined_at",
            "videos_completed",
            "last_watched_at",
            &format!("Waves [{}] coverage %", first.video_id),
            &format!("Waves [{}] completed_at", first.video_id),
            &format!("Lab [{}] coverage %", new.video_id),
            &format!("Lab [{}] completed_at", new.video_id),
            &format!("Optics [{}] coverage %", old.video_id),
            &format!("Optics [{}] completed_at", old.video_id),
        ]
    );
    assert_eq!(rows[2][0], "Bo, \"the\" second", "a comma and quotes kept in one cell: {:?}", rows[2]);
    assert_eq!(rows[2][4..], ["0", "", "", "", "", "", "40", ""], "{:?}", rows[2]);
}

/// The CSV's records (the byte-order mark left out), as a spreadsheet reads them.
fn records(csv: &[u8]) -> Vec<Vec<String>> {
    let body = csv.strip_prefix(b"\xEF\xBB\xBF".as_slice()).expect("a byte-order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.expect("a record").iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn students_sort_by_name_regardless_of_case_and_the_order_is_the_lists() {
    let mut e = Engagement::new(vec![
        video("Unplaced older", "2026-11-01T00:00:00Z", None),
        video("Second", "2026-11-02T00:00:00Z", Some(1)),
        video("Past the last place", "2026-11-03T00:00:00Z", Some(5_000_000)),
        video("First", "2026-11-04T00:00:00Z", Some(0)),
        video("Unplaced newer", "2026-11-05T00:00:00Z", None),
    ]);
    assert_eq!(
        e.videos().iter().map(|v| v.title.as_str()).collect::<Vec<_>>(),
        ["First", "Second", "Past the last place", "Unplaced newer", "Unplaced older"]
    );
    for name in ["zed", "Émile", "ana", "Zoe", "Ben"] {
        e.add_student(student(name, 0, None));
    }
    let names: Vec<String> = records(&e.to_csv().expect("csv")).into_iter().skip(1).map(|r| r[0].clone()).collect();
    assert_eq!(names, ["ana", "Ben", "zed", "Zoe", "Émile"]);
}

#[test]
fn a_class_past_the_bounds_is_refused_before_anything_is_read() {
    let videos: Vec<Video> =
        (0..40).map(|i| video("L", &format!("2026-11-{:02}T00:00:00Z", i % 28 + 1), None)).collect();
    let e = Engagement::new(videos);
    assert_eq!(e.fits(2_500), Ok(()), "100,000 cells");
    assert_eq!(e.fits(2_501), Err(TooLarge::Cells { members: 2_501, videos: 40 }));
    let none = Engagement::new(Vec::new());
    assert_eq!(none.fits(MAX_MEMBERS), Ok(()));
    assert_eq!(none.fits(MAX_MEMBERS + 1), Err(TooLarge::Members { members: MAX_MEMBERS + 1 }));
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
    e.add_student(student("Ana;=2+2", 0, None));
    let rows = records(&e.to_csv().expect("csv"));
    assert!(rows[0][6].starts_with("'=cmd|' /C calc'!A0 ["), "{:?}", rows[0]);
    // Every cell a person wrote: the name and the address (`=1+1@example.edu` is an address).
    assert_eq!((rows[1][0].as_str(), rows[1][1].as_str()), ("'=1+1", "'=1+1@example.edu"), "{:?}", rows[1]);
    // A `;` inside a name stays inside its quoted field.
    assert_eq!(rows[2][0], "Ana;=2+2", "{:?}", rows[2]);
    let raw = String::from_utf8(e.to_csv().expect("csv")).expect("utf-8");
    assert!(raw.contains("\"Ana;=2+2\""), "{raw}");
}
