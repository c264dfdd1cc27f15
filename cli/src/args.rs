//! The command line: global options, subcommands and their arguments.
//!
//! Values with a meaning in the library (kinds, statuses, sources,
//! categories) are parsed by the library after clap, so a bad value is the
//! library's `validation` error (exit 6), named as the library names it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The exit codes, as `--help` shows them. `exit::Code` holds the numbers;
/// a test checks that this text and those numbers agree.
pub const EXIT_CODES: &str = "\
Exit codes:
   0  success
   1  not found: no action with this id or prefix
   2  invalid transition: the action's status does not allow it
   3  permission denied: your roles lack the permission named
   4  self approval: you proposed the action and may not approve it
   5  conflict: the action changed concurrently; read it again
   6  validation: bad input (missing comment, ambiguous prefix, bad value...)
   7  expired: the approval window or the executor's lease ran out
   8  storage: the database failed, is missing, or is not an actioncenter database
   9  duplicate: the same action is already in progress, or an idempotency key
      was used for another proposal
  10  unauthenticated: a wrong account name or password, a disabled account,
      or an unknown, expired or revoked session or API token
  11  rate limited: too many attempts in a short time; try again later
      (12 to 19 are kept for the library's future error kinds)
  20  audit broken: `audit verify` found an event, action row, policy or
      checkpoint that does not match
  21  partial: some items of a command over several actions failed
  22  declined: you answered no to a confirmation; nothing changed
  64  usage: unknown command or option, missing argument, or an undo
      without --yes (a password without --password-stdin) when standard
      input is not a terminal
  74  output: standard output could not be written (a reader that stops
      early, as `| head -1` does, is not an error: exit 0, nothing on stderr)";

const MAIN_HELP: &str = "\
Examples:
  actionctl demo                               # create ./actioncenter.db with sample actions
  actionctl pending                            # the Pending tab
  actionctl pending --investigation inv-2041
  actionctl show 0190a6b2                      # ids are accepted by unique prefix
  actionctl approve 0190a6b2 0190a6c9 -m 'confirmed malicious'
  actionctl approve --investigation inv-2041   # shows what it will approve, then asks
  actionctl reject 0190a6b2 -m 'vendor driver, not malware'
  actionctl undo 0190a6b2 --all-instances -m 'false positive'
  actionctl history --status failed,undo_failed --since 7d
  actionctl audit verify --public-key audit.pub
  actionctl --json pending | jq '.items[].id'

Ids: every command takes an id by unique prefix, like git, and prints the
shortest unique one (8 characters or more). Ids made within about a minute
share their first 8 hex digits, so a printed id may be longer.

Who you are: your operating-system account (the effective user id's entry
in the user database; USER and LOGNAME are not read), with the roles the
database's stored policy gives that name in its `principals`. A name the
policy does not list has no roles. --as ID (or ACTIONCENTER_ACTOR) acts as
another principal of the policy: it needs the administer permission on every
category for your account, and the audit trail records both ('root as
dana').

The policy: every database holds its own, versioned (`policy show`,
`policy history`); `policy set FILE` stores a new version (administer
needed, audited). --policy FILE (or ACTIONCENTER_POLICY) is only the first
policy of a database that `demo` or `seed` creates.
";

const PROPOSE_HELP: &str = "\
The action is a manual response by you (the source is manual_response with
you as the person): the policy's rules for every door apply. You need the
Propose and Approve permissions on the kind's category; your proposal
counts as your approval, so the action is approved at once unless the
kind's quorum needs more approvers.

The entity is given by its fields, which depend on the kind:
  device kinds (isolate_device, release_device, restrict_code_execution,
  remove_code_restriction, run_antivirus_scan)
                    --device-id ID [--device-name NAME]
  quarantine_file, restore_file
                    --sha256 HEX --path PATH --device-id ID
  remove_registry_key, restore_registry_key
                    --key KEY [--value-name NAME] --device-id ID
  stop_service, start_service          --service NAME --device-id ID
  disable_driver, enable_driver        --driver NAME --device-id ID
  remove_scheduled_task, restore_scheduled_task
                    --task NAME --device-id ID
  soft_delete_email, restore_email, hard_delete_email
                    --cluster-id ID [--query TEXT], or --address MAILBOX
  disable_user, enable_user            --user ID
  block_url, unblock_url               --url URL
  custom:<name>     any one of the entities above

Examples:
  actionctl propose isolate_device --device-id FIN-LT-042 -m 'beaconing to C2'
  actionctl propose quarantine_file --sha256 9e10...a5b4 --path 'C:\\x\\evil.exe' --device-id dev-7
  actionctl propose disable_user --user j.doe@contoso.com --investigation inv-2041
  actionctl propose custom:collect_package --device-id dev-7 --param depth=full";

/// The analyst's command line for actioncenter: review, approve, reject and
/// undo remediation actions, and check the audit trail.
#[derive(Debug, Parser)]
#[command(
    name = "actionctl",
    version,
    after_help = format!("{MAIN_HELP}\n{EXIT_CODES}"),
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The SQLite database file
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "ACTIONCENTER_DB",
        default_value = "actioncenter.db",
        value_name = "PATH"
    )]
    pub db: PathBuf,

    /// A PostgreSQL database shared by many hosts (takes precedence over --db)
    #[arg(
        long,
        global = true,
        env = "ACTIONCENTER_POSTGRES",
        // Given empty (an unset shell variable), refused as --db is.
        value_parser = clap::builder::NonEmptyStringValueParser::new(),
        help_heading = "Global options",
        value_name = "URL"
    )]
    pub postgres: Option<String>,

    /// Who you are, for permissions and the audit trail [default: your OS account]
    #[arg(
        long = "as",
        global = true,
        help_heading = "Global options",
        env = "ACTIONCENTER_ACTOR",
        // Given empty (an unset shell variable), refused as --db is.
        value_parser = clap::builder::NonEmptyStringValueParser::new(),
        value_name = "ID"
    )]
    pub actor: Option<String>,

    /// The first policy of a database that demo or seed creates [default: the built-in policy naming your account admin]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "ACTIONCENTER_POLICY",
        value_name = "FILE"
    )]
    pub policy: Option<PathBuf>,

    /// Print JSON in the library's schema instead of tables
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The Pending tab: actions waiting for a decision
    #[command(after_help = "\
