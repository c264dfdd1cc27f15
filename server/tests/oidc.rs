//! Single sign-on against a fake issuer: bearer access tokens, the
//! authorization-code flow with PKCE, every refusal with its reason, key
//! rotation, and no secret of a sign-in in a log line or a URL.

mod common;
mod issuer;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use actioncenter_server::oidc::OidcConfig;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{TestServer, ends_soon, expect};
use issuer::{CLIENT_ID, Issuer, Key, now};
use reqwest::blocking::{Client, Response};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Every log line of this test binary's servers.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,actioncenter_server=trace",
            ))
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .try_init();
        buffer
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A server that trusts a fake issuer, and a browser that does not
/// follow redirects.
struct Sso {
    server: TestServer,
    issuer: Issuer,
    browser: Client,
}

fn start() -> Sso {
    logs();
    let issuer = Issuer::start(Key::new("key-1", 7));
    let url = issuer.url.clone();
    let server = TestServer::start_at(|s, base| {
        s.oidc = Some(OidcConfig::new(
            &url,
            CLIENT_ID,
            &format!("{base}/auth/oidc/callback"),
        ));
    });
    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Sso {
        server,
        issuer,
        browser,
    }
}

/// A sign-in in flight: where the server sent the browser, and the
/// flow cookie it set.
struct Login {
    location: String,
    flow: String,
    set_cookie: String,
}

