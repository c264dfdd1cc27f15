//! `actionctl propose`: an analyst starts an action by hand.
//!
//! The command line only turns options into the library's `Proposal` (a
//! manual response by the acting principal) and prints the result: the
//! entity's fields are checked by the library's own JSON parsing, and the
//! kind, the entity and every permission by `propose`.

use actioncenter::{Action, Entity, EntityType, Kind, Proposal, Source, parse_json};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::args::{EntityArgs, ProposeArgs};
use crate::exit::CliError;
use crate::output::{Out, short_id};
use crate::session::Session;

/// `actionctl propose KIND ...`.
pub fn propose(s: &Session, out: Out, args: &ProposeArgs) -> Result<(), CliError> {
    let kind: Kind = args.kind.parse()?;
    let entity = entity(&kind, &args.entity)?;
    let mut parameters = Map::new();
    for (key, value) in &args.params {
        if parameters.insert(key.clone(), json!(value)).is_some() {
            return Err(CliError::Usage(format!(
                "--param {key} is given twice (see actionctl propose --help)"
            )));
        }
    }
    let proposal = Proposal {
        investigation_id: args.investigation.clone(),
        parameters,
        comment: args.comment.clone(),
        ..Proposal::new(
            kind,
            entity,
            Source::ManualResponse {
                person: s.actor().id.clone(),
            },
        )
    };
    let action = s.center.propose(s.actor(), proposal)?;
    let short = short_id(&s.center, action.id);
    if out.json {
        return Ok(out.json(&Proposed {
            action: &action,
            short_id: &short,
        })?);
    }
    out.line(format!(
        "Proposed {short} ({}, {}): now {}",
        action.kind,
        action.entity.describe(),
        out.status_text(action.status)
    ))?;
    out.line(format!("Action {}: `actionctl show {short}`", action.id))?;
    Ok(())
}

/// What `propose --json` prints (docs/json.md).
#[derive(Serialize)]
struct Proposed<'a> {
    action: &'a Action,
    short_id: &'a str,
}

/// The entity type the options name, if they name one beyond a device id
/// (which files, keys, services, drivers and tasks have too).
fn named_type(e: &EntityArgs) -> Option<EntityType> {
    let given = |options: &[&Option<String>]| options.iter().any(|o| o.is_some());
    [
        (given(&[&e.sha256, &e.path]), EntityType::File),
        (given(&[&e.key, &e.value_name]), EntityType::RegistryKey),
        (given(&[&e.service]), EntityType::Service),
        (given(&[&e.driver]), EntityType::Driver),
        (given(&[&e.task]), EntityType::ScheduledTask),
        (given(&[&e.cluster_id, &e.query]), EntityType::EmailCluster),
        (given(&[&e.address]), EntityType::Mailbox),
        (given(&[&e.user]), EntityType::User),
        (given(&[&e.url]), EntityType::Url),
        (given(&[&e.device_id, &e.device_name]), EntityType::Device),
    ]
    .into_iter()
    .find_map(|(named, t)| named.then_some(t))
}

/// The entity of the options: of the type they name, or else of the only
/// type the kind acts on. Its JSON goes through the library's parser, so
/// a missing or foreign field is the library's validation error; whether
/// the kind acts on it is `propose`'s to say.
fn entity(kind: &Kind, e: &EntityArgs) -> Result<Entity, CliError> {
    let entity_type = match (named_type(e), kind.accepted_entities()) {
        (Some(t), _) => t,
        (None, [only]) => *only,
        (None, _several_or_any) => {
            return Err(CliError::Usage(format!(
                "name the entity {kind} acts on with its options (see actionctl propose --help)"
            )));
        }
    };
    let name = match entity_type {
        EntityType::Service => &e.service,
        EntityType::Driver => &e.driver,
        EntityType::ScheduledTask => &e.task,
        _other => &e.device_name,
    };
    let user_id = &e.user;
    let mut fields = Map::new();
    fields.insert("type".into(), json!(entity_type));
    for (key, value) in [
        ("device_id", &e.device_id),
        ("name", name),
        ("sha256", &e.sha256),
        ("path", &e.path),
        ("key", &e.key),
        ("value_name", &e.value_name),
        ("cluster_id", &e.cluster_id),
        ("query", &e.query),
        ("address", &e.address),
        ("user_id", user_id),
        ("url", &e.url),
    ] {
        if let Some(v) = value {
            fields.insert(key.into(), json!(v));
        }
    }
    // A name option of another entity type is not this type's name field.
    for (option, value, t) in [
        ("--service", &e.service, EntityType::Service),
        ("--driver", &e.driver, EntityType::Driver),
        ("--task", &e.task, EntityType::ScheduledTask),
    ] {
        if value.is_some() && t != entity_type {
            return Err(CliError::Usage(format!(
                "{option} names a {t}, not a {entity_type} (see actionctl propose --help)"
            )));
        }
    }
    // Those types' name is the service's, driver's or task's: a device
    // name would be dropped without a word.
    let named_itself = matches!(
        entity_type,
        EntityType::Service | EntityType::Driver | EntityType::ScheduledTask
    );
    if e.device_name.is_some() && named_itself {
        return Err(CliError::Usage(format!(
            "--device-name names a device, not a {entity_type}: a {entity_type} has only its device's id (see actionctl propose --help)"
        )));
    }
    Ok(parse_json("entity", &Value::Object(fields).to_string())?)
}
