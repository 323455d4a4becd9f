//! What the stack stores (every item, object and multipart upload), and whether it holds
//! together ([`Stored::problems`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use vivid_tests::TestApp;

/// The problem a former member's data is, until the deletion worker purged it.
pub(super) const REVOKED: &str = "belongs to no member of its space";

pub(super) type Item = HashMap<String, AttributeValue>;

/// Everything stored: every item (attributes as canonical text), every object (size and ETag)
/// and every unfinished multipart upload of the three buckets.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Contents {
    pub(super) items: BTreeMap<(String, String), BTreeMap<String, String>>,
    pub(super) objects: BTreeMap<(String, String), (i64, String)>,
    pub(super) uploads: BTreeSet<(String, String, String)>,
}

pub(super) struct Stored {
    pub(super) contents: Contents,
    pub(super) items: Vec<Item>,
    pub(super) buckets: vivid_local::stack::Buckets,
}

pub(super) fn text(item: &Item, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

pub(super) fn number(item: &Item, name: &str) -> i64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

pub(super) fn flag(item: &Item, name: &str) -> bool {
    item.get(name).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)
}

pub(super) fn canonical(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => format!("S:{s}"),
        AttributeValue::N(n) => format!("N:{n}"),
        AttributeValue::Bool(b) => format!("BOOL:{b}"),
        AttributeValue::Null(_) => "NULL".to_owned(),
        AttributeValue::M(m) => {
            let sorted: BTreeMap<_, _> = m.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
            format!("M:{sorted:?}")
        }
        AttributeValue::L(l) => format!("L:{:?}", l.iter().map(canonical).collect::<Vec<_>>()),
        AttributeValue::Ss(s) => format!("SS:{:?}", s.iter().collect::<BTreeSet<_>>()),
        AttributeValue::Ns(s) => format!("NS:{:?}", s.iter().collect::<BTreeSet<_>>()),
        other => format!("{other:?}"),
    }
}

impl Stored {
    pub(super) async fn read(app: &TestApp) -> Self {
        let items = app.scan_all().await;
        let mut contents = Contents { items: BTreeMap::new(), objects: BTreeMap::new(), uploads: BTreeSet::new() };
        for item in &items {
            let attrs = item
                .iter()
                // A budget's expiry is pushed on with every charge: a TTL hint, not state.
                .filter(|(k, _)| !(k.as_str() == "expiresAt" && text(item, "SK").starts_with("BUDGET#")))
                .map(|(k, v)| (k.clone(), canonical(v)))
                .collect();
            contents.items.insert((text(item, "PK"), text(item, "SK")), attrs);
        }
        let buckets = app.stack.buckets.clone();
        let s3 = app.s3();
        for bucket in [&buckets.raw, &buckets.media, &buckets.user] {
            let mut token = None;
            loop {
                let page = s3
                    .list_objects_v2()
                    .bucket(bucket)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .expect("list objects");
                for o in page.contents() {
                    let key = o.key().unwrap_or_default().to_owned();
                    let etag = o.e_tag().unwrap_or_default().to_owned();
                    contents.objects.insert((bucket.clone(), key), (o.size().unwrap_or_default(), etag));
                }
                token = page.next_continuation_token.filter(|_| page.is_truncated == Some(true));
                if token.is_none() {
                    break;
                }
            }
            let uploads = s3.list_multipart_uploads().bucket(bucket).send().await.expect("list uploads");
            for u in uploads.uploads() {
                contents.uploads.insert((
                    bucket.clone(),
                    u.key().unwrap_or_default().to_owned(),
                    u.upload_id().unwrap_or_default().to_owned(),
                ));
            }
        }
        Self { contents, items, buckets }
    }

    pub(super) fn find(&self, pk: &str, sk: &str) -> Option<&Item> {
        self.items.iter().find(|i| text(i, "PK") == pk && text(i, "SK") == sk)
    }

    pub(super) fn partition(&self, pk: &str) -> impl Iterator<Item = &Item> {
        let pk = pk.to_owned();
        self.items.iter().filter(move |i| text(i, "PK") == pk)
    }

