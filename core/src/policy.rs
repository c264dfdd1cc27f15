//! Who may do what, and which proposals need a person's approval.
//!
//! A [`Policy`] is data: the command line and every binding load the same
//! JSON file. Its shape:
//!
//! ```json
//! {
//!   "roles": {
//!     "analyst":  { "view": ["*"], "approve": ["device", "file"], "undo": ["file"] },
//!     "executor": { "view": ["*"], "execute": ["*"] }
//!   },
//!   "principals": { "alice": ["analyst"], "agent-7": ["executor"] },
//!   "automation": { "default": "semi", "categories": { "file": "full" } },
//!   "allow_self_approval": false,
//!   "defaults": { "quorum": 1, "pending_ttl_seconds": 604800, "on_expiry": "expire", "max_attempts": 3 },
//!   "kinds": { "isolate_device": { "quorum": 2 } }
//! }
//! ```
//!
//! Every key but `roles` may be left out. [`Policy::default`] is the
//! documented default: roles `viewer`, `analyst`, `responder`, `executor`,
//! `automation` and `admin`, semi automation, quorum 1, a one-week approval
//! window, three attempts.
//!
//! ```
//! use actioncenter::{Policy, Principal, Operation, Category};
//! let policy = Policy::from_json(r#"{"roles": {"analyst": {"approve": ["file"]}}}"#)?;
//! let alice = Principal::new("alice", ["analyst"]);
//! assert!(policy.check(&alice, Operation::Approve, Category::File).is_ok());
//! assert!(policy.check(&alice, Operation::Approve, Category::Device).is_err());
//! # Ok::<(), actioncenter::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::machine::ExpiryOutcome;
use crate::model::{Category, Kind, SourceType, check_required};

/// Something a principal may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    View,
    Propose,
    Approve,
    Cancel,
    Execute,
    Undo,
    /// Every operation, on the categories granted.
    Administer,
}

impl Operation {
    /// Every operation, in a stable order.
    pub const ALL: [Operation; 7] = [
        Operation::View,
        Operation::Propose,
        Operation::Approve,
        Operation::Cancel,
        Operation::Execute,
        Operation::Undo,
        Operation::Administer,
    ];

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::View => "view",
            Operation::Propose => "propose",
            Operation::Approve => "approve",
            Operation::Cancel => "cancel",
            Operation::Execute => "execute",
            Operation::Undo => "undo",
            Operation::Administer => "administer",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Operation::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| Error::validation("operation", format!("unknown operation {s:?}")))
    }
}

/// A person or service acting on the engine: an id and its roles.
///
/// The doors decide who a principal is: `actionctl` from the
/// operating-system account and the stored policy
/// ([`ActionCenter::principal`](crate::ActionCenter::principal)), the
/// server from a sign-in or a token. Acting as someone else goes through
/// [`ActionCenter::impersonate`](crate::ActionCenter::impersonate), which
/// sets `via`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Principal {
    pub id: String,
    pub roles: Vec<String>,
    /// The administrator acting as this principal, if one is; recorded in
    /// every event and decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

impl Principal {
    /// A principal with these roles.
    pub fn new<R: Into<String>>(id: impl Into<String>, roles: impl IntoIterator<Item = R>) -> Self {
        Principal {
            id: id.into(),
            roles: roles.into_iter().map(Into::into).collect(),
            via: None,
        }
    }

    /// "root as dana" when someone acts as this principal, else the id.
    pub fn shown(&self) -> String {
        match &self.via {
            Some(via) => format!("{via} as {}", self.id),
            None => self.id.clone(),
        }
    }
}

/// The longest approval window a policy may set: ten years, in seconds.
pub const MAX_PENDING_TTL_SECONDS: i64 = 10 * 365 * 24 * 3600;

/// The largest quorum a new policy may set. Each approval is kept in the
/// action's document, and no team puts more people on one action; a
/// quorum past this could only leave its actions pending until they
/// expire.
pub const MAX_QUORUM: u32 = 100;

/// How much a source may do without a person's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutomationLevel {
    /// Proposals are approved at once.
    Full,
    /// Proposals wait, Pending, for a person (the default).
    #[default]
    Semi,
    /// Automated sources may not propose remediation at all.
    None,
}

/// Which automation level applies where. The most specific entry wins:
/// kind, then source type, then category, then `default`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Automation {
    #[serde(default)]
    pub default: AutomationLevel,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories: BTreeMap<Category, AutomationLevel>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<SourceType, AutomationLevel>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kinds: BTreeMap<Kind, AutomationLevel>,
}