Examples:
  actionctl pending
  actionctl pending --kind quarantine_file,isolate_device --since 2d
  actionctl pending --investigation inv-2041 --json")]
    Pending(PendingArgs),

    /// The History tab: actions that reached an outcome
    #[command(after_help = "\
Examples:
  actionctl history
  actionctl history --status failed,undo_failed
  actionctl history --status approved,running,undoing     # actions in flight
  actionctl history --entity FIN-LT-042 --since 2025-06-01 --until 2025-06-08
  actionctl history --limit 20 --cursor <next cursor of the previous page>")]
    History(HistoryArgs),

    /// Everything about one action: fields, decisions, attempts, audit events
    #[command(after_help = "\
Examples:
  actionctl show 0190a6b2
  actionctl show 0190a6b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b --json")]
    Show {
        /// The action's id or a unique prefix of it (4+ hex digits; the ids actionctl prints are)
        id: String,
    },

    /// Start an action by hand: a manual response by you, under the policy's rules
    #[command(after_help = PROPOSE_HELP)]
    Propose(ProposeArgs),

    /// Approve pending actions (one result per action)
    #[command(after_help = "\
Examples:
  actionctl approve 0190a6b2
  actionctl approve 0190a6b2 0190a6c9 -m 'confirmed by the SOC'
  actionctl approve --investigation inv-2041")]
    Approve(DecideArgs),

    /// Reject pending actions; a comment is required
    #[command(after_help = "\
Examples:
  actionctl reject 0190a6b2 -m 'signed vendor driver'
  actionctl reject --investigation inv-2041 -m 'benign: pen test'")]
    Reject(DecideArgs),

    /// Cancel pending or approved actions; a comment is required
    #[command(after_help = "\
Examples:
  actionctl cancel 0190a6b2 -m 'duplicate of 0190a6c9'")]
    Cancel(DecideArgs),

    /// Send failed actions back to the executors' queue
    #[command(after_help = "\
Examples:
  actionctl retry 0190a6b2 -m 'device back online'")]
    Retry(DecideArgs),

    /// Undo a completed action; for a quarantined file, optionally on every device
    #[command(after_help = "\
Before acting, undo says how many more instances of the same file
--all-instances would restore, and asks to confirm. Scripts pass --yes;
without it, undo refuses when standard input is not a terminal.

Examples:
  actionctl undo 0190a6b2 -m 'false positive'
  actionctl undo 0190a6b2 --all-instances -m 'false positive' --yes")]
    Undo(UndoArgs),

    /// How many actions are in each status
    #[command(after_help = "\
Examples:
  actionctl counts
  actionctl counts --investigation inv-2041 --json")]
    Counts(CountsArgs),

    /// The audit trail
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },

    /// The change feed: audit events after a sequence number
    #[command(after_help = "\