    /// Every way the stored state does not hold together.
    pub(super) fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let keys: HashSet<(String, String)> = self.items.iter().map(|i| (text(i, "PK"), text(i, "SK"))).collect();
        let has = |pk: &str, sk: &str| keys.contains(&(pk.to_owned(), sk.to_owned()));
        let videos: Vec<&Item> =
            self.items.iter().filter(|i| text(i, "PK").starts_with("VIDEO#") && text(i, "SK") == "META").collect();
        let spaces: Vec<&Item> =
            self.items.iter().filter(|i| text(i, "PK").starts_with("SPACE#") && text(i, "SK") == "META").collect();
        for space in &spaces {
            let (pk, id, host) = (text(space, "PK"), text(space, "spaceId"), text(space, "hostId"));
            match self.find(&pk, &format!("MEMBER#{host}")) {
                Some(m) if text(m, "role") == "host" => {}
                _ => out.push(format!("space {id} has no host membership")),
            }
            if flag(space, "deleting") {
                continue; // being deleted: its partition is swept as it goes
            }
            let members = self.partition(&pk).filter(|i| text(i, "SK").starts_with("MEMBER#")).count() as i64;
            if number(space, "memberCount") != members {
                out.push(format!("space {id}: memberCount {} but {members} members", number(space, "memberCount")));
            }
            // A video being deleted left its space's count when it was marked.
            let count = videos.iter().filter(|v| text(v, "spaceId") == id && !flag(v, "deleting")).count() as i64;
            if number(space, "videoCount") != count {
                out.push(format!("space {id}: videoCount {} but {count} videos", number(space, "videoCount")));
            }
        }
        for profile in self.items.iter().filter(|i| text(i, "PK").starts_with("USER#") && text(i, "SK") == "PROFILE") {
            let user = text(profile, "userId");
            let hosted = spaces.iter().filter(|s| text(s, "hostId") == user && !flag(s, "personal")).count() as i64;
            if number(profile, "hostedSpaces") != hosted {
                out.push(format!("user {user}: hostedSpaces {} but {hosted} spaces", number(profile, "hostedSpaces")));
            }
        }
        for m in
            self.items.iter().filter(|i| text(i, "PK").starts_with("SPACE#") && text(i, "SK").starts_with("MEMBER#"))
        {
            let user = text(m, "userId");
            if !has(&text(m, "PK"), "META") {
                out.push(format!("membership of {user} in a space that is gone: {}", text(m, "PK")));
            }
            if !has(&format!("USER#{user}"), "PROFILE") {
                out.push(format!("membership of a user who is gone: {user} in {}", text(m, "PK")));
            }
        }
        for lock in self.items.iter().filter(|i| text(i, "SK").starts_with("IMPORTED#")) {
            let video = self.find(&format!("VIDEO#{}", text(lock, "videoId")), "META");
            let recording = text(lock, "SK")["IMPORTED#".len()..].to_owned();
            if video.is_none_or(|v| text(v, "recordingId") != recording) {
                out.push(format!("recording lock {recording} without its video"));
            }
        }
        for item in self.items.iter().filter(|i| text(i, "PK").starts_with("VIDEO#") && text(i, "SK") != "META") {
            let (pk, sk) = (text(item, "PK"), text(item, "SK"));
            let Some(video) = self.find(&pk, "META") else {
                out.push(format!("{sk} of a video that is gone: {pk}"));
                continue;
            };
            let user = sk.split('#').nth(1).unwrap_or_default();
            if !has(&format!("SPACE#{}", text(video, "spaceId")), &format!("MEMBER#{user}")) {
                out.push(format!("{sk} of {pk} {REVOKED}"));
            }
            if sk.starts_with("USAGE#") {
                for (attr, prefix) in [("snapshots", "SNAP#"), ("drawings", "DRAW#"), ("checkpoints", "MEMOHIST#")] {
                    let counted =
                        self.partition(&pk).filter(|i| text(i, "SK").starts_with(&format!("{prefix}{user}#"))).count()
                            as i64;
                    if number(item, attr) != counted {
                        out.push(format!("{pk} {sk}: {attr} {} but {counted} items", number(item, attr)));
                    }
                }
                // The bytes charged on the video: snapshots' and drawings' sizes, checkpoints' states.
                let own = |prefix: &str| format!("{prefix}{user}#");
                let stored: i64 = self
                    .partition(&pk)
                    .map(|i| match text(i, "SK") {
                        s if s.starts_with(&own("SNAP#")) || s.starts_with(&own("DRAW#")) => number(i, "sizeBytes"),
                        s if s.starts_with(&own("MEMOHIST#")) => text(i, "stateJson").len() as i64,
                        _ => 0,
                    })
                    .sum();
                if number(item, "bytes") != stored {
                    out.push(format!("{pk} {sk}: bytes {} but its notes take {stored}", number(item, "bytes")));
                }
            }
        }
        // Each account's storage total is the sum of its usage on every video.
        let mut charged: BTreeMap<String, i64> = BTreeMap::new();
        for usage in self.items.iter().filter(|i| text(i, "PK").starts_with("VIDEO#")) {
            if let Some(user) = text(usage, "SK").strip_prefix("USAGE#") {
                *charged.entry(user.to_owned()).or_default() += number(usage, "bytes");
            }
        }
        for total in self.items.iter().filter(|i| text(i, "SK") == "STORAGE") {
            let user = text(total, "PK").trim_start_matches("USER#").to_owned();
            if !has(&text(total, "PK"), "PROFILE") {
                out.push(format!("storage total of a user who is gone: {user}"));
            }
            charged.entry(user).or_default();
        }
        for (user, bytes) in charged {
            let total = self.find(&format!("USER#{user}"), "STORAGE").map_or(0, |t| number(t, "bytes"));
            if total != bytes {
                out.push(format!("user {user}: storage {total} but their usage on videos sums to {bytes}"));
            }
        }
        let drawing_objects: HashSet<String> =
            self.items.iter().map(|i| text(i, "objectKey")).filter(|k| !k.is_empty()).collect();
        for (bucket, key) in self.contents.objects.keys() {
            let video = |id: &str| self.find(&format!("VIDEO#{id}"), "META");
            let segment = |n: usize| key.split('/').nth(n).unwrap_or_default();
            let orphan = if *bucket == self.buckets.user {
                match segment(0) {
                    "snapshots" => {
                        let id = segment(3);
                        !has(&format!("VIDEO#{}", segment(1)), &format!("SNAP#{}#{id}", segment(2)))
                    }
                    _ => !drawing_objects.contains(key),
                }
            } else {
                video(segment(1)).is_none()
            };
            if orphan {
                out.push(format!("object {bucket}/{key} that no item leads to"));
            }
        }
        for (bucket, key, _) in &self.contents.uploads {
            let video = key.strip_prefix("raw/").and_then(|id| self.find(&format!("VIDEO#{id}"), "META"));
            if *bucket != self.buckets.raw
                || video.is_none_or(|v| !["UPLOADING", "IMPORTING"].contains(&text(v, "status").as_str()))
            {
                out.push(format!("multipart upload {bucket}/{key} of no pending video"));
            }
        }
        out
    }

    pub(super) fn assert_consistent(&self, when: &str) {
        let problems = self.problems();
        assert!(problems.is_empty(), "{when}: the stored state does not hold together:\n  {}", problems.join("\n  "));
    }

    /// [`Self::assert_consistent`], a former member's data awaiting the worker's purge allowed.
    pub(super) fn assert_consistent_but_revoked(&self, when: &str) {
        let problems: Vec<String> = self.problems().into_iter().filter(|p| !p.ends_with(REVOKED)).collect();
        assert!(problems.is_empty(), "{when}: the stored state does not hold together:\n  {}", problems.join("\n  "));
    }

    /// What changed from `self` to `later` (keys only), for failure messages.
    pub(super) fn diff(&self, later: &Stored) -> String {
        let mut out = Vec::new();
        let (a, b) = (&self.contents, &later.contents);
        for k in a.items.keys().chain(b.items.keys()).collect::<BTreeSet<_>>() {
            match (a.items.get(k), b.items.get(k)) {
                (Some(_), None) => out.push(format!("item removed: {k:?}")),
                (None, Some(_)) => out.push(format!("item added: {k:?}")),
                (Some(x), Some(y)) if x != y => out.push(format!("item changed: {k:?}: {x:?} -> {y:?}")),
                _ => {}
            }
        }
        for k in a.objects.keys().chain(b.objects.keys()).collect::<BTreeSet<_>>() {
            if a.objects.get(k) != b.objects.get(k) {
                out.push(format!("object: {k:?}: {:?} -> {:?}", a.objects.get(k), b.objects.get(k)));
            }
        }
        for u in a.uploads.symmetric_difference(&b.uploads) {
            out.push(format!("multipart upload: {u:?}"));
        }
        out.join("\n  ")
    }
}
