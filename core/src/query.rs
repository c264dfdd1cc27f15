//! Filters, pages and counts: the Pending and History views.
//!
//! Lists run newest first. A page's `next_cursor` is the id of its last
//! item; the next page holds only older actions, so actions created while
//! a reader pages never shift what it sees.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Action, ActionId, Category, Kind, SourceType, Status, check_required};

/// Largest page a list returns.
pub const MAX_PAGE: usize = 1000;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: usize = 50;

/// Which actions to list, count or act on in bulk. Empty lists and absent
/// names match all; a list field matches any of its values. A name given
/// empty (`"investigation_id": ""`) is a validation error.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Filter {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<Status>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<Kind>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub investigation_id: Option<String>,
    /// Matches the entity's key (device id, file hash, user id, URL...) or
    /// the device it lives on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The proposer's principal id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Someone who approved or rejected the action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// Created at or after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_after: Option<DateTime<Utc>>,
    /// Created strictly before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_before: Option<DateTime<Utc>>,
}

impl Filter {
    /// The Pending tab.
    pub fn pending() -> Filter {
        Filter {
            statuses: vec![Status::Pending],
            ..Filter::default()
        }
    }

    /// The History tab.
    pub fn history() -> Filter {
        Filter {
            statuses: Status::HISTORY.to_vec(),
            ..Filter::default()
        }
    }

    /// Everything proposed by one investigation.
    pub fn investigation(id: impl Into<String>) -> Filter {
        Filter {
            investigation_id: Some(id.into()),
            ..Filter::default()
        }
    }

    /// Parses a filter from JSON, naming the bad field on error.
    pub fn from_json(text: &str) -> Result<Filter> {
        let filter: Filter = crate::error::parse_json_object("filter", text)?;
        filter.validate()?;
        Ok(filter)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        // An empty name matches nothing anyone can hold, so it is a
        // mistake (an unset variable), not a filter: refused by name.
        for (field, value) in [
            ("filter.investigation_id", &self.investigation_id),
            ("filter.entity", &self.entity),
            ("filter.created_by", &self.created_by),
            ("filter.decided_by", &self.decided_by),
        ] {
            if let Some(v) = value {
                check_required(field, v)?;
            }
        }
        for (field, at) in [
            ("filter.created_after", self.created_after),
            ("filter.created_before", self.created_before),
        ] {
            if let Some(at) = at {
                crate::model::check_time(field, at)?;
            }
        }
        Ok(())
    }

    /// Whether `action` passes this filter. Stores that cannot push a
    /// filter down to an index use this; SQL stores mirror it in SQL.
    pub fn matches(&self, a: &Action) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&a.status))
            && (self.kinds.is_empty() || self.kinds.contains(&a.kind))
            && (self.categories.is_empty() || self.categories.contains(&a.category))
            && (self.sources.is_empty() || self.sources.contains(&a.source.source_type()))
            && self
                .investigation_id
                .as_ref()
                .is_none_or(|i| a.investigation_id.as_ref() == Some(i))
            && self
                .entity
                .as_ref()
                .is_none_or(|e| a.entity.key() == e || a.entity.device_id() == Some(e))
            && self.created_by.as_ref().is_none_or(|c| &a.created_by == c)
            && self
                .decided_by
                .as_ref()
                .is_none_or(|d| a.decisions.iter().any(|x| &x.by == d))
            && self.created_after.is_none_or(|t| a.created_at >= t)
            && self.created_before.is_none_or(|t| a.created_at < t)
    }
}

/// Which page to read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PageRequest {
    /// Items per page, 1 to [`MAX_PAGE`]; [`DEFAULT_PAGE`] when `None`.
    pub limit: Option<usize>,
    /// The previous page's `next_cursor`; `None` for the first page.
    pub cursor: Option<String>,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: usize) -> PageRequest {
        PageRequest {
            limit: Some(limit),
            cursor: None,
        }
    }

    /// The page after the one whose `next_cursor` this is.
    pub fn after(cursor: impl Into<String>, limit: usize) -> PageRequest {
        PageRequest {
            limit: Some(limit),
            cursor: Some(cursor.into()),
        }
    }

    pub(crate) fn resolve(&self) -> Result<(usize, Option<ActionId>)> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if limit == 0 || limit > MAX_PAGE {
            return Err(Error::validation(
                "limit",
                format!("must be between 1 and {MAX_PAGE}, got {limit}"),
            ));
        }
        let cursor = match &self.cursor {
            None => None,
            Some(c) => Some(c.parse::<ActionId>().map_err(|_| {
                Error::validation(
                    "cursor",
                    format!("{c:?} is not a cursor from a previous page"),
                )
            })?),
        };
        Ok((limit, cursor))
    }
}

/// One page of actions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub items: Vec<Action>,
    /// Pass to [`PageRequest::after`] for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// How many actions are in each status: the tab badges.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Counts(pub BTreeMap<Status, u64>);

impl Counts {
    /// Zero for every status.
    pub fn zero() -> Counts {
        Counts(Status::ALL.into_iter().map(|s| (s, 0)).collect())
    }

    /// The count for one status.
    pub fn get(&self, status: Status) -> u64 {
        self.0.get(&status).copied().unwrap_or(0)
    }

    /// The sum over every status.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}
