//! The records the engine keeps: actions, their kinds, targets, sources,
//! decisions and execution attempts.
//!
//! Every type here serializes to JSON with a stable `snake_case` schema;
//! the C API, the Python package and `actionctl --json` all speak it.
//! Enums with data are internally tagged with a `"type"` field:
//!
//! ```json
//! {"type": "file", "sha256": "9f86…", "path": "C:\\x.exe", "device_id": "dev-1"}
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

/// Longest accepted identifier-like string (ids, names, paths), in bytes.
pub const MAX_NAME_LEN: usize = 1024;
/// Longest accepted comment or error message, in bytes.
pub const MAX_COMMENT_LEN: usize = 4096;
/// Largest accepted JSON document (parameters, results), serialized, in bytes.
pub const MAX_JSON_LEN: usize = 64 * 1024;

/// An action's identifier: a UUID v7, so identifiers sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionId(pub Uuid);

impl ActionId {
    /// A new identifier whose time part is `at`.
    pub fn new_at(at: DateTime<Utc>) -> Self {
        use uuid::{ContextV7, Timestamp};
        // One context for the process keeps ids made in the same
        // millisecond in creation order.
        static CONTEXT: std::sync::Mutex<Option<ContextV7>> = std::sync::Mutex::new(None);
        let secs = u64::try_from(at.timestamp()).unwrap_or(0);
        let mut guard = CONTEXT.lock().unwrap_or_else(|p| p.into_inner());
        let context = guard.get_or_insert_with(ContextV7::new);
        let ts = Timestamp::from_unix(&*context, secs, at.timestamp_subsec_nanos());
        ActionId(Uuid::new_v7(ts))
    }
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for ActionId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Uuid::parse_str(s.trim()).map(ActionId).map_err(|_| {
            Error::validation("id", format!("{} is not a UUID", crate::error::quoted(s)))
        })
    }
}

/// What an action belongs to, for permissions and automation levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Device,
    File,
    Email,
    Identity,
    Network,
}

impl Category {
    /// Every category, in a stable order.
    pub const ALL: [Category; 5] = [
        Category::Device,
        Category::File,
        Category::Email,
        Category::Identity,
        Category::Network,
    ];

    /// The snake_case name used in JSON and policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Device => "device",
            Category::File => "file",
            Category::Email => "email",
            Category::Identity => "identity",
            Category::Network => "network",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Category {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| Error::validation("category", format!("unknown category {s:?}")))
    }
}

/// What the action does.
///
/// Built-in kinds serialize as their snake_case name (`"quarantine_file"`);
/// a custom kind as `"custom:<name>"`. Each built-in kind and its inverse
/// form a pair: undoing one runs the other.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    IsolateDevice,
    ReleaseDevice,
    RestrictCodeExecution,
    RemoveCodeRestriction,
    RunAntivirusScan,
    QuarantineFile,
    RestoreFile,
    RemoveRegistryKey,
    RestoreRegistryKey,
    StopService,
    StartService,
    DisableDriver,
    EnableDriver,
    RemoveScheduledTask,
    RestoreScheduledTask,
    SoftDeleteEmail,
    RestoreEmail,
    HardDeleteEmail,
    BlockUrl,
    UnblockUrl,
    DisableUser,
    EnableUser,
    /// A kind the host defines. Its category is its entity's category; it
    /// cannot be undone, since the engine knows no inverse for it.
    Custom(String),
}

