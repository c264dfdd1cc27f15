//! Local accounts, sessions, API tokens and rate limits.

use super::fixtures::*;

pub fn accounts_are_created_once_and_replaced_only_when_they_exist(h: &Harness) {
    let store = h.center.store();
    store
        .put_account(&account(h, "zoe"), true)
        .expect("create zoe");
    store
        .put_account(&account(h, "alice"), true)
        .expect("create alice");
    let again = store
        .put_account(&account(h, "alice"), true)
        .expect_err("twice");
    assert_eq!(
        again.to_string(),
        crate::store::account_exists("alice").to_string()
    );
    assert!(
        matches!(&again, Error::Validation { field, .. } if field == "account.id"),
        "{again:?}"
    );

    h.clock.advance(Duration::seconds(5));
    let mut replaced = account(h, "alice");
    replaced.password_hash = "$argon2id$another".into();
    replaced.disabled = true;
    store.put_account(&replaced, false).expect("replace");
    assert_eq!(store.account("alice").expect("read"), Some(replaced));

    let missing = store
        .put_account(&account(h, "ghost"), false)
        .expect_err("missing");
    assert!(
        matches!(&missing, Error::NotFound { id } if id == "account ghost"),
        "{missing:?}"
    );
    assert_eq!(store.account("ghost").expect("read"), None);
    let ids: Vec<String> = store
        .accounts()
        .expect("list")
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, ["alice", "zoe"]);
}

pub fn credentials_are_found_by_hash_and_listed_oldest_first(h: &Harness) {
    let store = h.center.store();
    let t1 = credential(h, CredentialKind::Token, "svc", "t1");
    let s1 = credential(h, CredentialKind::Session, "alice", "s1");
    // Made in the same microsecond as t1: the id breaks the tie.
    let t2 = credential(h, CredentialKind::Token, "svc", "t2");
    h.clock.advance(Duration::seconds(1));
    let t3 = credential(h, CredentialKind::Token, "alice", "t3");
    for c in [&t1, &s1, &t2, &t3] {
        store.put_credential(c).expect("put");
    }
    assert_eq!(stored_credential(h, "t1"), t1);
    assert_eq!(stored_credential(h, "s1"), s1);
    assert_eq!(store.credential(&secret_hash("nope")).expect("read"), None);
    assert_eq!(
        store.credentials(CredentialKind::Token).expect("tokens"),
        vec![t1.clone(), t2, t3]
    );
    assert_eq!(
        store
            .credentials(CredentialKind::Session)
            .expect("sessions"),
        vec![s1]
    );
    let twin = Credential {
        id: uuid::Uuid::now_v7(),
        ..t1
    };
    let err = store.put_credential(&twin).expect_err("same hash");
    assert!(matches!(&err, Error::Storage { .. }), "{err:?}");
}

pub fn touch_moves_only_live_credentials(h: &Harness) {
    let store = h.center.store();
    let c = credential(h, CredentialKind::Session, "alice", "s1");
    store.put_credential(&c).expect("put");
    h.clock.advance(Duration::minutes(1));
    let used = h.center.now();
    store.touch_credential(&c.hash, used).expect("touch");
    assert_eq!(stored_credential(h, "s1").last_used_at, used);

    h.clock.advance(Duration::minutes(1));
    let revoked = h.center.now();
    assert_eq!(
        store
            .revoke_credentials(&Revoke::Hash(c.hash.clone()), revoked)
            .expect("revoke"),
        1
    );
    h.clock.advance(Duration::minutes(1));
    store
        .touch_credential(&c.hash, h.center.now())
        .expect("touch after revoke");
    let after = stored_credential(h, "s1");
    assert_eq!(
        (after.last_used_at, after.revoked_at),
        (used, Some(revoked))
    );
    store
        .touch_credential(&secret_hash("nope"), h.center.now())
        .expect("touching nothing is no error");
}

