//! Proving the record: verifying the audit trail, signed checkpoints and
//! their keys.

use std::ffi::c_char;

use engine::checkpoint::{self, Checkpoint};
use engine::{AuditReport, VerifyOptions};

use crate::boundary::{Failure, boundary};
use crate::convert::{Out, optional_text, set_json_opt, text};
use crate::handle::{CENTERS, ac_center, ac_principal, engine_and_principal};
use crate::status::ac_status;

/// The report as JSON, with `intact` and the first `problem` in words.
fn report_json(report: &AuditReport) -> Result<serde_json::Value, Failure> {
    let mut value = serde_json::to_value(report).map_err(|e| Failure::Internal {
        message: format!("cannot write the audit report as JSON: {e}"),
    })?;
    if let Some(map) = value.as_object_mut() {
        map.insert("intact".into(), report.is_intact().into());
        map.insert("problem".into(), report.problem().into());
    }
    Ok(value)
}

/// Hands a verification's outcome to the caller.
fn verified(
    report: &AuditReport,
    intact: Out<bool>,
    out: Option<Out<*mut c_char>>,
) -> Result<(), Failure> {
    set_json_opt(out, &report_json(report)?)?;
    intact.set(report.is_intact());
    Ok(())
}

/// Checks the whole record: the hash chain of the audit events, that each
/// action's events are moves the state machine allows, that every stored
/// action row is what its last event recorded (version and digest), the
/// stored policy against its last `set_policy` event, and that the stored
/// checkpoints link up and match the chain (their signatures are checked
/// only by `ac_center_verify_audit_with`, which has the public key).
///
/// - `center`: borrowed. Not NULL.
/// - `out_intact`: receives whether everything matched. Not NULL.
/// - `out_report_json`: receives `{"intact", "problem", "events_checked",
///   "head", "first_bad", "actions_checked", "first_bad_action",
///   "policy_problem", "counts_problem", "checkpoints": {"checked",
///   "signatures_checked", "latest", "problem"}}`, owned by the
///   caller (free with `ac_string_free`); NULL on failure. May be NULL.
///   `problem` is the first problem found, in words (`null` when
///   intact); `first_bad` (an
///   event: `{"seq", "action_id", "mismatch"}`) and `first_bad_action`
///   (`{"id", "seq", "mismatch"}`) locate it.
///
/// A broken record is a finding, not a failure: the call returns
/// `AC_STATUS_OK` with `*out_intact` false. Thread safe.
///
/// # Safety
///
/// `out_intact` is NULL or valid for writing one `bool`; `out_report_json`
/// is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_verify_audit(
    center: *const ac_center,
    out_intact: *mut bool,
    out_report_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let intact = unsafe { Out::required(out_intact, "out_intact", false) }?;
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_report_json) };
        let center = CENTERS.get(center, "center")?;
        verified(&center.engine.verify_audit()?, intact, out)
    }
}

/// `ac_center_verify_audit`, also checking every stored checkpoint's
/// Ed25519 signature against the signer's public key and, when given, a
/// checkpoint exported earlier and kept outside the database: the chain
/// must still hold the event it signed, and the database must still hold
/// the checkpoint. This finds events cut below the latest checkpoint and
/// any rewrite before it, even one that re-hashed the chain.
///
/// - `center`: borrowed. Not NULL.
/// - `public_key_pem`: the signer's public key, SPKI PEM (`-----BEGIN
///   PUBLIC KEY-----`, as `ac_key_generate` writes it), borrowed. Not NULL.
/// - `checkpoint_json`: an exported checkpoint (from
///   `ac_center_checkpoint`), borrowed; NULL for none.
/// - `out_intact`: receives whether everything matched. Not NULL.
/// - `out_report_json`: receives the report as for
///   `ac_center_verify_audit`, owned by the caller (free with
///   `ac_string_free`); NULL on failure. May be NULL.
///
/// A key that is not an Ed25519 public key in PEM fails with
/// `AC_STATUS_VALIDATION` (field `public_key`), a malformed checkpoint
/// with `AC_STATUS_VALIDATION` naming its field (`checkpoint...`). A
/// signature that does not verify, or a checkpoint the chain no longer
/// matches, is a finding: `AC_STATUS_OK` with `*out_intact` false and the
/// report's `checkpoints.problem` saying what. Thread safe.
///
/// # Safety
///
/// `public_key_pem` and `checkpoint_json` are NULL or NUL-terminated
/// strings; `out_intact` is NULL or valid for writing one `bool`;
/// `out_report_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_verify_audit_with(
    center: *const ac_center,
    public_key_pem: *const c_char,
    checkpoint_json: *const c_char,
    out_intact: *mut bool,
    out_report_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let intact = unsafe { Out::required(out_intact, "out_intact", false) }?;
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_report_json) };
        let center = CENTERS.get(center, "center")?;
        // SAFETY: per this function's contract.
        let public_key = unsafe { text(public_key_pem, "public_key_pem") }?;
        // SAFETY: per this function's contract.
        let checkpoint = unsafe { optional_text(checkpoint_json, "checkpoint_json") }?;
        let public_key = checkpoint::verifying_key_from_pem(public_key)?;
        let checkpoint = checkpoint.map(Checkpoint::from_json).transpose()?;
        let options = VerifyOptions { public_key: Some(public_key), checkpoint };
        verified(&center.engine.verify_audit_with(&options)?, intact, out)
    }
}

