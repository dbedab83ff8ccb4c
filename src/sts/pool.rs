//! Idle connections to STS, kept for reuse: a mint then costs one round trip, not a TCP and
//! TLS handshake as well.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use super::connection::Connection;
use super::origin::Origin;

/// How long an idle connection is kept. STS closes idle connections itself after a while;
/// this stays under that so that few reused connections meet a closed peer.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The most idle connections kept per worker and origin: enough for a burst of concurrent
/// mints.
pub const MAX_IDLE_PER_ORIGIN: usize = 256;

/// Idle connections by worker thread and origin. The lock is held only to push or pop one.
///
/// A connection is registered with the event loop of the worker that opened it, and only
/// that loop reports it readable. Reused by another worker, its reads would wait for the
/// first one's loop to come round (after a signature, say), so each worker keeps its own.
///
/// Known limitation: idle connections are only closed when a request passes by (a
/// checkout skips the stale ones, a checkin drops the expired ones), so a replica that
/// stops receiving requests keeps up to [`MAX_IDLE_PER_ORIGIN`] sockets per worker open,
/// half-closed once STS has closed its end, until its next request.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<ThreadId, HashMap<Origin, Vec<Idle>>>>,
}

struct Idle {
    connection: Connection,
    since: Instant,
}

impl Pool {
    /// The most recently used idle connection to `origin` that is still fresh and open.
    pub fn checkout(&self, origin: &Origin) -> Option<Connection> {
        let mut idle = self.lock();
        let connections = idle.get_mut(&thread::current().id())?.get_mut(origin)?;
        while let Some(candidate) = connections.pop() {
            if candidate.since.elapsed() < IDLE_TIMEOUT && candidate.connection.looks_open() {
                return Some(candidate.connection);
            }
        }
        None
    }

    /// Keeps `connection`, whose last exchange ended cleanly, for the next call to `origin`
    /// from this worker.
    pub fn checkin(&self, origin: &Origin, connection: Connection) {
        let now = Instant::now();
        let returned = Idle {
            connection,
            since: now,
        };
        let mut idle = self.lock();
        let by_origin = idle.entry(thread::current().id()).or_default();
        let connections = match by_origin.get_mut(origin) {
            Some(connections) => connections,
            None => by_origin.entry(origin.clone()).or_default(),
        };
        // Oldest first: the connections idle for too long are a prefix, closed here.
        let expired =
            connections.partition_point(|old| now.duration_since(old.since) >= IDLE_TIMEOUT);
        connections.drain(..expired);
        if connections.len() < MAX_IDLE_PER_ORIGIN {
            connections.push(returned);
        }
    }

    /// How many idle connections are kept, for tests.
    #[cfg(test)]
    pub fn idle_count(&self) -> usize {
        self.lock()
            .values()
            .flat_map(HashMap::values)
            .map(Vec::len)
            .sum()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ThreadId, HashMap<Origin, Vec<Idle>>>> {
        // The maps stay consistent whatever panicked while holding the lock: at worst a
        // connection is missing, and a new one is opened.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
