//! Opaque handles.
//!
//! A handle is a token, not an address: the library never dereferences
//! it. Each open handle maps, in a registry of its type, to the Rust value
//! it stands for; closing removes the entry. Tokens come from one counter
//! and are never reused, so a handle used after it was closed (or a handle
//! of the other type, or any other pointer) is answered with
//! `AC_STATUS_INVALID_HANDLE` instead of touching freed memory, and a call
//! under way on another thread keeps its own reference until it returns.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use crate::boundary::Failure;

/// An engine over one store, from `ac_center_open_sqlite`,
/// `ac_center_open_postgres`, `ac_center_open_memory` or
/// `ac_center_open_memory_at`, until `ac_center_close`.
///
/// Thread safe: one handle may be used from any number of threads at once.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct ac_center {
    _private: [u8; 0],
}

/// Who is acting: an id and roles, from `ac_principal_new`,
/// `ac_principal_from_json`, `ac_center_principal` or
/// `ac_center_impersonate`, until `ac_principal_free`. The policy stored in
/// the center's database decides what the roles allow.
///
/// Immutable and thread safe: one principal may be passed to any number of
/// calls on any threads at once.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct ac_principal {
    _private: [u8; 0],
}

/// One counter for every type, so a token of one type is never a valid
/// token of another. Starts at 1: no handle is NULL.
static NEXT_TOKEN: AtomicUsize = AtomicUsize::new(1);

/// The open handles of one type.
pub(crate) struct Registry<T> {
    open: RwLock<BTreeMap<usize, T>>,
}

impl<T: Clone> Registry<T> {
    pub(crate) const fn new() -> Registry<T> {
        Registry {
            open: RwLock::new(BTreeMap::new()),
        }
    }

    /// Registers `value` and returns its handle.
    pub(crate) fn insert<H>(&self, value: T) -> *mut H {
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        self.open
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token, value);
        std::ptr::without_provenance_mut(token)
    }

    /// The value behind `handle`.
    pub(crate) fn get<H>(&self, handle: *const H, argument: &'static str) -> Result<T, Failure> {
        if handle.is_null() {
            return Err(Failure::null(argument));
        }
        self.open
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&handle.addr())
            .cloned()
            .ok_or(Failure::InvalidHandle { argument })
    }

    /// Unregisters `handle`, returning its value.
    pub(crate) fn remove<H>(&self, handle: *const H, argument: &'static str) -> Result<T, Failure> {
        self.open
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&handle.addr())
            .ok_or(Failure::InvalidHandle { argument })
    }
}

/// What an `ac_center` stands for.
#[derive(Clone)]
pub(crate) struct Center {
    pub(crate) engine: engine::ActionCenter,
    /// Set for a center on a manual clock (`ac_center_open_memory_at`).
    pub(crate) clock: Option<Arc<engine::ManualClock>>,
}

pub(crate) static CENTERS: Registry<Center> = Registry::new();
pub(crate) static PRINCIPALS: Registry<Arc<engine::Principal>> = Registry::new();

/// The engine and the principal of a call: the first two arguments of
/// most exports.
pub(crate) fn engine_and_principal(
    center: *const ac_center,
    by: *const ac_principal,
) -> Result<(engine::ActionCenter, Arc<engine::Principal>), Failure> {
    let center = CENTERS.get(center, "center")?;
    let by = PRINCIPALS.get(by, "by")?;
    Ok((center.engine, by))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_handle_is_invalid_and_never_comes_back() {
        let registry: Registry<u32> = Registry::new();
        let first: *mut ac_principal = registry.insert(7);
        assert_eq!(registry.get(first, "h").ok(), Some(7));
        assert_eq!(registry.remove(first, "h").ok(), Some(7));
        assert!(matches!(
            registry.get(first, "h"),
            Err(Failure::InvalidHandle { argument: "h" })
        ));
        let second: *mut ac_principal = registry.insert(8);
        assert_ne!(first, second);
        assert!(registry.get(first, "h").is_err());
    }

    #[test]
    fn a_handle_of_another_registry_is_invalid() {
        let centers: Registry<u32> = Registry::new();
        let principals: Registry<u32> = Registry::new();
        let p: *mut ac_principal = principals.insert(1);
        assert!(matches!(
            centers.get(p, "center"),
            Err(Failure::InvalidHandle { argument: "center" })
        ));
    }
}