pub fn revoking_counts_only_live_credentials(h: &Harness) {
    let store = h.center.store();
    let by_id = credential(h, CredentialKind::Token, "svc", "t1");
    let by_hash = credential(h, CredentialKind::Session, "alice", "s1");
    let alice_sessions = [
        credential(h, CredentialKind::Session, "alice", "s2"),
        credential(h, CredentialKind::Session, "alice", "s3"),
    ];
    let alice_token = credential(h, CredentialKind::Token, "alice", "t2");
    let bob_session = credential(h, CredentialKind::Session, "bob", "s4");
    for c in [&by_id, &by_hash, &alice_token, &bob_session]
        .into_iter()
        .chain(&alice_sessions)
    {
        store.put_credential(c).expect("put");
    }
    let at = h.center.now();
    let revoke = |which: Revoke| store.revoke_credentials(&which, at).expect("revoke");

    assert_eq!(revoke(Revoke::Id(by_id.id)), 1);
    assert_eq!(revoke(Revoke::Id(by_id.id)), 0, "already revoked");
    assert_eq!(revoke(Revoke::Id(uuid::Uuid::now_v7())), 0, "unknown id");
    assert_eq!(stored_credential(h, "t1").revoked_at, Some(at));

    assert_eq!(revoke(Revoke::Hash(by_hash.hash.clone())), 1);
    assert_eq!(revoke(Revoke::Hash(by_hash.hash.clone())), 0);

    let sessions_of = |principal: &str| Revoke::Principal {
        principal: principal.to_owned(),
        kind: CredentialKind::Session,
    };
    // s1 is revoked already: only s2 and s3 count.
    assert_eq!(revoke(sessions_of("alice")), 2);
    assert_eq!(revoke(sessions_of("alice")), 0);
    assert_eq!(stored_credential(h, "t2").revoked_at, None, "a token stays");
    assert_eq!(stored_credential(h, "s4").revoked_at, None, "bob's stays");
    // A later revocation leaves the first time.
    h.clock.advance(Duration::minutes(1));
    store
        .revoke_credentials(&Revoke::Hash(by_hash.hash.clone()), h.center.now())
        .expect("revoke");
    assert_eq!(stored_credential(h, "s1").revoked_at, Some(at));
}

pub fn hits_count_within_a_window_and_start_again_in_the_next(h: &Harness) {
    let store = h.center.store();
    let hit = |key: &str, window: i64| store.hit(key, window).expect("hit");
    assert_eq!((hit("a", 10), hit("a", 10), hit("a", 10)), (1, 2, 3));
    assert_eq!(hit("b", 10), 1, "keys count apart");
    assert_eq!((hit("a", 11), hit("a", 11)), (1, 2), "a new window");
    assert_eq!(hit("a", 10), 1, "any other window starts again");
    assert_eq!(hit("b", 10), 2);
}

pub fn adding_a_user_needs_administer_and_a_principal_of_the_policy(h: &Harness) {
    identity_policy(h);
    let denied = h
        .center
        .add_user(&alice(), "alice", PASSWORD)
        .expect_err("analyst");
    assert!(
        matches!(
            &denied,
            Error::PermissionDenied {
                operation: Operation::Administer,
                ..
            }
        ),
        "{denied:?}"
    );
    assert!(h.center.users(&root()).expect("users").is_empty());

    let added = h
        .center
        .add_user(&root(), "alice", PASSWORD)
        .expect("add alice");
    assert_eq!(
        (added.id.as_str(), added.disabled, added.created_by.as_str()),
        ("alice", false, "root")
    );
    assert!(added.password_hash.is_empty(), "never shown");
    assert!(
        h.center
            .store()
            .account("alice")
            .expect("read")
            .expect("stored")
            .password_hash
            .starts_with("$argon2id$")
    );
    let twice = h
        .center
        .add_user(&root(), "alice", PASSWORD)
        .expect_err("twice");
    assert!(
        matches!(&twice, Error::Validation { field, .. } if field == "account.id"),
        "{twice:?}"
    );
    let short = h
        .center
        .add_user(&root(), "svc", "short")
        .expect_err("short");
    assert!(
        matches!(&short, Error::Validation { field, .. } if field == "password"),
        "{short:?}"
    );
    let stranger = h
        .center
        .add_user(&root(), "mallory", PASSWORD)
        .expect_err("not in the policy");
    // Not root's permission: the account's principal is missing.
    assert!(
        matches!(&stranger, Error::Validation { field, message } if field == "account.id"
            && message.contains("mallory is not among the principals")),
        "{stranger:?}"
    );
    let token = h
        .center
        .create_token(&root(), "mallory", "ci", Duration::days(1))
        .expect_err("not in the policy");
    assert!(
        matches!(&token, Error::Validation { field, .. } if field == "token.principal"),
        "{token:?}"
    );
    let users = h.center.users(&root()).expect("users");
    assert_eq!(
        users.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["alice"]
    );
    assert!(users.iter().all(|a| a.password_hash.is_empty()));
    assert!(h.center.users(&alice()).is_err());
}

