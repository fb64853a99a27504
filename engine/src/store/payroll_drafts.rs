//! Payroll files between their preview in the portal and their submission, kept a day.

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use super::StoreError;
use crate::ids::{ApiKeyId, MerchantId};

/// A kept file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub id: Uuid,
    pub file_name: String,
    pub body: Vec<u8>,
}

/// Keeps a file the user previewed.
pub async fn keep(
    client: &impl GenericClient,
    merchant: MerchantId,
    user: ApiKeyId,
    file_name: &str,
    body: &[u8],
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    client
        .execute(
            "INSERT INTO payroll_drafts (id, merchant_id, user_id, file_name, body)
             VALUES ($1, $2, $3, $4, $5)",
            &[&id, &merchant, &user, &file_name, &body],
        )
        .await?;
    Ok(id)
}

/// The user's kept file, if it is less than a day old.
pub async fn get(
    client: &impl GenericClient,
    merchant: MerchantId,
    user: ApiKeyId,
    id: Uuid,
) -> Result<Draft, StoreError> {
    let row = client
        .query_opt(
            "SELECT id, file_name, body FROM payroll_drafts
              WHERE id = $1 AND merchant_id = $2 AND user_id = $3
                AND created_at > now() - interval '1 day'",
            &[&id, &merchant, &user],
        )
        .await?
        .ok_or(StoreError::NotFound {
            what: "payroll preview",
        })?;
    Ok(Draft {
        id: row.try_get(0)?,
        file_name: row.try_get(1)?,
        body: row.try_get(2)?,
    })
}

/// Removes a merchant's file once submitted, then every file a day old (two statements:
/// the first reaches one merchant's rows, the second everyone's).
pub async fn remove(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: Uuid,
) -> Result<(), StoreError> {
    client
        .execute(
            "DELETE FROM payroll_drafts WHERE merchant_id = $1 AND id = $2",
            &[&merchant, &id],
        )
        .await?;
    client
        .execute(
            "DELETE FROM payroll_drafts WHERE created_at <= now() - interval '1 day'",
            &[],
        )
        .await?;
    Ok(())
}
