//! Signed checkpoints of the audit chain, which a database writer cannot
//! forge.
//!
//! The chain's hashes have no key: whoever can write the database can
//! rewrite an event and re-hash everything after it, or cut the tail. A
//! [`Checkpoint`] signs the chain head (its position, its hash, the time
//! and the previous checkpoint) with an Ed25519 key that the host keeps
//! and the database never holds, as AWS CloudTrail signs its digest files.
//! Checkpoints are stored in the database and can be exported; verifying
//! with the public key (and an exported checkpoint) then finds a cut tail
//! below the latest checkpoint and any rewrite before it.
//!
//! ```
//! use actioncenter::checkpoint;
//! let key = checkpoint::generate_key()?;
//! let pem = checkpoint::signing_key_to_pem(&key)?;
//! let public = checkpoint::verifying_key_to_pem(&key.verifying_key())?;
//! assert_eq!(checkpoint::signing_key_from_pem(&pem)?.verifying_key(),
//!            checkpoint::verifying_key_from_pem(&public)?);
//! # Ok::<(), actioncenter::Error>(())
//! ```

use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, Verifier as _};
use serde::{Deserialize, Serialize};

pub use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::error::{Error, Result};

/// The format of the signed message; part of what is signed.
pub const CHECKPOINT_FORMAT: u32 = 1;

/// A signed statement: "the audit chain had `seq` events, the last one
/// hashing to `hash`, at `at`".
///
/// ```json
/// {"format": 1, "seq": 14, "hash": "5e1c…", "at": "2026-03-01T09:00:00Z",
///  "prev": null, "public_key": "d75a…", "signature": "9b3f…"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub format: u32,
    /// The chain's last event at signing time (0 for an empty chain).
    pub seq: u64,
    /// That event's hash (the genesis hash for an empty chain).
    pub hash: String,
    pub at: DateTime<Utc>,
    /// The previous checkpoint's signature; `None` for the first one.
    pub prev: Option<String>,
    /// The signer's Ed25519 public key, lowercase hex (32 bytes).
    pub public_key: String,
    /// The Ed25519 signature of the fields above, lowercase hex (64 bytes).
    pub signature: String,
}

impl Checkpoint {
    /// Signs the chain head `(seq, hash)` at `at`, after `prev`.
    pub fn sign(
        seq: u64,
        hash: &str,
        at: DateTime<Utc>,
        prev: Option<&Checkpoint>,
        key: &SigningKey,
    ) -> Checkpoint {
        let mut cp = Checkpoint {
            format: CHECKPOINT_FORMAT,
            seq,
            hash: hash.to_owned(),
            at,
            prev: prev.map(|p| p.signature.clone()),
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: String::new(),
        };
        cp.signature = hex::encode(key.sign(&cp.message()).to_bytes());
        cp
    }

    /// What the signature covers.
    fn message(&self) -> Vec<u8> {
        serde_json::json!([
            "actioncenter-checkpoint",
            self.format,
            self.seq,
            self.hash,
            self.at.timestamp_micros(),
            self.prev,
            self.public_key,
        ])
        .to_string()
        .into_bytes()
    }

