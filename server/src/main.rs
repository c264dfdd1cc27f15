//! `actioncenter-server`: the console and the API over a database.
//! `actionctl serve` is the same server, with the command line's
//! database options and `--demo`.

use std::process::ExitCode;

use actioncenter_server::cli::ServeArgs;
use clap::Parser;

/// The Action center in a browser, and the engine over HTTP.
#[derive(Debug, Parser)]
#[command(name = "actioncenter-server", version)]
struct Args {
    /// The SQLite file (created if missing).
    #[arg(long, default_value = "actioncenter.db", conflicts_with = "postgres")]
    db: std::path::PathBuf,
    /// A PostgreSQL connection URL instead of SQLite.
    #[arg(long, env = "ACTIONCENTER_POSTGRES")]
    postgres: Option<String>,
    #[command(flatten)]
    serve: ServeArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    actioncenter_server::cli::init_logging();
    let center = match &args.postgres {
        Some(url) => actioncenter::ActionCenter::open_postgres(url),
        None => actioncenter::ActionCenter::open_sqlite(&args.db),
    };
    let center = match center {
        Ok(c) => c,
        Err(e) => {
            eprintln!("actioncenter-server: {e}");
            return ExitCode::from(u8::try_from(e.kind().code()).unwrap_or(1));
        }
    };
    match actioncenter_server::cli::run(center, &args.serve, None) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("actioncenter-server: {e}");
            ExitCode::from(1)
        }
    }
}
