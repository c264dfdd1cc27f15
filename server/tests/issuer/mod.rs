//! A fake OpenID Connect issuer on a free loopback port: discovery
//! document, keys (Ed25519, EdDSA) and a token endpoint that checks the
//! code, the redirect URL and the PKCE verifier as a real issuer does.
//! The test plays the issuer's sign-in page itself with
//! [`Issuer::authorize`].

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The client id the server is configured with.
pub const CLIENT_ID: &str = "actioncenter";

/// An Ed25519 key the issuer signs with, under its key id.
#[derive(Clone)]
pub struct Key {
    pub kid: String,
    seed: [u8; 32],
}

impl Key {
    pub fn new(kid: &str, seed: u8) -> Key {
        Key {
            kid: kid.to_owned(),
            seed: [seed; 32],
        }
    }

    fn signing(&self) -> SigningKey {
        SigningKey::from_bytes(&self.seed)
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        let public = self.signing().verifying_key();
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(public.as_bytes()),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }

    /// `claims`, signed with this key (EdDSA, this key's `kid`).
    pub fn sign(&self, claims: &Value) -> String {
        let der = self.signing().to_pkcs8_der().expect("pkcs8");
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes()))
            .expect("sign")
    }
}

/// A code the issuer handed out at sign-in and what it is worth.
#[derive(Debug, Clone)]
struct Grant {
    code: String,
    challenge: String,
    redirect_uri: String,
    id_token: String,
}

#[derive(Default)]
struct Shared {
    published: Vec<Value>,
    grants: Vec<Grant>,
    /// Why the token endpoint refused each request it refused.
    refusals: Vec<String>,
    /// How many times the keys were fetched.
    key_fetches: usize,
}

/// The running issuer.
#[derive(Clone)]
pub struct Issuer {
    /// The issuer URL, as in its tokens' `iss`.
    pub url: String,
    /// The key it signs with now.
    pub key: Key,
    shared: Arc<Mutex<Shared>>,
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Issuer {
    /// Starts an issuer that publishes `key`, alongside a key for
    /// encryption and a key on a curve the server cannot read (both of
    /// which the server must skip, not refuse every key over).
    pub fn start(key: Key) -> Issuer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::new(Mutex::new(Shared {
            published: vec![
                json!({"kty": "RSA", "use": "enc", "kid": "encryption", "n": "sXch", "e": "AQAB"}),
                json!({"kty": "EC", "crv": "secp256k1", "kid": "unreadable", "x": "AA", "y": "AA"}),
                key.jwk(),
            ],
            ..Shared::default()
        }));
        let issuer = Issuer {
            url: url.clone(),
            key,
            shared: shared.clone(),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(issuer.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, app).await.expect("issuer");
            });
        });
        issuer
    }

    /// Publishes `key` too and signs with it from now on (the issuer
    /// rotated its keys).
    pub fn rotate(&mut self, key: Key) {
        self.shared
            .lock()
            .expect("issuer")
            .published
            .push(key.jwk());
        self.key = key;
    }

    /// Claims of a token from this issuer for `sub`, valid for five
    /// minutes, meant for the server's client id.
    pub fn claims(&self, sub: &str) -> Value {
        json!({
            "iss": self.url,
            "aud": CLIENT_ID,
            "sub": sub,
            "iat": now(),
            "exp": now() + 300,
        })
    }

    /// A bearer access token for `sub` in `groups`, signed with the
    /// current key.
    pub fn access_token(&self, sub: &str, groups: &[&str]) -> String {
        let mut claims = self.claims(sub);
        claims["groups"] = json!(groups);
        self.key.sign(&claims)
    }

    /// What the issuer's sign-in page does with the server's redirect
    /// `location` when the user signs in: checks the request, remembers
    /// the PKCE challenge, and returns the callback URL (code and state)
    /// the browser is sent to. The ID token carries `claims`, with the
    /// request's nonce unless `claims` names one.
    pub fn authorize(&self, location: &str, mut claims: Value) -> String {
        let url = url::Url::parse(location).expect("authorize URL");
        assert_eq!(
            format!("{}{}", url.origin().ascii_serialization(), url.path()),
            format!("{}/authorize", self.url),
            "the server redirects to the issuer's authorization endpoint"
        );
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let param = |name: &str| -> String {
            q.get(name)
                .unwrap_or_else(|| panic!("the authorize request lacks {name}: {location}"))
                .clone()
        };
        assert_eq!(param("response_type"), "code");
        assert_eq!(param("client_id"), CLIENT_ID);
        assert_eq!(param("code_challenge_method"), "S256");
        assert!(
            param("scope").split(' ').any(|s| s == "openid"),
            "scope: {}",
            param("scope")
        );
        let challenge = param("code_challenge");
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&challenge).map(|b| b.len()).ok(),
            Some(32),
            "the challenge is a base64url SHA-256"
        );
        if claims.get("nonce").is_none() {
            claims["nonce"] = json!(param("nonce"));
        }
        let code = format!("code-{}", uuid::Uuid::now_v7().simple());
        let redirect_uri = param("redirect_uri");
        self.shared.lock().expect("issuer").grants.push(Grant {
            code: code.clone(),
            challenge,
            redirect_uri: redirect_uri.clone(),
            id_token: self.key.sign(&claims),
        });
        let mut back = url::Url::parse(&redirect_uri).expect("redirect_uri");
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &param("state"));
        back.into()
    }

    /// Why the token endpoint refused the requests it refused.
    pub fn refusals(&self) -> Vec<String> {
        self.shared.lock().expect("issuer").refusals.clone()
    }

    pub fn key_fetches(&self) -> usize {
        self.shared.lock().expect("issuer").key_fetches
    }
}

async fn discovery(State(issuer): State<Issuer>) -> Json<Value> {
    let url = &issuer.url;
    Json(json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "jwks_uri": format!("{url}/jwks"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(issuer): State<Issuer>) -> Json<Value> {
    let mut shared = issuer.shared.lock().expect("issuer");
    shared.key_fetches += 1;
    Json(json!({ "keys": shared.published }))
}

/// The token endpoint (RFC 6749 4.1.3 with RFC 7636 4.6): a code is
/// good once, for the redirect URL it was issued to, with the verifier
/// whose SHA-256 is the challenge sent at sign-in.
async fn token(
    State(issuer): State<Issuer>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut shared = issuer.shared.lock().expect("issuer");
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let position = shared.grants.iter().position(|g| g.code == field("code"));
    let refusal = if field("grant_type") != "authorization_code" {
        Some((
            "unsupported_grant_type",
            "grant_type is not authorization_code",
        ))
    } else if field("client_id") != CLIENT_ID {
        Some(("invalid_client", "unknown client_id"))
    } else if position.is_none() {
        Some(("invalid_grant", "unknown or used code"))
    } else {
        None
    };
    if let Some((error, why)) = refusal {
        shared.refusals.push(why.to_owned());
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
    }
    let grant = shared.grants.remove(position.unwrap_or_default());
    let proof = URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes()));
    let why = if field("redirect_uri") != grant.redirect_uri {
        Some("redirect_uri differs from the one at sign-in")
    } else if proof != grant.challenge {
        Some("code_verifier does not match the code_challenge")
    } else {
        None
    };
    if let Some(why) = why {
        shared.refusals.push(why.to_owned());
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant" })),
        )
            .into_response();
    }
    Json(json!({
        "access_token": format!("opaque-{}", grant.code),
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": grant.id_token,
    }))
    .into_response()
}
