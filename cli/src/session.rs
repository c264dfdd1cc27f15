//! What every command starts from: the engine over the database, and who
//! is acting: the operating-system account, with the roles the database's
//! stored policy gives it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actioncenter::{
    ActionCenter, Clock, Error, Policy, PostgresOptions, PostgresStore, Principal, SqliteOptions,
    SqliteStore, Store, Synchronous, SystemClock,
};

use crate::args::Global;
use crate::exit::CliError;

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
            // An empty file is no database either: SQLite would make one
            // of it, and a command that only reads would write its schema.
            let empty = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0);
            if open == Open::Existing && (!path.exists() || empty) {
                return Err(Error::storage_msg(format!(
                    "no database at {}{}: create a sample with `actionctl demo`, or name one with --db or ACTIONCENTER_DB",
                    path.display(),
                    if empty { " (an empty file)" } else { "" }
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
                // Only `demo`, `seed` and `serve --demo` may create the tables.
                create: open == Open::CreateIfMissing,
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

/// Who runs the command: the operating-system account, and the
/// principal it acts as (itself, or another with `--as`).
#[derive(Debug, Clone)]
pub struct Actor {
    /// The operating-system account's name.
    pub account: String,
    /// The principal checked and recorded: the account with the roles the
    /// stored policy gives it, or the one it acts as (with `via` set).
    pub principal: Principal,
}

impl Actor {
    /// Resolves who is acting against the database's stored policy.
    pub fn resolve(center: &ActionCenter, global: &Global) -> Result<Actor, CliError> {
        let account = os_account()?;
        let real = center.principal(&account)?;
        let principal = match &global.actor {
            Some(id) if *id != account => center.impersonate(&real, id)?,
            _yourself => real,
        };
        Ok(Actor { account, principal })
    }
}

/// The name of the operating-system account the command runs as: the
/// effective user id's entry in the user database (`/etc/passwd`, or
/// whatever NSS serves). `USER` and `LOGNAME` are not consulted: any
/// process can set them, and under cron, systemd or a container they are
/// often missing. No entry is an error, never a made-up name.
#[cfg(unix)]
pub fn os_account() -> Result<String, CliError> {
    use nix::unistd::{Uid, User};
    let uid = Uid::effective();
    let why = match User::from_uid(uid) {
        Ok(Some(user)) if !user.name.is_empty() => return Ok(user.name),
        Ok(_none) => format!("the effective user id {uid} has no entry in the user database"),
        Err(e) => format!("cannot read the user database entry of user id {uid}: {e}"),
    };
    Err(CliError::Usage(format!(
        "{why}: actionctl acts as your operating-system account"
    )))
}

/// The account name Windows gives the process.
#[cfg(not(unix))]
pub fn os_account() -> Result<String, CliError> {
    std::env::var("USERNAME")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| CliError::Usage("USERNAME does not name your account".to_owned()))
}

/// Reads and validates a policy file; errors name the file. Reading stops
/// at the library's document limit, so `--policy /dev/zero` costs nothing.
pub fn load_policy(path: &Path) -> Result<Policy, CliError> {
    let shown = path.display().to_string();
    let text = std::fs::File::open(path)
        .map_err(|e| Error::validation("policy", format!("cannot read the file: {e}")))
        .and_then(|f| actioncenter::error::read_document("policy", f))
        .map_err(|e| CliError::InFile(shown.clone(), e))?;
    Policy::from_json(&text).map_err(|e| CliError::InFile(shown, e))
}

/// The policy a database this command creates starts with: `--policy FILE`,
/// or the library's default naming the operating-system account an
/// administrator, so that whoever made the database can run it.
pub fn bootstrap_policy(global: &Global) -> Result<Policy, CliError> {
    match &global.policy {
        Some(path) => load_policy(path),
        None => Ok(Policy::default().with_principal(&os_account()?, ["admin"])?),
    }
}

/// An engine over the database, with the acting principal.
#[derive(Debug)]
pub struct Session {
    pub center: ActionCenter,
    pub actor: Actor,
    pub backend: Backend,
}

impl Session {
    /// Opens the database named by the global options. `--policy` is
    /// refused here: an existing database enforces its own stored policy.
    pub fn open(global: &Global, open: Open) -> Result<Session, CliError> {
        if let Some(path) = &global.policy {
            return Err(CliError::Usage(format!(
                "--policy {} only gives a database that demo or seed creates its first policy; \
                 this database enforces its own (see `actionctl policy show`; change it with \
                 `actionctl policy set FILE`)",
                path.display()
            )));
        }
        let backend = Backend::from_args(global);
        let store = open_store(&backend, open, false)?;
        Session::over(
            store,
            Policy::default(),
            global,
            backend,
            Arc::new(SystemClock),
        )
    }

    /// A session over an opened store; `bootstrap` is stored only if the
    /// database has no policy yet.
    pub fn over(
        store: Arc<dyn Store>,
        bootstrap: Policy,
        global: &Global,
        backend: Backend,
        clock: Arc<dyn Clock>,
    ) -> Result<Session, CliError> {
        let center = ActionCenter::with_clock(store, bootstrap, clock);
        let actor = Actor::resolve(&center, global)?;
        Ok(Session {
            center,
            actor,
            backend,
        })
    }

    pub fn actor(&self) -> &Principal {
        &self.actor.principal
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
