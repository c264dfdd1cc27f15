//! Who is asking, for doors that serve people and hosts they cannot see:
//! local accounts, sessions and API tokens, kept in the same database as
//! the actions.
//!
//! The library hosts of the other doors name their principal themselves
//! (see [`crate::policy`]). A server cannot: it learns who is asking from a
//! password, a session cookie or a bearer token, and it asks this module.
//! Roles are never part of a credential: every call resolves the
//! principal's id against the stored policy ([`ActionCenter::principal`]),
//! so a role removed from the policy is gone at the next request.
//!
//! | credential | secret | stored as | ends |
//! |---|---|---|---|
//! | account | a password | argon2id hash (PHC string) | disabled |
//! | session | 256 random bits, in a cookie | SHA-256 | idle and absolute timeouts, sign-out, revocation |
//! | API token | 256 random bits, shown once | SHA-256 | its expiry, revocation |
//!
//! Secrets are high-entropy random values, so a plain SHA-256 is the right
//! hash for sessions and tokens; passwords get argon2id. No secret is
//! stored, logged or returned after the call that made it.
//!
//! Sign-in attempts are throttled per account and per address in the
//! database, so several servers on one database share the count.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::engine::ActionCenter;
use crate::error::{Error, Result};
use crate::model::Category;
use crate::policy::{Operation, Principal};

/// Shortest password [`ActionCenter::add_user`] accepts.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted (argon2 takes any length; this bounds work).
pub const MAX_PASSWORD_LEN: usize = 1024;
/// The prefix of every API token, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "act_";
/// The prefix of every session secret.
pub const SESSION_PREFIX: &str = "acs_";

/// A local account: a principal id that can sign in with a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The principal id, as the stored policy names it.
    pub id: String,
    /// argon2id, as a PHC string. Never shown by [`Account::public`].
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub password_hash: String,
    pub disabled: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Account {
    /// The account without its password hash, for display.
    pub fn public(&self) -> Account {
        Account {
            password_hash: String::new(),
            ..self.clone()
        }
    }
}

/// What a credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Session,
    Token,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::Token => "token",
        }
    }

    pub fn parse(text: &str) -> Result<CredentialKind> {
        match text {
            "session" => Ok(CredentialKind::Session),
            "token" => Ok(CredentialKind::Token),
            other => Err(Error::validation(
                "credential.kind",
                format!("unknown credential kind {other:?}"),
            )),
        }
    }
}

/// A session or an API token, as stored: the hash of its secret, never
/// the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Public id, for listing and revoking.
    pub id: Uuid,
    pub kind: CredentialKind,
    /// SHA-256 of the secret, hex. Not serialized for display.
    #[serde(skip_serializing, default)]
    pub hash: String,
    /// The principal id it stands for.
    pub principal: String,
    /// A token's label, or how a session signed in (`password`, `oidc`).
    pub label: String,
    /// A session's CSRF token, sent back with every state-changing
    /// request. Empty for API tokens (they are not sent by browsers).
    #[serde(skip_serializing, default)]
    pub csrf: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Last time it was used, kept to within [`TOUCH_EVERY`].
    pub last_used_at: DateTime<Utc>,
    /// Absolute end: a session's absolute timeout, a token's expiry.
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The groups an identity provider asserted at sign-in, kept so the
    /// roles can be resolved again, from the stored policy, on every
    /// request. Empty for passwords and API tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// How often `last_used_at` is written: at most once in this time, so a
/// busy session does not write on every request.
pub const TOUCH_EVERY: Duration = Duration::seconds(30);

/// Which credentials [`Store::revoke_credentials`](crate::Store::revoke_credentials) ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoke {
    /// One credential, by its public id.
    Id(Uuid),
    /// One credential, by the hash of its secret (a sign-out).
    Hash(String),
    /// Every live credential of this kind for this principal.
    Principal {
        principal: String,
        kind: CredentialKind,
    },
}

/// Session lifetimes. The server chooses them; the engine enforces them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused this long is over.
    pub idle: Duration,
    /// A session is over this long after sign-in, used or not.
    pub absolute: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        }
    }
}

/// How many sign-in attempts are allowed in a window, per account and per
/// client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    pub window: Duration,
    pub per_account: u64,
    pub per_address: u64,
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            window: Duration::minutes(5),
            per_account: 10,
            per_address: 50,
        }
    }
}

/// A new secret and the credential stored for it. The secret is shown
/// once, here, and never again.
#[derive(Debug, Clone)]
pub struct Issued {
    pub secret: String,
    pub credential: Credential,
}

/// Who a session or token stands for, resolved against the stored policy.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    pub credential: Credential,
}

