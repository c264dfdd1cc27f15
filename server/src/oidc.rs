//! Single sign-on with OpenID Connect: the authorization-code flow with
//! PKCE for people, and bearer access tokens (client credentials) for
//! services.
//!
//! Every token is checked against the issuer's published keys (JWKS):
//! signature, issuer, audience, expiry, and for ID tokens the nonce this
//! server sent. The principal id is a claim of the token (`sub` unless
//! configured); its roles come from the stored policy's principals and
//! groups, never from the request.

use std::sync::RwLock;
use std::time::Duration;

use actioncenter::Error;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind as JwtError;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// The cookie that carries a sign-in in flight (state, nonce, PKCE
/// verifier) from the redirect to the callback. `SameSite=Lax`, since the
/// callback is a top-level navigation from the issuer.
const FLOW_COOKIE: &str = "ac_oidc";
/// How long a sign-in in flight may take.
const FLOW_SECONDS: i64 = 600;
/// Clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;

/// How to reach and trust an issuer.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer URL, exactly as in its tokens' `iss`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// This server's callback, `https://host/auth/oidc/callback`.
    pub redirect_url: String,
    /// The claim that names the principal (`sub` by default; often
    /// `preferred_username` or `email`).
    pub id_claim: String,
    /// The claim that lists the caller's groups.
    pub groups_claim: String,
    /// The `aud` bearer access tokens must have; the client id if `None`.
    pub api_audience: Option<String>,
}

