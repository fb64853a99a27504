//! The secrets that sign MTN callback URLs (`callback_secrets`): every node reads the same
//! ones. The newest signs; a replaced one is accepted until its `accepted_until`.

use deadpool_postgres::GenericClient;

use super::StoreError;

const ACCEPTED: &str = "
    SELECT secret FROM callback_secrets
     WHERE accepted_until IS NULL OR accepted_until > now()
     ORDER BY id DESC";

/// The secrets accepted now, newest (the one that signs) first.
pub async fn accepted(client: &impl GenericClient) -> Result<Vec<[u8; 32]>, StoreError> {
    let rows = client.query(ACCEPTED, &[]).await?;
    rows.iter()
        .map(|row| {
            let bytes: &[u8] = row.get(0);
            bytes
                .try_into()
                .map_err(|_| StoreError::Corrupt("a callback secret is not 32 bytes".into()))
        })
        .collect()
}

const ROTATE: &str = "
    WITH retired AS (
        UPDATE callback_secrets
           SET accepted_until = now() + make_interval(secs => $2)
         WHERE accepted_until IS NULL OR accepted_until > now() + make_interval(secs => $2))
    INSERT INTO callback_secrets (secret) VALUES ($1)";

/// Makes `secret` the one that signs; the others stay accepted for `overlap_secs` more.
pub async fn rotate(
    client: &impl GenericClient,
    secret: &[u8; 32],
    overlap_secs: f64,
) -> Result<(), StoreError> {
    client
        .execute(ROTATE, &[&secret.as_slice(), &overlap_secs])
        .await?;
    Ok(())
}