pub fn signing_in_gives_a_session_and_says_nothing_of_which_part_was_wrong(h: &Harness) {
    identity_policy(h);
    with_user(h, "alice");
    let issued = sign_in(h, "alice", PASSWORD).expect("sign in");
    assert!(issued.secret.starts_with(crate::identity::SESSION_PREFIX));
    assert_eq!(issued.credential.hash, secret_hash(&issued.secret));
    assert_ne!(issued.credential.hash, issued.secret);
    let who = h
        .center
        .session(&issued.secret, &SessionLimits::default())
        .expect("session");
    assert_eq!(
        (who.principal.id.as_str(), who.principal.roles.clone()),
        ("alice", vec!["analyst".to_owned()])
    );

    let wrong_password = assert_unauthenticated(sign_in(h, "alice", "wrong horse battery"), "");
    let unknown_account = assert_unauthenticated(sign_in(h, "nobody", PASSWORD), "");
    assert_eq!(wrong_password, unknown_account);
    let not_a_user = assert_unauthenticated(sign_in(h, "svc", PASSWORD), "");
    assert_eq!(not_a_user, unknown_account);

    h.center.sign_out(&issued.secret).expect("sign out");
    assert_unauthenticated(
        h.center.session(&issued.secret, &SessionLimits::default()),
        "revoked",
    );
    assert_unauthenticated(
        h.center.session(
            &format!("{}{}", crate::identity::SESSION_PREFIX, "0".repeat(64)),
            &SessionLimits::default(),
        ),
        "unknown session",
    );
}

pub fn a_disabled_account_is_refused_and_its_sessions_and_tokens_end(h: &Harness) {
    identity_policy(h);
    with_user(h, "alice");
    let session = sign_in(h, "alice", PASSWORD).expect("sign in");
    let token = h
        .center
        .create_token(&root(), "alice", "laptop", Duration::days(30))
        .expect("token");
    let other = h
        .center
        .create_token(&root(), "svc", "agent", Duration::days(30))
        .expect("token");

    let denied = h
        .center
        .set_user_disabled(&alice(), "alice", true)
        .expect_err("analyst");
    assert!(
        matches!(denied, Error::PermissionDenied { .. }),
        "{denied:?}"
    );
    h.center
        .session(&session.secret, &SessionLimits::default())
        .expect("still signed in");

    let disabled = h
        .center
        .set_user_disabled(&root(), "alice", true)
        .expect("disable");
    assert!(disabled.disabled && disabled.password_hash.is_empty());
    assert_unauthenticated(
        sign_in(h, "alice", PASSWORD),
        "wrong account name or password",
    );
    assert_unauthenticated(
        h.center.session(&session.secret, &SessionLimits::default()),
        "revoked",
    );
    assert_unauthenticated(h.center.authenticate_token(&token.secret), "revoked");
    assert!(stored_credential(h, &session.secret).revoked_at.is_some());
    assert!(stored_credential(h, &token.secret).revoked_at.is_some());
    h.center
        .authenticate_token(&other.secret)
        .expect("another principal's token stays");
    // Nor does a host that vouches for the caller itself (an issuer's
    // signed access token) let the account back in.
    assert_unauthenticated(
        h.center.authenticate_external("alice", &[]),
        "the account alice is disabled",
    );
    h.center
        .authenticate_external("svc", &[])
        .expect("no account of its own: the policy alone");

    h.center
        .set_user_disabled(&root(), "alice", false)
        .expect("enable");
    sign_in(h, "alice", PASSWORD).expect("signs in again");
    h.center
        .authenticate_external("alice", &[])
        .expect("enabled again");
    assert_unauthenticated(h.center.authenticate_token(&token.secret), "revoked");
    let missing = h
        .center
        .set_user_disabled(&root(), "ghost", true)
        .expect_err("no account");
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
}

