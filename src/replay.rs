//! Rule 10: each signature is accepted once while it could still be fresh.
//!
//! A signed `GetCallerIdentity` request is a bearer credential for as long as STS would
//! accept it. Without this check, anyone who sees one (a log, a proxy, a compromised peer)
//! could trade it for tokens again and again. The cache remembers every signature it has
//! seen until that signature's freshness window closes.
//!
//! The in-memory cache serves one replica. Several replicas need a shared store (DynamoDB
//! with a conditional put and a TTL attribute) behind the same [`ReplayCache`] interface.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The future a [`ReplayCache`] returns.
pub type ReplayFuture<'a> = Pin<Box<dyn Future<Output = Result<Use, ReplayError>> + Send + 'a>>;

/// Whether a signature was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// First time seen: it is now remembered.
    First,
    /// Seen before while still fresh: a replay.
    Repeated,
}

/// The cache could not answer; the request must be refused (fail closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// Every slot holds a signature that is still fresh.
    #[error("the replay cache is full of fresh signatures")]
    Full,
    /// A shared store did not answer.
    #[error("the replay cache is unavailable")]
    Unavailable,
}

/// Remembers signatures until their freshness window closes.
pub trait ReplayCache: Send + Sync + 'static {
    /// Records `signature` as used until `fresh_until` and says whether it was new.
    /// Atomic: of two concurrent calls with one signature, exactly one sees [`Use::First`].
    fn record<'a>(
        &'a self,
        signature: &'a [u8; 32],
        fresh_until: SystemTime,
        now: SystemTime,
    ) -> ReplayFuture<'a>;

    /// Forgets `signature`: STS refused it, so it was never a credential and need not take
    /// a slot until its window closes.
    fn forget<'a>(
        &'a self,
        signature: &'a [u8; 32],
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

const SHARDS: usize = 64;

// The maps keep std's keyed SipHash: a caller picks its signature freely before STS has
// checked it, so an unkeyed hash would invite collision floods.

/// A replay cache in this process's memory, split into shards so that concurrent requests
/// rarely wait on one another.
pub struct InMemoryReplayCache {
    shards: Vec<Mutex<HashMap<[u8; 32], u64>>>,
    capacity_per_shard: usize,
    shard_hasher: RandomState,
}

impl InMemoryReplayCache {
    /// A cache holding at most `capacity` fresh signatures. When it is full of signatures
    /// that are all still fresh, new requests are refused rather than remembered poorly.
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            capacity_per_shard: capacity.div_ceil(SHARDS).max(1),
            shard_hasher: RandomState::new(),
        }
    }

    /// How many signatures are remembered now.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().map_or(0, |entries| entries.len()))
            .sum()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, signature: &[u8; 32]) -> &Mutex<HashMap<[u8; 32], u64>> {
        // Keyed, so a caller cannot aim its signatures at one shard and fill it.
        let index = self.shard_hasher.hash_one(signature) as usize % SHARDS;
        &self.shards[index]
    }

    fn record_now(
        &self,
        signature: &[u8; 32],
        fresh_until: SystemTime,
        now: SystemTime,
    ) -> Result<Use, ReplayError> {
        let now = unix(now);
        let fresh_until = unix(fresh_until);
        let mut entries = self
            .shard(signature)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());

        if let Some(until) = entries.get(signature)
            && *until >= now
        {
            return Ok(Use::Repeated);
        }
        if entries.len() >= self.capacity_per_shard {
            entries.retain(|_, until| *until >= now);
            if entries.len() >= self.capacity_per_shard {
                return Err(ReplayError::Full);
            }
        }
        entries.insert(*signature, fresh_until);
        Ok(Use::First)
    }
}

impl ReplayCache for InMemoryReplayCache {
    fn record<'a>(
        &'a self,
        signature: &'a [u8; 32],
        fresh_until: SystemTime,
        now: SystemTime,
    ) -> ReplayFuture<'a> {
        Box::pin(std::future::ready(self.record_now(
            signature,
            fresh_until,
            now,
        )))
    }

    fn forget<'a>(
        &'a self,
        signature: &'a [u8; 32],
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        self.shard(signature)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(signature);
        Box::pin(std::future::ready(()))
    }
}

fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[tokio::test]
    async fn a_signature_is_accepted_once_while_fresh() {
        let cache = InMemoryReplayCache::new(1000);
        let signature = [7u8; 32];
        assert_eq!(
            cache.record(&signature, at(900), at(0)).await,
            Ok(Use::First)
        );
        assert_eq!(
            cache.record(&signature, at(900), at(10)).await,
            Ok(Use::Repeated)
        );
        assert_eq!(
            cache.record(&signature, at(900), at(900)).await,
            Ok(Use::Repeated)
        );
    }

    #[tokio::test]
    async fn an_expired_entry_no_longer_counts() {
        let cache = InMemoryReplayCache::new(1000);
        let signature = [7u8; 32];
        cache.record(&signature, at(900), at(0)).await.unwrap();
        // Past its window the request itself is stale, so a new use is harmless here.
        assert_eq!(
            cache.record(&signature, at(1900), at(901)).await,
            Ok(Use::First)
        );
    }

    #[tokio::test]
    async fn a_full_cache_fails_closed_then_recovers_when_entries_expire() {
        let cache = InMemoryReplayCache::new(SHARDS);
        let first = [0u8; 32];
        let second = (1..=u8::MAX)
            .map(|byte| [byte; 32])
            .find(|candidate| std::ptr::eq(cache.shard(candidate), cache.shard(&first)))
            .expect("some signature shares the first one's shard");
        cache.record(&first, at(900), at(0)).await.unwrap();
        assert_eq!(
            cache.record(&second, at(900), at(0)).await,
            Err(ReplayError::Full)
        );
        assert_eq!(
            cache.record(&second, at(1900), at(901)).await,
            Ok(Use::First)
        );
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn a_forgotten_signature_frees_its_slot() {
        let cache = InMemoryReplayCache::new(1000);
        let signature = [9u8; 32];
        cache.record(&signature, at(900), at(0)).await.unwrap();
        cache.forget(&signature).await;
        assert!(cache.is_empty());
    }

    #[test]
    fn concurrent_uses_of_one_signature_admit_exactly_one() {
        let cache = std::sync::Arc::new(InMemoryReplayCache::new(1000));
        let firsts: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let cache = &cache;
                    scope.spawn(move || cache.record_now(&[3u8; 32], at(900), at(0)))
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap())
                .filter(|outcome| *outcome == Ok(Use::First))
                .count()
        });
        assert_eq!(firsts, 1);
    }
}
