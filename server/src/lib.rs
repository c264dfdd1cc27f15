//! actioncenter-server: the Action center console in a browser, and the
//! engine over HTTP, from one process over the same database as every
//! other door.
//!
//! The server decides who is asking (see [`auth`]): a session made by a
//! password or single sign-on, an API token, or an OpenID Connect bearer
//! token. Everything else is the engine's: every rule lives in the
//! `actioncenter` crate, and each handler converts the request, forwards
//! it, and converts the answer. The routes and their OpenAPI document come
//! from the same annotations ([`api`]), so they cannot drift.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actioncenter::identity::{Issued, SessionLimits, SignInLimits};
use actioncenter::{ActionCenter, SigningKey};
use axum::Router;
use axum::http::HeaderValue;

pub mod api;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod error;
pub mod feed;
pub mod oidc;
mod web;

pub use error::{ApiError, ApiResult};

/// How a server runs. [`Settings::default`] is what the binary starts with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// PEM certificate chain and private key: serve HTTPS (and mark the
    /// session cookie `Secure`).
    pub tls: Option<(PathBuf, PathBuf)>,
    pub session: SessionLimits,
    pub sign_in: SignInLimits,
    /// Requests per minute per principal, shared by every server on the
    /// database; 0 for no limit.
    pub requests_per_minute: u64,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Largest request head (request line and headers), in bytes.
    pub max_head: usize,
    /// How long a request may take (the live feed excepted).
    pub request_timeout: Duration,
    /// How often the live feed reads new audit events from the database.
    pub feed_poll: Duration,
    /// How often a live-feed client's credential and permission are checked
    /// again: a revoked session or token, or a role taken away, ends the
    /// stream within this time.
    pub feed_recheck: Duration,
    /// How often expired approvals and leases are swept.
    pub sweep_every: Duration,
    /// The key `POST /api/v1/audit/checkpoints` signs with.
    pub checkpoint_key: Option<Arc<SigningKey>>,
    pub oidc: Option<oidc::OidcConfig>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tls: None,
            session: SessionLimits::default(),
            sign_in: SignInLimits::default(),
            requests_per_minute: 1200,
            max_body: actioncenter::error::MAX_DOCUMENT_LEN + 64 * 1024,
            max_head: 32 * 1024,
            request_timeout: Duration::from_secs(30),
            feed_poll: Duration::from_millis(200),
            feed_recheck: Duration::from_secs(15),
            sweep_every: Duration::from_secs(10),
            checkpoint_key: None,
            oidc: None,
        }
    }
}

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    center: ActionCenter,
    settings: Settings,
    feed: feed::Feed,
    oidc: Option<oidc::Provider>,
}

impl AppState {
    /// The state of a server over `center`. With OpenID Connect settings,
    /// fetches the issuer's discovery document and keys first.
    pub async fn new(center: ActionCenter, settings: Settings) -> Result<AppState, String> {
        let oidc = match &settings.oidc {
            Some(config) => Some(oidc::Provider::discover(config.clone()).await?),
            None => None,
        };
        let feed = feed::Feed::start(center.clone(), settings.feed_poll)
            .await
            .map_err(|e| format!("the live feed cannot start: {e}"))?;
        Ok(AppState(Arc::new(Shared {
            center,
            settings,
            feed,
            oidc,
        })))
    }

    pub fn center(&self) -> &ActionCenter {
        &self.0.center
    }

    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    pub fn feed(&self) -> &feed::Feed {
        &self.0.feed
    }

    pub fn oidc(&self) -> Option<&oidc::Provider> {
        self.0.oidc.as_ref()
    }

    /// Runs an engine call on the blocking pool: the engine's stores block
    /// on the disk or the network.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&ActionCenter) -> T + Send + 'static,
    ) -> ApiResult<T> {
        let center = self.0.center.clone();
        tokio::task::spawn_blocking(move || f(&center))
            .await
            .map_err(|e| {
                ApiError::from(actioncenter::Error::storage_msg(format!(
                    "the request's worker ended: {e}"
                )))
            })
    }

    /// The `Set-Cookie` value that gives the browser a new session.
    pub fn session_cookie(&self, issued: &Issued) -> HeaderValue {
        let max_age = self.settings().session.absolute.num_seconds();
        let secure = if self.settings().tls.is_some() {
            "; Secure"
        } else {
            ""
        };
        let text = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
            auth::SESSION_COOKIE,
            issued.secret
        );
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn cleared_cookie(&self) -> HeaderValue {
        HeaderValue::from_static("ac_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
    }
}

/// The whole application: console, API, OpenAPI document, with the
/// security headers, limits and timeouts.
pub fn app(state: AppState) -> Router {
    web::app(state)
}

/// The OpenAPI document the handlers describe.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router().split_for_parts().1
}

/// Serves `center` until the process is told to stop (Ctrl-C or SIGTERM).
pub async fn serve(center: ActionCenter, settings: Settings) -> Result<(), String> {
    let listener = std::net::TcpListener::bind(settings.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    serve_on(center, settings, listener).await
}

/// [`serve`] on a socket the host bound itself (port 0 for any free one).
pub async fn serve_on(
    center: ActionCenter,
    settings: Settings,
    listener: std::net::TcpListener,
) -> Result<(), String> {
    let state = AppState::new(center, settings.clone()).await?;
    feed::start_sweeps(state.clone());
    web::listen_on(state, &settings, listener).await
}
