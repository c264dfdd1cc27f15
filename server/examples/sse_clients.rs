//! The live feed under load: `--clients` browsers follow
//! `/api/v1/events/stream` while `--proposals` actions are proposed
//! through the API; how many events reached them per second, and how late.
//!
//! ```sh
//! cargo run --release -p actioncenter-server --example sse_clients -- \
//!     --base http://127.0.0.1:8080 --watch-token act_... --propose-token act_... \
//!     --clients 200 --proposals 1000
//! ```
//!
//! Prints one JSON object: `events` delivered in all (each client counts
//! each proposal once), `events_per_second` over the time from the first
//! proposal sent to the last event received, and the delay of each
//! receipt two ways: from the event's `at` (the time the server recorded
//! it) and from the moment its proposal was sent, as `p50_ms` / `p99_ms`.
//! Clients and server share this machine's clock. The server must run with
//! `--rate-limit 0` (or a limit above these requests).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Parser;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// Followers of the live feed, and proposals for them to see.
#[derive(Debug, Parser)]
struct Args {
    /// The server, like http://127.0.0.1:8080.
    #[arg(long)]
    base: String,
    /// The API token the clients follow the feed with (needs view).
    #[arg(long)]
    watch_token: String,
    /// The API token the proposals are made with (needs propose).
    #[arg(long)]
    propose_token: String,
    #[arg(long, default_value_t = 200)]
    clients: usize,
    #[arg(long, default_value_t = 1000)]
    proposals: usize,
    /// Proposals in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds to wait, after the last proposal, for every client to see
    /// every proposal.
    #[arg(long, default_value_t = 30)]
    patience: u64,
}

/// What one client received: each proposal's id, its `at` and when it came.
type Receipts = Vec<(String, DateTime<Utc>, DateTime<Utc>)>;

/// Follows the feed until `wanted` propose events came, or the stream ends.
async fn follow(
    client: reqwest::Client,
    url: String,
    token: String,
    wanted: usize,
    connected: Arc<AtomicUsize>,
) -> Result<Receipts, String> {
    let mut response = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|e| format!("open the feed: {e}"))?;
    if response.status() != 200 {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        return Err(format!("the feed answered {status}: {text}"));
    }
    connected.fetch_add(1, Ordering::SeqCst);
    let mut receipts = Vec::with_capacity(wanted);
    let mut pending: Vec<u8> = Vec::new();
    while receipts.len() < wanted {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Err(format!("the feed ended after {} events", receipts.len())),
            Err(e) => return Err(format!("reading the feed: {e}")),
        };
        let now = Utc::now();
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let Some(data) = line.strip_prefix(b"data:") else {
                continue;
            };
            let event: Value = serde_json::from_slice(data)
                .map_err(|e| format!("an event that is not JSON: {e}"))?;
            if event["event"] != "propose" {
                continue;
            }
            let (Some(id), Some(at)) = (event["action_id"].as_str(), event["at"].as_str()) else {
                return Err(format!("an event without action_id or at: {event}"));
            };
            let at = DateTime::parse_from_rfc3339(at)
                .map_err(|e| format!("at {at:?}: {e}"))?
                .with_timezone(&Utc);
            receipts.push((id.to_owned(), at, now));
        }
    }
    Ok(receipts)
}

fn ms(d: chrono::Duration) -> f64 {
    d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn run(args: Args) -> Result<Value, String> {
    let base = args.base.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .map_err(|e| format!("client: {e}"))?;
    let connected = Arc::new(AtomicUsize::new(0));
    let mut followers = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        followers.push(tokio::spawn(follow(
            client.clone(),
            format!("{base}/api/v1/events/stream"),
            args.watch_token.clone(),
            args.proposals,
            connected.clone(),
        )));
    }
    // Every client connected before the first proposal.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while connected.load(Ordering::SeqCst) < args.clients {
        if tokio::time::Instant::now() > deadline || followers.iter().any(|f| f.is_finished()) {
            let n = connected.load(Ordering::SeqCst);
            for f in followers {
                if f.is_finished()
                    && let Ok(Err(e)) = f.await
                {
                    return Err(format!("{n} of {} clients connected: {e}", args.clients));
                }
            }
            return Err(format!("{n} of {} clients connected in 60 s", args.clients));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = Utc::now();
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let mut proposals = Vec::with_capacity(args.proposals);
    let run = actioncenter::uuid::Uuid::now_v7().simple().to_string();
    for i in 0..args.proposals {
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| format!("{e}"))?;
        let (client, url, token) = (
            client.clone(),
            format!("{base}/api/v1/actions"),
            args.propose_token.clone(),
        );
        let body = json!({
            "kind": "isolate_device",
            "entity": {"type": "device", "device_id": format!("sse-{run}-{i}")},
            "source": {"type": "playbook", "name": "sse-load"},
        });
        proposals.push(tokio::spawn(async move {
            let sent = Utc::now();
            let r = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("propose: {e}"));
            drop(permit);
            let r = r?;
            let status = r.status();
            let v: Value = r.json().await.map_err(|e| format!("propose: {e}"))?;
            if status != 201 {
                return Err(format!("propose answered {status}: {v}"));
            }
            let id = v["id"].as_str().ok_or("a proposal without id")?.to_owned();
            Ok::<_, String>((id, sent))
        }));
    }
    let mut sent_at: HashMap<String, DateTime<Utc>> = HashMap::new();
    for p in proposals {
        let (id, sent) = p.await.map_err(|e| format!("{e}"))??;
        sent_at.insert(id, sent);
    }
    let proposed = Utc::now();

    let patience = Duration::from_secs(args.patience);
    let deadline = tokio::time::Instant::now() + patience;
    let mut from_at = Vec::new();
    let mut from_send = Vec::new();
    let mut last = started;
    let mut short = Vec::new();
    for f in followers {
        match tokio::time::timeout_at(deadline, f).await {
            Ok(Ok(Ok(receipts))) => {
                for (id, at, got) in receipts {
                    if let Some(sent) = sent_at.get(&id) {
                        from_at.push(ms(got - at));
                        from_send.push(ms(got - *sent));
                        last = last.max(got);
                    }
                }
            }
            Ok(Ok(Err(e))) => short.push(e),
            Ok(Err(e)) => short.push(format!("a client's task: {e}")),
            Err(_) => short.push(format!(
                "a client had not seen every proposal {patience:?} after the last"
            )),
        }
    }
    from_at.sort_by(f64::total_cmp);
    from_send.sort_by(f64::total_cmp);
    let span = ms(last - started) / 1000.0;
    let events = from_at.len();
    Ok(json!({
        "clients": args.clients,
        "proposals": sent_at.len(),
        "proposals_per_second": sent_at.len() as f64 / (ms(proposed - started) / 1000.0).max(1e-9),
        "events": events,
        "expected_events": args.clients * args.proposals,
        "seconds": span,
        "events_per_second": if span > 0.0 { events as f64 / span } else { 0.0 },
        "delay_from_at": {"p50_ms": quantile(&from_at, 0.5), "p99_ms": quantile(&from_at, 0.99)},
        "delay_from_send": {"p50_ms": quantile(&from_send, 0.5), "p99_ms": quantile(&from_send, 0.99)},
        "clients_short": short.len(),
        "first_problem": short.first(),
    }))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sse_clients: the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(v) => {
            println!("{v}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sse_clients: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