/// Rules for every kind, unless a kind overrides them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KindDefaults {
    /// Distinct approvers a pending action needs.
    pub quorum: u32,
    /// How long an action may stay pending, in seconds.
    pub pending_ttl_seconds: i64,
    /// What happens when that time runs out.
    pub on_expiry: ExpiryOutcome,
    /// How many times an action may be executed (first run plus retries),
    /// and, separately, how many times its undo may run.
    pub max_attempts: u32,
    /// Whether a second action of the same kind may be proposed on an
    /// entity while one is active (pending, approved or running). Off by
    /// default: the second is refused as a duplicate.
    pub allow_duplicates: bool,
}

impl Default for KindDefaults {
    fn default() -> Self {
        KindDefaults {
            quorum: 1,
            pending_ttl_seconds: 7 * 24 * 3600,
            on_expiry: ExpiryOutcome::Expire,
            max_attempts: 3,
            allow_duplicates: false,
        }
    }
}

/// A kind's overrides of [`KindDefaults`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_ttl_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_expiry: Option<ExpiryOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_duplicates: Option<bool>,
}

/// Grants, approval rules and deadlines. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Role name → operation → categories (`"*"` for all).
    roles: BTreeMap<String, Role>,
    /// Known principals and their roles, for hosts (like `actionctl`) that
    /// name a principal by id alone.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    principals: BTreeMap<String, Vec<String>>,
    /// Groups an identity provider asserts (an OpenID Connect `groups`
    /// claim) and the roles they give, for principals the policy does not
    /// list by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    automation: Automation,
    /// Whether a proposer may approve their own action. Off by default,
    /// for administrators too.
    #[serde(default)]
    allow_self_approval: bool,
    #[serde(default)]
    defaults: KindDefaults,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    kinds: BTreeMap<Kind, KindRule>,
}

/// A role: operation → categories (`"*"` for all), and the sources its
/// holders may name in a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Role {
    /// The sources (`"antivirus"`, `"playbook"`, ...) a holder may propose
    /// as, and whose automation levels then apply to it. A principal with
    /// a role that lists sources may name only those (and a manual
    /// response, its own); a source's level in `automation.sources`
    /// applies only to a proposer with a role that lists the source, so
    /// naming a source never borrows its automation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<BTreeSet<SourceType>>,
    #[serde(flatten)]
    pub grants: BTreeMap<Operation, Vec<String>>,
}

/// Who could change a policy again: see [`Policy::administration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Administration {
    /// A role administers every category (alone).
    pub by_role: bool,
    /// A principal or group the policy names holds such roles.
    pub named: bool,
}

/// One version of the policy stored in a database: the rules every handle
/// on that database enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredPolicy {
    /// 1 for the bootstrap policy, then one more per change.
    pub version: u64,
    pub policy: Policy,
    /// [`Policy::digest`] of `policy`.
    pub digest: String,
    /// Who stored it (`system` for the bootstrap policy).
    pub set_by: String,
    pub set_at: chrono::DateTime<chrono::Utc>,
}

/// The built-in policy, in JSON, as [`Policy::default`] loads it.
pub const DEFAULT_POLICY_JSON: &str = r#"{
  "roles": {
    "viewer":     { "view": ["*"] },
    "analyst":    { "view": ["*"], "propose": ["*"], "approve": ["*"], "cancel": ["*"], "undo": ["*"] },
    "responder":  { "view": ["*"], "propose": ["*"], "cancel": ["*"] },
    "executor":   { "view": ["*"], "execute": ["*"] },
    "automation": { "view": ["*"], "propose": ["*"], "sources": ["automated_investigation", "antivirus", "playbook", "custom"] },
    "admin":      { "administer": ["*"] }
  },
  "automation": { "default": "semi" },
  "allow_self_approval": false,
  "defaults": { "quorum": 1, "pending_ttl_seconds": 604800, "on_expiry": "expire", "max_attempts": 3, "allow_duplicates": false }
}"#;

impl Default for Policy {
    fn default() -> Self {
        // The constant is checked by a test; fall back to an empty policy
        // rather than panic should it ever be broken.
        Policy::from_json(DEFAULT_POLICY_JSON).unwrap_or_else(|_| Policy {
            roles: BTreeMap::new(),
            principals: BTreeMap::new(),
            groups: BTreeMap::new(),
            automation: Automation::default(),
            allow_self_approval: false,
            defaults: KindDefaults::default(),
            kinds: BTreeMap::new(),
        })
    }
}

impl Policy {
    /// Parses and validates a policy. Errors name the offending field,
    /// e.g. `invalid kinds.isolate_device.quorum: must be at least 1`.
    pub fn from_json(text: &str) -> Result<Policy> {
        let policy: Policy = crate::error::parse_json_object("policy", text)?;
        policy.validate()?;
        Ok(policy)
    }