/// The fixed facts of every built-in kind: name, category, inverse.
const BUILTIN: &[(Kind, &str, Category, Option<Kind>)] = &[
    (
        Kind::IsolateDevice,
        "isolate_device",
        Category::Device,
        Some(Kind::ReleaseDevice),
    ),
    (
        Kind::ReleaseDevice,
        "release_device",
        Category::Device,
        Some(Kind::IsolateDevice),
    ),
    (
        Kind::RestrictCodeExecution,
        "restrict_code_execution",
        Category::Device,
        Some(Kind::RemoveCodeRestriction),
    ),
    (
        Kind::RemoveCodeRestriction,
        "remove_code_restriction",
        Category::Device,
        Some(Kind::RestrictCodeExecution),
    ),
    (
        Kind::RunAntivirusScan,
        "run_antivirus_scan",
        Category::Device,
        None,
    ),
    (
        Kind::QuarantineFile,
        "quarantine_file",
        Category::File,
        Some(Kind::RestoreFile),
    ),
    (
        Kind::RestoreFile,
        "restore_file",
        Category::File,
        Some(Kind::QuarantineFile),
    ),
    (
        Kind::RemoveRegistryKey,
        "remove_registry_key",
        Category::Device,
        Some(Kind::RestoreRegistryKey),
    ),
    (
        Kind::RestoreRegistryKey,
        "restore_registry_key",
        Category::Device,
        Some(Kind::RemoveRegistryKey),
    ),
    (
        Kind::StopService,
        "stop_service",
        Category::Device,
        Some(Kind::StartService),
    ),
    (
        Kind::StartService,
        "start_service",
        Category::Device,
        Some(Kind::StopService),
    ),
    (
        Kind::DisableDriver,
        "disable_driver",
        Category::Device,
        Some(Kind::EnableDriver),
    ),
    (
        Kind::EnableDriver,
        "enable_driver",
        Category::Device,
        Some(Kind::DisableDriver),
    ),
    (
        Kind::RemoveScheduledTask,
        "remove_scheduled_task",
        Category::Device,
        Some(Kind::RestoreScheduledTask),
    ),
    (
        Kind::RestoreScheduledTask,
        "restore_scheduled_task",
        Category::Device,
        Some(Kind::RemoveScheduledTask),
    ),
    (
        Kind::SoftDeleteEmail,
        "soft_delete_email",
        Category::Email,
        Some(Kind::RestoreEmail),
    ),
    (
        Kind::RestoreEmail,
        "restore_email",
        Category::Email,
        Some(Kind::SoftDeleteEmail),
    ),
    (
        Kind::HardDeleteEmail,
        "hard_delete_email",
        Category::Email,
        None,
    ),
    (
        Kind::BlockUrl,
        "block_url",
        Category::Network,
        Some(Kind::UnblockUrl),
    ),
    (
        Kind::UnblockUrl,
        "unblock_url",
        Category::Network,
        Some(Kind::BlockUrl),
    ),
    (
        Kind::DisableUser,
        "disable_user",
        Category::Identity,
        Some(Kind::EnableUser),
    ),
    (
        Kind::EnableUser,
        "enable_user",
        Category::Identity,
        Some(Kind::DisableUser),
    ),
];

impl Kind {
    /// Every built-in kind, in a stable order.
    pub fn builtin() -> impl Iterator<Item = Kind> {
        BUILTIN.iter().map(|(k, ..)| k.clone())
    }

