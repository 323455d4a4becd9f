//! The printed figures: a run's requests, units, peaks and item sizes, and their spreads.

use std::collections::HashMap;

use vivid_dynamo::keys;

use crate::{
    STUDENTS, WINDOW_MS,
    class::{Class, Window},
    sizes::{READ_UNIT, item_size, rcu},
};

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn mean(v: &[u64]) -> f64 {
    if v.is_empty() { 0.0 } else { v.iter().sum::<u64>() as f64 / v.len() as f64 }
}

fn spread(label: &str, v: &[u64]) {
    let mut sorted = v.to_vec();
    sorted.sort_unstable();
    println!(
        "  {label:<34} mean {:>6.2}  p50 {:>4}  p99 {:>4}  max {:>4}",
        mean(&sorted),
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(0)
    );
}

fn sizes(label: &str, v: &[usize]) {
    let mut sorted: Vec<u64> = v.iter().map(|&b| b as u64).collect();
    sorted.sort_unstable();
    println!(
        "  {label:<34} p50 {:>5} B  p99 {:>5} B  max {:>5} B",
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(0)
    );
}

impl Class {
    pub(crate) fn print(&self, label: &str, seed: u64, last_ms: i64) {
        let (t, heat, students, duration_s) = (&self.t, &self.heat, &self.students, self.duration_s);
        let hours = duration_s / 3_600.0;
        println!("== {label}: {STUDENTS} students, a {hours}-hour lecture ({duration_s} s), seed {seed:#x}");
        println!(
            "reports: {} sent over {:.1} h of wall clock; {} taken, {} replays (a retry: 2 GetItems, nothing written), refused {:?}",
            t.sent,
            (last_ms - self.start_ms) as f64 / 3_600_000.0,
            t.taken,
            t.replays,
            t.refused
        );
        println!(
            "requests: {:.3} per report sent ({} in all): per taken report 1 GetItem (consistent) + 1 TransactWriteItems, \
             + 1 GetItem of the membership when the completion rose ({} reports, {:.1} %), + 6 on a student's first report ({})",
            t.requests as f64 / t.sent as f64,
            t.requests,
            t.completion_rose,
            100.0 * t.completion_rose as f64 / t.taken as f64,
            t.first_reports
        );
        println!(
            "read units: {:.3} per report sent ({} in all, strongly consistent)",
            t.read_units as f64 / t.sent as f64,
            t.read_units
        );
        println!("per taken report (the transaction; index = GSI1 of the progress item and of the membership):");
        let total: Vec<u64> = t.table_wcu.iter().zip(&t.index_wcu).map(|(a, b)| a + b).collect();
        spread("table write units (transactional)", &t.table_wcu);
        spread("index write units (standard)", &t.index_wcu);
        spread("all write units", &total);
        spread("items written", &t.items);
        let dist: Vec<String> = t
            .items_per_transaction
            .iter()
            .map(|(k, v)| format!("{k} items: {v} ({:.2} %)", 100.0 * *v as f64 / t.taken as f64))
            .collect();
        println!("  items per transaction: {}", dist.join(", "));
        println!(
            "  first reports' put transaction: {} table + {} index write units in all ({} students); completions stamped: {}",
            t.first_put_wcu, t.first_put_index_wcu, t.first_reports, t.completions
        );
        println!(
            "write units of the lecture: {} (table {} + index {} + first puts {})",
            total.iter().sum::<u64>() + t.first_put_wcu + t.first_put_index_wcu,
            t.table_wcu.iter().sum::<u64>(),
            t.index_wcu.iter().sum::<u64>(),
            t.first_put_wcu + t.first_put_index_wcu
        );
        let per_s = |v: u64| v as f64 / (WINDOW_MS as f64 / 1_000.0);
        let peak = |f: &dyn Fn(&Window) -> u64| t.windows.values().map(f).max().unwrap_or(0);
        println!("peaks (per {} s window, spread evenly):", WINDOW_MS / 1_000);
        println!(
            "  VIDEO#{{id}} partition: {:.1} item writes/s, {:.1} write units/s",
            per_s(peak(&|w| w.video_items)),
            per_s(peak(&|w| w.video_wcu))
        );
        println!(
            "  SPACE#{{id}} partition (standings): {:.1} writes/s, {:.1} write units/s",
            per_s(peak(&|w| w.space_items)),
            per_s(peak(&|w| w.space_wcu))
        );
        println!("  one HEAT# item: {:.2} writes/s", per_s(peak(&|w| w.heat.values().copied().max().unwrap_or(0))));
        println!("  whole table with its index: {:.1} write units/s", per_s(peak(&|w| w.all_wcu)));
        let heat_sizes: Vec<usize> = heat.values().map(item_size).collect();
        let heat_total: usize = heat_sizes.iter().sum();
        let (largest_key, largest) = heat
            .iter()
            .max_by_key(|(_, i)| item_size(i))
            .map_or((String::new(), 0), |((c, sh), i)| (keys::heat(*c, *sh), item_size(i)));
        let attributes = heat.values().map(HashMap::len).max().unwrap_or(0);
        println!(
            "heat counters: {} items, {} B in all; the largest {largest_key} {largest} B ({attributes} attributes at most)",
            heat.len(),
            heat_total
        );
        println!(
            "heatmap read: access (2 requests) + 1 Query of {} items, {} B: {} read units strongly consistent (as the \
             adapter queries), {:.1} eventually consistent",
            heat.len(),
            heat_total,
            rcu(heat_total),
            heat_total.div_ceil(READ_UNIT) as f64 * 0.5
        );
        let progress_sizes: Vec<usize> = students.iter().filter_map(|s| s.progress.as_ref().map(item_size)).collect();
        let coverage: Vec<usize> = students.iter().filter_map(|s| s.stored.coverage.as_ref().map(Vec::len)).collect();
        let ledgers: Vec<usize> = students.iter().filter_map(|s| s.stored.ledger.as_ref().map(Vec::len)).collect();
        let membership: Vec<usize> = students.iter().map(|s| item_size(&s.membership)).collect();
        println!("at the end, per student:");
        sizes("progress item", &progress_sizes);
        sizes("coverage", &coverage);
        sizes("session ledger", &ledgers);
        sizes("membership (standing)", &membership);
        let percent: Vec<u64> = students.iter().map(|s| u64::from(s.stored.percent.unwrap_or(0))).collect();
        spread("coverage percent", &percent);
        println!();
    }
}
