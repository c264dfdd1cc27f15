//! What every command starts from: the policy in force, who is acting, and
//! the engine over the database.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actioncenter::{
    ActionCenter, Clock, Error, Policy, PostgresOptions, PostgresStore, Principal, SqliteOptions,
    SqliteStore, Store, Synchronous, SystemClock,
};

use crate::args::Global;
use crate::exit::CliError;

/// The role every actor has when no policy file is given.
pub const DEFAULT_ROLE: &str = "analyst";

/// Where the actions live.
#[derive(Debug, Clone)]
pub enum Backend {
    /// One SQLite file, the embedded default.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by connection URL.
    Postgres(String),
}

impl Backend {
    pub fn from_args(global: &Global) -> Backend {
        match &global.postgres {
            Some(url) => Backend::Postgres(url.clone()),
            None => Backend::Sqlite(global.db.clone()),
        }
    }

    /// How the backend is named in messages.
    pub fn describe(&self) -> String {
        match self {
            Backend::Sqlite(path) => path.display().to_string(),
            Backend::Postgres(url) => redact(url),
        }
    }
}

/// Whether a command may create the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// The database must exist: a mistyped path is an error, not a new file.
    Existing,
    /// Create the database if it is missing (`demo`, `seed`).
    CreateIfMissing,
}

/// Opens the store behind `backend`. `bulk_writes` trades the durability
/// of the last commits before a power cut for speed (the file is never
/// corrupted); the demo and the seeder use it.
pub fn open_store(
    backend: &Backend,
    open: Open,
    bulk_writes: bool,
) -> Result<Arc<dyn Store>, CliError> {
    match backend {
        Backend::Sqlite(path) => {
            if open == Open::Existing && !path.exists() {
                return Err(Error::storage_msg(format!(
                    "no database at {}: create a sample with `actionctl demo`, or name one with --db or ACTIONCENTER_DB",
                    path.display()
                ))
                .into());
            }
            let options = SqliteOptions {
                synchronous: if bulk_writes {
                    Synchronous::Normal
                } else {
                    Synchronous::Full
                },
                // One command, one connection at a time.
                pool_size: 1,
                ..SqliteOptions::default()
            };
            Ok(Arc::new(SqliteStore::open_with(path, &options)?))
        }
        // The server keeps what it commits; `bulk_writes` changes nothing
        // there. Only `demo` and `seed` may create the tables.
        Backend::Postgres(url) => {
            let options = PostgresOptions {
                create: open == Open::CreateIfMissing,
                ..PostgresOptions::default()
            };
            Ok(Arc::new(PostgresStore::connect_with(url, &options)?))
        }
    }
}

/// Where the policy in force came from.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// The library's `DEFAULT_POLICY_JSON`; every actor is an analyst.
    BuiltIn,
    /// A policy file; actors have the roles its `principals` give them.
    File(PathBuf),
}

impl PolicySource {
    pub fn describe(&self) -> String {
        match self {
            PolicySource::BuiltIn => "the built-in default policy".to_owned(),
            PolicySource::File(path) => path.display().to_string(),
        }
    }
}

/// The policy and the acting principal, before any database is opened.
#[derive(Debug)]
pub struct Identity {
    pub policy: Policy,
    pub source: PolicySource,
    pub actor: Principal,
    /// False when a policy file does not name the actor (who then has no roles).
    pub named: bool,
}

impl Identity {
    pub fn from_args(global: &Global) -> Result<Identity, CliError> {
        let id = match &global.actor {
            Some(id) => id.clone(),
            None => os_account()?,
        };
        match &global.policy {
            None => Ok(Identity {
                policy: Policy::default(),
                source: PolicySource::BuiltIn,
                actor: Principal::new(id, [DEFAULT_ROLE]),
                named: true,
            }),
            Some(path) => {
                let policy = load_policy(path)?;
                let (actor, named) = match policy.principal(&id) {
                    Some(p) => (p, true),
                    None => (Principal::new(id, Vec::<String>::new()), false),
                };
                Ok(Identity {
                    policy,
                    source: PolicySource::File(path.clone()),
                    actor,
                    named,
                })
            }
        }
    }