impl OidcConfig {
    pub fn new(issuer: &str, client_id: &str, redirect_url: &str) -> OidcConfig {
        OidcConfig {
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret: None,
            redirect_url: redirect_url.to_owned(),
            id_claim: "sub".into(),
            groups_claim: "groups".into(),
            api_audience: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// Who a valid token says is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: String,
    pub groups: Vec<String>,
    /// When the token runs out (its `exp`, seconds since the epoch, with
    /// the clock skew allowed): a live feed opened with it ends then.
    pub expires_at: Option<i64>,
}

impl Identity {
    /// Whether the token it came from has run out by `now` (seconds since
    /// the epoch).
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A configured issuer, with its keys.
#[derive(Debug)]
pub struct Provider {
    config: OidcConfig,
    discovery: Discovery,
    keys: RwLock<JwkSet>,
    http: reqwest::Client,
}

fn oidc_error(reason: impl Into<String>) -> Error {
    Error::Unauthenticated {
        reason: reason.into(),
    }
}

/// Why a token was refused. A key the issuer does not publish (yet) is
/// worth fetching the keys again for; nothing else is.
#[derive(Debug)]
enum Refusal {
    UnknownKey,
    Invalid(String),
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Error {
        match refusal {
            Refusal::UnknownKey => {
                oidc_error("the token was signed with a key the issuer does not publish")
            }
            Refusal::Invalid(reason) => oidc_error(reason),
        }
    }
}

/// The `alg` a token's header names, read without trusting anything else
/// in it, so that an unsigned token is refused in words.
fn header_alg(token: &str) -> Option<String> {
    let head = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(head).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("alg")?.as_str().map(str::to_owned)
}

/// What a validation failure means, in words a caller can act on.
fn refusal_reason(error: &jsonwebtoken::errors::Error, issuer: &str, audience: &str) -> String {
    match error.kind() {
        JwtError::InvalidToken => "the token is not a JWT (three base64url parts)".into(),
        JwtError::InvalidSignature => {
            "the token's signature does not match the issuer's key".into()
        }
        JwtError::ExpiredSignature => "the token has expired".into(),
        JwtError::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        JwtError::InvalidIssuer => format!("the token was not issued by {issuer}"),
        JwtError::InvalidAudience => format!("the token is not meant for {audience} (aud)"),
        JwtError::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
        JwtError::InvalidAlgorithm => "the token's algorithm does not fit the issuer's key".into(),
        JwtError::Base64(_) | JwtError::Json(_) | JwtError::Utf8(_) => {
            format!("the token does not decode: {error}")
        }
        _ => format!("the token is not valid: {error}"),
    }
}

impl Provider {
    /// Reads the issuer's discovery document and keys.
    pub async fn discover(config: OidcConfig) -> Result<Provider, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        let url = format!("{}/.well-known/openid-configuration", config.issuer);
        let discovery: Discovery = http
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("OpenID Connect discovery at {url}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("OpenID Connect discovery at {url}: {e}"))?;
        if discovery.issuer.trim_end_matches('/') != config.issuer {
            return Err(format!(
                "the discovery document names issuer {:?}, not {:?}",
                discovery.issuer, config.issuer
            ));
        }
        let keys = fetch_keys(&http, &discovery.jwks_uri).await?;
        Ok(Provider {
            config,
            discovery,
            keys: RwLock::new(keys),
            http,
        })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Fetches the keys again (the issuer rotated them).
    pub async fn refresh_keys(&self) -> Result<(), String> {
        let keys = fetch_keys(&self.http, &self.discovery.jwks_uri).await?;
        if let Ok(mut k) = self.keys.write() {
            *k = keys;
        }
        Ok(())
    }

    /// Checks a token's signature against the issuer's keys and its
    /// issuer, audience and times; its claims.
    fn claims(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, Refusal> {
        if header_alg(token).is_some_and(|alg| alg.eq_ignore_ascii_case("none")) {
            return Err(Refusal::Invalid(
                "unsigned tokens (alg none) are not accepted".into(),
            ));
        }
        let issuer = self.discovery.issuer.as_str();
        let head = jsonwebtoken::decode_header(token)
            .map_err(|e| Refusal::Invalid(refusal_reason(&e, issuer, audience)))?;
        let allowed = [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ];
        if !allowed.contains(&head.alg) {
            return Err(Refusal::Invalid(format!(
                "tokens signed with {:?} are not accepted",
                head.alg
            )));
        }
        let key = {
            let keys = self
                .keys
                .read()
                .map_err(|_| Refusal::Invalid("the issuer's keys are unavailable".into()))?;
            let jwk = match &head.kid {
                Some(kid) => keys.find(kid),
                None if keys.keys.len() == 1 => keys.keys.first(),
                None => {
                    return Err(Refusal::Invalid(
                        "the token names no key (kid) and the issuer publishes several".into(),
                    ));
                }
            }
            .ok_or(Refusal::UnknownKey)?;
            DecodingKey::from_jwk(jwk)
                .map_err(|e| Refusal::Invalid(format!("the issuer's key: {e}")))?
        };
        let mut validation = Validation::new(head.alg);
        // The `iss` of a token is the discovery document's `issuer`,
        // character for character (some issuers end it with a slash).
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &key,
            &validation,
        )
        .map_err(|e| Refusal::Invalid(refusal_reason(&e, issuer, audience)))?;
        Ok(data.claims)
    }

    fn identity(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Identity, Refusal> {
        let id = claims
            .get(&self.config.id_claim)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Refusal::Invalid(format!("the token has no {} claim", self.config.id_claim))
            })?;
        let groups = match claims.get(&self.config.groups_claim) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let expires_at = claims
            .get("exp")
            .and_then(serde_json::Value::as_f64)
            .map(|exp| exp as i64 + LEEWAY_SECONDS as i64);
        Ok(Identity {
            id: id.to_owned(),
            groups,
            expires_at,
        })
    }

    /// Checks a bearer access token (client credentials) meant for this
    /// API; who it names.
    pub fn validate_access_token(&self, token: &str) -> actioncenter::Result<Identity> {
        let audience = self
            .config
            .api_audience
            .clone()
            .unwrap_or_else(|| self.config.client_id.clone());
        let claims = self.claims(token, &audience)?;
        // Without an API audience of its own, an ID token (meant for this
        // server's sign-in, audience the client id) would pass as an access
        // token: a sign-in's token carries the nonce it was asked for, a
        // client's access token none. With one, an ID token fails the
        // audience, and an access token that carries a nonce (some issuers
        // copy it in) is taken.
        if self.config.api_audience.is_none() && claims.get("nonce").is_some() {
            return Err(Refusal::Invalid(
                "the token is an ID token of a sign-in (it carries a nonce), not an access token for this API".into(),
            )
            .into());
        }
        Ok(self.identity(&claims)?)
    }

    /// Checks an ID token from the code flow, including the nonce this
    /// server sent; who it names.
    pub fn validate_id_token(&self, token: &str, nonce: &str) -> actioncenter::Result<Identity> {
        Ok(self.check_id_token(token, nonce)?)
    }

    fn check_id_token(&self, token: &str, nonce: &str) -> Result<Identity, Refusal> {
        let claims = self.claims(token, &self.config.client_id)?;
        let sent = claims.get("nonce").and_then(|v| v.as_str()).unwrap_or("");
        if !crate::auth::same_secret(sent, nonce) {
            return Err(Refusal::Invalid(
                "the ID token's nonce is not the one this sign-in sent".into(),
            ));
        }
        self.identity(&claims)
    }
}

/// The issuer's signing keys. A key this server cannot read (a curve or
/// algorithm it does not know) or one published for encryption is left
/// out, rather than refusing every key because of one.
async fn fetch_keys(http: &reqwest::Client, url: &str) -> Result<JwkSet, String> {
    #[derive(Deserialize)]
    struct Published {
        keys: Vec<serde_json::Value>,
    }
    let published: Published = http
        .get(url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("the issuer's keys at {url}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("the issuer's keys at {url}: {e}"))?;
    let keys: Vec<Jwk> = published
        .keys
        .into_iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
        .filter(|k| !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption)))
        .collect();
    if keys.is_empty() {
        return Err(format!(
            "the issuer's keys at {url}: none of them is a signing key this server can use"
        ));
    }
    Ok(JwkSet { keys })
}

fn random(bytes: usize) -> Result<String, Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::storage_msg(format!("no random source: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// The routes of the sign-in flow.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/login", get(login))
        .route("/auth/oidc/callback", get(callback))
}

/// A `302 Found` to `location`, the redirect OpenID Connect describes
/// (and docs/http.md promises).
fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => ApiError::from(Error::storage_msg(format!(
            "not a redirect location: {location:?}"
        )))
        .into_response(),
    }
}

fn provider(state: &AppState) -> ApiResult<&Provider> {
    state.oidc().ok_or_else(|| {
        ApiError::invalid(
            StatusCode::NOT_FOUND,
            "oidc",
            "single sign-on is not configured on this server",
        )
    })
}

/// Starts a sign-in: a redirect to the issuer with state, nonce and the
/// PKCE challenge; the verifier waits in a short-lived cookie.
async fn login(State(state): State<AppState>) -> ApiResult<Response> {
    let p = provider(&state)?;
    let (flow_state, nonce, verifier) = (random(24)?, random(24)?, random(48)?);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut url = url::Url::parse(&p.discovery.authorization_endpoint)
        .map_err(|e| ApiError::from(Error::storage_msg(format!("authorization endpoint: {e}"))))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &p.config.client_id)
        .append_pair("redirect_uri", &p.config.redirect_url)
        .append_pair("scope", "openid profile email")
        .append_pair("state", &flow_state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let secure = if state.settings().tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{FLOW_COOKIE}={flow_state}.{nonce}.{verifier}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={FLOW_SECONDS}{secure}"
    );
    let mut r = found(url.as_str());
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    id_token: String,
}

