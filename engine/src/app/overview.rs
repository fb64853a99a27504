//! What a person sees first: what needs attention (counted at most every few seconds per
//! merchant, so that a dashboard opened by many people costs little), the latest payouts
//! and collections, and batches newest first (optionally only those in some states, such
//! as those awaiting a decision).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::caller::{Caller, READERS};
use super::{App, AppError};
use crate::ids::MerchantId;
use crate::state::batch::BatchState;
use crate::store::batches::{self, Batch};
pub use crate::store::recent::Attention;
use crate::store::recent::{self, RecentItem};

/// How long "needs attention" counts are shown before they are counted again.
pub const ATTENTION_FRESH_FOR: Duration = Duration::from_secs(10);

/// Counts per merchant, with when they were made.
#[derive(Debug, Default)]
pub struct AttentionCache(Mutex<HashMap<MerchantId, (Instant, Attention)>>);

impl AttentionCache {
    fn fresh(&self, merchant: MerchantId) -> Option<Attention> {
        let kept = self.0.lock().ok()?;
        kept.get(&merchant)
            .filter(|(made, _)| made.elapsed() < ATTENTION_FRESH_FOR)
            .map(|(_, counts)| *counts)
    }

    fn keep(&self, merchant: MerchantId, counts: Attention) {
        if let Ok(mut kept) = self.0.lock() {
            kept.retain(|_, (made, _)| made.elapsed() < ATTENTION_FRESH_FOR);
            kept.insert(merchant, (Instant::now(), counts));
        }
    }
}

impl App {
    /// What needs attention at the caller's merchant, counted at most every
    /// `ATTENTION_FRESH_FOR` on this node.
    pub async fn attention(&self, caller: &Caller) -> Result<Attention, AppError> {
        caller.require(READERS)?;
        if let Some(counts) = self.attention.fresh(caller.merchant) {
            return Ok(counts);
        }
        let client = self.pool.get().await?;
        let counts = recent::attention(&client, caller.merchant).await?;
        self.attention.keep(caller.merchant, counts);
        Ok(counts)
    }

    /// The merchant's `limit` latest payouts and collections, newest first.
    pub async fn recent_activity(
        &self,
        caller: &Caller,
        limit: i64,
    ) -> Result<Vec<RecentItem>, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        Ok(recent::items(&client, caller.merchant, limit).await?)
    }

    /// The merchant's payroll batches before `before`, newest first, in any of `states`
    /// (all when empty).
    pub async fn newest_batches(
        &self,
        caller: &Caller,
        states: &[BatchState],
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Batch>, AppError> {
        caller.require(READERS)?;
        let names: Vec<&str> = states.iter().map(|state| state.as_str()).collect();
        let client = self.pool.get().await?;
        Ok(batches::newest(&client, caller.merchant, before, &names, limit).await?)
    }
}