In --json mode, a batch is printed as {\"items\": [...], \"next_since\": N},
where N is the --since of the next batch, or null once the batch reaches
the end of the feed; with --follow, as one JSON object per line.

Examples:
  actionctl events
  actionctl events --since 120 --limit 1000
  actionctl events --follow --json | while read -r event; do ...; done")]
    Events(EventsArgs),

    /// Move pending actions whose approval window closed to their outcome
    Expire,

    /// Return actions whose executor stopped renewing its lease to the queue
    RecoverLeases,

    /// Check or show policies
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },

    /// Who you are and your roles under the policy in force
    Whoami,

    /// Serve the Action center console and the HTTP API over this database
    #[command(after_help = "\
Examples:
  actionctl serve --demo                       # a fresh demo database, with sign-ins to try
  actionctl --db /var/lib/ac.db serve --listen 127.0.0.1:8443 --tls-cert c.pem --tls-key k.pem
  actionctl --postgres postgres://ac@db/ac serve --listen 0.0.0.0:8080")]
    Serve(ServeArgs),

    /// Local accounts that sign in to the server with a password
    User {
        #[command(subcommand)]
        command: UserCommand,
    },

    /// API tokens for playbooks and executors on other hosts
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },

    /// Create a sample database and print its Pending and History tabs
    #[command(after_help = "\
The demo plays a week of a security team's work through the engine's
ordinary verbs (propose, approve, claim, complete, fail, undo...), with the
built-in default policy and a clock set in the past, so the audit trail is
real: several investigations, actions of every source, kind and status, and
one malicious file quarantined on four devices.

It refuses a database that already holds actions, so sample data never
mixes with real data by accident (--append adds it anyway), and always a
database holding actions that wait for executors, which the demo's own
executors would take.

Examples:
  actionctl demo
  actionctl --db /tmp/sample.db demo --fresh")]
    Demo(DemoArgs),

    /// Fill a database with many generated actions, for measurements
    #[command(hide = true)]
    Seed(SeedArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the chain, every action row against its last event, the stored
    /// policy and the checkpoints; exit 20 naming the first that does not match
    #[command(after_help = "\
Without --public-key the checkpoints' positions are checked against the
chain (a cut tail below the latest stored checkpoint is found), not their
signatures. With it, every stored checkpoint must carry a valid signature of
that key, so a rewrite that re-hashes the whole chain is found too. An
exported checkpoint (--checkpoint, kept outside the database) also finds a
writer who cut the tail and deleted the checkpoints after it.

Examples:
  actionctl audit verify
  actionctl audit verify --public-key audit.key.pub --checkpoint cp-2026-03-01.json")]
    Verify {
        /// The checkpoint signer's public key (PEM, from `audit keygen`)
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        /// A checkpoint exported earlier (`audit checkpoint --out`); needs --public-key
        #[arg(long, value_name = "FILE", requires = "public_key")]
        checkpoint: Option<PathBuf>,
    },
    /// Sign the chain head with your key and store the checkpoint (administer needed)
    #[command(after_help = "\
The key stays with you: only the public key and the signature are stored.
Keep a copy of the checkpoint outside the database (--out) to verify against.

Examples:
  actionctl audit checkpoint --key audit.key --out cp-$(date +%F).json")]
    Checkpoint {
        /// The signing key (PKCS#8 PEM, from `audit keygen` or `openssl genpkey -algorithm ed25519`)
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Also write the checkpoint to this file (refused if it exists)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Make an Ed25519 key pair for checkpoints: FILE (private, mode 0600) and FILE.pub
    #[command(after_help = "\
Keep the private key off the database host if you can: whoever holds it can
sign checkpoints. The same with OpenSSL:
  openssl genpkey -algorithm ed25519 -out audit.key
  openssl pkey -in audit.key -pubout -out audit.key.pub

Examples:
  actionctl audit keygen --out audit.key")]
    Keygen {
        /// Where to write the private key (refused if it exists)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file, naming the bad field (no database needed)
    Check {
        /// The policy file (JSON)
        file: PathBuf,
    },
    /// The policy stored in the database, with its version
    Show,
    /// Every stored version of the policy, oldest first
    History,
    /// Store FILE as the database's next policy version (administer needed)
    #[command(after_help = "\
Examples:
  actionctl policy set policy.json -m 'quorum of two for isolation'
  actionctl policy set policy.json --expect-version 3")]
    Set {
        /// The policy file (JSON)
        file: PathBuf,
        /// Why, for the audit trail
        #[arg(short = 'm', long, value_name = "TEXT")]
        comment: Option<String>,
        /// Refuse if the stored policy is no longer this version
        #[arg(long, value_name = "N")]
        expect_version: Option<u64>,
    },
}

const USER_HELP: &str = "\
An account is a principal of the stored policy (its `principals`, which
give its roles) that may sign in to the server with a password. Adding,
disabling and enabling accounts needs the administer permission on every
category; anyone may set their own account's password.

The password is asked on the terminal, without echo, twice. Scripts pass
it as one line on standard input with --password-stdin; without that flag
a standard input that is not a terminal is refused. At least 12
characters.

Examples:
  actionctl user add alice
  printf '%s\\n' \"$PASSWORD\" | actionctl user add alice --password-stdin
  actionctl user passwd alice
  actionctl user disable alice        # also ends its sessions and API tokens
  actionctl user list --json";

const TOKEN_HELP: &str = "\
A token stands for a principal of the stored policy, whose roles are read
from the policy at every request: a role taken away there is gone at once.
Creating, listing and revoking tokens needs the administer permission on
every category. The secret is printed once, by `token create`, and stored
only as a hash; `token list` shows every token, live or not, never a
secret.

Examples:
  actionctl token create --principal agent-7 --label 'edr executor' --ttl 30d
  actionctl --json token create --principal agent-7 | jq -r .secret
  actionctl token list
  actionctl token revoke 0190a6b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b";

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account for a principal of the stored policy (administer needed)
    #[command(after_help = USER_HELP)]
    Add {
        /// The principal's id, as the stored policy names it
        id: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Set an account's password: your own, or any with administer
    #[command(after_help = USER_HELP)]
    Passwd {
        /// The account's id
        id: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Disable an account: it cannot sign in, its sessions and API tokens end (administer needed)
    Disable {
        /// The account's id
        id: String,
    },
    /// Enable a disabled account again (its old sessions and tokens stay ended)
    Enable {
        /// The account's id
        id: String,
    },
    /// Every account, without password hashes (administer needed)
    List,
}

/// How a password reaches `user add` and `user passwd`.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// Read the password from standard input (one line) instead of asking
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print its secret, once (administer needed)
    #[command(after_help = TOKEN_HELP)]
    Create(TokenCreateArgs),
    /// Every API token, live, expired or revoked, without secrets (administer needed)
    List,
    /// Revoke an API token by its id (administer needed)
    Revoke {
        /// The token's id (the ID column of `token list`)
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The principal the token stands for, as the stored policy names it
    #[arg(long, value_name = "ID")]
    pub principal: String,
    /// What the token is for, shown by `token list`
    #[arg(
        long,
        default_value = "",
        value_name = "TEXT",
        hide_default_value = true
    )]
    pub label: String,
    /// How long the token is valid: 30m, 12h, 90d, 2w (at most 366 days)
    #[arg(long, default_value = "90d", value_name = "TIME")]
    pub ttl: String,
}