    fn facts(&self) -> Option<&'static (Kind, &'static str, Category, Option<Kind>)> {
        BUILTIN.iter().find(|(k, ..)| k == self)
    }

    /// The category of a built-in kind; `None` for a custom kind, whose
    /// category comes from its entity (see [`Action::category`]).
    pub fn category(&self) -> Option<Category> {
        self.facts().map(|f| f.2)
    }

    /// The kind that undoes this one, if any.
    pub fn inverse(&self) -> Option<Kind> {
        self.facts().and_then(|f| f.3.clone())
    }

    /// Whether a completed action of this kind can be undone.
    pub fn is_undoable(&self) -> bool {
        self.inverse().is_some()
    }

    /// The entity types this kind can act on; empty for a custom kind,
    /// which may target any entity.
    pub fn accepted_entities(&self) -> &'static [EntityType] {
        use EntityType as E;
        match self {
            Kind::IsolateDevice
            | Kind::ReleaseDevice
            | Kind::RestrictCodeExecution
            | Kind::RemoveCodeRestriction
            | Kind::RunAntivirusScan => &[E::Device],
            Kind::QuarantineFile | Kind::RestoreFile => &[E::File],
            Kind::RemoveRegistryKey | Kind::RestoreRegistryKey => &[E::RegistryKey],
            Kind::StopService | Kind::StartService => &[E::Service],
            Kind::DisableDriver | Kind::EnableDriver => &[E::Driver],
            Kind::RemoveScheduledTask | Kind::RestoreScheduledTask => &[E::ScheduledTask],
            Kind::SoftDeleteEmail | Kind::RestoreEmail | Kind::HardDeleteEmail => {
                &[E::EmailCluster, E::Mailbox]
            }
            Kind::BlockUrl | Kind::UnblockUrl => &[E::Url],
            Kind::DisableUser | Kind::EnableUser => &[E::User],
            Kind::Custom(_) => &[],
        }
    }

    /// The name used in JSON, policies and the command line.
    pub fn name(&self) -> std::borrow::Cow<'static, str> {
        match self {
            Kind::Custom(name) => format!("custom:{name}").into(),
            builtin => builtin.facts().map(|f| f.1).unwrap_or("custom").into(),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.name())
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if let Some(name) = s.strip_prefix("custom:") {
            check_name("kind", name)?;
            if name.is_empty() {
                return Err(Error::validation(
                    "kind",
                    "a custom kind needs a name after \"custom:\"",
                ));
            }
            return Ok(Kind::Custom(name.to_owned()));
        }
        BUILTIN
            .iter()
            .find(|(_, name, ..)| *name == s)
            .map(|(k, ..)| k.clone())
            .ok_or_else(|| Error::validation("kind", format!("unknown kind {s:?}")))
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The type of an [`Entity`], without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    Device,
    File,
    RegistryKey,
    Service,
    Driver,
    ScheduledTask,
    EmailCluster,
    Mailbox,
    User,
    Url,
}