    /// Parses and validates a policy from a JSON value.
    pub fn from_value(value: serde_json::Value) -> Result<Policy> {
        Policy::from_json(&value.to_string())
    }

    /// The policy as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks every rule a policy must follow.
    pub fn validate(&self) -> Result<()> {
        for (role, r) in &self.roles {
            check_required("policy.roles", role)?;
            for (op, names) in &r.grants {
                for name in names {
                    if name != "*" {
                        name.parse::<Category>().map_err(|_| {
                            Error::validation(
                                format!("policy.roles.{role}.{op}"),
                                format!("unknown category {name:?} (use one of device, file, email, identity, network, or \"*\")"),
                            )
                        })?;
                    }
                }
            }
        }
        for (field, map) in [("principals", &self.principals), ("groups", &self.groups)] {
            for (id, roles) in map {
                check_required(&format!("policy.{field}"), id)?;
                for role in roles {
                    if !self.roles.contains_key(role) {
                        return Err(Error::validation(
                            format!("policy.{field}.{id}"),
                            format!("unknown role {role:?}"),
                        ));
                    }
                }
            }
        }
        self.validate_rule(
            "policy.defaults",
            Some(self.defaults.quorum),
            Some(self.defaults.pending_ttl_seconds),
            Some(self.defaults.max_attempts),
        )?;
        for (kind, rule) in &self.kinds {
            self.validate_rule(
                &format!("policy.kinds.{kind}"),
                rule.quorum,
                rule.pending_ttl_seconds,
                rule.max_attempts,
            )?;
        }
        Ok(())
    }

