//! Short ids: the shortest prefix of an action id that names it alone.
//!
//! Ids are UUID v7: their first 12 hex digits are the creation time in
//! milliseconds, so ids made within about a minute share their first 8
//! digits, and ids made in the same millisecond share 12. A fixed-length
//! prefix is therefore often ambiguous. Like git's abbreviated hashes, a
//! short id is as long as it must be to name one action among those
//! stored now, and never shorter than [`MIN_SHORT_ID`] characters; it may
//! need to grow as more actions are stored, so keep the full id for
//! anything lasting and show the short one to people.

use crate::engine::ActionCenter;
use crate::error::{Error, Result};
use crate::model::ActionId;
use crate::store::Store;

/// The fewest characters a short id has: 8 hex digits.
pub const MIN_SHORT_ID: usize = 8;

impl ActionCenter {
    /// The short id of each of `ids`, in order: the shortest prefix of
    /// [`MIN_SHORT_ID`] or more characters (never ending in a dash) that
    /// [`resolve_id`](Self::resolve_id) resolves to that action alone, or
    /// the whole id if no shorter one does. An id that is not stored is
    /// `NotFound`. Like `resolve_id`, it takes no principal.
    ///
    /// ```
    /// use actioncenter::*;
    /// let center = ActionCenter::in_memory();
    /// let air = Principal::new("air", ["automation"]);
    /// let device = Entity::Device { device_id: "dev-1".into(), name: None };
    /// let source = Source::AutomatedInvestigation { investigation_id: "inv-1".into() };
    /// let a = center.propose(&air, Proposal::new(Kind::IsolateDevice, device, source))?;
    /// let short = center.short_ids(&[a.id])?;
    /// assert_eq!(short[0], a.id.to_string()[..8]);
    /// assert_eq!(center.resolve_id(&short[0])?, a.id);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn short_ids(&self, ids: &[ActionId]) -> Result<Vec<String>> {
        let store = self.store().as_ref();
        ids.iter().map(|id| short_id(store, *id)).collect()
    }
}

/// Whether `prefix` names `id` alone in `store`.
fn unique(store: &dyn Store, prefix: &str, id: ActionId) -> Result<bool> {
    Ok(store.ids_with_prefix(prefix, 2)? == [id])
}

fn short_id(store: &dyn Store, id: ActionId) -> Result<String> {
    let full = id.to_string();
    if !unique(store, &full, id)? {
        return Err(Error::NotFound { id: full });
    }
    // The lengths a short id may have, shortest first. A longer prefix
    // matches a subset of what a shorter one matches, so uniqueness only
    // ever turns on as the length grows: search for where it does.
    let lengths: Vec<usize> = (MIN_SHORT_ID..=full.len())
        .filter(|n| !full[..*n].ends_with('-'))
        .collect();
    let (mut lo, mut hi) = (0, lengths.len().saturating_sub(1));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let len = lengths.get(mid).copied().unwrap_or(full.len());
        if unique(store, &full[..len], id)? {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let len = lengths.get(lo).copied().unwrap_or(full.len());
    Ok(full[..len].to_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::engine::Proposal;
    use crate::model::{Entity, Kind, Source};
    use crate::{ManualClock, MemoryStore, Policy, Principal};

    /// A center whose clock stands still, so every id shares its first 12
    /// hex digits (the millisecond it was made in).
    fn frozen() -> ActionCenter {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single();
        let clock = ManualClock::starting_at(at.unwrap_or_default());
        ActionCenter::with_clock(
            Arc::new(MemoryStore::new()),
            Policy::default(),
            Arc::new(clock),
        )
    }

    fn propose(center: &ActionCenter, device: &str) -> ActionId {
        let air = Principal::new("air", ["automation"]);
        let entity = Entity::Device {
            device_id: device.into(),
            name: None,
        };
        let source = Source::AutomatedInvestigation {
            investigation_id: "inv-1".into(),
        };
        center
            .propose(&air, Proposal::new(Kind::IsolateDevice, entity, source))
            .map(|a| a.id)
            .unwrap_or_else(|e| panic!("propose: {e}"))
    }

    #[test]
    fn a_lone_action_has_an_eight_digit_short_id() {
        let center = frozen();
        let id = propose(&center, "dev-1");
        let short = center.short_ids(&[id]).expect("short ids");
        assert_eq!(short, [id.to_string()[..8].to_owned()]);
    }

    #[test]
    fn ids_of_one_millisecond_get_prefixes_just_long_enough() {
        let center = frozen();
        let ids: Vec<ActionId> = (0..5)
            .map(|n| propose(&center, &format!("dev-{n}")))
            .collect();
        let short = center.short_ids(&ids).expect("short ids");
        // The clock stands still, so the ids share a long prefix; how long
        // depends on the process-wide id context, which other tests running
        // at the same time move forward. What must hold whatever it is:
        for (id, s) in ids.iter().zip(&short) {
            assert!(s.len() >= 8 && !s.ends_with('-'), "{s}");
            assert!(id.to_string().starts_with(s.as_str()));
            assert_eq!(center.resolve_id(s).expect("resolves"), *id);
            if s.len() == 8 {
                continue; // the shortest shown
            }
            // One character less (and any dash before it) is ambiguous.
            let shorter = s[..s.len() - 1].trim_end_matches('-');
            let err = center.resolve_id(shorter).expect_err("ambiguous");
            assert_eq!(err.kind(), crate::ErrorKind::Validation, "{shorter}");
        }
    }

    #[test]
    fn an_id_that_is_not_stored_is_not_found() {
        let center = frozen();
        let stored = propose(&center, "dev-1");
        let unknown = ActionId::new_at(Utc::now());
        let err = center
            .short_ids(&[stored, unknown])
            .expect_err("not stored");
        assert_eq!(err.to_string(), format!("action {unknown} not found"));
    }
}
