//! The derived-column and checkpoint-row checks of `verify_audit` on
//! PostgreSQL: a column the store derives from an action's doc edited
//! (status, version), a doc that no longer decodes, and a checkpoint's
//! seq column edited, each with raw SQL, each reported and named.
//! Skips (printing why) when no PostgreSQL server is configured.
#![allow(clippy::unwrap_used)]

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

use std::sync::Arc;

use actioncenter::*;
use pg_cluster::{TestSchema, server};

struct Setup {
    _schema: TestSchema,
    url: String,
    name: String,
    center: ActionCenter,
    rejected: ActionId,
    key: SigningKey,
}

fn setup() -> Option<Setup> {
    let url = server()?;
    let schema = TestSchema::new(&url);
    let options = PostgresOptions {
        pool_size: 2,
        ..PostgresOptions::in_schema(schema.name())
    };
    let store = Arc::new(PostgresStore::connect_with(&url, &options).unwrap());
    let center = ActionCenter::with_clock(store, Policy::default(), Arc::new(SystemClock));
    let air = Principal::new("air", ["automation"]);
    let alice = Principal::new("alice", ["analyst"]);
    let root = Principal::new("root", ["admin"]);
    let source = Source::AutomatedInvestigation {
        investigation_id: "inv-1".into(),
    };
    let device = |d: &str| Entity::Device {
        device_id: d.into(),
        name: None,
    };
    let a = center
        .propose(
            &air,
            Proposal::new(Kind::IsolateDevice, device("d1"), source.clone()),
        )
        .unwrap();
    center
        .reject(&alice, a.id, &Decide::with_comment("benign"))
        .unwrap();
    center
        .propose(
            &air,
            Proposal::new(Kind::IsolateDevice, device("d2"), source),
        )
        .unwrap();
    let key = SigningKey::from_bytes(&[9u8; 32]);
    center.checkpoint(&root, &key).unwrap();
    center.checkpoint(&root, &key).unwrap();
    let name = schema.name().to_owned();
    Some(Setup {
        _schema: schema,
        url,
        name,
        center,
        rejected: a.id,
        key,
    })
}

impl Setup {
    fn sql(&self, statement: &str) {
        let mut c = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
        c.batch_execute(&format!(
            "SET search_path TO \"{}\"; {statement}",
            self.name
        ))
        .unwrap();
    }
    fn verify(&self) -> AuditReport {
        self.center
            .verify_audit_with(&VerifyOptions {
                public_key: Some(self.key.verifying_key()),
                checkpoint: None,
            })
            .unwrap()
    }
    fn bad_column(&self) -> (ActionId, String) {
        let r = self.verify();
        let bad = r
            .first_bad_action
            .clone()
            .unwrap_or_else(|| panic!("{r:?}"));
        match bad.mismatch {
            ActionMismatch::Column { column } => (bad.id, column),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn edited_derived_columns_bad_docs_and_checkpoint_rows_are_named() {
    let Some(s) = setup() else { return };
    assert!(s.verify().is_intact(), "{:?}", s.verify());
    let id = s.rejected.to_string();

    // A rejected action's status column edited: it would list under Approved.
    s.sql(&format!(
        "UPDATE actions SET status = 'approved' WHERE id = '{id}'"
    ));
    assert_eq!(s.bad_column(), (s.rejected, "status".to_owned()));
    s.sql(&format!(
        "UPDATE actions SET status = 'rejected' WHERE id = '{id}'"
    ));
    assert!(s.verify().is_intact());

    s.sql(&format!(
        "UPDATE actions SET version = version + 1 WHERE id = '{id}'"
    ));
    assert_eq!(s.bad_column(), (s.rejected, "version".to_owned()));
    s.sql(&format!(
        "UPDATE actions SET version = version - 1 WHERE id = '{id}'"
    ));

    // A doc that no longer decodes: reported, naming the action.
    s.sql(&format!(
        "UPDATE actions SET doc = jsonb_set(doc, '{{status}}', '\"nonsense\"') WHERE id = '{id}'"
    ));
    assert_eq!(s.bad_column(), (s.rejected, "doc".to_owned()));
    s.sql(&format!(
        "UPDATE actions SET doc = jsonb_set(doc, '{{status}}', '\"rejected\"') WHERE id = '{id}'"
    ));
    assert!(s.verify().is_intact(), "{:?}", s.verify());

    // A checkpoint's seq column edited: the signed doc disagrees.
    s.sql("UPDATE checkpoints SET seq = seq + 1 WHERE id = (SELECT max(id) FROM checkpoints)");
    let r = s.verify();
    let problem = r.checkpoints.problem.clone().unwrap_or_default();
    assert!(
        problem.contains("seq column") && problem.contains("checkpoint row"),
        "{r:?}"
    );
    eprintln!("pg_tamper_columns: 4 edits found and named");
}
