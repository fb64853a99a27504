//! The cluster as an SRE sees it (docs/cluster.md): the nodes with a lease, what each owns
//! and when its lease expires. Admins only: it names no merchant's data, but it is the
//! operator's view of the platform, not a merchant's.

use super::caller::Caller;
use super::{App, AppError};
use crate::api_key::Role;
use crate::store::cluster::{self, Member};

impl App {
    /// Every node with a lease row (live, or expired and not yet reaped), oldest first.
    pub async fn cluster(&self, caller: &Caller) -> Result<Vec<Member>, AppError> {
        caller.require(&[Role::Admin])?;
        let client = self.pool.get().await?;
        Ok(cluster::members(&client).await?)
    }
}
