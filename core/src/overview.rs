//! The queue at a glance: what the console's overview draws.
//!
//! Computed from the same queries every door uses, through the viewer's
//! permission; bounded in work ([`MAX_SCANNED`] actions at most per part),
//! and it says so when it stopped early.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::engine::ActionCenter;
use crate::error::{Error, Result};
use crate::model::{Action, Status, Verdict};
use crate::policy::Principal;
use crate::query::{Filter, MAX_PAGE, PageRequest};

/// The most actions one part of an overview reads.
pub const MAX_SCANNED: usize = 20_000;
/// The longest window an overview covers.
pub const MAX_DAYS: i64 = 366;

/// Pending actions in an age band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgeBand {
    pub label: &'static str,
    pub count: u64,
}

/// How many pending actions of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindCount {
    pub kind: String,
    pub count: u64,
}

/// Decisions made on one day (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionDay {
    pub day: NaiveDate,
    pub approved: u64,
    pub rejected: u64,
}

/// How long actions decided on one day waited for their first decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitDay {
    pub day: NaiveDate,
    pub median_seconds: i64,
    pub count: u64,
}

/// The overview of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub days: i64,
    pub generated_at: DateTime<Utc>,
    pub pending_total: u64,
    pub pending_by_age: Vec<AgeBand>,
    pub pending_by_kind: Vec<KindCount>,
    /// One entry per day of the window, oldest first, days without
    /// decisions included.
    pub decisions_per_day: Vec<DecisionDay>,
    pub time_to_decision: Vec<WaitDay>,
    /// Executions (and undos) that failed in the window, newest first, at
    /// most 50.
    pub failed: Vec<Action>,
    /// Whether a part stopped at [`MAX_SCANNED`] actions.
    pub truncated: bool,
}

const BANDS: [(&str, i64); 5] = [
    ("< 1 h", 3_600),
    ("1 to 4 h", 4 * 3_600),
    ("4 to 24 h", 24 * 3_600),
    ("1 to 7 days", 7 * 86_400),
    ("> 7 days", i64::MAX),
];

impl ActionCenter {
    /// The overview over the past `days` (1 to [`MAX_DAYS`]), as `by` may
    /// see it.
    pub fn overview(&self, by: &Principal, days: i64) -> Result<Overview> {
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(Error::validation(
                "days",
                format!("must be 1 to {MAX_DAYS}"),
            ));
        }
        let now = self.now();
        let since = now - Duration::days(days);
        let (pending, cut_pending) = self.scan(by, &Filter::pending())?;
        let mut by_age = [0u64; BANDS.len()];
        let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
        for a in &pending {
            let age = (now - a.created_at).num_seconds();
            let band = BANDS
                .iter()
                .position(|(_, upto)| age < *upto)
                .unwrap_or(BANDS.len() - 1);
            by_age[band] += 1;
            *by_kind.entry(a.kind.to_string()).or_default() += 1;
        }
        let mut decided_filter = Filter {
            statuses: Status::ALL
                .into_iter()
                .filter(|s| *s != Status::Pending)
                .collect(),
            ..Filter::default()
        };
        decided_filter.created_after = Some(since - Duration::days(7));
        let (decided, cut_decided) = self.scan(by, &decided_filter)?;