/// The `Set-Cookie` of `r` for the cookie `name`.
fn set_cookie(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(set_cookie: &str) -> String {
    cookie::Cookie::parse(set_cookie.to_owned())
        .expect("cookie")
        .value()
        .to_owned()
}

fn query(url: &str, name: &str) -> Option<String> {
    let base = url::Url::parse("http://browser.invalid/").expect("base");
    base.join(url)
        .expect("URL")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The 401 `unauthenticated` message of `r`.
fn refused(r: Response) -> String {
    let challenge = r.headers().contains_key(WWW_AUTHENTICATE);
    let body = expect(r, 401);
    assert_eq!(body["error"]["kind"], "unauthenticated", "{body}");
    assert!(challenge, "a 401 names the scheme in WWW-Authenticate");
    body["error"]["message"].as_str().unwrap_or("").to_owned()
}

impl Sso {
    fn with_bearer(&self, token: &str) -> Response {
        self.browser
            .get(self.server.url("/api/v1/session"))
            .bearer_auth(token)
            .send()
            .expect("GET /api/v1/session")
    }

    fn login(&self) -> Login {
        let r = self
            .browser
            .get(self.server.url("/auth/oidc/login"))
            .send()
            .expect("login");
        assert_eq!(r.status(), 302, "the login redirects with 302 Found");
        let location = r.headers()[LOCATION].to_str().expect("location").to_owned();
        let set_cookie = set_cookie(&r, "ac_oidc").expect("the login sets the flow cookie");
        Login {
            location,
            flow: cookie_value(&set_cookie),
            set_cookie,
        }
    }

    fn callback(&self, url: &str, flow: Option<&str>) -> Response {
        let mut request = self.browser.get(url);
        if let Some(flow) = flow {
            request = request.header(COOKIE, format!("ac_oidc={flow}"));
        }
        request.send().expect("callback")
    }

    /// Signs in through the issuer as the ID token `claims` say; the
    /// callback's answer.
    fn sign_in(&self, claims: Value) -> Response {
        let login = self.login();
        let back = self.issuer.authorize(&login.location, claims);
        self.callback(&back, Some(&login.flow))
    }

    /// Who the session cookie of a successful callback `r` is.
    fn session_of(&self, r: Response) -> Value {
        assert_eq!(r.status(), 302, "the callback redirects with 302 Found");
        assert_eq!(r.headers()[LOCATION], "/");
        let session = set_cookie(&r, "ac_session").expect("the callback sets the session");
        let secret = cookie_value(&session);
        assert!(secret.starts_with("acs_"), "{session}");
        expect(self.with_cookie(&secret), 200)
    }

    fn with_cookie(&self, session: &str) -> Response {
        self.browser
            .get(self.server.url("/api/v1/session"))
            .header(COOKIE, format!("ac_session={session}"))
            .send()
            .expect("GET /api/v1/session")
    }
}

#[test]
fn a_bearer_token_from_the_issuer_names_the_principal_and_the_policy_gives_the_roles() {
    let sso = start();
    let alice = expect(sso.with_bearer(&sso.issuer.access_token("alice", &[])), 200);
    assert_eq!(alice["principal"], "alice");
    assert_eq!(alice["roles"], json!(["analyst"]));
    assert_eq!(alice["via"], "oidc");
    assert_eq!(alice["how"], "oidc");
    assert_eq!(
        alice["csrf_token"],
        Value::Null,
        "a bearer caller has no CSRF token"
    );

    // Roles come from the stored policy, never from the token.
    let mut claims = sso.issuer.claims("alice");
    claims["roles"] = json!(["admin"]);
    let alice = expect(sso.with_bearer(&sso.issuer.key.sign(&claims)), 200);
    assert_eq!(alice["roles"], json!(["analyst"]));

    // A principal the policy does not list gets the roles of its groups.
    let grace = expect(
        sso.with_bearer(&sso.issuer.access_token("grace", &["secops"])),
        200,
    );
    assert_eq!(grace["principal"], "grace");
    assert_eq!(grace["roles"], json!(["analyst"]));

    // A listed principal gets its own roles and its groups' roles.
    let victor = expect(
        sso.with_bearer(&sso.issuer.access_token("victor", &["secops"])),
        200,
    );
    assert_eq!(victor["roles"], json!(["viewer", "analyst"]));

    // A token a little past its expiry is still good (clock skew).
    let mut claims = sso.issuer.claims("alice");
    claims["exp"] = json!(now() - 10);
    expect(sso.with_bearer(&sso.issuer.key.sign(&claims)), 200);

    // Known to the issuer but to no policy: signed in, and allowed nothing.
    for groups in [&[][..], &["contractors"][..]] {
        let body = expect(
            sso.with_bearer(&sso.issuer.access_token("mallory", groups)),
            403,
        );
        assert_eq!(body["error"]["kind"], "permission_denied", "{body}");
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.contains("mallory is not among the principals"),
            "{message}"
        );
    }
}

#[test]
fn with_an_api_audience_of_its_own_an_access_token_carrying_a_nonce_is_taken() {
    // Some issuers copy the sign-in's nonce into access tokens; with an
    // API audience set, an ID token already fails on its audience.
    logs();
    let issuer = Issuer::start(Key::new("key-1", 7));
    let url = issuer.url.clone();
    let server = TestServer::start_at(|s, base| {
        let mut config = OidcConfig::new(&url, CLIENT_ID, &format!("{base}/auth/oidc/callback"));
        config.api_audience = Some("actioncenter-api".into());
        s.oidc = Some(config);
    });
    let sso = Sso {
        server,
        issuer,
        browser: Client::new(),
    };
    let mut claims = sso.issuer.claims("alice");
    claims["aud"] = json!("actioncenter-api");
    claims["nonce"] = json!("copied-from-a-sign-in");
    let alice = expect(sso.with_bearer(&sso.issuer.key.sign(&claims)), 200);
    assert_eq!(alice["principal"], "alice");
    // The ID token of a sign-in (audience the client id) is refused.
    let mut id_token = sso.issuer.claims("alice");
    id_token["nonce"] = json!("a-sign-ins-nonce");
    let message = refused(sso.with_bearer(&sso.issuer.key.sign(&id_token)));
    assert!(message.contains("not meant for actioncenter"), "{message}");
}

#[test]
fn a_bearer_token_for_a_disabled_account_is_refused() {
    let sso = start();
    sso.server.add_user("alice");
    let token = sso.issuer.access_token("alice", &[]);
    expect(sso.with_bearer(&token), 200);
    sso.server
        .center
        .set_user_disabled(&sso.server.admin, "alice", true)
        .expect("disable");
    let message = refused(sso.with_bearer(&token));
    assert!(
        message.contains("the account alice is disabled"),
        "{message}"
    );
    // By group too: the account is the principal's, however its roles come.
    let by_group = sso.issuer.access_token("alice", &["secops"]);
    let message = refused(sso.with_bearer(&by_group));
    assert!(message.contains("disabled"), "{message}");
    sso.server
        .center
        .set_user_disabled(&sso.server.admin, "alice", false)
        .expect("enable");
    expect(sso.with_bearer(&token), 200);
}

#[test]
fn a_live_feed_opened_with_an_issuers_token_ends_when_the_account_is_disabled_or_the_token_runs_out()
 {
    let sso = start();
    sso.server.add_user("alice");
    let stream = |token: &str| {
        let r = Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("client")
            .get(sso.server.url("/api/v1/events/stream"))
            .bearer_auth(token)
            .send()
            .expect("stream");
        assert_eq!(r.status(), 200);
        r
    };
    let r = stream(&sso.issuer.access_token("alice", &[]));
    sso.server
        .center
        .set_user_disabled(&sso.server.admin, "alice", true)
        .expect("disable");
    ends_soon(r);
    sso.server
        .center
        .set_user_disabled(&sso.server.admin, "alice", false)
        .expect("enable");
    // Within the clock skew the server allows (30 s), a token whose exp
    // has passed is still taken, and its stream ends when the skew does.
    let mut claims = sso.issuer.claims("alice");
    claims["exp"] = json!(now() - 29);
    ends_soon(stream(&sso.issuer.key.sign(&claims)));
}

#[test]
fn a_bearer_token_is_refused_with_the_reason() {
    let sso = start();
    let issuer = &sso.issuer;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = issuer.claims("alice");
        change(&mut claims);
        issuer.key.sign(&claims)
    };
    let alice = issuer.claims("alice");
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        part(&json!({"alg": "none", "typ": "JWT", "kid": "key-1"})),
        part(&alice)
    );
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = Some("key-1".into());
    let hs256 = jsonwebtoken::encode(
        &hs_header,
        &alice,
        &jsonwebtoken::EncodingKey::from_secret(b"the issuer's public key, as a secret"),
    )
    .expect("HS256");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "signed by another key under the issuer's kid",
            Key::new("key-1", 8).sign(&alice),
            "signature does not match",
        ),
        (
            "meant for another audience",
            with(&|c| c["aud"] = json!("another-app")),
            "not meant for actioncenter",
        ),
        (
            "expired beyond the leeway",
            with(&|c| c["exp"] = json!(now() - 3600)),
            "has expired",
        ),
        (
            "not valid yet",
            with(&|c| c["nbf"] = json!(now() + 3600)),
            "not valid yet",
        ),
        (
            "from another issuer",
            with(&|c| c["iss"] = json!("https://login.example.com")),
            "not issued by http://127.0.0.1",
        ),
        (
            "without a subject",
            with(&|c| {
                if let Some(o) = c.as_object_mut() {
                    o.remove("sub");
                }
            }),
            "has no sub claim",
        ),
        ("unsigned (alg none)", unsigned, "alg none"),
        ("signed with HS256", hs256, "HS256 are not accepted"),
        (
            "signed with a key the issuer does not publish",
            Key::new("key-9", 7).sign(&alice),
            "a key the issuer does not publish",
        ),
        (
            // What the code flow's token endpoint answers the console with:
            // for the server's sign-in, not a credential to call the API.
            "an ID token of a sign-in (it carries a nonce)",
            with(&|c| c["nonce"] = json!("a-sign-ins-nonce")),
            "an ID token",
        ),
        ("garbage", "garbage".into(), "not a JWT"),
        ("three parts of garbage", "a.b.c".into(), "does not decode"),
    ];
    for (name, token, reason) in cases {
        let message = refused(sso.with_bearer(&token));
        assert!(
            message.contains(reason),
            "{name}: {message:?} does not say {reason:?}"
        );
        assert!(
            !message.contains(&token),
            "{name}: the message repeats the token"
        );
    }
}