/// SHA-256 of a secret, hex: what the store keeps and looks up by.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A fresh secret: `prefix` and 256 random bits, hex.
fn new_secret(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::storage_msg(format!("no random source for a secret: {e}")))?;
    Ok(format!("{prefix}{}", hex::encode(bytes)))
}

/// An argon2id hash of `password` with a fresh salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String> {
    check_password(password)?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| Error::storage_msg(format!("no random source for a salt: {e}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| Error::storage_msg(format!("salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::storage_msg(format!("argon2: {e}")))
}

/// Whether `password` matches the PHC string `hash`. A malformed hash
/// matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

fn check_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(Error::validation(
            "password",
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::validation(
            "password",
            format!("must be at most {MAX_PASSWORD_LEN} bytes"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(Error::validation(
            "password",
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A hash to verify against when the account does not exist, so a wrong
/// account name costs as long as a wrong password and says nothing.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that never matches").unwrap_or_default())
}

fn bad_credentials() -> Error {
    Error::Unauthenticated {
        reason: "wrong account name or password".into(),
    }
}

impl ActionCenter {
    fn check_administer(&self, by: &Principal, what: &str) -> Result<()> {
        let stored = self.stored_policy()?;
        let policy = &stored.policy;
        policy.check_principal(by)?;
        for category in Category::ALL {
            if !policy.allows(by, Operation::Administer, category) {
                return Err(Error::PermissionDenied {
                    principal: by.id.clone(),
                    operation: Operation::Administer,
                    category: Some(category),
                    detail: Some(format!("{what} needs administer on every category")),
                });
            }
        }
        Ok(())
    }

    /// Adds a local account for the principal `id`. Needs Administer. The
    /// id must be a principal of the stored policy, which gives its roles.
    pub fn add_user(&self, by: &Principal, id: &str, password: &str) -> Result<Account> {
        self.check_administer(by, "adding an account")?;
        crate::model::check_name("account.id", id)?;
        self.named_principal("account.id", id)?;
        let now = self.now();
        let account = Account {
            id: id.to_owned(),
            password_hash: hash_password(password)?,
            disabled: false,
            created_by: by.shown(),
            created_at: now,
            updated_at: now,
        };
        self.store().put_account(&account, true)?;
        Ok(account.public())
    }

    /// Sets a new password. Needs Administer, or is the account's own.
    /// Every session of the account ends.
    pub fn set_password(&self, by: &Principal, id: &str, password: &str) -> Result<Account> {
        if by.id != id || by.via.is_some() {
            self.check_administer(by, "setting another account's password")?;
        }
        let mut account = self.account_or_not_found(id)?;
        account.password_hash = hash_password(password)?;
        account.updated_at = self.now();
        self.store().put_account(&account, false)?;
        self.end_sessions(id)?;
        Ok(account.public())
    }

    /// Disables (or enables again) an account. Needs Administer. Disabling
    /// ends every session and API token of the principal.
    pub fn set_user_disabled(&self, by: &Principal, id: &str, disabled: bool) -> Result<Account> {
        self.check_administer(by, "disabling an account")?;
        let mut account = self.account_or_not_found(id)?;
        account.disabled = disabled;
        account.updated_at = self.now();
        self.store().put_account(&account, false)?;
        if disabled {
            self.end_sessions(id)?;
            self.store().revoke_credentials(
                &Revoke::Principal {
                    principal: id.to_owned(),
                    kind: CredentialKind::Token,
                },
                self.now(),
            )?;
        }
        Ok(account.public())
    }

    /// Every local account, without password hashes. Needs Administer.
    pub fn users(&self, by: &Principal) -> Result<Vec<Account>> {
        self.check_administer(by, "listing accounts")?;
        Ok(self
            .store()
            .accounts()?
            .iter()
            .map(Account::public)
            .collect())
    }

    fn account_or_not_found(&self, id: &str) -> Result<Account> {
        self.store().account(id)?.ok_or_else(|| Error::NotFound {
            id: format!("account {id}"),
        })
    }

    fn end_sessions(&self, principal: &str) -> Result<u64> {
        self.store().revoke_credentials(
            &Revoke::Principal {
                principal: principal.to_owned(),
                kind: CredentialKind::Session,
            },
            self.now(),
        )
    }

    /// Counts one attempt against `key` in the current window; refuses
    /// with `RateLimited` once `limit` is passed. Shared by every process
    /// on the database.
    pub fn rate_limit(&self, key: &str, window: Duration, limit: u64) -> Result<()> {
        let secs = window.num_seconds().max(1);
        let now = self.now().timestamp();
        let index = now.div_euclid(secs);
        let count = self.store().hit(key, index)?;
        if count > limit {
            let retry = (index + 1) * secs - now;
            return Err(Error::RateLimited {
                what: key.split(':').next().unwrap_or(key).replace('_', " "),
                retry_after_seconds: retry.max(1) as u64,
            });
        }
        Ok(())
    }

    /// Signs in with a password and starts a session. `address` is the
    /// client's, for throttling. A wrong account name and a wrong password
    /// give the same error in the same time.
    pub fn sign_in(
        &self,
        id: &str,
        password: &str,
        address: &str,
        limits: &SignInLimits,
        session: &SessionLimits,
    ) -> Result<Issued> {
        self.rate_limit(
            &format!("sign_in_attempts:address:{address}"),
            limits.window,
            limits.per_address,
        )?;
        self.rate_limit(
            &format!("sign_in_attempts:account:{id}"),
            limits.window,
            limits.per_account,
        )?;
        if password.len() > MAX_PASSWORD_LEN {
            return Err(bad_credentials());
        }
        let account = self.store().account(id)?;
        let hash = account
            .as_ref()
            .map_or(decoy_hash(), |a| a.password_hash.as_str());
        let matches = verify_password(password, hash);
        match account {
            Some(account) if matches && !account.disabled => match self.principal(id) {
                Ok(_) => self.start_session(id, "password", &[], session),
                // An account whose principal left the policy answers as a
                // wrong password does: its password is not confirmed.
                Err(Error::PermissionDenied { .. }) => Err(bad_credentials()),
                Err(other) => Err(other),
            },
            _ => Err(bad_credentials()),
        }
    }

    /// The principal `id`, with the roles the stored policy gives it by id
    /// and through `groups`, for a caller authenticated some other way (an
    /// OpenID Connect token the server checked, at sign-in or on every
    /// request). Refused, like a password or an API token, when the
    /// principal has a local account and it is disabled.
    pub fn authenticate_external(&self, id: &str, groups: &[String]) -> Result<Principal> {
        let principal = self.principal_in_groups(id, groups)?;
        if self.store().account(id)?.is_some_and(|a| a.disabled) {
            return Err(Error::Unauthenticated {
                reason: format!("the account {id} is disabled"),
            });
        }
        Ok(principal)
    }

    /// Starts a session for a principal the caller has already
    /// authenticated some other way (an OpenID Connect ID token, checked
    /// by the server), with the `groups` it asserted. `how` is recorded
    /// as the session's label.
    pub fn start_session(
        &self,
        id: &str,
        how: &str,
        groups: &[String],
        limits: &SessionLimits,
    ) -> Result<Issued> {
        self.authenticate_external(id, groups)?;
        let secret = new_secret(SESSION_PREFIX)?;
        let now = self.now();
        let credential = Credential {
            id: Uuid::now_v7(),
            kind: CredentialKind::Session,
            hash: secret_hash(&secret),
            principal: id.to_owned(),
            label: how.to_owned(),
            csrf: new_secret("")?,
            created_by: id.to_owned(),
            created_at: now,
            last_used_at: now,
            expires_at: Some(now + limits.absolute),
            revoked_at: None,
            groups: groups.to_vec(),
        };
        self.store().put_credential(&credential)?;
        Ok(Issued { secret, credential })
    }

    /// The principal a session secret stands for, with its roles from the
    /// stored policy. Refuses an unknown, revoked, idle or expired session.
    pub fn session(&self, secret: &str, limits: &SessionLimits) -> Result<Authenticated> {
        self.authenticate(secret, CredentialKind::Session, Some(limits))
    }

    /// Ends the session with this secret. A secret of anything else (an
    /// API token) ends nothing: signing out is for sessions.
    pub fn sign_out(&self, secret: &str) -> Result<()> {
        let hash = secret_hash(secret);
        let is_session = self
            .store()
            .credential(&hash)?
            .is_some_and(|c| c.kind == CredentialKind::Session);
        if is_session {
            self.store()
                .revoke_credentials(&Revoke::Hash(hash), self.now())?;
        }
        Ok(())
    }

    /// Creates an API token for `principal`, valid for `ttl`. Needs
    /// Administer. The secret is in the result and nowhere else.
    pub fn create_token(
        &self,
        by: &Principal,
        principal: &str,
        label: &str,
        ttl: Duration,
    ) -> Result<Issued> {
        self.check_administer(by, "creating an API token")?;
        self.named_principal("token.principal", principal)?;
        crate::model::check_name("token.label", label)?;
        if ttl <= Duration::zero() || ttl > Duration::days(366) {
            return Err(Error::validation(
                "token.ttl",
                "must be more than 0 and at most 366 days",
            ));
        }
        let secret = new_secret(TOKEN_PREFIX)?;
        let now = self.now();
        let credential = Credential {
            id: Uuid::now_v7(),
            kind: CredentialKind::Token,
            hash: secret_hash(&secret),
            principal: principal.to_owned(),
            label: label.to_owned(),
            csrf: String::new(),
            created_by: by.shown(),
            created_at: now,
            last_used_at: now,
            expires_at: Some(now + ttl),
            revoked_at: None,
            groups: Vec::new(),
        };
        self.store().put_credential(&credential)?;
        Ok(Issued { secret, credential })
    }

    /// Every API token, live or not, without secrets. Needs Administer.
    pub fn tokens(&self, by: &Principal) -> Result<Vec<Credential>> {
        self.check_administer(by, "listing API tokens")?;
        self.store().credentials(CredentialKind::Token)
    }

    /// Revokes an API token by id. Needs Administer.
    pub fn revoke_token(&self, by: &Principal, id: Uuid) -> Result<()> {
        self.check_administer(by, "revoking an API token")?;
        match self
            .store()
            .revoke_credentials(&Revoke::Id(id), self.now())?
        {
            0 => Err(Error::NotFound {
                id: format!("token {id}"),
            }),
            _ => Ok(()),
        }
    }

    /// The principal an API token stands for. Refuses an unknown, revoked
    /// or expired token.
    pub fn authenticate_token(&self, secret: &str) -> Result<Authenticated> {
        self.authenticate(secret, CredentialKind::Token, None)
    }

    fn authenticate(
        &self,
        secret: &str,
        kind: CredentialKind,
        limits: Option<&SessionLimits>,
    ) -> Result<Authenticated> {
        let prefix = match kind {
            CredentialKind::Session => SESSION_PREFIX,
            CredentialKind::Token => TOKEN_PREFIX,
        };
        let what = kind.as_str();
        let unknown = || Error::Unauthenticated {
            reason: format!("unknown {what}"),
        };
        if !secret.starts_with(prefix) || secret.len() != prefix.len() + 64 {
            return Err(unknown());
        }
        let hash = secret_hash(secret);
        let credential = self
            .store()
            .credential(&hash)?
            .filter(|c| c.kind == kind)
            .ok_or_else(unknown)?;
        let now = self.now();
        let principal = self.live_principal(&credential, limits, now)?;
        if now - credential.last_used_at >= TOUCH_EVERY {
            self.store().touch_credential(&hash, now)?;
        }
        Ok(Authenticated {
            principal,
            credential,
        })
    }

    /// Whether a credential authenticated earlier (a session or token
    /// holding a stream open) still would be now, read again from the
    /// store without marking it used: the principal it stands for, or
    /// `Unauthenticated` once it was revoked, expired, idle past
    /// `limits` (sessions) or its account disabled, and `PermissionDenied`
    /// once the policy no longer names its principal.
    pub fn still_authenticated(
        &self,
        credential: &Credential,
        limits: Option<&SessionLimits>,
    ) -> Result<Principal> {
        let stored = self
            .store()
            .credential(&credential.hash)?
            .filter(|c| c.kind == credential.kind)
            .ok_or_else(|| Error::Unauthenticated {
                reason: format!("unknown {}", credential.kind.as_str()),
            })?;
        let limits = limits.filter(|_| stored.kind == CredentialKind::Session);
        self.live_principal(&stored, limits, self.now())
    }

    /// The checks of a stored credential, in the order their reasons are
    /// given.
    fn live_principal(
        &self,
        credential: &Credential,
        limits: Option<&SessionLimits>,
        now: DateTime<Utc>,
    ) -> Result<Principal> {
        let what = credential.kind.as_str();
        if credential.revoked_at.is_some() {
            return Err(Error::Unauthenticated {
                reason: format!("the {what} was revoked"),
            });
        }
        if credential.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::Unauthenticated {
                reason: format!("the {what} expired"),
            });
        }
        if let Some(limits) = limits
            && credential.last_used_at + limits.idle <= now
        {
            return Err(Error::Unauthenticated {
                reason: format!("the {what} was idle too long"),
            });
        }
        if self
            .store()
            .account(&credential.principal)?
            .is_some_and(|a| a.disabled)
        {
            return Err(Error::Unauthenticated {
                reason: format!("the account {} is disabled", credential.principal),
            });
        }
        self.principal_in_groups(&credential.principal, &credential.groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterx", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
    }

    #[test]
    fn short_and_control_character_passwords_are_refused() {
        assert!(hash_password("short").is_err());
        assert!(hash_password("twelve chars\u{7}x").is_err());
        assert!(hash_password(&"x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
    }

    #[test]
    fn secrets_are_prefixed_and_256_bits() {
        let s = new_secret(TOKEN_PREFIX).expect("secret");
        assert!(s.starts_with(TOKEN_PREFIX));
        assert_eq!(s.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(s, new_secret(TOKEN_PREFIX).expect("secret"));
        assert_eq!(secret_hash(&s).len(), 64);
    }
}