impl EntityType {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Device => "device",
            EntityType::File => "file",
            EntityType::RegistryKey => "registry_key",
            EntityType::Service => "service",
            EntityType::Driver => "driver",
            EntityType::ScheduledTask => "scheduled_task",
            EntityType::EmailCluster => "email_cluster",
            EntityType::Mailbox => "mailbox",
            EntityType::User => "user",
            EntityType::Url => "url",
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What an action targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Entity {
    Device {
        device_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    File {
        /// Lowercase hex SHA-256 of the file's content.
        sha256: String,
        path: String,
        device_id: String,
    },
    RegistryKey {
        device_id: String,
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value_name: Option<String>,
    },
    Service {
        device_id: String,
        name: String,
    },
    Driver {
        device_id: String,
        name: String,
    },
    ScheduledTask {
        device_id: String,
        name: String,
    },
    EmailCluster {
        cluster_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        query: Option<String>,
    },
    Mailbox {
        address: String,
    },
    User {
        user_id: String,
    },
    Url {
        url: String,
    },
}

impl Entity {
    /// This entity's type.
    pub fn entity_type(&self) -> EntityType {
        match self {
            Entity::Device { .. } => EntityType::Device,
            Entity::File { .. } => EntityType::File,
            Entity::RegistryKey { .. } => EntityType::RegistryKey,
            Entity::Service { .. } => EntityType::Service,
            Entity::Driver { .. } => EntityType::Driver,
            Entity::ScheduledTask { .. } => EntityType::ScheduledTask,
            Entity::EmailCluster { .. } => EntityType::EmailCluster,
            Entity::Mailbox { .. } => EntityType::Mailbox,
            Entity::User { .. } => EntityType::User,
            Entity::Url { .. } => EntityType::Url,
        }
    }

    /// The category an action on this entity falls in when its kind does
    /// not say (custom kinds).
    pub fn category(&self) -> Category {
        match self {
            Entity::Device { .. }
            | Entity::RegistryKey { .. }
            | Entity::Service { .. }
            | Entity::Driver { .. }
            | Entity::ScheduledTask { .. } => Category::Device,
            Entity::File { .. } => Category::File,
            Entity::EmailCluster { .. } | Entity::Mailbox { .. } => Category::Email,
            Entity::User { .. } => Category::Identity,
            Entity::Url { .. } => Category::Network,
        }
    }

    /// The value that names this entity in filters: a device id, a file
    /// hash, a user id, a URL...
    pub fn key(&self) -> &str {
        match self {
            Entity::Device { device_id, .. } => device_id,
            Entity::File { sha256, .. } => sha256,
            Entity::RegistryKey { key, .. } => key,
            Entity::Service { name, .. }
            | Entity::Driver { name, .. }
            | Entity::ScheduledTask { name, .. } => name,
            Entity::EmailCluster { cluster_id, .. } => cluster_id,
            Entity::Mailbox { address } => address,
            Entity::User { user_id } => user_id,
            Entity::Url { url } => url,
        }
    }

    /// The device the entity lives on, where it lives on one.
    pub fn device_id(&self) -> Option<&str> {
        match self {
            Entity::Device { device_id, .. }
            | Entity::File { device_id, .. }
            | Entity::RegistryKey { device_id, .. }
            | Entity::Service { device_id, .. }
            | Entity::Driver { device_id, .. }
            | Entity::ScheduledTask { device_id, .. } => Some(device_id),
            Entity::EmailCluster { .. }
            | Entity::Mailbox { .. }
            | Entity::User { .. }
            | Entity::Url { .. } => None,
        }
    }

    /// The SHA-256 of a file entity.
    pub fn sha256(&self) -> Option<&str> {
        match self {
            Entity::File { sha256, .. } => Some(sha256),
            _other => None,
        }
    }

    /// A short human description, for tables.
    pub fn describe(&self) -> String {
        match self {
            Entity::Device { device_id, name } => name.clone().unwrap_or_else(|| device_id.clone()),
            Entity::File {
                path, device_id, ..
            } => format!("{path} on {device_id}"),
            Entity::RegistryKey { device_id, key, .. } => format!("{key} on {device_id}"),
            Entity::Service { device_id, name }
            | Entity::Driver { device_id, name }
            | Entity::ScheduledTask { device_id, name } => format!("{name} on {device_id}"),
            other => other.key().to_owned(),
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let fields: Vec<(&str, &str)> = match self {
            Entity::Device { device_id, name } => {
                let mut f = vec![("entity.device_id", device_id.as_str())];
                if let Some(n) = name {
                    f.push(("entity.name", n));
                }
                f
            }
            Entity::File {
                sha256,
                path,
                device_id,
            } => {
                if sha256.len() != 64
                    || !sha256
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(Error::validation(
                        "entity.sha256",
                        format!("{sha256:?} is not 64 lowercase hex digits"),
                    ));
                }
                vec![
                    ("entity.path", path.as_str()),
                    ("entity.device_id", device_id),
                ]
            }
            Entity::RegistryKey {
                device_id,
                key,
                value_name,
            } => {
                let mut f = vec![
                    ("entity.device_id", device_id.as_str()),
                    ("entity.key", key),
                ];
                if let Some(v) = value_name {
                    f.push(("entity.value_name", v));
                }
                f
            }
            Entity::Service { device_id, name }
            | Entity::Driver { device_id, name }
            | Entity::ScheduledTask { device_id, name } => {
                vec![
                    ("entity.device_id", device_id.as_str()),
                    ("entity.name", name),
                ]
            }
            Entity::EmailCluster { cluster_id, query } => {
                let mut f = vec![("entity.cluster_id", cluster_id.as_str())];
                if let Some(q) = query {
                    f.push(("entity.query", q));
                }
                f
            }
            Entity::Mailbox { address } => vec![("entity.address", address.as_str())],
            Entity::User { user_id } => vec![("entity.user_id", user_id.as_str())],
            Entity::Url { url } => vec![("entity.url", url.as_str())],
        };
        for (field, value) in fields {
            check_required(field, value)?;
        }
        Ok(())
    }
}

/// The kind of [`Source`], for filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceType {
    AutomatedInvestigation,
    Antivirus,
    ManualResponse,
    Playbook,
    Custom,
}

impl SourceType {
    /// Every source type, in a stable order.
    pub const ALL: [SourceType; 5] = [
        SourceType::AutomatedInvestigation,
        SourceType::Antivirus,
        SourceType::ManualResponse,
        SourceType::Playbook,
        SourceType::Custom,
    ];

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceType::AutomatedInvestigation => "automated_investigation",
            SourceType::Antivirus => "antivirus",
            SourceType::ManualResponse => "manual_response",
            SourceType::Playbook => "playbook",
            SourceType::Custom => "custom",
        }
    }
}

