//! The housekeeping threads of the connection pools, shared while any
//! store is open and ended when the last one closes.
//!
//! r2d2 runs each pool's housekeeping (reaping idle connections, opening
//! new ones in the background) on a `ScheduledThreadPool`. Given none, it
//! starts threads of its own per pool, which outlive the pool by up to half
//! a minute, so a host that opens and closes stores often would pile them
//! up. Sharing one process-wide pool forever fixes that but leaves threads
//! running at exit, which valgrind reports and a C host did not ask for.
//!
//! So every store holds a [`Lease`] on a shared generation of threads:
//! stores opened while one is alive share its threads, and when the last
//! store closes, the generation shuts down and its closing thread waits
//! (a bounded time) until the threads have ended. Opening a store after
//! that starts a new generation.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use scheduled_thread_pool::{OnPoolDropBehavior, ScheduledThreadPool};

/// How long closing the last store waits for the threads to end. They end
/// at once unless one is in the middle of a job (opening a connection to a
/// slow server, say); then closing gives up waiting and the thread ends on
/// its own when the job is done.
const WAIT_FOR_THREADS: Duration = Duration::from_secs(2);

/// One kind of shared housekeeping threads (one for SQLite pools, one
/// for PostgreSQL pools).
#[derive(Debug)]
pub(crate) struct Shared {
    name: &'static str,
    threads: usize,
    current: Mutex<Weak<Generation>>,
}

impl Shared {
    /// Threads named `name` (with `{}` for the thread's number), `threads` of them.
    pub(crate) const fn new(name: &'static str, threads: usize) -> Shared {
        Shared {
            name,
            threads,
            current: Mutex::new(Weak::new()),
        }
    }

    /// A lease on the live generation, or on a new one.
    pub(crate) fn lease(&self) -> Lease {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(generation) = current.upgrade() {
            return Lease(generation);
        }
        let generation = Arc::new(Generation::start(self.name, self.threads));
        *current = Arc::downgrade(&generation);
        Lease(generation)
    }
}

/// What a store holds while it is open. Declare it after the store's pool,
/// so the pool (and its handle on the threads) is dropped first.
#[derive(Debug, Clone)]
pub(crate) struct Lease(Arc<Generation>);

impl Lease {
    /// The thread pool to give r2d2's builder.
    pub(crate) fn pool(&self) -> Arc<ScheduledThreadPool> {
        match &self.0.pool {
            Some(pool) => Arc::clone(pool),
            // Only `Generation::drop` takes it, and no lease outlives that.
            None => Arc::new(build(self.0.name, self.0.threads)),
        }
    }
}

/// Threads started together and ended together.
struct Generation {
    name: &'static str,
    threads: usize,
    pool: Option<Arc<ScheduledThreadPool>>,
    /// `/proc/self/task/<tid>` of each thread, where the system has one.
    tasks: Vec<PathBuf>,
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("name", &self.name)
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

fn build(name: &str, threads: usize) -> ScheduledThreadPool {
    ScheduledThreadPool::builder()
        .num_threads(threads.max(1))
        .thread_name_pattern(name)
        // A periodic job (the idle reaper) must not keep a thread alive
        // for its next run once the last pool has gone.
        .on_drop_behavior(OnPoolDropBehavior::DiscardPendingScheduled)
        .build()
}

impl Generation {
    fn start(name: &'static str, threads: usize) -> Generation {
        let pool = Arc::new(build(name, threads));
        let tasks = task_paths(&pool, threads.max(1));
        Generation {
            name,
            threads,
            pool: Some(pool),
            tasks,
        }
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        let Some(mut pool) = self.pool.take() else {
            return;
        };
        let deadline = Instant::now() + WAIT_FOR_THREADS;
        // Every store of this generation has dropped its pool; a pool job
        // running right now may still hold the threads for a moment.
        loop {
            match Arc::try_unwrap(pool) {
                Ok(last) => {
                    drop(last); // tells the threads to end
                    break;
                }
                Err(_still_held) if Instant::now() >= deadline => return,
                Err(still_held) => {
                    pool = still_held;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        let me = current_task();
        for task in &self.tasks {
            if me.as_ref() == Some(task) {
                continue;
            }
            while task.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// Where the calling thread appears under `/proc/self/task`, on systems
/// that have it (Linux).
fn current_task() -> Option<PathBuf> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    let tid = link.file_name()?;
    Some(PathBuf::from("/proc/self/task").join(tid))
}

/// The task path of each of the pool's `threads` threads: one job per
/// thread, each holding its thread until all have reported, so no thread
/// reports twice. Empty where the system has no `/proc/thread-self`.
fn task_paths(pool: &ScheduledThreadPool, threads: usize) -> Vec<PathBuf> {
    if current_task().is_none() {
        return Vec::new();
    }
    let seen = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
    for _ in 0..threads {
        let seen = Arc::clone(&seen);
        pool.execute(move || {
            let (found, all_in) = &*seen;
            let mut found = found
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            found.extend(current_task());
            all_in.notify_all();
            let deadline = Instant::now() + WAIT_FOR_THREADS;
            while found.len() < threads && Instant::now() < deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                found = all_in
                    .wait_timeout(found, left)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
        });
    }
    let (found, all_in) = &*seen;
    let mut found = found
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let deadline = Instant::now() + WAIT_FOR_THREADS;
    while found.len() < threads && Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        found = all_in
            .wait_timeout(found, left)
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0;
    }
    found.clone()
}
