//! Rule 10: each signature is accepted once while it could still be fresh.
//!
//! A signed `GetCallerIdentity` request is a bearer credential for as long as STS would
//! accept it. Without this check, anyone who sees one (a log, a proxy, a compromised peer)
//! could trade it for tokens again and again. The cache remembers every signature it has
//! seen until that signature's freshness window closes.
//!
//! The in-memory cache keeps 8 bytes of each signature and the second its window closes,
//! in tables that grow with the traffic up to a fixed cap, and drops expired entries as
//! time passes.
//! It serves one replica. Several replicas need a shared store (DynamoDB with a conditional
//! put and a TTL attribute) behind the same [`ReplayCache`] interface.

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

/// How many independently locked parts the in-memory cache has. `REPLAY_CACHE_CAPACITY`
/// in `app.rs` is a multiple of it chosen to fill each shard's table exactly.
const SHARDS: usize = 72;

/// How often, at most, a shard drops its expired entries as time passes. A pass reads one
/// shard's table once (at most about 29,000 entries), so once every 10 seconds is a cost
/// that does not show next to the requests, and entries linger at most this long after
/// their window closes.
const SWEEP_INTERVAL_SECONDS: u32 = 10;

/// The first 8 bytes of a signature: what the in-memory cache remembers of it.
///
/// Stored as bytes rather than a `u64` so that an entry (this and a `u32` expiry) takes
/// 12 bytes in the table instead of 16 with a `u64`'s alignment padding.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Fingerprint([u8; 8]);

impl Fingerprint {
    fn of(signature: &[u8; 32]) -> Self {
        // Keeping 8 of the 32 bytes is safe here. An honest signature is HMAC-SHA256 output,
        // uniformly random, so two honest ones share a fingerprint with odds of about 2^-64
        // per pair. A collision can only make the cache answer `Repeated`, that is refuse a
        // request, never accept a replay. A caller who wants to block an honest signature
        // this way would need its first bytes before it is used, and by then it is spent.
        let mut prefix = [0u8; 8];
        prefix.copy_from_slice(&signature[..8]);
        Self(prefix)
    }
}

impl std::hash::Hash for Fingerprint {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // One `u64` write: no length prefix to hash, unlike a byte array.
        state.write_u64(u64::from_le_bytes(self.0));
    }
}

// The maps keep std's keyed SipHash: a caller picks its signature freely before STS has
// checked it, so an unkeyed hash would invite collision floods. Each map has its own key,
// distinct from the one that picks the shard, so the entries of one shard (which share
// their shard hash) still spread evenly over their map.

/// One independently locked part of the in-memory cache.
struct Shard {
    /// Each remembered fingerprint, with the second (since the Unix epoch) after which its
    /// signature is stale.
    entries: HashMap<Fingerprint, u32>,
    /// The `now` of the last pass that dropped expired entries.
    swept_at: u32,
}

impl Shard {
    /// Drops the entries whose window closed before `now`.
    fn sweep(&mut self, now: u32) {
        self.entries.retain(|_, fresh_until| *fresh_until >= now);
        self.swept_at = now;
    }

    /// Makes sure one more entry fits without the table growing past `capacity` entries.
    ///
    /// Removing entries from a nearly full table leaves markers behind that still take
    /// room, and when they have used up the room left, the standard table doubles instead
    /// of cleaning them: in a simulation at 1,500 signatures a second every table had
    /// doubled within 10 minutes of the cache filling. So the table is rebuilt here at the
    /// moment it would grow: with room for twice the fresh entries it holds, but never
    /// more than `capacity`. While traffic rises that is a plain doubling; once a shard is
    /// at its cap, a cleanup at the same size (at a steady 1,350 a second, about once
    /// every two hours per shard).
    fn make_room(&mut self, now: u32, capacity: usize) {
        let held = self.entries.len();
        if held < self.entries.capacity() {
            return;
        }
        self.entries.retain(|_, fresh_until| *fresh_until >= now);
        self.swept_at = now;
        let fresh = self.entries.len();
        let room = fresh
            .saturating_mul(2)
            .max(MIN_SHARD_ROOM)
            .min(capacity.max(fresh + 1));
        let mut rebuilt = HashMap::with_capacity_and_hasher(room, RandomState::new());
        rebuilt.extend(self.entries.drain());
        self.entries = rebuilt;
    }
}