impl fmt::Display for SourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for SourceType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SourceType::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| Error::validation("source", format!("unknown source type {s:?}")))
    }
}

/// Who or what proposed the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    AutomatedInvestigation {
        investigation_id: String,
    },
    Antivirus,
    /// A person acting directly. The person must be the proposing principal.
    ManualResponse {
        person: String,
    },
    Playbook {
        name: String,
    },
    Custom {
        name: String,
    },
}

impl Source {
    /// This source's type.
    pub fn source_type(&self) -> SourceType {
        match self {
            Source::AutomatedInvestigation { .. } => SourceType::AutomatedInvestigation,
            Source::Antivirus => SourceType::Antivirus,
            Source::ManualResponse { .. } => SourceType::ManualResponse,
            Source::Playbook { .. } => SourceType::Playbook,
            Source::Custom { .. } => SourceType::Custom,
        }
    }

    /// The source in words, for a record's details: "automated
    /// investigation inv-7", "manual response by alice"...
    pub fn explain(&self) -> String {
        match self {
            Source::AutomatedInvestigation { investigation_id } => {
                format!("automated investigation {investigation_id}")
            }
            Source::Antivirus => "antivirus".to_owned(),
            Source::ManualResponse { person } => format!("manual response by {person}"),
            Source::Playbook { name } => format!("playbook {name}"),
            Source::Custom { name } => format!("custom: {name}"),
        }
    }

    /// A short human description, for tables.
    pub fn describe(&self) -> String {
        match self {
            Source::AutomatedInvestigation { investigation_id } => {
                format!("AIR {investigation_id}")
            }
            Source::Antivirus => "antivirus".to_owned(),
            Source::ManualResponse { person } => format!("manual ({person})"),
            Source::Playbook { name } => format!("playbook {name}"),
            Source::Custom { name } => name.clone(),
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        match self {
            Source::AutomatedInvestigation { investigation_id } => {
                check_required("source.investigation_id", investigation_id)
            }
            Source::Antivirus => Ok(()),
            Source::ManualResponse { person } => check_required("source.person", person),
            Source::Playbook { name } | Source::Custom { name } => {
                check_required("source.name", name)
            }
        }
    }
}

/// Where an action is in its life. See [`crate::machine`] for the moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
    Running,
    Completed,
    Failed,
    /// Waiting for an executor to run the inverse action.
    Undoing,
    /// An executor holds a lease on the inverse action.
    UndoRunning,
    Undone,
    UndoFailed,
}

impl Status {
    /// Every status, in a stable order.
    pub const ALL: [Status; 12] = [
        Status::Pending,
        Status::Approved,
        Status::Rejected,
        Status::Expired,
        Status::Cancelled,
        Status::Running,
        Status::Completed,
        Status::Failed,
        Status::Undoing,
        Status::UndoRunning,
        Status::Undone,
        Status::UndoFailed,
    ];

