//! Portal sessions: found by the SHA-256 of the cookie's token, touched on each request
//! (idle timeout), and ended by logout, by their absolute expiry, or when the user is
//! disabled. Every timestamp is the database's, so nodes with skewed clocks agree.

use deadpool_postgres::GenericClient;

use super::StoreError;
use crate::ids::ApiKeyId;

/// A live session: whose it is and its synchronizer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSession {
    pub user: ApiKeyId,
    pub csrf_token: String,
}

/// Starts a session for `user`, ending at the latest `absolute_seconds` from now.
pub async fn start(
    client: &impl GenericClient,
    token_hash: &[u8; 32],
    user: ApiKeyId,
    csrf_token: &str,
    absolute_seconds: i64,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO portal_sessions (token_hash, user_id, csrf_token, expires_at)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
            &[
                &token_hash.as_slice(),
                &user,
                &csrf_token,
                &(absolute_seconds as f64),
            ],
        )
        .await?;
    Ok(())
}

/// The session with this token hash, if it has been used within `idle_seconds` and has
/// not reached its absolute expiry; it is touched, so the idle time starts again.
pub async fn touch(
    client: &impl GenericClient,
    token_hash: &[u8; 32],
    idle_seconds: i64,
) -> Result<Option<LiveSession>, StoreError> {
    let statement = client
        .prepare_cached(
            "UPDATE portal_sessions SET last_seen_at = now()
              WHERE token_hash = $1 AND expires_at > now()
                AND last_seen_at > now() - make_interval(secs => $2)
             RETURNING user_id, csrf_token",
        )
        .await?;
    let row = client
        .query_opt(
            &statement,
            &[&token_hash.as_slice(), &(idle_seconds as f64)],
        )
        .await?;
    row.map(|row| {
        Ok(LiveSession {
            user: row.try_get(0)?,
            csrf_token: row.try_get(1)?,
        })
    })
    .transpose()
}

/// Ends the session with this token hash.
pub async fn end(client: &impl GenericClient, token_hash: &[u8; 32]) -> Result<(), StoreError> {
    client
        .execute(
            "DELETE FROM portal_sessions WHERE token_hash = $1",
            &[&token_hash.as_slice()],
        )
        .await?;
    Ok(())
}

/// Ends every session of the user (disabled, or their password set again).
pub async fn end_all(client: &impl GenericClient, user: ApiKeyId) -> Result<(), StoreError> {
    client
        .execute("DELETE FROM portal_sessions WHERE user_id = $1", &[&user])
        .await?;
    Ok(())
}

/// Removes sessions past their absolute expiry.
pub async fn sweep(client: &impl GenericClient) -> Result<u64, StoreError> {
    Ok(client
        .execute("DELETE FROM portal_sessions WHERE expires_at <= now()", &[])
        .await?)
}