    fn validate_rule(
        &self,
        at: &str,
        quorum: Option<u32>,
        ttl: Option<i64>,
        attempts: Option<u32>,
    ) -> Result<()> {
        if quorum == Some(0) {
            return Err(Error::validation(
                format!("{at}.quorum"),
                "must be at least 1",
            ));
        }
        if let Some(ttl) = ttl.filter(|t| *t <= 0 || *t > MAX_PENDING_TTL_SECONDS) {
            return Err(Error::validation(
                format!("{at}.pending_ttl_seconds"),
                format!("must be between 1 and {MAX_PENDING_TTL_SECONDS} (ten years), got {ttl}"),
            ));
        }
        if attempts == Some(0) {
            return Err(Error::validation(
                format!("{at}.max_attempts"),
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// The role names the policy defines.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// Refuses what a new policy may not be, though a stored one still
    /// loads: a policy no role of which administers every category
    /// (stored, nobody could change it again), one naming the engine's
    /// own audit name as a principal, or a quorum above [`MAX_QUORUM`].
    /// `set_policy` refuses it (and `actionctl policy check` says so
    /// before).
    pub fn check_changeable(&self) -> Result<()> {
        // A policy stored before this rule still loads: the name could
        // never act (`check_principal`), it is only refused anew.
        if self.principals.contains_key(crate::engine::SYSTEM_ACTOR) {
            let id = crate::engine::SYSTEM_ACTOR;
            return Err(Error::validation(
                format!("policy.principals.{id}"),
                format!(
                    "{id:?} is reserved for the engine's own audit events: no principal can act as it"
                ),
            ));
        }
        let rules = std::iter::once(("policy.defaults".to_owned(), Some(self.defaults.quorum)))
            .chain(
                self.kinds
                    .iter()
                    .map(|(kind, rule)| (format!("policy.kinds.{kind}"), rule.quorum)),
            );
        for (at, quorum) in rules {
            if let Some(q) = quorum.filter(|q| *q > MAX_QUORUM) {
                return Err(Error::validation(
                    format!("{at}.quorum"),
                    format!(
                        "must be at most {MAX_QUORUM} (approvals by that many people), got {q}"
                    ),
                ));
            }
        }
        if self.administration().by_role {
            return Ok(());
        }
        Err(Error::validation(
            "policy",
            "has no role that administers every category: nobody could change the policy again",
        ))
    }

    /// Who could change this policy again (Administer on every category):
    /// whether some role could, and whether a principal or a sign-on
    /// group the policy names holds such a role (what the doors that name
    /// their callers, `actionctl` and the server, need).
    pub fn administration(&self) -> Administration {
        let administers = |roles: &[String]| {
            Category::ALL.into_iter().all(|c| {
                roles.iter().filter_map(|r| self.roles.get(r)).any(|role| {
                    role.grants
                        .get(&Operation::Administer)
                        .is_some_and(|names| names.iter().any(|n| n == "*" || n == c.as_str()))
                })
            })
        };
        let by_role = self
            .roles
            .keys()
            .any(|r| administers(std::slice::from_ref(r)));
        let named = self
            .principals
            .values()
            .chain(self.groups.values())
            .any(|roles| administers(roles));
        Administration { by_role, named }
    }

    /// The principal with this id, with the roles the policy gives it.
    pub fn principal(&self, id: &str) -> Option<Principal> {
        self.principals
            .get(id)
            .map(|roles| Principal::new(id, roles.iter().cloned()))
    }

    /// The principal with this id, with the roles the policy gives it by
    /// id and through each of `groups` it names; `None` if that is none.
    pub fn principal_in_groups(&self, id: &str, groups: &[String]) -> Option<Principal> {
        let mut roles: Vec<String> = self.principals.get(id).cloned().unwrap_or_default();
        for group in groups {
            for role in self.groups.get(group).into_iter().flatten() {
                if !roles.contains(role) {
                    roles.push(role.clone());
                }
            }
        }
        if roles.is_empty() && !self.principals.contains_key(id) {
            return None;
        }
        Some(Principal::new(id, roles))
    }

    /// A builder-style copy with a group's roles added.
    pub fn with_group<R: Into<String>>(
        mut self,
        group: &str,
        roles: impl IntoIterator<Item = R>,
    ) -> Result<Policy> {
        self.groups.insert(
            group.to_owned(),
            roles.into_iter().map(Into::into).collect(),
        );
        self.validate()?;
        Ok(self)
    }

    /// Checks that every role of `principal` is defined here.
    pub fn check_principal(&self, principal: &Principal) -> Result<()> {
        // `via` is recorded beside the id in decisions and audit events
        // ("root as alice"): it is held to the same rules.
        let names = std::iter::once(("principal.id", principal.id.as_str()))
            .chain(principal.via.as_deref().map(|via| ("principal.via", via)));
        for (field, name) in names {
            check_required(field, name)?;
            if name == crate::engine::SYSTEM_ACTOR {
                return Err(Error::validation(
                    field,
                    format!("{name:?} is reserved for the engine's own audit events"),
                ));
            }
        }
        for role in &principal.roles {
            if !self.roles.contains_key(role) {
                return Err(Error::validation(
                    "principal.roles",
                    format!("unknown role {role:?} for {}", principal.id),
                ));
            }
        }
        Ok(())
    }

    /// Whether `principal` may do `op` on `category`.
    pub fn allows(&self, principal: &Principal, op: Operation, category: Category) -> bool {
        principal
            .roles
            .iter()
            .filter_map(|r| self.roles.get(r))
            .any(|role| {
                [op, Operation::Administer].iter().any(|o| {
                    role.grants.get(o).is_some_and(|names| {
                        names.iter().any(|n| n == "*" || n == category.as_str())
                    })
                })
            })
    }

    /// `Ok` when `principal` may do `op` on `category`; otherwise
    /// `PermissionDenied` naming the missing permission.
    pub fn check(&self, principal: &Principal, op: Operation, category: Category) -> Result<()> {
        self.check_principal(principal)?;
        if self.allows(principal, op, category) {
            Ok(())
        } else {
            Err(self.denied(principal, op, Some(category)))
        }
    }

    /// The `PermissionDenied` error for `principal` lacking `op` on
    /// `category` (`None`: on every category). A principal without roles
    /// is told why, so every verb and every door gives one reason for one
    /// cause:
    ///
    /// ```
    /// use actioncenter::{Category, Operation, Policy, Principal};
    /// let policy = Policy::default();
    /// let mallory = Principal::new("mallory", Vec::<String>::new());
    /// let err = policy.check(&mallory, Operation::Approve, Category::Identity).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "mallory may not approve identity actions \
    ///      (mallory has no roles: the policy's principals do not name mallory)"
    /// );
    /// ```
    pub fn denied(
        &self,
        principal: &Principal,
        op: Operation,
        category: Option<Category>,
    ) -> Error {
        let id = &principal.id;
        let detail = match (principal.roles.is_empty(), self.principals.contains_key(id)) {
            (false, _has_roles) => None,
            (true, false) => Some(format!(
                "{id} has no roles: the policy's principals do not name {id}"
            )),
            (true, true) => Some(format!("{id} has no roles")),
        };
        Error::PermissionDenied {
            principal: id.clone(),
            operation: op,
            category,
            detail,
        }
    }

    /// Whether `principal` may send `event` to an action of `category`
    /// proposed by `proposer`: the machine table's "who may" column
    /// ([`Event::who`](crate::machine::Event::who)), checked against this
    /// policy. Every permission check of the engine goes through here.
    /// The lease holder's own checks (token, holder) come on top, in the
    /// engine; system events are never allowed to a caller.
    pub fn authorize(
        &self,
        principal: &Principal,
        event: crate::machine::Event,
        category: Category,
        proposer: Option<&str>,
    ) -> Result<()> {
        use crate::machine::Who;
        self.check_principal(principal)?;
        match event.who() {
            Who::Holder(op) => self.check(principal, op, category),
            Who::ProposerOr(op) if proposer == Some(principal.id.as_str()) => {
                let _ = op;
                Ok(())
            }
            Who::ProposerOr(op) => self.check(principal, op, category),
            Who::LeaseHolder => self.check(principal, Operation::Execute, category),
            Who::System => Err(Error::PermissionDenied {
                principal: principal.id.clone(),
                operation: Operation::Administer,
                category: Some(category),
                detail: Some(format!("{event} is sent by the engine's sweeps only")),
            }),
        }
    }

    /// [`authorize`](Self::authorize) on every category: for events that
    /// concern the whole database (a policy change, a checkpoint).
    pub fn authorize_everywhere(
        &self,
        principal: &Principal,
        event: crate::machine::Event,
    ) -> Result<()> {
        Category::ALL
            .into_iter()
            .try_for_each(|c| self.authorize(principal, event, c, None))
    }

    /// The categories on which `principal` may do `op`.
    pub fn categories_allowed(&self, principal: &Principal, op: Operation) -> BTreeSet<Category> {
        Category::ALL
            .into_iter()
            .filter(|c| self.allows(principal, op, *c))
            .collect()
    }

    /// The sources `principal` may name in a proposal: `None` when none
    /// of its roles lists sources (it may name any, and borrows no
    /// source's automation level).
    pub fn sources_of(&self, principal: &Principal) -> Option<BTreeSet<SourceType>> {
        principal
            .roles
            .iter()
            .filter_map(|r| self.roles.get(r)?.sources.as_ref())
            .fold(None, |all: Option<BTreeSet<SourceType>>, listed| {
                Some(all.unwrap_or_default().union(listed).copied().collect())
            })
    }

    /// The automation level for a proposal of `kind` in `category` from
    /// `source` made by `principal`: [`automation_level`](Self::automation_level),
    /// the source's own level counting only when a role of the principal
    /// lists the source. `PermissionDenied` when the principal's roles
    /// list sources and not this one.
    pub fn automation_level_for(
        &self,
        principal: &Principal,
        kind: &Kind,
        category: Category,
        source: SourceType,
    ) -> Result<AutomationLevel> {
        let listed = self.sources_of(principal);
        match &listed {
            Some(sources) if !sources.contains(&source) => Err(Error::PermissionDenied {
                principal: principal.id.clone(),
                operation: Operation::Propose,
                category: Some(category),
                detail: Some(format!(
                    "its roles let it propose as {}, not as {source}",
                    sources
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }),
            Some(_listed) => Ok(self.level(kind, category, Some(source))),
            None => Ok(self.level(kind, category, None)),
        }
    }

    /// The automation level for a proposal of `kind` in `category` from
    /// `source`, for a proposer entitled to name it (see [`Role::sources`]).
    pub fn automation_level(
        &self,
        kind: &Kind,
        category: Category,
        source: SourceType,
    ) -> AutomationLevel {
        self.level(kind, category, Some(source))
    }

    /// The most specific level: the kind's, the source's (when it
    /// counts), the category's, then the default.
    fn level(
        &self,
        kind: &Kind,
        category: Category,
        source: Option<SourceType>,
    ) -> AutomationLevel {
        let a = &self.automation;
        a.kinds
            .get(kind)
            .or_else(|| source.and_then(|s| a.sources.get(&s)))
            .or_else(|| a.categories.get(&category))
            .copied()
            .unwrap_or(a.default)
    }

    /// Whether proposers may approve their own actions.
    pub fn allow_self_approval(&self) -> bool {
        self.allow_self_approval
    }

    fn rule(&self, kind: &Kind) -> Option<&KindRule> {
        self.kinds.get(kind)
    }

    /// Distinct approvers `kind` needs.
    pub fn quorum(&self, kind: &Kind) -> u32 {
        self.rule(kind)
            .and_then(|r| r.quorum)
            .unwrap_or(self.defaults.quorum)
    }

    /// How long an action of `kind` may stay pending.
    pub fn pending_ttl(&self, kind: &Kind) -> chrono::Duration {
        let secs = self
            .rule(kind)
            .and_then(|r| r.pending_ttl_seconds)
            .unwrap_or(self.defaults.pending_ttl_seconds);
        chrono::Duration::try_seconds(secs).unwrap_or(chrono::Duration::MAX)
    }

    /// What an action of `kind` becomes when its approval window closes.
    pub fn expiry_outcome(&self, kind: &Kind) -> ExpiryOutcome {
        self.rule(kind)
            .and_then(|r| r.on_expiry)
            .unwrap_or(self.defaults.on_expiry)
    }

    /// How many times an action of `kind` may be executed.
    pub fn max_attempts(&self, kind: &Kind) -> u32 {
        self.rule(kind)
            .and_then(|r| r.max_attempts)
            .unwrap_or(self.defaults.max_attempts)
    }

    /// Whether a second active action of `kind` on one entity is allowed.
    pub fn allow_duplicates(&self, kind: &Kind) -> bool {
        self.rule(kind)
            .and_then(|r| r.allow_duplicates)
            .unwrap_or(self.defaults.allow_duplicates)
    }

    /// SHA-256 of the policy's canonical JSON: what a `set_policy` audit
    /// event records.
    pub fn digest(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or_default();
        crate::audit::sha256_hex(crate::audit::canonical_json(&value).as_bytes())
    }

    /// The policy as compact canonical JSON, as stores keep it.
    pub fn to_canonical_json(&self) -> String {
        crate::audit::canonical_json(&serde_json::to_value(self).unwrap_or_default())
    }

    /// A builder-style copy with `kind`'s rule replaced.
    pub fn with_kind_rule(mut self, kind: Kind, rule: KindRule) -> Result<Policy> {
        self.kinds.insert(kind, rule);
        self.validate()?;
        Ok(self)
    }

    /// A builder-style copy with self-approval allowed or forbidden.
    pub fn with_self_approval(mut self, allow: bool) -> Policy {
        self.allow_self_approval = allow;
        self
    }

    /// A builder-style copy with the automation rules replaced.
    pub fn with_automation(mut self, automation: Automation) -> Policy {
        self.automation = automation;
        self
    }

    /// A builder-style copy with a principal added.
    pub fn with_principal<R: Into<String>>(
        mut self,
        id: &str,
        roles: impl IntoIterator<Item = R>,
    ) -> Result<Policy> {
        self.principals
            .insert(id.to_owned(), roles.into_iter().map(Into::into).collect());
        self.validate()?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: Error) -> String {
        match err {
            Error::Validation { field, .. } => field,
            other => panic!("expected Validation, got {other:?}"),
        }
    }

    const NAMED: &str = r#"{"roles": {"analyst": {"view": ["*"], "propose": ["*"], "approve": ["*"]}, "guest": {},
        "admin": {"administer": ["*"]}},
        "principals": {"alice": ["analyst"], "gina": []}}"#;

    fn detail_of(err: Error) -> Option<String> {
        match err {
            Error::PermissionDenied { detail, .. } => detail,
            other => panic!("expected PermissionDenied, got {other:?}"),
        }
    }

    #[test]
    fn a_principal_the_policy_does_not_name_is_told_so() {
        let policy = Policy::from_json(NAMED).expect("policy");
        let mallory = Principal::new("mallory", Vec::<String>::new());
        let err = policy
            .check(&mallory, Operation::Approve, Category::Identity)
            .expect_err("denied");
        assert_eq!(
            err.to_string(),
            "mallory may not approve identity actions (mallory has no roles: the policy's principals do not name mallory)"
        );
    }

    #[test]
    fn a_named_principal_without_roles_is_told_it_has_none() {
        let policy = Policy::from_json(NAMED).expect("policy");
        let gina = Principal::new("gina", Vec::<String>::new());
        let err = policy
            .check(&gina, Operation::View, Category::File)
            .expect_err("denied");
        assert_eq!(detail_of(err), Some("gina has no roles".to_owned()));
    }

    #[test]
    fn a_principal_with_roles_is_told_only_the_missing_grant() {
        let policy = Policy::from_json(NAMED).expect("policy");
        let guest = Principal::new("gus", ["guest"]);
        let err = policy
            .check(&guest, Operation::Approve, Category::File)
            .expect_err("denied");
        assert_eq!(err.to_string(), "gus may not approve file actions");
    }

    #[test]
    fn every_verb_gives_an_unnamed_principal_the_same_reason() {
        use crate::engine::{ActionCenter, ClaimRequest, Decide, Proposal};
        use crate::model::{Entity, Kind, Source};
        use crate::query::{Filter, PageRequest};
        let center = ActionCenter::new(
            crate::MemoryStore::new(),
            Policy::from_json(NAMED).expect("policy"),
        );
        let alice = Principal::new("alice", ["analyst"]);
        let user = Entity::User {
            user_id: "bob@example.com".into(),
        };
        let source = Source::Playbook { name: "pb".into() };
        let proposal = Proposal::new(Kind::DisableUser, user, source);
        let pending = center.propose(&alice, proposal.clone()).expect("propose");
        let mallory = Principal::new("mallory", Vec::<String>::new());
        let why =
            Some("mallory has no roles: the policy's principals do not name mallory".to_owned());

        let approved = center.approve(&mallory, pending.id, &Decide::default());
        assert_eq!(detail_of(approved.expect_err("approve")), why);
        let proposed = center.propose(&mallory, proposal);
        assert_eq!(detail_of(proposed.expect_err("propose")), why);
        let listed = center.list(&mallory, &Filter::default(), &PageRequest::default());
        assert_eq!(detail_of(listed.expect_err("list")), why);
        let claimed = center.claim(&mallory, &ClaimRequest::default());
        assert_eq!(detail_of(claimed.expect_err("claim")), why);
    }

    #[test]
    fn default_policy_parses() {
        let policy = Policy::from_json(DEFAULT_POLICY_JSON).expect("default policy is valid");
        assert_eq!(policy, Policy::default());
        assert!(policy.roles().any(|r| r == "analyst"));
    }

    #[test]
    fn zero_quorum_names_the_field() {
        let err = Policy::from_json(r#"{"roles": {}, "kinds": {"isolate_device": {"quorum": 0}}}"#)
            .expect_err("zero");
        assert_eq!(field_of(err), "policy.kinds.isolate_device.quorum");
    }

    #[test]
    fn negative_ttl_names_the_field() {
        let err = Policy::from_json(r#"{"roles": {}, "defaults": {"pending_ttl_seconds": -5}}"#)
            .expect_err("negative");
        assert_eq!(field_of(err), "policy.defaults.pending_ttl_seconds");
    }

    #[test]
    fn a_ttl_past_ten_years_is_refused() {
        let err = Policy::from_json(
            r#"{"roles": {}, "defaults": {"pending_ttl_seconds": 1000000000000000}}"#,
        )
        .expect_err("huge");
        assert_eq!(field_of(err), "policy.defaults.pending_ttl_seconds");
    }

    #[test]
    fn the_engines_own_name_is_no_principal() {
        // Refused as a new policy; one stored before the rule still loads.
        let policy = Policy::from_json(
            r#"{"roles": {"a": {"administer": ["*"]}}, "principals": {"system": ["a"]}}"#,
        )
        .expect("loads");
        let err = policy.check_changeable().expect_err("reserved");
        assert_eq!(field_of(err), "policy.principals.system");
    }

    #[test]
    fn a_bootstrap_policy_is_held_to_the_rules_of_a_new_one() {
        use crate::engine::ActionCenter;
        let admin = r#""a": {"administer": ["*"]}"#;
        for (policy, field) in [
            (r#"{"roles": {"v": {"view": ["*"]}}}"#.to_owned(), "policy"),
            (
                format!(r#"{{"roles": {{{admin}}}, "principals": {{"system": ["a"]}}}}"#),
                "policy.principals.system",
            ),
            (
                format!(r#"{{"roles": {{{admin}}}, "defaults": {{"quorum": 4294967295}}}}"#),
                "policy.defaults.quorum",
            ),
        ] {
            let center = ActionCenter::new(
                crate::MemoryStore::new(),
                Policy::from_json(&policy).expect("loads"),
            );
            assert_eq!(field_of(center.policy().expect_err("refused")), field);
            assert_eq!(center.store().chain_head().expect("head").0, 0, "{policy}");
        }
    }

    #[test]
    fn a_quorum_nobody_could_reach_is_refused_anew() {
        let admin = r#""roles": {"a": {"administer": ["*"]}}"#;
        for (rules, field) in [
            (
                r#""defaults": {"quorum": 1000000000}"#,
                "policy.defaults.quorum",
            ),
            (
                r#""kinds": {"isolate_device": {"quorum": 101}}"#,
                "policy.kinds.isolate_device.quorum",
            ),
        ] {
            // Stored before the rule, it still loads.
            let policy = Policy::from_json(&format!("{{{admin}, {rules}}}")).expect("loads");
            let err = policy.check_changeable().expect_err("unreachable quorum");
            assert_eq!(field_of(err), field);
        }
        let most =
            format!(r#"{{{admin}, "kinds": {{"isolate_device": {{"quorum": {MAX_QUORUM}}}}}}}"#);
        Policy::from_json(&most)
            .expect("loads")
            .check_changeable()
            .expect("the largest quorum is a policy's to set");
    }

    #[test]
    fn unknown_role_of_a_principal_names_it() {
        let err = Policy::from_json(r#"{"roles": {"a": {}}, "principals": {"bob": ["ghost"]}}"#)
            .expect_err("role");
        assert!(err.to_string().contains("\"ghost\""), "{err}");
        assert_eq!(field_of(err), "policy.principals.bob");
    }

    #[test]
    fn unknown_kind_names_the_path() {
        let err = Policy::from_json(r#"{"roles": {}, "kinds": {"reboot": {}}}"#).expect_err("kind");
        assert!(err.to_string().contains("unknown kind \"reboot\""), "{err}");
        assert_eq!(field_of(err), "policy.kinds.reboot");
    }

    #[test]
    fn unknown_category_in_a_grant_is_refused() {
        let err =
            Policy::from_json(r#"{"roles": {"a": {"view": ["printers"]}}}"#).expect_err("category");
        assert_eq!(field_of(err), "policy.roles.a.view");
    }

    #[test]
    fn malformed_json_is_a_validation_error() {
        let err = Policy::from_json("{not json").expect_err("json");
        assert!(matches!(err, Error::Validation { .. }), "{err:?}");
    }

    #[test]
    fn administer_implies_every_operation() {
        let policy = Policy::default();
        let admin = Principal::new("root", ["admin"]);
        for op in Operation::ALL {
            assert!(policy.allows(&admin, op, Category::Email), "{op}");
        }
    }

    #[test]
    fn a_source_s_automation_level_counts_only_for_a_proposer_whose_roles_list_it() {
        let policy = Policy::from_json(
            r#"{"roles": {"responder": {"propose": ["*"]},
                          "scanner": {"propose": ["*"], "sources": ["antivirus"]},
                          "runner": {"propose": ["*"], "sources": ["playbook"]}},
                "automation": {"default": "semi", "sources": {"antivirus": "full", "playbook": "none"}}}"#,
        )
        .expect("valid");
        let level = |who: &str, source| {
            policy.automation_level_for(
                &Principal::new(who, [who_role(who)]),
                &Kind::QuarantineFile,
                Category::File,
                source,
            )
        };
        fn who_role(who: &str) -> &str {
            match who {
                "dana" => "responder",
                "av" => "scanner",
                _runner => "runner",
            }
        }
        // dana names the antivirus: its level is not hers to borrow.
        assert_eq!(
            level("dana", SourceType::Antivirus).ok(),
            Some(AutomationLevel::Semi)
        );
        assert_eq!(
            level("av", SourceType::Antivirus).ok(),
            Some(AutomationLevel::Full)
        );
        // A runner may propose only as a playbook: none, and no dodging it.
        assert_eq!(
            level("pb", SourceType::Playbook).ok(),
            Some(AutomationLevel::None)
        );
        let err = level("pb", SourceType::Antivirus).expect_err("not its source");
        assert_eq!(err.kind(), crate::ErrorKind::PermissionDenied, "{err}");
        assert!(
            err.to_string().contains("as playbook, not as antivirus"),
            "{err}"
        );
        // A role's sources are part of the policy's JSON, and of nothing else.
        let text = policy.to_json();
        assert!(
            text.contains("\"sources\": [\n        \"antivirus\"\n      ]"),
            "{text}"
        );
        assert_eq!(Policy::from_json(&text).expect("round trip"), policy);
        assert!(Policy::from_json(r#"{"roles": {"r": {"sources": ["oracle"]}}}"#).is_err());
    }

    #[test]
    fn most_specific_automation_level_wins() {
        let policy = Policy::from_json(
            r#"{"roles": {}, "automation": {"default": "none", "categories": {"file": "semi"},
                "sources": {"antivirus": "full"}, "kinds": {"block_url": "semi"}}}"#,
        )
        .expect("valid");
        assert_eq!(
            policy.automation_level(&Kind::QuarantineFile, Category::File, SourceType::Playbook),
            AutomationLevel::Semi
        );
        assert_eq!(
            policy.automation_level(&Kind::QuarantineFile, Category::File, SourceType::Antivirus),
            AutomationLevel::Full
        );
        assert_eq!(
            policy.automation_level(&Kind::BlockUrl, Category::Network, SourceType::Antivirus),
            AutomationLevel::Semi
        );
        assert_eq!(
            policy.automation_level(&Kind::DisableUser, Category::Identity, SourceType::Playbook),
            AutomationLevel::None
        );
    }
}
