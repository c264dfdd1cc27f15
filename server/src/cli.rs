//! The server's command-line options, shared by `actioncenter-server` and
//! `actionctl serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use actioncenter::ActionCenter;

use crate::Settings;
use crate::oidc::OidcConfig;

/// How to serve.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Requests per minute per principal, shared by every server on the
    /// database (0: no limit).
    #[arg(long, default_value_t = 1200)]
    pub rate_limit: u64,
    /// Minutes a session may stay unused.
    #[arg(long, default_value_t = 30)]
    pub session_idle_minutes: i64,
    /// Hours a session lasts at most.
    #[arg(long, default_value_t = 12)]
    pub session_hours: i64,
    /// An Ed25519 private key (PEM, `actionctl audit keygen`) that signs
    /// checkpoints made through the API.
    #[arg(long)]
    pub checkpoint_key: Option<PathBuf>,
    /// OpenID Connect issuer URL: enables single sign-on.
    #[arg(long, requires = "oidc_client_id")]
    pub oidc_issuer: Option<String>,
    /// The client id registered with the issuer.
    #[arg(long)]
    pub oidc_client_id: Option<String>,
    /// The client secret, from this environment variable (never a flag:
    /// flags show in process lists).
    #[arg(long, default_value = "ACTIONCENTER_OIDC_CLIENT_SECRET")]
    pub oidc_client_secret_env: String,
    /// This server's public address for the callback, e.g.
    /// https://actions.example.com (default: http://LISTEN).
    #[arg(long)]
    pub public_url: Option<String>,
    /// The claim naming the principal.
    #[arg(long, default_value = "sub")]
    pub oidc_id_claim: String,
    /// The claim listing groups.
    #[arg(long, default_value = "groups")]
    pub oidc_groups_claim: String,
    /// The audience bearer access tokens must name (default: the client id).
    #[arg(long)]
    pub oidc_api_audience: Option<String>,
}

impl ServeArgs {
    /// The settings these options describe.
    pub fn settings(&self) -> Result<Settings, String> {
        let mut s = Settings {
            listen: self.listen,
            requests_per_minute: self.rate_limit,
            ..Settings::default()
        };
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            s.tls = Some((cert.clone(), key.clone()));
        }
        if self.session_idle_minutes < 1 || self.session_hours < 1 {
            return Err("session lifetimes must be at least 1".into());
        }
        s.session.idle = chrono::Duration::minutes(self.session_idle_minutes);
        s.session.absolute = chrono::Duration::hours(self.session_hours);
        if let Some(path) = &self.checkpoint_key {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| format!("--checkpoint-key {}: {e}", path.display()))?;
            let key = actioncenter::checkpoint::signing_key_from_pem(&pem)
                .map_err(|e| format!("--checkpoint-key {}: {e}", path.display()))?;
            s.checkpoint_key = Some(Arc::new(key));
        }
        if let (Some(issuer), Some(client)) = (&self.oidc_issuer, &self.oidc_client_id) {
            let scheme = if s.tls.is_some() { "https" } else { "http" };
            let base = self
                .public_url
                .clone()
                .unwrap_or_else(|| format!("{scheme}://{}", self.listen));
            let mut c = OidcConfig::new(
                issuer,
                client,
                &format!("{}/auth/oidc/callback", base.trim_end_matches('/')),
            );
            c.client_secret = std::env::var(&self.oidc_client_secret_env).ok();
            c.id_claim = self.oidc_id_claim.clone();
            c.groups_claim = self.oidc_groups_claim.clone();
            c.api_audience = self.oidc_api_audience.clone();
            s.oidc = Some(c);
        }
        Ok(s)
    }
}

/// Logs to stderr, one line per request (`RUST_LOG` to choose).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// Serves `center` with these options until stopped. `banner` is printed
/// once the server listens (the demo's sign-in hint).
pub fn run(center: ActionCenter, args: &ServeArgs, banner: Option<String>) -> Result<(), String> {
    let settings = args.settings()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    runtime.block_on(async move {
        let listener = std::net::TcpListener::bind(settings.listen)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
        let bound = listener
            .local_addr()
            .map_err(|e| format!("the listening socket: {e}"))?;
        println!("Action center: {scheme}://{bound}/");
        if let Some(b) = banner {
            println!("{b}");
        }
        crate::serve_on(center, settings, listener).await
    })
}
