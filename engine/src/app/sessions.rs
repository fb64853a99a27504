//! Signing in to the portal: a password checked against its argon2id hash (an unknown
//! email costs the same check, against a decoy), a session started under a new random
//! token of which only the hash is kept, found again on each request while neither its
//! idle nor its absolute timeout has passed, and ended at sign-out. Each sign-in removes
//! the sessions past their absolute timeout.

use std::time::Duration;

use super::caller::Caller;
use super::users::{decoy_hash, password_matches, secret_token, token_hash};
use super::{App, AppError};
use crate::store::merchants::{self, Merchant};
use crate::store::portal_sessions;
use crate::store::users::{self, User};

/// How long a session lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTimeouts {
    /// Ended after this long without a request.
    pub idle: Duration,
    /// Ended this long after sign-in, however busy.
    pub absolute: Duration,
}

impl Default for SessionTimeouts {
    fn default() -> SessionTimeouts {
        SessionTimeouts {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 60 * 60),
        }
    }
}

/// A session just started: the cookie's token, shown to the browser only.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
}

/// A signed-in person, as each portal request finds them.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub caller: Caller,
    pub user: User,
    pub merchant: Merchant,
    /// The session's synchronizer token, which every form sends back.
    pub csrf_token: String,
}

/// Why a sign-in failed; the same for an unknown email, a wrong password, a user not yet
/// set up and a disabled one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the email or password is not right")]
pub struct WrongCredentials;

impl App {
    /// Checks the email and password and starts a new session.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        timeouts: SessionTimeouts,
    ) -> Result<Result<NewSession, WrongCredentials>, AppError> {
        let email = email.trim().to_lowercase();
        let client = self.pool.get().await?;
        let user = users::by_email(&client, &email).await?;
        let usable = user
            .as_ref()
            .filter(|user| user.disabled_at.is_none())
            .and_then(|user| user.password_hash.clone());
        let matches = password_matches(
            password.to_owned(),
            usable.clone().unwrap_or_else(|| decoy_hash().to_owned()),
        )
        .await?;
        let (Some(user), true, true) = (user, usable.is_some(), matches) else {
            return Ok(Err(WrongCredentials));
        };
        portal_sessions::sweep(&client).await?;
        let token = secret_token();
        let absolute = i64::try_from(timeouts.absolute.as_secs()).unwrap_or(i64::MAX);
        portal_sessions::start(
            &client,
            &token_hash(&token),
            user.id,
            &secret_token(),
            absolute,
        )
        .await?;
        Ok(Ok(NewSession { token }))
    }

    /// The person a session token stands for, if the session is live; the request counts
    /// as activity.
    pub async fn signed_in(
        &self,
        token: &str,
        timeouts: SessionTimeouts,
    ) -> Result<Option<SignedIn>, AppError> {
        let client = self.pool.get().await?;
        let idle = i64::try_from(timeouts.idle.as_secs()).unwrap_or(i64::MAX);
        let Some(found) = portal_sessions::find(&client, &token_hash(token), idle).await? else {
            return Ok(None);
        };
        let (session, user) = (found.session, found.user);
        if user.disabled_at.is_some() {
            return Ok(None);
        }
        let merchant = merchants::get(&client, user.merchant).await?;
        Ok(Some(SignedIn {
            caller: Caller {
                merchant: user.merchant,
                key: user.id,
                role: user.role,
            },
            user,
            merchant,
            csrf_token: session.csrf_token,
        }))
    }

    /// Ends the session.
    pub async fn sign_out(&self, token: &str) -> Result<(), AppError> {
        let client = self.pool.get().await?;
        portal_sessions::end(&client, &token_hash(token)).await?;
        Ok(())
    }

    /// Sets the language the signed-in person reads the portal in.
    pub async fn set_language(&self, caller: &Caller, locale: &str) -> Result<(), AppError> {
        let client = self.pool.get().await?;
        users::set_locale(&client, caller.key, locale).await?;
        Ok(())
    }
}
