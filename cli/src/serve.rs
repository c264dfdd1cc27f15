//! `actionctl serve`: the console and the HTTP API over the database the
//! global options name, with `--demo` for a first look.

use actioncenter::Filter;

use crate::args::{DemoArgs, Global, ServeArgs};
use crate::demo::seed_demo;
use crate::exit::CliError;
use crate::output::Out;
use crate::session::{Open, Session, os_account};

/// The password of the demo's accounts: a demo database is for trying
/// the console on this machine, never for real work.
pub const DEMO_PASSWORD: &str = "actioncenter-demo";
/// The demo's people who get an account, and what they may do.
const DEMO_PEOPLE: [(&str, &str); 3] = [
    ("carol", "analyst: approves, rejects and undoes"),
    ("alice", "analyst"),
    ("dana", "responder: proposes and cancels, cannot approve"),
];

pub fn serve(global: &Global, out: Out, args: &ServeArgs) -> Result<(), CliError> {
    let mut banner = None;
    if args.demo {
        let session = Session::open(global, Open::Existing);
        let held = match &session {
            Ok(s) => s.center.store().count(&Filter::default())?.total(),
            Err(_) => 0,
        };
        drop(session);
        if held == 0 || args.fresh {
            seed_demo(
                global,
                &DemoArgs {
                    fresh: args.fresh,
                    append: false,
                },
            )?;
        } else {
            return Err(CliError::Usage(format!(
                "--demo fills an empty database and this one holds {held} actions: \
                 add --fresh to replace it with the demo, or use --db for another file"
            )));
        }
        let session = Session::open(global, Open::Existing)?;
        let admin = os_account()?;
        let mut lines = vec![format!(
            "Demo sign-ins (password {DEMO_PASSWORD:?}, for this demo database only):"
        )];
        for (id, what) in DEMO_PEOPLE
            .iter()
            .chain([(admin.as_str(), "administrator")].iter())
        {
            if session.center.store().account(id)?.is_none() {
                session
                    .center
                    .add_user(session.actor(), id, DEMO_PASSWORD)?;
            }
            lines.push(format!("  {id:<8} {what}"));
        }
        banner = Some(lines.join("\n"));
    }
    let session = Session::open(global, Open::Existing)?;
    let _ = out;
    actioncenter_server::cli::run(session.center.clone(), &args.server, banner)
        .map_err(CliError::Usage)
}