/// The smallest table a shard is rebuilt into, so that a quiet shard is not rebuilt for
/// every few entries.
const MIN_SHARD_ROOM: usize = 64;

/// A replay cache in this process's memory, split into shards so that concurrent requests
/// rarely wait on one another.
///
/// Each slot takes 13 bytes (an 8-byte fingerprint, a 4-byte expiry and the table's
/// control byte), and a table holds at most 7/8 as many entries as it has slots. Tables
/// start empty and grow with the traffic, up to their share of the capacity, so an idle
/// replica holds next to nothing. Expired entries are dropped about every
/// [`SWEEP_INTERVAL_SECONDS`] as requests arrive, so the cache holds roughly the
/// signatures of the last freshness window, not everything up to its capacity.
///
/// Known limitation: the cache trusts the `now` it is given; if the clock is stepped back,
/// a signature dropped as expired could be accepted again while it looks fresh once more.
pub struct InMemoryReplayCache {
    shards: Vec<Mutex<Shard>>,
    capacity_per_shard: usize,
    shard_hasher: RandomState,
}

impl InMemoryReplayCache {
    /// A cache holding at most `capacity` fresh signatures. When it is full of signatures
    /// that are all still fresh, new requests are refused rather than remembered poorly.
    pub fn new(capacity: usize) -> Self {
        let capacity_per_shard = capacity.div_ceil(SHARDS).max(1);
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: HashMap::with_hasher(RandomState::new()),
                        swept_at: 0,
                    })
                })
                .collect(),
            capacity_per_shard,
            shard_hasher: RandomState::new(),
        }
    }

    /// How many signatures are remembered now, including expired ones not yet swept.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().map_or(0, |shard| shard.entries.len()))
            .sum()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, key: Fingerprint) -> &Mutex<Shard> {
        // Keyed, so a caller cannot aim its signatures at one shard and fill it.
        let index = self.shard_hasher.hash_one(key) as usize % SHARDS;
        &self.shards[index]
    }

    fn record_now(
        &self,
        signature: &[u8; 32],
        fresh_until: SystemTime,
        now: SystemTime,
    ) -> Result<Use, ReplayError> {
        let now = unix_seconds(now);
        let fresh_until = unix_seconds(fresh_until);
        let key = Fingerprint::of(signature);
        let mut shard = self
            .shard(key)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());

        if now.saturating_sub(shard.swept_at) >= SWEEP_INTERVAL_SECONDS {
            shard.sweep(now);
        }

        match shard.entries.get_mut(&key) {
            Some(until) if *until >= now => return Ok(Use::Repeated),
            Some(until) => {
                // Seen before, but that window has closed: the slot is reused.
                *until = fresh_until;
                return Ok(Use::First);
            }
            None => {}
        }

        if shard.entries.len() >= self.capacity_per_shard {
            // Entries expire by the whole second, so a second pass within the same second
            // cannot free more; this bounds the work a full cache does per request.
            if now > shard.swept_at {
                shard.sweep(now);
            }
            if shard.entries.len() >= self.capacity_per_shard {
                return Err(ReplayError::Full);
            }
        }
        shard.make_room(now, self.capacity_per_shard);
        shard.entries.insert(key, fresh_until);
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
        // Only a signature that was just recorded as its fingerprint's first use is
        // forgotten, so the entry removed is its own.
        let key = Fingerprint::of(signature);
        self.shard(key)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entries
            .remove(&key);
        Box::pin(std::future::ready(()))
    }
}