    /// A hint to add to a permission error, when the policy file does not
    /// name the actor at all.
    pub fn unnamed_hint(&self) -> Option<String> {
        match (&self.source, self.named) {
            (PolicySource::File(path), false) => Some(format!(
                "{} is not among the principals of {}",
                self.actor.id,
                path.display()
            )),
            _named_or_builtin => None,
        }
    }
}

/// The name of the operating-system account the command runs as: the
/// effective user id's entry in the user database (`/etc/passwd`, or
/// whatever NSS serves). `USER` and `LOGNAME` are not consulted: any
/// process can set them, and under cron, systemd or a container they are
/// often missing. No entry is an error, never a made-up name.
#[cfg(unix)]
fn os_account() -> Result<String, CliError> {
    use nix::unistd::{Uid, User};
    let uid = Uid::effective();
    let why = match User::from_uid(uid) {
        Ok(Some(user)) if !user.name.is_empty() => return Ok(user.name),
        Ok(_none) => format!("the effective user id {uid} has no entry in the user database"),
        Err(e) => format!("cannot read the user database entry of user id {uid}: {e}"),
    };
    Err(CliError::Usage(format!(
        "{why}: name yourself with --as or ACTIONCENTER_ACTOR"
    )))
}

/// The account name Windows gives the process.
#[cfg(not(unix))]
fn os_account() -> Result<String, CliError> {
    std::env::var("USERNAME")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            CliError::Usage(
                "USERNAME does not name your account: name yourself with --as or ACTIONCENTER_ACTOR"
                    .to_owned(),
            )
        })
}

/// Reads and validates a policy file; errors name the file.
pub fn load_policy(path: &Path) -> Result<Policy, CliError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::InFile(
            shown.clone(),
            Error::validation("policy", format!("cannot read the file: {e}")),
        )
    })?;
    Policy::from_json(&text).map_err(|e| CliError::InFile(shown, e))
}

/// An engine over the database, with the acting principal.
#[derive(Debug)]
pub struct Session {
    pub center: ActionCenter,
    pub identity: Identity,
    pub backend: Backend,
}

impl Session {
    /// Opens the database named by the global options with the policy in force.
    pub fn open(global: &Global, open: Open) -> Result<Session, CliError> {
        let identity = Identity::from_args(global)?;
        let backend = Backend::from_args(global);
        let store = open_store(&backend, open, false)?;
        Ok(Session::over(
            store,
            identity,
            backend,
            Arc::new(SystemClock),
        ))
    }

    /// A session over an opened store.
    pub fn over(
        store: Arc<dyn Store>,
        identity: Identity,
        backend: Backend,
        clock: Arc<dyn Clock>,
    ) -> Session {
        let center = ActionCenter::with_clock(store, identity.policy.clone(), clock);
        Session {
            center,
            identity,
            backend,
        }
    }

    pub fn actor(&self) -> &Principal {
        &self.identity.actor
    }
}

/// A connection string without its password, for messages: a URL's
/// `user:password@` and `?password=`, or a `password=` setting.
fn redact(url: &str) -> String {
    let hide = |pair: &str| match pair.split_once('=') {
        Some((key, _)) if key.trim() == "password" => format!("{key}=***"),
        _other => pair.to_owned(),
    };
    let Some(scheme) = url.find("://") else {
        return url.split(' ').map(hide).collect::<Vec<_>>().join(" ");
    };
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let base = match base.rfind('@') {
        Some(at) if at > scheme => {
            let user = base[scheme + 3..at].split(':').next().unwrap_or_default();
            format!("{}{user}{}", &base[..scheme + 3], &base[at..])
        }
        _other => base.to_owned(),
    };
    if query.is_empty() {
        base
    } else {
        format!(
            "{base}?{}",
            query.split('&').map(hide).collect::<Vec<_>>().join("&")
        )
    }
}

#[cfg(test)]
mod redact_tests {
    use super::redact;

    #[test]
    fn passwords_are_left_out_of_messages() {
        assert_eq!(
            redact("postgres://ac:s3cret@db:5432/ac"),
            "postgres://ac@db:5432/ac"
        );
        assert_eq!(redact("postgres://db/ac"), "postgres://db/ac");
        assert_eq!(
            redact("postgres://ac@db/ac?password=x&sslmode=disable"),
            "postgres://ac@db/ac?password=***&sslmode=disable"
        );
        assert_eq!(
            redact("host=db user=ac password=x"),
            "host=db user=ac password=***"
        );
    }
}