/// Which actions a view shows, by the library's filter.
#[derive(Debug, Args, Default)]
pub struct FilterArgs {
    /// Only these kinds (comma separated), e.g. quarantine_file,custom:collect_package
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub kind: Vec<String>,
    /// Only these categories: device, file, email, identity, network
    #[arg(long, value_delimiter = ',', value_name = "CATEGORY")]
    pub category: Vec<String>,
    /// Only these sources: automated_investigation, antivirus, manual_response, playbook, custom
    #[arg(long, value_delimiter = ',', value_name = "SOURCE")]
    pub source: Vec<String>,
    /// Only actions of this investigation
    #[arg(long, value_name = "ID")]
    pub investigation: Option<String>,
    /// Only actions on this entity: a device id, file hash, user id, URL... (or on this device)
    #[arg(long, value_name = "KEY")]
    pub entity: Option<String>,
    /// Only actions proposed by this principal
    #[arg(long, value_name = "ID")]
    pub created_by: Option<String>,
    /// Created at or after: 2025-06-01, 2025-06-01T10:00:00Z, or 30m, 12h, 7d, 2w ago
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Created before: same forms as --since
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
}

/// Which page of a view to show.
#[derive(Debug, Args)]
pub struct PageArgs {
    /// Actions per page, 1 to 1000
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
    /// Start after this cursor (printed under the previous page)
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
}

#[derive(Debug, Args)]
pub struct PendingArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only these statuses (comma separated), or `all` [default: completed, failed,
    /// rejected, expired, cancelled, undone, undo_failed]
    #[arg(long, value_delimiter = ',', value_name = "STATUS")]
    pub status: Vec<String>,
    /// Only actions this principal approved or rejected
    #[arg(long, value_name = "ID")]
    pub decided_by: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct CountsArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// `propose KIND` and the entity's fields.
#[derive(Debug, Args)]
pub struct ProposeArgs {
    /// The kind of action, e.g. isolate_device, quarantine_file, custom:collect_package
    pub kind: String,
    #[command(flatten)]
    pub entity: EntityArgs,
    /// The investigation the action belongs to
    #[arg(long, value_name = "ID")]
    pub investigation: Option<String>,
    /// A parameter for the executor, KEY=VALUE (a string); repeat for more
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = key_value)]
    pub params: Vec<(String, String)>,
    /// Why, for the audit trail
    #[arg(short = 'm', long, value_name = "TEXT")]
    pub comment: Option<String>,
}

