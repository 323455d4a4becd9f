//! One class watching one lecture: each report taken as the handler takes it, the items it
//! changes and what it costs tallied per report and per window.

use std::collections::{BTreeMap, HashMap};

use vivid_domain::{
    coverage::{CompletionThreshold, HeatChunk},
    lti::grades::completion_of,
    types::{SpaceId, UserId, VideoId},
    watching::{Reported, StoredWatch, take_report},
};
use vivid_dynamo::attrs;

use crate::{
    Failure, Item, STUDENTS, WINDOW_MS,
    players::Sent,
    rng::Rng,
    sizes::{add, item_size, rcu, transact_wcu, wcu},
    table::{Student, at, heat_item, member, new_progress, save_progress, stand},
};

#[derive(Default)]
pub(crate) struct Window {
    /// Items written on `VIDEO#{videoId}` (progress and heat) and their write units.
    pub(crate) video_items: u64,
    pub(crate) video_wcu: u64,
    /// Standings written on `SPACE#{spaceId}` and their write units.
    pub(crate) space_items: u64,
    pub(crate) space_wcu: u64,
    /// Write units of the whole table and its index.
    pub(crate) all_wcu: u64,
    /// Writes per heat item.
    pub(crate) heat: HashMap<(u32, u8), u64>,
}

#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) sent: usize,
    pub(crate) taken: usize,
    pub(crate) replays: usize,
    pub(crate) refused: BTreeMap<String, usize>,
    pub(crate) first_reports: usize,
    /// Per taken report: table write units, index write units, items written.
    pub(crate) table_wcu: Vec<u64>,
    pub(crate) index_wcu: Vec<u64>,
    pub(crate) items: Vec<u64>,
    pub(crate) items_per_transaction: BTreeMap<u64, usize>,
    /// Requests and read units, all reports (first reports' extra path included).
    pub(crate) requests: u64,
    pub(crate) read_units: u64,
    /// Reports whose completion rose: the membership is read (and an LTI course's grade worker
    /// may start).
    pub(crate) completion_rose: usize,
    pub(crate) completions: usize,
    pub(crate) first_put_wcu: u64,
    pub(crate) first_put_index_wcu: u64,
    pub(crate) windows: BTreeMap<i64, Window>,
}

/// One class watching one lecture: the table's items as the reports leave them, and the tally.
pub(crate) struct Class {
    video: VideoId,
    space: SpaceId,
    pub(crate) duration_s: f64,
    pub(crate) start_ms: i64,
    pub(crate) students: Vec<Student>,
    pub(crate) heat: BTreeMap<(u32, u8), Item>,
    pub(crate) t: Tally,
}

impl Class {
    pub(crate) fn new(rng: &mut Rng, duration_s: f64, start_ms: i64) -> Result<Self, Failure> {
        let (video, space): (VideoId, SpaceId) = (rng.ulid().parse()?, rng.ulid().parse()?);
        let mut students = Vec::with_capacity(STUDENTS);
        for _ in 0..STUDENTS {
            let user: UserId = rng.ulid().parse()?;
            let membership = member(rng, &space, &user)?;
            let stored = StoredWatch::unreported(&space);
            students.push(Student { user, stored, progress: None, membership });
        }
        Ok(Self { video, space, duration_s, start_ms, students, heat: BTreeMap::new(), t: Tally::default() })
    }