    /// Checks that `key` made this checkpoint's signature.
    pub fn verify_signature(&self, key: &VerifyingKey) -> std::result::Result<(), String> {
        let ours = hex::encode(key.as_bytes());
        if self.public_key != ours {
            return Err(format!(
                "the checkpoint at event {} was signed by key {}, not by {ours}",
                self.seq, self.public_key
            ));
        }
        let bytes = hex::decode(&self.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .ok_or_else(|| {
                format!(
                    "the checkpoint at event {} has a malformed signature",
                    self.seq
                )
            })?;
        key.verify(&self.message(), &Signature::from_bytes(&bytes))
            .map_err(|_| {
                format!(
                    "the signature of the checkpoint at event {} does not match its fields",
                    self.seq
                )
            })
    }

    /// Parses an exported checkpoint, naming the bad field on error.
    pub fn from_json(text: &str) -> Result<Checkpoint> {
        let cp: Checkpoint = crate::error::parse_json_object("checkpoint", text)?;
        let hex_of = |field: &str, value: &str, bytes: usize| -> Result<()> {
            let ok = value.len() == bytes * 2
                && value
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if ok {
                Ok(())
            } else {
                Err(Error::validation(
                    format!("checkpoint.{field}"),
                    format!("must be {bytes} bytes of lowercase hex"),
                ))
            }
        };
        if cp.format != CHECKPOINT_FORMAT {
            return Err(Error::validation(
                "checkpoint.format",
                format!("format {} is not {CHECKPOINT_FORMAT}", cp.format),
            ));
        }
        hex_of("hash", &cp.hash, 32)?;
        hex_of("public_key", &cp.public_key, 32)?;
        hex_of("signature", &cp.signature, 64)?;
        if let Some(prev) = &cp.prev {
            hex_of("prev", prev, 64)?;
        }
        Ok(cp)
    }

    /// The checkpoint as pretty JSON, for export.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// What verification found of the checkpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointReport {
    /// Checkpoints checked against the chain (stored and exported).
    pub checked: u64,
    /// Whether their signatures were checked (a public key was given).
    pub signatures_checked: bool,
    /// The latest stored checkpoint.
    pub latest: Option<Checkpoint>,
    /// The first problem found, in words.
    pub problem: Option<String>,
}

/// Checks stored checkpoints (oldest first) and an exported one against
/// the chain: `chain_len` events, with `hash_at` giving the hash of the
/// event at a checkpoint's position.
pub(crate) fn check(
    stored: &[Checkpoint],
    exported: Option<&Checkpoint>,
    key: Option<&VerifyingKey>,
    chain_len: u64,
    hash_at: impl Fn(u64) -> Option<String>,
) -> CheckpointReport {
    let mut report = CheckpointReport {
        checked: 0,
        signatures_checked: key.is_some(),
        latest: stored.last().cloned(),
        problem: None,
    };
    let against_chain = |cp: &Checkpoint| -> std::result::Result<(), String> {
        if let Some(key) = key {
            cp.verify_signature(key)?;
        }
        if cp.seq > chain_len {
            return Err(format!(
                "a checkpoint signed the trail at event {}, but it ends at event {chain_len}: events were cut",
                cp.seq
            ));
        }
        let found = if cp.seq == 0 {
            Some(crate::audit::GENESIS_HASH.to_owned())
        } else {
            hash_at(cp.seq)
        };
        if found.as_deref() != Some(cp.hash.as_str()) {
            return Err(format!(
                "event {} is not the event the checkpoint signed: the trail was rewritten",
                cp.seq
            ));
        }
        Ok(())
    };
    let mut previous: Option<&Checkpoint> = None;
    for cp in stored {
        report.checked += 1;
        let linked = cp.prev.as_deref() == previous.map(|p| p.signature.as_str())
            && previous.is_none_or(|p| p.seq <= cp.seq);
        let outcome = if linked {
            against_chain(cp)
        } else {
            Err(format!(
                "the checkpoint at event {} does not follow the one before it",
                cp.seq
            ))
        };
        if let Err(problem) = outcome {
            report.problem = Some(problem);
            return report;
        }
        previous = Some(cp);
    }
    if let Some(cp) = exported {
        report.checked += 1;
        let outcome = against_chain(cp).and_then(|()| {
            if stored.iter().any(|s| s.signature == cp.signature) {
                Ok(())
            } else {
                Err(format!(
                    "the exported checkpoint at event {} is missing from the database",
                    cp.seq
                ))
            }
        });
        report.problem = outcome.err();
    }
    report
}

/// A fresh signing key from the operating system's random source.
pub fn generate_key() -> Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| Error::storage_msg(format!("no random source for a key: {e}")))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Reads a signing key from PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`,
/// as `openssl genpkey -algorithm ed25519` writes it).
pub fn signing_key_from_pem(pem: &str) -> Result<SigningKey> {
    SigningKey::from_pkcs8_pem(pem.trim()).map_err(|e| {
        Error::validation(
            "signing_key",
            format!(
                "not an Ed25519 private key in PKCS#8 PEM: {}",
                pem_refusal(pem, "PRIVATE KEY", &e)
            ),
        )
    })
}

/// Why `text` is not the PEM document wanted. The PEM reader calls text
/// without a `-----BEGIN` line "invalid data (NUL byte)" whatever it
/// holds, so that case is named here.
fn pem_refusal(text: &str, label: &str, error: &dyn std::fmt::Display) -> String {
    if text.trim().is_empty() {
        "the text is empty".to_owned()
    } else if !text.trim_start().starts_with("-----BEGIN ") {
        format!("it does not start with -----BEGIN {label}-----")
    } else {
        error.to_string()
    }
}

/// Writes a signing key as PKCS#8 PEM.
pub fn signing_key_to_pem(key: &SigningKey) -> Result<String> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(|e| Error::validation("signing_key", e.to_string()))
}

/// Reads a public key from SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
pub fn verifying_key_from_pem(pem: &str) -> Result<VerifyingKey> {
    VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| {
        Error::validation(
            "public_key",
            format!(
                "not an Ed25519 public key in PEM: {}",
                pem_refusal(pem, "PUBLIC KEY", &e)
            ),
        )
    })
}

/// Writes a public key as SPKI PEM.
pub fn verifying_key_to_pem(key: &VerifyingKey) -> Result<String> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::validation("public_key", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_770_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_its_key_only() {
        let cp = Checkpoint::sign(3, &"a".repeat(64), at(), None, &key());
        assert!(cp.verify_signature(&key().verifying_key()).is_ok());
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert!(cp.verify_signature(&other).is_err());
    }

    #[test]
    fn an_edited_field_breaks_the_signature() {
        let mut cp = Checkpoint::sign(3, &"a".repeat(64), at(), None, &key());
        cp.seq = 2;
        let err = cp
            .verify_signature(&key().verifying_key())
            .expect_err("edited");
        assert!(err.contains("does not match its fields"), "{err}");
    }

    #[test]
    fn an_exported_checkpoint_round_trips_and_malformed_ones_are_refused() {
        let cp = Checkpoint::sign(3, &"a".repeat(64), at(), None, &key());
        assert_eq!(Checkpoint::from_json(&cp.to_json()).expect("parses"), cp);
        let bad = cp.to_json().replace(&cp.signature, "zz");
        let err = Checkpoint::from_json(&bad).expect_err("bad signature");
        assert!(
            matches!(&err, Error::Validation { field, .. } if field == "checkpoint.signature"),
            "{err:?}"
        );
        assert!(Checkpoint::from_json("{").is_err());
    }

    #[test]
    fn pem_keys_round_trip_and_garbage_is_a_validation_error() {
        let pem = signing_key_to_pem(&key()).expect("pem");
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(signing_key_from_pem(&pem).expect("parse"), key());
        let public = verifying_key_to_pem(&key().verifying_key()).expect("pem");
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert!(matches!(
            verifying_key_from_pem("not a key"),
            Err(Error::Validation { .. })
        ));
        assert!(matches!(
            signing_key_from_pem(&public),
            Err(Error::Validation { .. })
        ));
    }

    #[test]
    fn text_that_is_not_pem_is_called_so() {
        let refusal = |r: Result<()>| r.expect_err("refused").to_string();
        let empty = refusal(verifying_key_from_pem("").map(drop));
        assert!(empty.contains("the text is empty"), "{empty}");
        let garbage = refusal(verifying_key_from_pem("garbage").map(drop));
        assert!(
            garbage.contains("does not start with -----BEGIN PUBLIC KEY-----"),
            "{garbage}"
        );
        let private = refusal(signing_key_from_pem("\n  garbage\n").map(drop));
        assert!(
            private.contains("does not start with -----BEGIN PRIVATE KEY-----"),
            "{private}"
        );
        for text in [empty, garbage, private] {
            assert!(!text.contains("NUL"), "{text}");
        }
        let public = verifying_key_to_pem(&key().verifying_key()).expect("pem");
        let wrong = refusal(signing_key_from_pem(&public).map(drop));
        assert!(!wrong.contains("does not start"), "{wrong}");
    }
}