#[test]
fn the_code_flow_signs_in_with_pkce_and_starts_an_oidc_session() {
    let sso = start();
    let login = sso.login();
    let q = |name: &str| query(&login.location, name);
    assert!(
        login
            .location
            .starts_with(&format!("{}/authorize?", sso.issuer.url)),
        "{}",
        login.location
    );
    assert_eq!(q("response_type").as_deref(), Some("code"));
    assert_eq!(q("client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(
        q("redirect_uri"),
        Some(sso.server.url("/auth/oidc/callback"))
    );
    assert_eq!(q("code_challenge_method").as_deref(), Some("S256"));
    let state = q("state").expect("state");
    let nonce = q("nonce").expect("nonce");
    let challenge = q("code_challenge").expect("code_challenge");
    assert!(state.len() >= 32 && nonce.len() >= 32, "{}", login.location);
    assert_ne!(state, nonce);

    let flow = cookie::Cookie::parse(login.set_cookie.clone()).expect("flow cookie");
    assert_eq!(flow.http_only(), Some(true), "{}", login.set_cookie);
    assert_eq!(
        flow.same_site(),
        Some(cookie::SameSite::Lax),
        "the callback is a top-level navigation from the issuer: {}",
        login.set_cookie
    );
    assert_eq!(flow.path(), Some("/auth/oidc"));
    // The cookie keeps the verifier; the URL only its SHA-256.
    let verifier = login.flow.rsplit('.').next().expect("verifier").to_owned();
    assert_eq!(
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        challenge
    );
    assert!(!login.location.contains(&verifier));

    let back = sso
        .issuer
        .authorize(&login.location, sso.issuer.claims("alice"));
    let r = sso.callback(&back, Some(&login.flow));
    let cleared = set_cookie(&r, "ac_oidc").expect("the callback clears the flow cookie");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let session = set_cookie(&r, "ac_session").expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    let alice = sso.session_of(r);
    assert_eq!(alice["principal"], "alice");
    assert_eq!(alice["roles"], json!(["analyst"]));
    assert_eq!(alice["via"], "session");
    assert_eq!(alice["how"], "oidc");
    assert!(alice["csrf_token"].is_string(), "{alice}");
    assert!(
        sso.issuer.refusals().is_empty(),
        "{:?}",
        sso.issuer.refusals()
    );

    // A code is good once.
    let message = refused(sso.callback(&back, Some(&login.flow)));
    assert!(message.contains("token endpoint"), "{message}");
    assert_eq!(sso.issuer.refusals(), ["unknown or used code"]);
    assert_eq!(sso.server.live_sessions(), 1);
}

#[test]
fn a_principal_known_only_through_a_group_signs_in_with_the_code_flow() {
    let sso = start();
    let mut claims = sso.issuer.claims("grace");
    claims["groups"] = json!(["secops"]);
    let grace = sso.session_of(sso.sign_in(claims));
    assert_eq!(grace["principal"], "grace");
    assert_eq!(grace["roles"], json!(["analyst"]));
    assert_eq!(grace["how"], "oidc");

    // Without a group the policy maps, no session starts.
    let mut claims = sso.issuer.claims("mallory");
    claims["groups"] = json!(["contractors"]);
    let body = expect(sso.sign_in(claims), 403);
    assert_eq!(body["error"]["kind"], "permission_denied", "{body}");
    assert_eq!(sso.server.live_sessions(), 1);
}

#[test]
fn a_callback_that_is_not_this_sign_in_is_refused() {
    let sso = start();
    let callback = sso.server.url("/auth/oidc/callback");

    // The state the issuer returns is not the one this browser sent.
    let login = sso.login();
    let back = sso
        .issuer
        .authorize(&login.location, sso.issuer.claims("alice"));
    let code = query(&back, "code").expect("code");
    let forged = format!("{callback}?code={code}&state=someone-elses");
    let message = refused(sso.callback(&forged, Some(&login.flow)));
    assert!(message.contains("state is not this sign-in's"), "{message}");

    // No sign-in was started in this browser.
    let message = refused(sso.callback(&back, None));
    assert!(message.contains("no sign-in is in progress"), "{message}");

    // The ID token was minted for another sign-in.
    let mut claims = sso.issuer.claims("alice");
    claims["nonce"] = json!("another-sign-ins-nonce");
    let message = refused(sso.sign_in(claims));
    assert!(message.contains("nonce"), "{message}");

    // A planted flow cookie with empty parts, and an empty state: no
    // sign-in of this server's (its parts are long random strings), so
    // nothing reaches the issuer (without a verifier, PKCE would be off).
    let login = sso.login();
    let back = sso
        .issuer
        .authorize(&login.location, sso.issuer.claims("alice"));
    let code = query(&back, "code").expect("code");
    let refusals = sso.issuer.refusals().len();
    for planted in ["..", "a.b.c", &format!("{}..", "A".repeat(32))] {
        let message =
            refused(sso.callback(&format!("{callback}?code={code}&state="), Some(planted)));
        assert!(
            message.contains("no sign-in is in progress"),
            "{planted}: {message}"
        );
    }
    assert_eq!(
        sso.issuer.refusals().len(),
        refusals,
        "{:?}",
        sso.issuer.refusals()
    );

    // A stolen code without its verifier: the issuer refuses the trade.
    let login = sso.login();
    let back = sso
        .issuer
        .authorize(&login.location, sso.issuer.claims("alice"));
    let (state_and_nonce, _) = login.flow.rsplit_once('.').expect("flow");
    let wrong = format!("{state_and_nonce}.{}", "A".repeat(64));
    let message = refused(sso.callback(&back, Some(&wrong)));
    assert!(message.contains("token endpoint"), "{message}");
    assert!(message.contains("400"), "{message}");
    assert!(
        sso.issuer
            .refusals()
            .contains(&"code_verifier does not match the code_challenge".to_owned()),
        "{:?}",
        sso.issuer.refusals()
    );

    // The user declined at the issuer.
    let login = sso.login();
    let state = query(&login.location, "state").expect("state");
    let declined = format!("{callback}?error=access_denied&state={state}");
    let message = refused(sso.callback(&declined, Some(&login.flow)));
    assert!(
        message.contains("the issuer refused the sign-in: access_denied"),
        "{message}"
    );

    // Neither code nor state.
    let message = refused(sso.callback(&callback, Some(&login.flow)));
    assert!(message.contains("lacks code or state"), "{message}");

    assert_eq!(sso.server.live_sessions(), 0);
}

#[test]
fn keys_the_issuer_rotated_in_are_fetched_at_sign_in() {
    let mut sso = start();
    let fetches = sso.issuer.key_fetches();
    sso.issuer.rotate(Key::new("key-2", 9));
    let rotated = sso.issuer.access_token("alice", &[]);
    let alice = sso.session_of(sso.sign_in(sso.issuer.claims("alice")));
    assert_eq!(alice["principal"], "alice");
    assert_eq!(sso.issuer.key_fetches(), fetches + 1);
    // The keys read at sign-in serve bearer tokens too.
    expect(sso.with_bearer(&rotated), 200);

    // A key still unknown after fetching again is refused, in words.
    let fetches = sso.issuer.key_fetches();
    sso.issuer.key = Key::new("key-3", 10);
    let login = sso.login();
    let back = sso
        .issuer
        .authorize(&login.location, sso.issuer.claims("alice"));
    let message = refused(sso.callback(&back, Some(&login.flow)));
    assert!(message.contains("does not publish"), "{message}");
    assert_eq!(sso.issuer.key_fetches(), fetches + 1);
}

#[test]
fn no_secret_of_a_sign_in_is_logged_or_put_in_a_url() {
    let sso = start();
    let login = sso.login();
    let back = sso
        .issuer
        .authorize(&login.location, sso.issuer.claims("alice"));
    let (code, state) = (
        query(&back, "code").expect("code"),
        query(&back, "state").expect("state"),
    );
    let r = sso.callback(&back, Some(&login.flow));
    assert_eq!(
        r.headers()[LOCATION],
        "/",
        "the callback sends the browser on without its query"
    );
    let session = cookie_value(&set_cookie(&r, "ac_session").expect("session"));
    assert_eq!(expect(sso.with_cookie(&session), 200)["principal"], "alice");

    let text = String::from_utf8_lossy(&logs().lock().expect("logs")).into_owned();
    let requests: Vec<&str> = text.lines().filter(|l| l.contains(" path=")).collect();
    assert!(
        requests
            .iter()
            .any(|l| l.contains("path=/auth/oidc/callback status=302")),
        "the callback is logged, by its path: {text}"
    );
    for line in &requests {
        assert!(!line.contains('?'), "a query in a log line: {line}");
    }
    let mut flow = login.flow.split('.');
    let secrets = [
        ("the code", code),
        ("the state", state),
        (
            "the flow's state",
            flow.next().map(str::to_owned).unwrap_or_default(),
        ),
        (
            "the nonce",
            flow.next().map(str::to_owned).unwrap_or_default(),
        ),
        (
            "the PKCE verifier",
            flow.next().map(str::to_owned).unwrap_or_default(),
        ),
        ("the session", session),
    ];
    for (what, secret) in &secrets {
        assert!(secret.len() >= 16, "{what}: {secret:?}");
        for line in text.lines() {
            assert!(
                !line.contains(secret.as_str()),
                "{what} in a log line: {line}"
            );
        }
    }
}