    /// One report as the handler takes it: the read, the rules, the transaction, the passback's
    /// read; each item changed as the adapter changes it.
    pub(crate) fn take(&mut self, r: &Sent) -> Result<(), Failure> {
        self.t.sent += 1;
        let st = &mut self.students[r.student];
        let now = at(r.arrives_ms)?;
        let window = self.t.windows.entry((r.arrives_ms - self.start_ms) / WINDOW_MS).or_default();
        // The consistent read of the progress item (a miss before the first report).
        let before = st.progress.as_ref().map_or(0, item_size);
        self.t.requests += 1;
        self.t.read_units += rcu(before);
        let taken = take_report(
            &st.stored,
            &self.video,
            &st.user,
            &r.report,
            self.duration_s,
            CompletionThreshold::default(),
            r.arrives_ms,
            &now,
        );
        let w = match taken {
            Ok(Reported::Write(w, _)) => w,
            Ok(Reported::Replay(state)) => {
                // The passback is asked after a replay too (the answer to the attempt that took
                // it may have been lost): the membership is read unless the gradebook has as much.
                self.t.replays += 1;
                let now = completion_of(state.coverage.percent(), st.stored.completed_at.is_some());
                if st.stored.lti_posted.is_none_or(|p| now > p) {
                    self.t.requests += 1;
                    self.t.read_units += rcu(item_size(&st.membership));
                }
                return Ok(());
            }
            Err(e) => {
                // Counted by the error's variant.
                let kind = format!("{e:?}").split([' ', '{', '(']).next().unwrap_or_default().to_owned();
                *self.t.refused.entry(kind).or_default() += 1;
                return Ok(());
            }
        };
        self.t.taken += 1;
        let (mut table, mut index) = (0u64, 0u64);
        let mut before = before;
        if st.progress.is_none() {
            // No progress item: access (2), the put transaction (the progress item, the standing
            // and three condition checks), the read again, access (2) for the video's duration.
            self.t.first_reports += 1;
            self.t.requests += 6;
            let item = new_progress(&self.video, &self.space, &st.user, &now)?;
            let size = item_size(&item);
            self.t.read_units += rcu(size);
            stand(&mut st.membership, false, &now);
            let put = transact_wcu(size) + transact_wcu(item_size(&st.membership));
            // GSI1 and GSI2 entries of the new item, GSI1 of the membership.
            let put_index = 2 * wcu(size) + wcu(item_size(&st.membership));
            self.t.first_put_wcu += put;
            self.t.first_put_index_wcu += put_index;
            window.all_wcu += put + put_index;
            window.video_items += 1;
            window.video_wcu += transact_wcu(size);
            window.space_items += 1;
            window.space_wcu += transact_wcu(item_size(&st.membership));
            before = size;
            st.progress = Some(item);
        }
        let Some(progress) = st.progress.as_mut() else { return Ok(()) };
        // The transaction.
        self.t.requests += 1;
        save_progress(progress, &w);
        let after = item_size(progress);
        let progress_wcu = transact_wcu(before.max(after));
        table += progress_wcu;
        // Its GSI1 entry moves (`GSI1SK` is the last access): a delete and a put.
        index += wcu(before) + wcu(after);
        stand(&mut st.membership, w.completes, &w.now);
        let standing = item_size(&st.membership);
        table += transact_wcu(standing);
        index += wcu(standing);
        let mut items = 2u64;
        let mut video_wcu = progress_wcu;
        let mut touched: Vec<(u32, u8)> = w.heat.iter().map(|c: &HeatChunk| (c.chunk, w.shard)).collect();
        if w.started && !w.heat.iter().any(|c| c.chunk == 0) {
            touched.push((0, w.shard));
        }
        for (chunk, shard) in touched {
            let item = self.heat.entry((chunk, shard)).or_insert_with(|| heat_item(&self.video, chunk, shard));
            let before = item_size(item);
            for c in w.heat.iter().filter(|c| c.chunk == chunk) {
                for d in &c.deltas {
                    if d.distinct > 0 {
                        add(item, &attrs::heat_distinct(d.bucket), u64::from(d.distinct));
                    }
                    if d.views > 0 {
                        add(item, &attrs::heat_views(d.bucket), u64::from(d.views));
                    }
                }
            }
            if w.started && chunk == 0 {
                add(item, attrs::HEAT_STARTERS, 1);
            }
            let units = transact_wcu(before.max(item_size(item)));
            table += units;
            video_wcu += units;
            items += 1;
            *window.heat.entry((chunk, shard)).or_default() += 1;
        }
        // The membership read of the grade passback, when the completion rose.
        let was = completion_of(st.stored.percent.unwrap_or(0), st.stored.completed_at.is_some());
        let completed = st.stored.completed_at.is_some() || w.completes;
        if completion_of(w.percent, completed) > was {
            self.t.completion_rose += 1;
            self.t.requests += 1;
            self.t.read_units += rcu(standing);
        }
        self.t.completions += usize::from(w.completes);
        window.video_items += items - 1;
        window.video_wcu += video_wcu;
        window.space_items += 1;
        window.space_wcu += transact_wcu(standing);
        window.all_wcu += table + index;
        self.t.table_wcu.push(table);
        self.t.index_wcu.push(index);
        self.t.items.push(items);
        *self.t.items_per_transaction.entry(items).or_default() += 1;
        st.stored = StoredWatch {
            coverage: Some(w.coverage.clone()),
            ledger: Some(w.ledger.clone()),
            duration_s: Some(w.duration_s),
            version: w.version + 1,
            completed_at: st.stored.completed_at.clone().or_else(|| w.completes.then(|| w.now.clone())),
            percent: Some(w.percent),
            ..st.stored.clone()
        };
        Ok(())
    }
}
