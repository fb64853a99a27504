//! An operator access token, cached and refreshed before it expires, with one refresh at a
//! time however many requests wait for it; a token the operator refused is dropped once.

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// How long before expiry a token is replaced, at most: MTN's live for an hour.
pub const REFRESH_EARLY_MAX: Duration = Duration::from_secs(600);
/// The share of a short token's life left when it is replaced (Airtel's live minutes).
const REFRESH_EARLY_DIVISOR: u32 = 6;

/// A token as the operator issued it.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub access_token: String,
    /// Its lifetime from the moment it was issued.
    pub expires_in: Duration,
}

#[derive(Clone)]
struct Cached {
    value: Arc<str>,
    refresh_at: Instant,
}

/// One credential's token.
#[derive(Default)]
pub struct TokenCache {
    current: RwLock<Option<Cached>>,
    /// Held while a token is fetched: the second caller waits and then finds it cached.
    refreshing: Mutex<()>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token itself.
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

impl TokenCache {
    /// The cached token while it is fresh; otherwise `fetch` runs once for all callers.
    pub async fn get<F, Fut, E>(&self, fetch: F) -> Result<Arc<str>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<IssuedToken, E>>,
    {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let _refreshing = self.refreshing.lock().await;
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let requested = Instant::now();
        let issued = fetch().await?;
        let early = REFRESH_EARLY_MAX.min(issued.expires_in / REFRESH_EARLY_DIVISOR);
        let cached = Cached {
            value: Arc::from(issued.access_token),
            refresh_at: requested + issued.expires_in.saturating_sub(early),
        };
        let value = Arc::clone(&cached.value);
        *self.write() = Some(cached);
        Ok(value)
    }

    /// Drops `refused` if it is still the cached token (the operator answered 401): the
    /// next `get` fetches a new one. Many requests refused with the same token drop it once.
    pub fn refused(&self, refused: &str) {
        let mut current = self.write();
        if current
            .as_ref()
            .is_some_and(|cached| &*cached.value == refused)
        {
            *current = None;
        }
    }

    fn fresh(&self) -> Option<Arc<str>> {
        let current = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        current
            .as_ref()
            .filter(|cached| Instant::now() < cached.refresh_at)
            .map(|cached| Arc::clone(&cached.value))
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Option<Cached>> {
        // Every write replaces the whole value, so a poisoned lock still holds a whole one.
        self.current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn issued(name: &str, seconds: u64) -> Result<IssuedToken, ()> {
        Ok(IssuedToken {
            access_token: name.into(),
            expires_in: Duration::from_secs(seconds),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn an_hour_token_is_reused_until_ten_minutes_before_expiry() {
        let cache = TokenCache::default();
        let fetches = AtomicU32::new(0);
        let fetch = || async {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            issued(&format!("t{n}"), 3_600)
        };
        assert_eq!(&*cache.get(fetch).await.expect("a token"), "t0");
        tokio::time::advance(Duration::from_secs(2_999)).await;
        assert_eq!(&*cache.get(fetch).await.expect("a token"), "t0");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(&*cache.get(fetch).await.expect("a token"), "t1");
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_token_is_replaced_a_sixth_of_its_life_early() {
        let cache = TokenCache::default();
        let fetches = AtomicU32::new(0);
        let fetch = || async {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            issued(&format!("t{n}"), 180)
        };
        cache.get(fetch).await.expect("a token");
        tokio::time::advance(Duration::from_secs(149)).await;
        assert_eq!(&*cache.get(fetch).await.expect("a token"), "t0");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(&*cache.get(fetch).await.expect("a token"), "t1");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicU32::new(0));
        let callers = (0..50).map(|_| {
            let (cache, fetches) = (Arc::clone(&cache), Arc::clone(&fetches));
            tokio::spawn(async move {
                cache
                    .get(|| async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        issued("shared", 3_600)
                    })
                    .await
            })
        });
        for caller in callers {
            let token = caller.await.expect("no panic").expect("a token");
            assert_eq!(&*token, "shared");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_refused_token_is_dropped_once_not_its_successor() {
        let cache = TokenCache::default();
        let fetches = AtomicU32::new(0);
        let fetch = || async {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            issued(&format!("t{n}"), 3_600)
        };
        let first = cache.get(fetch).await.expect("a token");
        cache.refused(&first);
        let second = cache.get(fetch).await.expect("a token");
        assert_eq!(&*second, "t1");
        // A late 401 for the old token must not drop the new one.
        cache.refused(&first);
        assert_eq!(&*cache.get(fetch).await.expect("a token"), "t1");
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_cached() {
        let cache = TokenCache::default();
        let failed: Result<Arc<str>, &str> = cache.get(|| async { Err("refused") }).await;
        assert_eq!(failed.err(), Some("refused"));
        let token = cache
            .get(|| async { issued("after", 60).map_err(|()| "unexpected") })
            .await;
        assert_eq!(token.as_deref(), Ok("after"));
    }
}
