//! Portal sessions: found by the SHA-256 of the cookie's token with their user in one
//! statement, touched by requests (idle timeout; written at most every 30 seconds), and ended by logout, by their absolute expiry, or when the user is
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

/// How stale a session's `last_seen_at` may get before a request writes it again: most
/// requests then read only, and commit nothing to the log. The idle timeout is kept to
/// within this.
pub const TOUCH_EVERY_SECONDS: i64 = 30;

/// A live session with its user, the user's role (from its principal) and merchant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub session: LiveSession,
    pub user: super::users::User,
}

// One round trip: the session if live, its user and role; `last_seen_at` written only
// when older than $3 seconds.
const FIND: &str = "
    WITH live AS (
        SELECT token_hash, user_id, csrf_token, last_seen_at FROM portal_sessions
         WHERE token_hash = $1 AND expires_at > now()
           AND last_seen_at > now() - make_interval(secs => $2)),
    touched AS (
        UPDATE portal_sessions s SET last_seen_at = now() FROM live
         WHERE s.token_hash = live.token_hash
           AND live.last_seen_at < now() - make_interval(secs => $3))
    SELECT __USER__, live.csrf_token
      FROM live JOIN users u ON u.id = live.user_id JOIN api_keys k ON k.id = u.id";

/// The session with this token hash and its user, if it has been used within
/// `idle_seconds` and has not reached its absolute expiry; a request counts as use.
pub async fn find(
    client: &impl GenericClient,
    token_hash: &[u8; 32],
    idle_seconds: i64,
) -> Result<Option<SessionRow>, StoreError> {
    let statement = client
        .prepare_cached(&FIND.replace("__USER__", super::users::COLUMNS))
        .await?;
    let idle = idle_seconds as f64;
    let touch = TOUCH_EVERY_SECONDS.min(idle_seconds / 2) as f64;
    let Some(row) = client
        .query_opt(&statement, &[&token_hash.as_slice(), &idle, &touch])
        .await?
    else {
        return Ok(None);
    };
    let user = super::users::user(&row)?;
    Ok(Some(SessionRow {
        session: LiveSession {
            user: user.id,
            csrf_token: row.try_get(8)?,
        },
        user,
    }))
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
