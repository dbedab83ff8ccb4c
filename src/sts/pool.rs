//! Idle connections to STS, kept for reuse: a mint then costs one round trip, not a TCP and
//! TLS handshake as well.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::connection::Connection;
use super::origin::Origin;

/// How long an idle connection is kept. STS closes idle connections itself after a while;
/// this stays under that so that few reused connections meet a closed peer.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The most idle connections kept per origin: enough for a burst of concurrent mints.
pub const MAX_IDLE_PER_ORIGIN: usize = 256;

/// Idle connections by origin. The lock is held only to push or pop one.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<Origin, Vec<Idle>>>,
}

struct Idle {
    connection: Connection,
    since: Instant,
}

impl Pool {
    /// The most recently used idle connection to `origin` that is still fresh and open.
    pub fn checkout(&self, origin: &Origin) -> Option<Connection> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let connections = idle.get_mut(origin)?;
        while let Some(candidate) = connections.pop() {
            if candidate.since.elapsed() < IDLE_TIMEOUT && candidate.connection.looks_open() {
                return Some(candidate.connection);
            }
        }
        None
    }

    /// Keeps `connection`, whose last exchange ended cleanly, for the next call to `origin`.
    pub fn checkin(&self, origin: &Origin, connection: Connection) {
        let now = Instant::now();
        let returned = Idle {
            connection,
            since: now,
        };
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let connections = match idle.get_mut(origin) {
            Some(connections) => connections,
            None => idle.entry(origin.clone()).or_default(),
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
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        idle.values().map(Vec::len).sum()
    }
}