pub fn sign_in_is_throttled_per_account(h: &Harness) {
    identity_policy(h);
    with_user(h, "alice");
    let limits = SignInLimits {
        window: Duration::minutes(5),
        per_account: 3,
        per_address: 1000,
    };
    let attempt = |id: &str, password: &str, address: &str| {
        h.center
            .sign_in(id, password, address, &limits, &SessionLimits::default())
    };
    for n in 0..3 {
        assert_unauthenticated(
            attempt("alice", "wrong horse battery", &format!("192.0.2.{n}")),
            "",
        );
    }
    // From yet another address, with the right password: the account's
    // count is spent.
    match attempt("alice", PASSWORD, "198.51.100.7") {
        Err(Error::RateLimited {
            retry_after_seconds,
            ..
        }) => assert!(
            (1..=300).contains(&retry_after_seconds),
            "{retry_after_seconds}"
        ),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    with_user(h, "svc");
    attempt("svc", PASSWORD, "198.51.100.7").expect("another account is not throttled");

    h.clock.advance(Duration::minutes(5));
    attempt("alice", PASSWORD, "198.51.100.7").expect("a new window");
}

pub fn a_session_ends_after_its_idle_and_absolute_timeouts(h: &Harness) {
    identity_policy(h);
    with_user(h, "alice");
    let limits = SessionLimits {
        idle: Duration::minutes(30),
        absolute: Duration::hours(2),
    };
    let start = |h: &Harness| {
        h.center
            .sign_in(
                "alice",
                PASSWORD,
                "192.0.2.1",
                &SignInLimits::default(),
                &limits,
            )
            .expect("sign in")
            .secret
    };
    let busy = start(h);
    let idle = start(h);
    // Used every 29 minutes, the busy one outlives the idle timeout...
    for _ in 0..4 {
        h.clock.advance(Duration::minutes(29));
        h.center.session(&busy, &limits).expect("in use");
    }
    assert_unauthenticated(h.center.session(&idle, &limits), "idle");
    // ...but not the absolute one.
    h.clock.advance(Duration::minutes(4));
    assert_unauthenticated(h.center.session(&busy, &limits), "expired");
}

pub fn an_api_token_ends_at_its_expiry(h: &Harness) {
    identity_policy(h);
    let denied = h
        .center
        .create_token(&alice(), "svc", "agent", Duration::days(1))
        .expect_err("analyst");
    assert!(
        matches!(denied, Error::PermissionDenied { .. }),
        "{denied:?}"
    );
    for bad in [Duration::zero(), Duration::days(367)] {
        let err = h
            .center
            .create_token(&root(), "svc", "agent", bad)
            .expect_err("ttl");
        assert!(
            matches!(&err, Error::Validation { field, .. } if field == "token.ttl"),
            "{err:?}"
        );
    }
    let token = h
        .center
        .create_token(&root(), "svc", "agent", Duration::days(1))
        .expect("token");
    assert!(token.secret.starts_with(crate::identity::TOKEN_PREFIX));
    h.clock.advance(Duration::days(1) - Duration::seconds(1));
    let who = h.center.authenticate_token(&token.secret).expect("valid");
    assert_eq!(who.principal.id, "svc");
    assert_eq!(
        stored_credential(h, &token.secret).last_used_at,
        h.center.now(),
        "the use is recorded"
    );
    h.clock.advance(Duration::seconds(1));
    assert_unauthenticated(h.center.authenticate_token(&token.secret), "expired");
    // A secret of the wrong shape is unknown before any lookup.
    assert_unauthenticated(h.center.authenticate_token("act_short"), "unknown token");
}

pub fn a_revoked_token_is_refused_and_listed_without_its_secret(h: &Harness) {
    identity_policy(h);
    let token = h
        .center
        .create_token(&root(), "svc", "agent", Duration::days(30))
        .expect("token");
    let id = token.credential.id;
    let denied = h.center.revoke_token(&alice(), id).expect_err("analyst");
    assert!(
        matches!(denied, Error::PermissionDenied { .. }),
        "{denied:?}"
    );
    h.center
        .authenticate_token(&token.secret)
        .expect("still valid");

    h.center.revoke_token(&root(), id).expect("revoke");
    assert_unauthenticated(h.center.authenticate_token(&token.secret), "revoked");
    for again in [id, uuid::Uuid::now_v7()] {
        let err = h
            .center
            .revoke_token(&root(), again)
            .expect_err("nothing live");
        assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    }
    let listed = h.center.tokens(&root()).expect("tokens");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id, listed[0].revoked_at.is_some()), (id, true));
    let shown = serde_json::to_string(&listed).expect("json");
    assert!(!shown.contains(&token.secret), "{shown}");
    assert!(!shown.contains(&token.credential.hash), "{shown}");
    assert!(h.center.tokens(&alice()).is_err());
}

