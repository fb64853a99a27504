//! What every single payout reads and almost never changes, kept in memory for
//! `CACHED_FOR`: API keys by their prefix, and merchants. A key revoked on this node is
//! forgotten at once; on another node it stops working within `CACHED_FOR`
//! (docs/architecture.md, "Caches on the request path"). Merchants are kept for the
//! payout path, which reads only their currency and fees: those never change once a
//! merchant is created.

use std::time::Duration;

use moka::sync::Cache;

use super::Caller;
use crate::ids::MerchantId;
use crate::store::merchants::Merchant;

/// How long a key or a merchant read from the database is used without reading it again.
pub const CACHED_FOR: Duration = Duration::from_secs(5);

/// Entries each cache holds at most; the least used go first.
const CAPACITY: u64 = 100_000;

/// An unrevoked API key: the hash its presented secret must match, and who it stands for.
#[derive(Clone, Debug)]
pub struct KnownKey {
    pub hash: Vec<u8>,
    pub caller: Caller,
}

/// API keys by prefix.
#[derive(Debug)]
pub struct KeyCache(Cache<String, KnownKey>);

impl Default for KeyCache {
    fn default() -> KeyCache {
        KeyCache(fresh_for(CACHED_FOR))
    }
}

impl KeyCache {
    pub fn get(&self, prefix: &str) -> Option<KnownKey> {
        self.0.get(prefix)
    }

    pub fn keep(&self, prefix: &str, key: KnownKey) {
        self.0.insert(prefix.to_owned(), key);
    }

    /// Forgets every key: one was revoked (revoking is rare, and the prefix is not at hand).
    pub fn forget_all(&self) {
        self.0.invalidate_all();
    }
}

/// Merchants by id.
#[derive(Debug)]
pub struct MerchantCache(Cache<MerchantId, Merchant>);

impl Default for MerchantCache {
    fn default() -> MerchantCache {
        MerchantCache(fresh_for(CACHED_FOR))
    }
}

impl MerchantCache {
    pub fn get(&self, id: MerchantId) -> Option<Merchant> {
        self.0.get(&id)
    }

    pub fn keep(&self, merchant: Merchant) {
        self.0.insert(merchant.id, merchant);
    }
}

fn fresh_for<K, V>(ttl: Duration) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(CAPACITY)
        .time_to_live(ttl)
        .build()
}