/// `KEY=VALUE`, split at the first `=`.
fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _other => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

/// The fields of the entity an action targets (see `propose --help`).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Entity")]
pub struct EntityArgs {
    /// The device: of a device action, or the one a file, key, service, driver or task is on
    #[arg(long, value_name = "ID")]
    pub device_id: Option<String>,
    /// The device's name (device kinds)
    #[arg(long, value_name = "NAME")]
    pub device_name: Option<String>,
    /// The file's SHA-256, 64 hex digits (file kinds)
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// The file's path on the device (file kinds)
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// The registry key (registry kinds)
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// The registry value under the key (registry kinds)
    #[arg(long, value_name = "NAME")]
    pub value_name: Option<String>,
    /// The service's name (service kinds)
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// The driver's name (driver kinds)
    #[arg(long, value_name = "NAME")]
    pub driver: Option<String>,
    /// The scheduled task's name (scheduled task kinds)
    #[arg(long, value_name = "NAME")]
    pub task: Option<String>,
    /// The email cluster (email kinds)
    #[arg(long, value_name = "ID")]
    pub cluster_id: Option<String>,
    /// The query that defines the email cluster (email kinds)
    #[arg(long, value_name = "TEXT")]
    pub query: Option<String>,
    /// The mailbox's address (email kinds, instead of a cluster)
    #[arg(long, value_name = "MAILBOX")]
    pub address: Option<String>,
    /// The user's id (user kinds)
    #[arg(long, value_name = "ID")]
    pub user: Option<String>,
    /// The URL (URL kinds)
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

/// The actions a decision applies to: ids, or every action of an investigation.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// Action ids or unique prefixes
    #[arg(value_name = "ID", required_unless_present = "investigation")]
    pub ids: Vec<String>,
    /// Every action of this investigation the command applies to
    #[arg(long, value_name = "ID", conflicts_with = "ids")]
    pub investigation: Option<String>,
    /// Why, for the audit trail
    #[arg(short = 'm', long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// With --investigation: only show what the command would act on, and
    /// the snapshot token that names exactly that selection
    #[arg(long, requires = "investigation", conflicts_with = "snapshot")]
    pub preview: bool,
    /// With --investigation: act only if the selection is still the one
    /// --preview showed (its token); no confirmation is asked
    #[arg(long, value_name = "TOKEN", requires = "investigation")]
    pub snapshot: Option<String>,
    /// With --investigation: do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The action's id or a unique prefix
    pub id: String,
    /// For a quarantined file: also restore it on every other device it was quarantined on
    #[arg(long)]
    pub all_instances: bool,
    /// Why, for the audit trail (required)
    #[arg(short = 'm', long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only events after this sequence number
    #[arg(long, default_value_t = 0, value_name = "SEQ")]
    pub since: u64,
    /// At most this many events, 1 to 1000 (per poll with --follow)
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub limit: usize,
    /// Keep polling for new events until interrupted
    #[arg(long)]
    pub follow: bool,
    /// With --follow: milliseconds between polls, 100 to 60000
    #[arg(
        long,
        default_value_t = 1000,
        value_name = "MS",
        value_parser = clap::value_parser!(u64).range(100..=60_000)
    )]
    pub interval_ms: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Delete the database first (it must be an actioncenter database)
    #[arg(long, conflicts_with = "append")]
    pub fresh: bool,
    /// Add the sample to a database that already holds actions
    #[arg(long)]
    pub append: bool,
}

#[derive(Debug, Args)]
#[group(id = "serve_command")]
pub struct ServeArgs {
    /// Fill an empty database with the demo's week of sample actions and
    /// give the demo's people accounts to sign in with
    #[arg(long)]
    pub demo: bool,
    /// With --demo: delete the database first (it must be an actioncenter database)
    #[arg(long, requires = "demo")]
    pub fresh: bool,
    #[command(flatten)]
    pub server: actioncenter_server::cli::ServeArgs,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// How many actions to create
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub count: u64,
    /// Spread their creation over this many days, ending now
    #[arg(long, default_value_t = 90, value_name = "DAYS",
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
}