pub fn a_policy_nobody_could_change_again_is_refused_and_stores_nothing(h: &Harness) {
    let version = || h.center.stored_policy().expect("policy").version;
    let set = |json: &str| {
        h.center
            .set_policy(&root(), Policy::from_json(json).expect("valid"), None, None)
    };
    let before = version();
    let err = set(r#"{"roles": {}}"#).expect_err("no role administers");
    assert_eq!(err.kind(), crate::ErrorKind::Validation, "{err}");
    assert!(
        err.to_string()
            .contains("nobody could change the policy again"),
        "{err}"
    );
    let err = set(r#"{"roles": {"admin": {"administer": ["device"]}}}"#).expect_err("one category");
    assert_eq!(err.kind(), crate::ErrorKind::Validation, "{err}");
    assert_eq!(version(), before, "nothing stored");
    // Once the policy names its administrators, a new one must too; it
    // may name another (a hand-over).
    identity_policy(h);
    let named = version();
    let err = set(r#"{"roles": {"admin": {"administer": ["*"]}}}"#).expect_err("names none");
    assert!(
        err.to_string().contains("names no principal or group"),
        "{err}"
    );
    assert_eq!(version(), named);
    set(r#"{"roles": {"admin": {"administer": ["*"]}}, "principals": {"sam": ["admin"]}}"#)
        .expect("a hand-over");
    assert_eq!(version(), named + 1);
}

pub fn roles_come_from_the_stored_policy_at_every_call(h: &Harness) {
    identity_policy(h);
    with_user(h, "alice");
    let token = h
        .center
        .create_token(&root(), "svc", "agent", Duration::days(30))
        .expect("token");
    let session = sign_in(h, "alice", PASSWORD).expect("sign in").secret;
    let limits = SessionLimits::default();
    assert_eq!(
        h.center
            .authenticate_token(&token.secret)
            .expect("token")
            .principal
            .roles,
        ["executor"]
    );

    // The policy keeps the principals but takes their roles away (and
    // keeps its administrator).
    with_policy(h, |p| {
        p.with_principal("alice", Vec::<String>::new())
            .and_then(|p| p.with_principal("svc", Vec::<String>::new()))
            .and_then(|p| p.with_principal("root", ["admin"]))
            .expect("principals")
    });
    let svc = h.center.authenticate_token(&token.secret).expect("token");
    assert!(svc.principal.roles.is_empty(), "{:?}", svc.principal);
    let claim = h.center.claim(
        &svc.principal,
        &ClaimRequest {
            limit: 1,
            lease_seconds: 60,
            kinds: None,
        },
    );
    assert!(
        matches!(claim, Err(Error::PermissionDenied { .. })),
        "{claim:?}"
    );
    let alice_now = h.center.session(&session, &limits).expect("session");
    assert!(alice_now.principal.roles.is_empty());

    // The policy no longer names them at all (only its administrator).
    with_policy(h, |p| p.with_principal("root", ["admin"]).expect("root"));
    for refused in [
        h.center.authenticate_token(&token.secret).map(|_| ()),
        h.center.session(&session, &limits).map(|_| ()),
    ] {
        assert!(
            matches!(refused, Err(Error::PermissionDenied { .. })),
            "{refused:?}"
        );
    }
}

pub fn a_session_by_groups_gets_its_roles_from_the_groups_at_every_call(h: &Harness) {
    let groups = |analyst: &'static str| {
        move |p: Policy| {
            p.with_principal("root", ["admin"])
                .and_then(|p| p.with_group("secops", [analyst]))
                .expect("groups")
        }
    };
    with_policy(h, groups("analyst"));
    let limits = SessionLimits::default();
    // grace is named by no principal: only a group the provider asserted
    // gives her a role.
    let unknown = h
        .center
        .start_session("grace", "oidc", &["sales".into()], &limits);
    assert!(
        matches!(unknown, Err(Error::PermissionDenied { .. })),
        "{unknown:?}"
    );
    let issued = h
        .center
        .start_session("grace", "oidc", &["secops".into()], &limits)
        .expect("session");
    assert_eq!(
        stored_credential(h, &issued.secret).groups,
        vec!["secops".to_owned()]
    );
    let who = h.center.session(&issued.secret, &limits).expect("session");
    assert_eq!(who.principal.roles, vec!["analyst".to_owned()]);
    with_policy(h, groups("viewer"));
    let who = h.center.session(&issued.secret, &limits).expect("session");
    assert_eq!(who.principal.roles, vec!["viewer".to_owned()]);
}