/// Signs the head of the audit chain (its last event's position and hash,
/// the time, and the previous checkpoint) with an Ed25519 key that the
/// host keeps and the database never holds, and stores the checkpoint. Keep
/// the exported checkpoint outside the database too: with the public key,
/// `ac_center_verify_audit_with` then detects a cut or rewritten trail.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs Administer on
///   every category.
/// - `signing_key_pem`: the private key, PKCS#8 PEM (`-----BEGIN PRIVATE
///   KEY-----`, as `ac_key_generate` or `openssl genpkey -algorithm
///   ed25519` writes it), borrowed for the call; the library keeps no copy.
///   Not NULL.
/// - `out_checkpoint_json`: receives the checkpoint, `{"format", "seq",
///   "hash", "at", "prev", "public_key", "signature"}`, to export, owned by
///   the caller (free with `ac_string_free`); NULL on failure. May be NULL.
///
/// A key that is not an Ed25519 private key in PEM fails with
/// `AC_STATUS_VALIDATION` (field `signing_key`) and stores nothing. Thread
/// safe.
///
/// # Safety
///
/// `signing_key_pem` is NULL or a NUL-terminated string;
/// `out_checkpoint_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_checkpoint(
    center: *const ac_center,
    by: *const ac_principal,
    signing_key_pem: *const c_char,
    out_checkpoint_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_checkpoint_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let key = checkpoint::signing_key_from_pem(unsafe { text(signing_key_pem, "signing_key_pem") }?)?;
        let checkpoint = engine.checkpoint(&by, &key)?;
        if let Some(out) = out {
            out.set_text(checkpoint.to_json());
        }
        Ok(())
    }
}

/// Every stored checkpoint, oldest first, each as `ac_center_checkpoint`
/// returns it.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs View on some
///   category.
/// - `out_json`: receives a JSON array, owned by the caller (free with
///   `ac_string_free`); NULL on failure. Not NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `out_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_checkpoints(
    center: *const ac_center,
    by: *const ac_principal,
    out_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_json, "out_json") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        out.set_json(&engine.checkpoints(&by)?)
    }
}

/// Makes a new Ed25519 key pair for signing checkpoints, from the
/// operating system's random source.
///
/// - `out_private_pem`: receives the private key as PKCS#8 PEM, for
///   `ac_center_checkpoint`. Keep it outside the database, readable only
///   by the process that signs. Owned by the caller (free with
///   `ac_string_free`, which does not wipe it: overwrite it first if it
///   must not linger in freed memory); NULL on failure. Not NULL.
/// - `out_public_pem`: receives the public key as SPKI PEM, for
///   `ac_center_verify_audit_with`. Owned by the caller (free with
///   `ac_string_free`); NULL on failure. Not NULL.
///
/// Fails with `AC_STATUS_STORAGE` when the system has no random source.
/// Thread safe.
///
/// # Safety
///
/// `out_private_pem` and `out_public_pem` are NULL or valid for writing one
/// pointer each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_key_generate(
    out_private_pem: *mut *mut c_char,
    out_public_pem: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // Both set to NULL before either is checked, so both read NULL on
        // any failure.
        // SAFETY: per this function's contract.
        let private = unsafe { Out::optional_string(out_private_pem) };
        // SAFETY: per this function's contract.
        let public = unsafe { Out::optional_string(out_public_pem) };
        let private = private.ok_or_else(|| Failure::null("out_private_pem"))?;
        let public = public.ok_or_else(|| Failure::null("out_public_pem"))?;
        let key = checkpoint::generate_key()?;
        let private_pem = checkpoint::signing_key_to_pem(&key)?;
        let public_pem = checkpoint::verifying_key_to_pem(&key.verifying_key())?;
        private.set_text(private_pem);
        public.set_text(public_pem);
        Ok(())
    }
}
