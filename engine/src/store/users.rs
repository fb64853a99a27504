//! Portal users: a person of a merchant, found by email, with a password hash set through a
//! one-time setup link. A user's id is its principal's in `api_keys`, which holds its role
//! and whether it is disabled.

use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use tokio_postgres::Row;

use super::StoreError;
use crate::api_key::Role;
use crate::ids::{ApiKeyId, MerchantId};

/// A user as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The user's principal: what it makes and approves is recorded under this id.
    pub id: ApiKeyId,
    pub merchant: MerchantId,
    pub email: String,
    pub role: Role,
    pub password_hash: Option<String>,
    pub locale: String,
    pub created_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
}

pub(crate) const COLUMNS: &str = "u.id, u.merchant_id, u.email, k.role, u.password_hash, u.locale, \
                       u.created_at, u.disabled_at";

/// A user from a row whose first columns are `COLUMNS`.
pub(crate) fn user(row: &Row) -> Result<User, StoreError> {
    let role: &str = row.try_get(3)?;
    Ok(User {
        id: row.try_get(0)?,
        merchant: row.try_get(1)?,
        email: row.try_get(2)?,
        role: role
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("role {role}")))?,
        password_hash: row.try_get(4)?,
        locale: row.try_get(5)?,
        created_at: row.try_get(6)?,
        disabled_at: row.try_get(7)?,
    })
}

const INSERT: &str = "INSERT INTO users (id, merchant_id, email) VALUES ($1, $2, $3)";

/// Adds a user whose principal `id` was just issued; `None` if the email is taken.
pub async fn insert(
    client: &impl GenericClient,
    id: ApiKeyId,
    merchant: MerchantId,
    email: &str,
) -> Result<bool, StoreError> {
    match client.execute(INSERT, &[&id, &merchant, &email]).await {
        Ok(_) => Ok(true),
        Err(error) if error.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}

/// The user with this (lower-case) email, whatever its merchant.
pub async fn by_email(
    client: &impl GenericClient,
    email: &str,
) -> Result<Option<User>, StoreError> {
    let query =
        format!("SELECT {COLUMNS} FROM users u JOIN api_keys k ON k.id = u.id WHERE u.email = $1");
    client
        .query_opt(&query, &[&email])
        .await?
        .map(|row| user(&row))
        .transpose()
}

/// One user of the merchant.
pub async fn get(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: ApiKeyId,
) -> Result<User, StoreError> {
    let query = format!(
        "SELECT {COLUMNS} FROM users u JOIN api_keys k ON k.id = u.id
          WHERE u.merchant_id = $1 AND u.id = $2"
    );
    match client.query_opt(&query, &[&merchant, &id]).await? {
        Some(row) => user(&row),
        None => Err(StoreError::NotFound { what: "user" }),
    }
}

/// The merchant's users, oldest first.
pub async fn list(
    client: &impl GenericClient,
    merchant: MerchantId,
) -> Result<Vec<User>, StoreError> {
    let query = format!(
        "SELECT {COLUMNS} FROM users u JOIN api_keys k ON k.id = u.id
          WHERE u.merchant_id = $1 ORDER BY u.created_at, u.id"
    );
    client
        .query(&query, &[&merchant])
        .await?
        .iter()
        .map(user)
        .collect()
}

/// Sets the user's password hash.
pub async fn set_password(
    client: &impl GenericClient,
    id: ApiKeyId,
    hash: &str,
) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            &[&id, &hash],
        )
        .await?;
    Ok(())
}

/// Sets the language the user reads the portal in.
pub async fn set_locale(
    client: &impl GenericClient,
    id: ApiKeyId,
    locale: &str,
) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE users SET locale = $2 WHERE id = $1",
            &[&id, &locale],
        )
        .await?;
    Ok(())
}

/// Marks the user disabled (or enabled again).
pub async fn set_disabled(
    client: &impl GenericClient,
    id: ApiKeyId,
    disabled: bool,
) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END
              WHERE id = $1",
            &[&id, &disabled],
        )
        .await?;
    Ok(())
}

/// Keeps a setup token's hash for the user, valid until `expires_at`.
pub async fn add_setup_token(
    client: &impl GenericClient,
    id: ApiKeyId,
    token_hash: &[u8; 32],
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO user_setup_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
            &[&token_hash.as_slice(), &id, &expires_at],
        )
        .await?;
    Ok(())
}

/// Uses up a setup token still valid, and answers whose it was.
pub async fn use_setup_token(
    client: &impl GenericClient,
    token_hash: &[u8; 32],
) -> Result<Option<ApiKeyId>, StoreError> {
    let row = client
        .query_opt(
            "UPDATE user_setup_tokens SET used_at = now()
              WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
             RETURNING user_id",
            &[&token_hash.as_slice()],
        )
        .await?;
    Ok(row.map(|row| row.try_get(0)).transpose()?)
}

/// Whose a setup token still valid is, without using it.
pub async fn setup_token_user(
    client: &impl GenericClient,
    token_hash: &[u8; 32],
) -> Result<Option<ApiKeyId>, StoreError> {
    let row = client
        .query_opt(
            "SELECT user_id FROM user_setup_tokens
              WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()",
            &[&token_hash.as_slice()],
        )
        .await?;
    Ok(row.map(|row| row.try_get(0)).transpose()?)
}