    /// The statuses of the History tab: everything that has reached an
    /// outcome.
    pub const HISTORY: [Status; 7] = [
        Status::Completed,
        Status::Failed,
        Status::Rejected,
        Status::Expired,
        Status::Cancelled,
        Status::Undone,
        Status::UndoFailed,
    ];

    /// The snake_case name used in JSON and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
            Status::Cancelled => "cancelled",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Undoing => "undoing",
            Status::UndoRunning => "undo_running",
            Status::Undone => "undone",
            Status::UndoFailed => "undo_failed",
        }
    }

    /// Whether no event can move an action out of this status.
    pub fn is_final(self) -> bool {
        crate::machine::is_final(self)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Status::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| Error::validation("status", format!("unknown status {s:?}")))
    }
}

/// An approver's or rejecter's word on a pending action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

/// One person's decision on a pending action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: String,
    pub at: DateTime<Utc>,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The administrator who acted as `by`, when someone did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The version of the stored policy the decision was made under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<u64>,
    /// Fields a newer library wrote, kept as they are.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// How an execution attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    Completed {
        result: serde_json::Value,
    },
    Failed {
        error: String,
    },
    /// The executor stopped renewing its lease; the system took the action back.
    LeaseExpired,
}

/// One executor's go at an action (or at its undo).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub executor: String,
    pub claimed_at: DateTime<Utc>,
    /// When the lease runs out. Renewals move it without a new version or
    /// audit event, so it is left out of the action's digest.
    pub lease_until: DateTime<Utc>,
    /// The fencing token of this claim: fresh on every claim, and needed
    /// to renew, complete or fail it. Empty on attempts stored before
    /// tokens existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub lease_token: String,
    /// True when this attempt runs the inverse action of an undo.
    #[serde(default)]
    pub undo: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Fields a newer library wrote, kept as they are.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A note left by whoever closed or undid an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub by: String,
    pub at: DateTime<Utc>,
    pub comment: String,
}

/// What an undo asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoInfo {
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub comment: String,
    /// The kind the executor runs to undo the action.
    pub inverse: Kind,
    /// Set when this undo was fanned out from an undo of another action of
    /// the same file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fanned_out_from: Option<ActionId>,
}

/// A remediation action and everything that happened to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub id: ActionId,
    pub kind: Kind,
    pub category: Category,
    pub entity: Entity,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub investigation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
    pub parameters: serde_json::Map<String, serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// The administrator who proposed it as `created_by`, when someone
    /// did ("root as dana"): the person behind the proposal, whom the
    /// self-approval rule holds to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_via: Option<String>,
    pub status: Status,
    #[serde(default)]
    pub decisions: Vec<Decision>,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<Note>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<UndoInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Bumped on every change; the compare-and-set token.
    pub version: u64,
    /// The key a proposer gave to make retries of its proposal safe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// SHA-256 of the proposal that created the action, to tell a retry
    /// from a different proposal under the same key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal_digest: Option<String>,
    /// Whether the action holds its kind's one active slot on its entity
    /// (the policy refuses a second active action of the same kind on the
    /// same entity unless it allows duplicates for the kind).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive: bool,
    /// The version of this document's format; see [`DOC_VERSION`].
    #[serde(default = "first_doc_version")]
    pub doc_version: u32,
    /// Fields a newer library wrote, kept as they are when this library
    /// rewrites the document.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The format version of the action documents this library writes. A
/// document of a newer version is still read, and the fields this
/// library does not know are kept when it writes the document back.
pub const DOC_VERSION: u32 = 2;

fn first_doc_version() -> u32 {
    1
}

impl Action {
    /// The attempt under way, if an executor holds a lease.
    pub fn active_attempt(&self) -> Option<&Attempt> {
        self.attempts.last().filter(|a| a.outcome.is_none())
    }