        let first_day = since.date_naive();
        let mut per_day: BTreeMap<NaiveDate, (u64, u64)> = BTreeMap::new();
        let mut waits: BTreeMap<NaiveDate, Vec<i64>> = BTreeMap::new();
        let mut failed = Vec::new();
        for a in &decided {
            for d in a.decisions.iter().filter(|d| d.at >= since) {
                let entry = per_day.entry(d.at.date_naive()).or_default();
                match d.verdict {
                    Verdict::Approve => entry.0 += 1,
                    Verdict::Reject => entry.1 += 1,
                }
            }
            if let Some(first) = a.decisions.iter().map(|d| d.at).min()
                && first >= since
            {
                waits
                    .entry(first.date_naive())
                    .or_default()
                    .push((first - a.created_at).num_seconds().max(0));
            }
            if matches!(a.status, Status::Failed | Status::UndoFailed) && a.updated_at >= since {
                failed.push(a.clone());
            }
        }
        failed.sort_by_key(|a| std::cmp::Reverse(a.updated_at));
        failed.truncate(50);
        let decisions_per_day = first_day
            .iter_days()
            .take_while(|d| *d <= now.date_naive())
            .map(|day| {
                let (approved, rejected) = per_day.get(&day).copied().unwrap_or_default();
                DecisionDay {
                    day,
                    approved,
                    rejected,
                }
            })
            .collect();
        let time_to_decision = waits
            .into_iter()
            .map(|(day, mut secs)| {
                secs.sort_unstable();
                WaitDay {
                    day,
                    median_seconds: secs[secs.len() / 2],
                    count: secs.len() as u64,
                }
            })
            .collect();
        let mut pending_by_kind: Vec<KindCount> = by_kind
            .into_iter()
            .map(|(kind, count)| KindCount { kind, count })
            .collect();
        pending_by_kind.sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
        Ok(Overview {
            days,
            generated_at: now,
            pending_total: pending.len() as u64,
            pending_by_age: BANDS
                .iter()
                .zip(by_age)
                .map(|((label, _), count)| AgeBand { label, count })
                .collect(),
            pending_by_kind,
            decisions_per_day,
            time_to_decision,
            failed,
            truncated: cut_pending || cut_decided,
        })
    }

    /// Up to [`MAX_SCANNED`] actions matching `filter`; whether it stopped early.
    fn scan(&self, by: &Principal, filter: &Filter) -> Result<(Vec<Action>, bool)> {
        let mut out = Vec::new();
        let mut page = self.list(by, filter, &PageRequest::first(MAX_PAGE))?;
        loop {
            out.extend(page.items);
            if out.len() >= MAX_SCANNED {
                out.truncate(MAX_SCANNED);
                return Ok((out, true));
            }
            match page.next_cursor {
                Some(cursor) => {
                    page = self.list(by, filter, &PageRequest::after(cursor, MAX_PAGE))?
                }
                None => return Ok((out, false)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Decide, Proposal};
    use crate::model::{Entity, Kind, Source};
    use crate::{ManualClock, MemoryStore, Policy};
    use std::sync::Arc;

    #[test]
    fn counts_pending_by_age_and_kind_and_decisions_by_day() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now() - Duration::days(3)));
        let center = ActionCenter::with_clock(
            Arc::new(MemoryStore::new()),
            Policy::default(),
            clock.clone(),
        );
        let air = Principal::new("air", ["automation"]);
        let alice = Principal::new("alice", ["analyst"]);
        let propose = |device: &str| {
            center
                .propose(
                    &air,
                    Proposal::new(
                        Kind::IsolateDevice,
                        Entity::Device {
                            device_id: device.into(),
                            name: None,
                        },
                        Source::AutomatedInvestigation {
                            investigation_id: "inv-1".into(),
                        },
                    ),
                )
                .expect("propose")
        };
        let old = propose("d1");
        clock.advance(Duration::hours(2));
        center
            .approve(&alice, old.id, &Decide::default())
            .expect("approve");
        propose("d2");
        clock.advance(Duration::days(3) - Duration::hours(2) - Duration::minutes(30));
        propose("d3");
        let o = center.overview(&alice, 30).expect("overview");
        assert_eq!(o.pending_total, 2);
        let ages: Vec<u64> = o.pending_by_age.iter().map(|b| b.count).collect();
        assert_eq!(ages, vec![1, 0, 0, 1, 0], "{:?}", o.pending_by_age);
        assert_eq!(o.pending_by_kind[0].kind, "isolate_device");
        assert_eq!(o.pending_by_kind[0].count, 2);
        assert_eq!(o.decisions_per_day.len(), 31);
        let approved: u64 = o.decisions_per_day.iter().map(|d| d.approved).sum();
        assert_eq!(approved, 1);
        assert_eq!(o.time_to_decision.len(), 1);
        assert_eq!(o.time_to_decision[0].median_seconds, 7_200);
        assert!(center.overview(&alice, 0).is_err());
        assert!(center.overview(&alice, 367).is_err());
    }
}