/// Whole seconds since the Unix epoch, saturating: 0 before it, `u32::MAX` after 2106.
fn unix_seconds(time: SystemTime) -> u32 {
    time.duration_since(UNIX_EPOCH).map_or(0, |elapsed| {
        u32::try_from(elapsed.as_secs()).unwrap_or(u32::MAX)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn same_shard(cache: &InMemoryReplayCache, one: &[u8; 32], other: &[u8; 32]) -> bool {
        std::ptr::eq(
            cache.shard(Fingerprint::of(one)),
            cache.shard(Fingerprint::of(other)),
        )
    }

    /// `count` signatures with distinct fingerprints that all land in one shard.
    fn signatures_in_one_shard(cache: &InMemoryReplayCache, count: usize) -> Vec<[u8; 32]> {
        let signature = |index: u32| {
            let mut signature = [0u8; 32];
            signature[..4].copy_from_slice(&index.to_le_bytes());
            signature
        };
        let first = signature(0);
        let found: Vec<_> = (0..=u32::MAX)
            .map(signature)
            .filter(|candidate| same_shard(cache, candidate, &first))
            .take(count)
            .collect();
        assert_eq!(found.len(), count);
        found
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
        // One entry a shard. The shard key is random, so two signatures that share a shard
        // are searched for, among enough candidates that the search never comes up empty.
        let cache = InMemoryReplayCache::new(SHARDS);
        let signatures = signatures_in_one_shard(&cache, 2);
        let (first, second) = (&signatures[0], &signatures[1]);
        cache.record(first, at(900), at(0)).await.unwrap();
        assert_eq!(
            cache.record(second, at(900), at(0)).await,
            Err(ReplayError::Full)
        );
        assert_eq!(
            cache.record(second, at(1900), at(901)).await,
            Ok(Use::First)
        );
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn expired_entries_are_swept_as_time_passes_without_the_shard_being_full() {
        let cache = InMemoryReplayCache::new(10_000);
        let signatures = signatures_in_one_shard(&cache, 6);
        let (old, new) = signatures.split_at(5);
        for signature in old {
            cache.record(signature, at(60), at(0)).await.unwrap();
        }
        assert_eq!(cache.len(), 5);

        cache.record(&new[0], at(1000), at(61)).await.unwrap();
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn fresh_entries_survive_a_sweep() {
        let cache = InMemoryReplayCache::new(10_000);
        let signatures = signatures_in_one_shard(&cache, 3);
        cache.record(&signatures[0], at(60), at(0)).await.unwrap();
        cache.record(&signatures[1], at(900), at(0)).await.unwrap();

        cache
            .record(&signatures[2], at(1000), at(61))
            .await
            .unwrap();
        assert_eq!(cache.len(), 2);
        assert_eq!(
            cache.record(&signatures[1], at(900), at(62)).await,
            Ok(Use::Repeated)
        );
    }

    #[tokio::test]
    async fn a_shard_grows_with_its_entries_but_never_past_its_share() {
        // 896 a shard: 7/8 of 1,024 slots, a table's exact capacity, as in production.
        let cache = InMemoryReplayCache::new(SHARDS * 896);
        let signatures = signatures_in_one_shard(&cache, 12_000);
        let table_size = || {
            cache
                .shard(Fingerprint::of(&signatures[0]))
                .lock()
                .unwrap()
                .entries
                .capacity()
        };
        assert_eq!(table_size(), 0, "an idle cache holds no table");
        let share = HashMap::<Fingerprint, u32>::with_capacity(cache.capacity_per_shard).capacity();

        // 100 new entries every 11 seconds, each fresh for 70: the shard holds about 700,
        // near its share, and keeps dropping entries. Left to itself, a table that full
        // fills with the markers removals leave, and doubles.
        for (round, batch) in (0u64..).zip(signatures.chunks(100)) {
            let now = round * 11;
            for signature in batch {
                assert_eq!(
                    cache.record(signature, at(now + 70), at(now)).await,
                    Ok(Use::First)
                );
            }
            assert!(
                table_size() <= share,
                "grew past its share in round {round}"
            );
        }
    }

    #[tokio::test]
    async fn signatures_differing_only_after_their_first_8_bytes_count_as_one_use() {
        // The cache remembers 8 bytes of each signature (see `Fingerprint::of`).
        let cache = InMemoryReplayCache::new(1000);
        let signature = [7u8; 32];
        let mut same_prefix = signature;
        same_prefix[8..].fill(0);
        let mut other_prefix = signature;
        other_prefix[7] = 0;

        assert_eq!(
            cache.record(&signature, at(900), at(0)).await,
            Ok(Use::First)
        );
        assert_eq!(
            cache.record(&same_prefix, at(900), at(0)).await,
            Ok(Use::Repeated)
        );
        assert_eq!(
            cache.record(&other_prefix, at(900), at(0)).await,
            Ok(Use::First)
        );
    }

    #[tokio::test]
    async fn times_beyond_32_bit_seconds_saturate_and_stay_fresh() {
        let cache = InMemoryReplayCache::new(1000);
        let signature = [5u8; 32];
        let far = at(u64::from(u32::MAX) + 1000);
        cache.record(&signature, far, at(0)).await.unwrap();
        assert_eq!(
            cache
                .record(&signature, far, at(u64::from(u32::MAX) - 1))
                .await,
            Ok(Use::Repeated)
        );
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
