//! What a person sees first: the latest payouts and collections, and batches newest first
//! (optionally only those in some states, such as those awaiting a decision).

use uuid::Uuid;

use super::caller::{Caller, READERS};
use super::{App, AppError};
use crate::state::batch::BatchState;
use crate::store::batches::{self, Batch};
use crate::store::recent::{self, RecentItem};

impl App {
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
