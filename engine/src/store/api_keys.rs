//! API keys: issued with their hash (the secret is shown once and never stored), found by
//! their public prefix, listed and revoked. A revoked key is kept, for the record of who
//! made and approved what. A portal user acts through a principal of its own in the same
//! table (`kind = 'user'`), with a secret nobody knows: it is never authenticated, listed
//! or revoked as a key.

use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::StoreError;
use crate::api_key::{NewApiKey, Role};
use crate::ids::{ApiKeyId, MerchantId};

/// An API key just issued: the secret is shown this once and never stored.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IssuedKey {
    pub id: ApiKeyId,
    pub role: Role,
    pub prefix: String,
    pub secret: String,
}

/// A key as stored, without anything that would let one use it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub role: Role,
    pub prefix: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// An unrevoked key found by its prefix, with the hash to check the presented key against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyToCheck {
    pub id: ApiKeyId,
    pub merchant: MerchantId,
    pub hash: Vec<u8>,
    pub role: Role,
}

const INSERT: &str = "
    INSERT INTO api_keys (id, merchant_id, prefix, hash, role) VALUES ($1, $2, $3, $4, $5)";

/// Issues a new key of `role` for the merchant.
pub async fn issue(
    client: &impl GenericClient,
    merchant: MerchantId,
    role: Role,
) -> Result<IssuedKey, StoreError> {
    let key = NewApiKey::generate();
    let id = ApiKeyId::new();
    client
        .execute(
            INSERT,
            &[
                &id,
                &merchant,
                &key.prefix,
                &key.hash.as_slice(),
                &role.as_str(),
            ],
        )
        .await?;
    Ok(IssuedKey {
        id,
        role,
        prefix: key.prefix,
        secret: key.secret,
    })
}

const BY_PREFIX: &str = "SELECT id, merchant_id, hash, role FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL AND kind = 'key'";

/// The unrevoked key with this prefix, if any.
pub async fn by_prefix(
    client: &impl GenericClient,
    prefix: &str,
) -> Result<Option<KeyToCheck>, StoreError> {
    let statement = client.prepare_cached(BY_PREFIX).await?;
    let Some(row) = client.query_opt(&statement, &[&prefix]).await? else {
        return Ok(None);
    };
    let role: &str = row.try_get(3)?;
    Ok(Some(KeyToCheck {
        id: row.try_get(0)?,
        merchant: row.try_get(1)?,
        hash: row.try_get(2)?,
        role: role
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("role {role}")))?,
    }))
}

const LIST: &str = "
    SELECT id, role, prefix, created_at, revoked_at FROM api_keys
     WHERE merchant_id = $1 AND kind = 'key' ORDER BY created_at, id";

/// Every key of the merchant, revoked ones too, oldest first.
pub async fn list(
    client: &impl GenericClient,
    merchant: MerchantId,
) -> Result<Vec<ApiKey>, StoreError> {
    let rows = client.query(LIST, &[&merchant]).await?;
    rows.iter()
        .map(|row| {
            let role: &str = row.try_get(1)?;
            Ok(ApiKey {
                id: row.try_get(0)?,
                role: role
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("role {role}")))?,
                prefix: row.try_get(2)?,
                created_at: row.try_get(3)?,
                revoked_at: row.try_get(4)?,
            })
        })
        .collect()
}

const REVOKE: &str = "
    UPDATE api_keys SET revoked_at = now()
     WHERE merchant_id = $1 AND id = $2 AND revoked_at IS NULL AND kind = 'key'";

/// Revokes the merchant's key; `NotFound` if it has no such unrevoked key.
pub async fn revoke(
    client: &impl GenericClient,
    merchant: MerchantId,
    key: ApiKeyId,
) -> Result<(), StoreError> {
    match client.execute(REVOKE, &[&merchant, &key]).await? {
        0 => Err(StoreError::NotFound { what: "API key" }),
        _ => Ok(()),
    }
}

const INSERT_PRINCIPAL: &str = "
    INSERT INTO api_keys (id, merchant_id, prefix, hash, role, kind)
    VALUES ($1, $2, $3, $4, $5, 'user')";

/// A principal for a portal user of `role`: a key row whose secret is thrown away at once.
pub async fn issue_principal(
    client: &impl GenericClient,
    merchant: MerchantId,
    role: Role,
) -> Result<ApiKeyId, StoreError> {
    let key = NewApiKey::generate();
    let id = ApiKeyId::new();
    let prefix = key.prefix.replacen("pr_", "pu_", 1);
    client
        .execute(
            INSERT_PRINCIPAL,
            &[
                &id,
                &merchant,
                &prefix,
                &key.hash.as_slice(),
                &role.as_str(),
            ],
        )
        .await?;
    Ok(id)
}

const SET_PRINCIPAL: &str = "
    UPDATE api_keys SET role = $3, revoked_at = CASE WHEN $4 THEN coalesce(revoked_at, now()) END
     WHERE merchant_id = $1 AND id = $2 AND kind = 'user'";

/// Sets a user principal's role, and whether it is revoked (a disabled user).
pub async fn set_principal(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: ApiKeyId,
    role: Role,
    revoked: bool,
) -> Result<(), StoreError> {
    match client
        .execute(SET_PRINCIPAL, &[&merchant, &id, &role.as_str(), &revoked])
        .await?
    {
        0 => Err(StoreError::NotFound { what: "user" }),
        _ => Ok(()),
    }
}