    /// When the current lease runs out, if an executor holds one.
    pub fn lease_until(&self) -> Option<DateTime<Utc>> {
        self.active_attempt().map(|a| a.lease_until)
    }

    /// How many attempts have been made at the action itself (not its undo).
    pub fn forward_attempts(&self) -> u32 {
        let n = self.attempts.iter().filter(|a| !a.undo).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The fencing token of the lease an executor holds, if any.
    pub fn lease_token(&self) -> Option<&str> {
        self.active_attempt().map(|a| a.lease_token.as_str())
    }

    /// How many attempts have been made at the action's undo.
    pub fn undo_attempts(&self) -> u32 {
        let n = self.attempts.iter().filter(|a| a.undo).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The people who decided (approved, rejected or cancelled), in
    /// order, each once: the "decided by" column of every door's views.
    /// Empty for an action nobody decided on (one that expired waiting).
    pub fn decided_by(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let people = self
            .decisions
            .iter()
            .map(|d| d.by.as_str())
            .chain(self.cancellation.iter().map(|c| c.by.as_str()));
        for who in people {
            if !out.contains(&who) {
                out.push(who);
            }
        }
        out
    }

    /// The distinct people who approved the action so far.
    pub fn approvers(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for d in self
            .decisions
            .iter()
            .filter(|d| d.verdict == Verdict::Approve)
        {
            if !out.contains(&d.by.as_str()) {
                out.push(&d.by);
            }
        }
        out
    }
}

/// Fails with a `Validation` error naming `field` when `value` is empty,
/// too long or holds control characters.
pub(crate) fn check_required(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::validation(field, "must not be empty"));
    }
    check_name(field, value)
}