/// The state, nonce and PKCE verifier of the sign-in in flight, from its
/// cookie. Only parts as `login` makes them (URL-safe base64 of 24, 24
/// and 48 random bytes) are read: a planted cookie with empty parts would
/// match an empty state and trade a code without a verifier.
fn flow_cookie(headers: &HeaderMap) -> Option<(String, String, String)> {
    let ours = |part: &str, len: usize| {
        part.len() == len
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for c in cookie::Cookie::split_parse(text).flatten() {
            if c.name() == FLOW_COOKIE {
                let mut parts = c.value().split('.');
                if let (Some(a), Some(b), Some(v), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                    && ours(a, 32)
                    && ours(b, 32)
                    && ours(v, 64)
                {
                    return Some((a.to_owned(), b.to_owned(), v.to_owned()));
                }
            }
        }
    }
    None
}

/// Ends a sign-in: checks the state, trades the code (with the PKCE
/// verifier) for an ID token, checks it, and starts a session.
async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    let p = provider(&state)?;
    if let Some(error) = q.error {
        return Err(ApiError::unauthenticated(format!(
            "the issuer refused the sign-in: {error}"
        )));
    }
    let (Some(code), Some(returned)) = (q.code, q.state) else {
        return Err(ApiError::unauthenticated(
            "the callback lacks code or state",
        ));
    };
    let (sent, nonce, verifier) = flow_cookie(&headers)
        .ok_or_else(|| ApiError::unauthenticated("no sign-in is in progress in this browser"))?;
    if !crate::auth::same_secret(&sent, &returned) {
        return Err(ApiError::unauthenticated(
            "the callback's state is not this sign-in's",
        ));
    }
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code),
        ("redirect_uri", p.config.redirect_url.clone()),
        ("client_id", p.config.client_id.clone()),
        ("code_verifier", verifier),
    ];
    if let Some(secret) = &p.config.client_secret {
        form.push(("client_secret", secret.clone()));
    }
    let tokens: TokenResponse = p
        .http
        .post(&p.discovery.token_endpoint)
        .form(&form)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| ApiError::unauthenticated(format!("the issuer's token endpoint: {e}")))?
        .json()
        .await
        .map_err(|e| ApiError::unauthenticated(format!("the issuer's token answer: {e}")))?;
    let identity = match p.check_id_token(&tokens.id_token, &nonce) {
        Err(Refusal::UnknownKey) => {
            // The issuer may have rotated its keys since they were read.
            p.refresh_keys().await.map_err(ApiError::unauthenticated)?;
            p.validate_id_token(&tokens.id_token, &nonce)?
        }
        other => other.map_err(Error::from)?,
    };
    let limits = state.settings().session;
    let issued = state
        .blocking(move |c| c.start_session(&identity.id, "oidc", &identity.groups, &limits))
        .await??;
    let mut r = found("/");
    let h = r.headers_mut();
    h.append(header::SET_COOKIE, state.session_cookie(&issued));
    h.append(
        header::SET_COOKIE,
        HeaderValue::from_static("ac_oidc=; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(r)
}
