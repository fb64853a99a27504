//! A batch's progress as people watch it: its row read fresh, its lines counted per state
//! at most every `PROGRESS_FRESH_FOR` per batch on this node, however many people have its
//! page open (each page refreshes every two seconds; counting a large batch's lines is
//! the page's main cost).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::batches::{BatchSummary, StateCount};
use super::caller::{Caller, READERS};
use super::{App, AppError};
use crate::ids::BatchId;
use crate::store::{batches, payout_lines};

/// How long a batch's counts per state are shown before they are counted again.
pub const PROGRESS_FRESH_FOR: Duration = Duration::from_secs(2);

/// Counts per batch, with when they were made.
#[derive(Debug, Default)]
pub struct ProgressCache(Mutex<HashMap<BatchId, (Instant, Vec<StateCount>)>>);

impl ProgressCache {
    fn fresh(&self, batch: BatchId) -> Option<Vec<StateCount>> {
        let kept = self.0.lock().ok()?;
        kept.get(&batch)
            .filter(|(made, _)| made.elapsed() < PROGRESS_FRESH_FOR)
            .map(|(_, counts)| counts.clone())
    }

    fn keep(&self, batch: BatchId, counts: Vec<StateCount>) {
        if let Ok(mut kept) = self.0.lock() {
            kept.retain(|_, (made, _)| made.elapsed() < PROGRESS_FRESH_FOR);
            kept.insert(batch, (Instant::now(), counts));
        }
    }
}

impl App {
    /// One of the caller's merchant's batches, with its lines' counts per state at most
    /// `PROGRESS_FRESH_FOR` old.
    pub async fn batch_progress(
        &self,
        caller: &Caller,
        id: BatchId,
    ) -> Result<BatchSummary, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        let batch = batches::get(&client, caller.merchant, id)
            .await
            .map_err(|_| AppError::NotFound("batch"))?;
        let counts = match self.progress.fresh(id) {
            Some(counts) => counts,
            None => {
                let counts = payout_lines::count_by_state(&client, caller.merchant, id).await?;
                self.progress.keep(id, counts.clone());
                counts
            }
        };
        Ok(BatchSummary { batch, counts })
    }
}