/// Like [`check_required`], but an empty value is allowed.
///
/// Names are shown to people who decide on them, so a name must look like
/// what it is: no control characters, no leading or trailing white space
/// (`"system "` would read as `system`), and no invisible or
/// direction-changing characters (U+200B, U+202E, U+2028...).
pub(crate) fn check_name(field: &str, value: &str) -> Result<()> {
    if value.len() > MAX_NAME_LEN {
        return Err(Error::validation(
            field,
            format!("is {} bytes long, the limit is {MAX_NAME_LEN}", value.len()),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::validation(
            field,
            format!("{value:?} holds control characters"),
        ));
    }
    if value.trim() != value {
        return Err(Error::validation(
            field,
            format!("{value:?} starts or ends with white space"),
        ));
    }
    if let Some(c) = value.chars().find(|c| is_invisible(*c)) {
        return Err(Error::validation(
            field,
            format!(
                "\"{}\" holds the invisible or direction-changing character U+{:04X}",
                escape_invisible(value),
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

/// `value` with control and invisible characters written as `\u{…}`, so
/// a message never carries them to a terminal.
pub fn escape_invisible(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_control() || is_invisible(c) {
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that change how text reads without showing themselves:
/// zero-width and joiner characters, bidirectional controls, line and
/// paragraph separators, the byte-order mark, soft hyphen and the like.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E007F}')
}

/// The latest time the engine stores: the last microsecond of year 9999,
/// the end of Python's `datetime`. A time past it, from a clock gone
/// wrong, would be stored and then break every reader in Python.
pub fn max_time() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 999_999_000).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The earliest time every door can represent.
pub fn min_time() -> DateTime<Utc> {
    DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Fails with a `Validation` error naming `field` when `at` lies outside
/// what every door can represent (year 1 to year 9999).
pub fn check_time(field: &str, at: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if at < min_time() || at > max_time() {
        return Err(Error::validation(
            field,
            format!("{at} is outside the years 1 to 9999 that every door can represent"),
        ));
    }
    Ok(at)
}

/// Checks a comment: present when `required`, and within [`MAX_COMMENT_LEN`].
/// Returns it trimmed, or `None` when it is absent or blank.
pub(crate) fn check_comment(comment: Option<&str>, required: bool) -> Result<Option<String>> {
    let trimmed = comment.map(str::trim).filter(|c| !c.is_empty());
    match trimmed {
        None if required => Err(Error::validation("comment", "a comment is required")),
        None => Ok(None),
        Some(c) if c.len() > MAX_COMMENT_LEN => Err(Error::validation(
            "comment",
            format!("is {} bytes long, the limit is {MAX_COMMENT_LEN}", c.len()),
        )),
        Some(c)
            if c.chars()
                .any(|ch| ch.is_control() && ch != '\n' && ch != '\t') =>
        {
            Err(Error::validation(
                "comment",
                "holds control characters (only newlines and tabs are allowed)",
            ))
        }
        Some(c) => Ok(Some(c.to_owned())),
    }
}

/// Fails when a JSON value is larger than [`MAX_JSON_LEN`] serialized.
fn holds_nul(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Also refuses a NUL character anywhere in the document, which not
/// every backend can store (PostgreSQL's JSONB cannot), so that every
/// backend accepts the same documents.
pub(crate) fn check_json_size(field: &str, value: &impl Serialize) -> Result<()> {
    let json = serde_json::to_vec(value).unwrap_or_default();
    if json.len() > MAX_JSON_LEN {
        return Err(Error::validation(
            field,
            format!(
                "is {} bytes of JSON, the limit is {MAX_JSON_LEN}",
                json.len()
            ),
        ));
    }
    if serde_json::from_slice::<serde_json::Value>(&json).is_ok_and(|v| holds_nul(&v)) {
        return Err(Error::validation(field, "holds a NUL character (\\u0000)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_kind_round_trips_through_its_name() {
        for kind in Kind::builtin() {
            let parsed: Kind = kind.name().parse().expect("builtin name parses");
            assert_eq!(parsed, kind);
            let json = serde_json::to_string(&kind).expect("serialize");
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
    }

    #[test]
    fn inverses_are_mutual() {
        for kind in Kind::builtin() {
            if let Some(inverse) = kind.inverse() {
                assert_eq!(inverse.inverse(), Some(kind.clone()), "{kind}");
                assert_eq!(inverse.category(), kind.category(), "{kind}");
            }
        }
    }

    #[test]
    fn custom_kind_parses_with_prefix_and_is_not_undoable() {
        let kind: Kind = "custom:collect_package".parse().expect("parses");
        assert_eq!(kind, Kind::Custom("collect_package".into()));
        assert!(!kind.is_undoable());
        assert_eq!(kind.category(), None);
    }

    #[test]
    fn unknown_kind_is_a_validation_error_naming_it() {
        let err = "reboot_device".parse::<Kind>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "invalid kind: unknown kind \"reboot_device\""
        );
    }

    #[test]
    fn entity_json_is_tagged_snake_case() {
        let e = Entity::File {
            sha256: "a".repeat(64),
            path: "C:\\x.exe".into(),
            device_id: "d1".into(),
        };
        let v = serde_json::to_value(&e).expect("serialize");
        assert_eq!(v["type"], "file");
        assert_eq!(v["device_id"], "d1");
    }

    #[test]
    fn a_nul_character_in_parameters_is_refused() {
        let value = serde_json::json!({"path": "a\u{0}b"});
        let err = check_json_size("parameters", &value).expect_err("nul");
        assert!(
            matches!(&err, Error::Validation { field, .. } if field == "parameters"),
            "{err:?}"
        );
        assert!(check_json_size("parameters", &serde_json::json!({"path": "a\\u0000b"})).is_ok());
    }

    #[test]
    fn oversized_comment_is_refused_with_its_length() {
        let long = "x".repeat(MAX_COMMENT_LEN + 1);
        let err = check_comment(Some(&long), true).expect_err("too long");
        assert!(err.to_string().contains("4097 bytes"), "{err}");
    }
}
