//! The live feed: one reader per server follows the audit trail in the
//! database and hands each new event to every connected client. Events
//! come from the database, not from this process, so a change made by any
//! door or any other server reaches every server's clients.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actioncenter::{ActionCenter, AuditEvent, Principal};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::{broadcast, mpsc};

use crate::AppState;
use crate::auth::Caller;

/// How many events the live channel holds for a slow client before that
/// client reads the rest from the database.
const CHANNEL: usize = 4096;
/// Events read from the database at a time.
const BATCH: usize = 500;

/// The server's reader of the trail.
#[derive(Debug)]
pub struct Feed {
    sender: broadcast::Sender<Arc<AuditEvent>>,
    /// The last sequence number read.
    head: Arc<AtomicU64>,
}

impl Feed {
    /// Starts following the trail from its current end.
    pub async fn start(center: ActionCenter, every: Duration) -> actioncenter::Result<Feed> {
        let (sender, _) = broadcast::channel(CHANNEL);
        let c = center.clone();
        let (start, _) = tokio::task::spawn_blocking(move || c.store().chain_head())
            .await
            .map_err(|e| actioncenter::Error::storage_msg(format!("the feed's reader: {e}")))??;
        let head = Arc::new(AtomicU64::new(start));
        let tx = sender.clone();
        let seen = head.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if tx.receiver_count() == 0 {
                    // Nobody listens: keep the position current, cheaply.
                    let c = center.clone();
                    if let Ok(Ok((seq, _))) =
                        tokio::task::spawn_blocking(move || c.store().chain_head()).await
                    {
                        seen.store(seq, Ordering::SeqCst);
                    }
                    continue;
                }
                loop {
                    let from = seen.load(Ordering::SeqCst);
                    let c = center.clone();
                    let read =
                        tokio::task::spawn_blocking(move || c.store().events_since(from, BATCH))
                            .await;
                    let events = match read {
                        Ok(Ok(events)) => events,
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "the live feed could not read the trail");
                            break;
                        }
                        Err(_) => break,
                    };
                    let full = events.len() == BATCH;
                    for event in events {
                        seen.store(event.seq, Ordering::SeqCst);
                        let _ = tx.send(Arc::new(event));
                    }
                    if !full {
                        break;
                    }
                }
            }
        });
        Ok(Feed { sender, head })
    }

    /// The last sequence number this server has read.
    pub fn head(&self) -> u64 {
        self.head.load(Ordering::SeqCst)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<AuditEvent>> {
        self.sender.subscribe()
    }

    pub fn clients(&self) -> usize {
        self.sender.receiver_count()
    }
}

fn to_sse(event: &AuditEvent) -> Event {
    let data = serde_json::to_string(event).unwrap_or_default();
    Event::default()
        .id(event.seq.to_string())
        .event("audit")
        .data(data)
}

/// The stream for one client: the events after `after` from the database
/// (the ones it missed), then the live ones, in order and without
/// repeats. A client too slow for the live channel catches up from the
/// database again.
pub fn stream(
    state: AppState,
    caller: Caller,
    after: u64,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::channel::<Event>(256);
    tokio::spawn(async move {
        let mut live = state.feed().subscribe();
        let mut last = after;
        let mut by = caller.principal.clone();
        let mut recheck = tokio::time::interval(state.settings().feed_recheck);
        recheck.tick().await;
        'outer: loop {
            // Catch up from the database until this server's reader is
            // not ahead of us any more.
            loop {
                let (b, from) = (by.clone(), last);
                let read = state
                    .blocking(move |c| c.events_since(&b, from, BATCH))
                    .await;
                let events = match read {
                    Ok(Ok(events)) => events,
                    _ => break 'outer,
                };
                let full = events.len() == BATCH;
                for e in &events {
                    if tx.send(to_sse(e)).await.is_err() {
                        break 'outer;
                    }
                    last = e.seq;
                }
                if !full {
                    break;
                }
            }
            loop {
                let received = tokio::select! {
                    r = live.recv() => r,
                    _ = recheck.tick() => {
                        match still_allowed(&state, &caller).await {
                            Some(now) => {
                                by = now;
                                continue;
                            }
                            None => break 'outer,
                        }
                    }
                };
                match received {
                    Ok(e) if e.seq <= last => continue,
                    Ok(e) if e.seq == last + 1 => {
                        if tx.send(to_sse(&e)).await.is_err() {
                            break 'outer;
                        }
                        last = e.seq;
                    }
                    // A gap (we subscribed after the reader passed it) or
                    // we fell behind: read the rest from the database.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue 'outer,
                    Err(broadcast::error::RecvError::Closed) => break 'outer,
                }
            }
        }
    });
    let stream =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
        );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// The caller's principal as the stored policy has it now, if its
/// credential is still live and it may still read the feed.
async fn still_allowed(state: &AppState, caller: &Caller) -> Option<Principal> {
    let caller = caller.clone();
    let limits = state.settings().session;
    let checked = state
        .blocking(move |c| -> actioncenter::Result<Principal> {
            // A session idle past its limit ends its stream too: the
            // stream itself is not the person's activity.
            let principal = match (&caller.credential, &caller.external) {
                (Some(cred), _) => c.still_authenticated(cred, Some(&limits))?,
                // An issuer's token: until it runs out, and while its
                // principal's account (if it has one) is not disabled.
                (None, Some(who)) => {
                    if who.expired(chrono::Utc::now().timestamp()) {
                        return Err(actioncenter::Error::Unauthenticated {
                            reason: "the token has expired".to_owned(),
                        });
                    }
                    c.authenticate_external(&who.id, &who.groups)?
                }
                (None, None) => caller.principal.clone(),
            };
            c.events_since(&principal, 0, 1)?;
            Ok(principal)
        })
        .await;
    match checked {
        Ok(Ok(p)) => Some(p),
        _ => None,
    }
}

/// Sweeps expired approval windows and executor leases now and then, so
/// nothing waits on a client to do it.
pub fn start_sweeps(state: AppState) {
    let every = state.settings().sweep_every;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let swept = state
                .blocking(|c| (c.expire_due(), c.recover_leases()))
                .await;
            if let Ok((Err(e), _) | (_, Err(e))) = swept {
                tracing::warn!(error = %e, "a sweep failed");
            }
        }
    });
}
