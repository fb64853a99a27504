//! People of a merchant who use the portal: the first admin made at the command line,
//! the others invited by an admin, each setting a password through a one-time link; an
//! admin changes their role or disables them. A user acts through a principal of its own,
//! so its role is checked, and its work recorded, exactly as an API key's.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jiff::{SignedDuration, Timestamp};

use super::caller::Caller;
use super::{App, AppError};
use crate::api_key::Role;
use crate::ids::{ApiKeyId, MerchantId};
use crate::store::users;
pub use crate::store::users::User;
use crate::store::{api_keys, merchants, portal_sessions};

/// How long a setup link works.
pub const SETUP_LINK_HOURS: i64 = 72;
/// The shortest password accepted.
pub const PASSWORD_MIN_CHARS: usize = 12;
const PASSWORD_MAX_CHARS: usize = 256;

/// A user just made, and the one-time token of its setup link (`/setup/{token}`).
#[derive(Clone, Debug)]
pub struct Invited {
    pub user: User,
    pub setup_token: String,
}

/// Who made a user: the node's operator at the command line, or one of the merchant's admins.
#[derive(Clone, Copy, Debug)]
pub enum Inviter {
    Operator(MerchantId),
    Admin(Caller),
}

impl App {
    /// Makes a user with a setup link; the email must be new.
    pub async fn invite_user(
        &self,
        inviter: Inviter,
        email: &str,
        role: Role,
    ) -> Result<Invited, AppError> {
        let merchant = match inviter {
            Inviter::Operator(merchant) => merchant,
            Inviter::Admin(caller) => {
                caller.require(&[Role::Admin])?;
                caller.merchant
            }
        };
        let email = checked_email(email)?;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        merchants::get(&tx, merchant).await?;
        let id = api_keys::issue_principal(&tx, merchant, role).await?;
        if !users::insert(&tx, id, merchant, &email).await? {
            return Err(AppError::Invalid {
                detail: "email: a user with this email already exists".into(),
                errors: vec![super::FieldError {
                    field: "email".into(),
                    reason: "a user with this email already exists".into(),
                }],
            });
        }
        let setup_token = secret_token();
        let expires = Timestamp::now() + SignedDuration::from_hours(SETUP_LINK_HOURS);
        users::add_setup_token(&tx, id, &token_hash(&setup_token), expires).await?;
        let user = users::get(&tx, merchant, id).await?;
        tx.commit().await?;
        Ok(Invited { user, setup_token })
    }

    /// The user a setup link is for, while it still works.
    pub async fn setup_link_user(&self, token: &str) -> Result<User, AppError> {
        let client = self.pool.get().await?;
        let id = users::setup_token_user(&client, &token_hash(token))
            .await?
            .ok_or(AppError::NotFound("setup link"))?;
        let user = by_id(&client, id).await?;
        Ok(user)
    }

    /// Sets the password of the user whose setup link this is, and uses the link up.
    pub async fn set_password_by_link(
        &self,
        token: &str,
        password: &str,
    ) -> Result<User, AppError> {
        check_password(password)?;
        let hash = hash_password(password.to_owned()).await?;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let id = users::use_setup_token(&tx, &token_hash(token))
            .await?
            .ok_or(AppError::NotFound("setup link"))?;
        users::set_password(&tx, id, &hash).await?;
        portal_sessions::end_all(&tx, id).await?;
        let user = by_id(&tx, id).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The merchant's users (admins only).
    pub async fn users(&self, caller: &Caller) -> Result<Vec<User>, AppError> {
        caller.require(&[Role::Admin])?;
        let client = self.pool.get().await?;
        Ok(users::list(&client, caller.merchant).await?)
    }

    /// Changes a user's role, or disables (and signs out) or enables them. An admin cannot
    /// change themselves, so a merchant always keeps the admin who is acting.
    pub async fn change_user(
        &self,
        caller: &Caller,
        id: ApiKeyId,
        role: Role,
        disabled: bool,
    ) -> Result<User, AppError> {
        caller.require(&[Role::Admin])?;
        if id == caller.key {
            return Err(AppError::conflict(
                "own-user",
                "you cannot change your own role or disable yourself; ask another admin",
            ));
        }
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        users::get(&tx, caller.merchant, id).await?;
        api_keys::set_principal(&tx, caller.merchant, id, role, disabled).await?;
        users::set_disabled(&tx, id, disabled).await?;
        if disabled {
            portal_sessions::end_all(&tx, id).await?;
        }
        let user = users::get(&tx, caller.merchant, id).await?;
        tx.commit().await?;
        Ok(user)
    }
}

async fn by_id(
    client: &impl deadpool_postgres::GenericClient,
    id: ApiKeyId,
) -> Result<User, AppError> {
    let row = client
        .query_one("SELECT merchant_id FROM users WHERE id = $1", &[&id])
        .await?;
    Ok(users::get(client, row.try_get(0)?, id).await?)
}

/// An email as stored: trimmed, lower-case, with one `@` between non-empty parts.
pub fn checked_email(email: &str) -> Result<String, AppError> {
    let email = email.trim().to_lowercase();
    let plausible = matches!(email.split_once('@'), Some((local, domain))
        if !local.is_empty() && domain.contains('.') && !domain.contains('@'))
        && (3..=254).contains(&email.len())
        && !email.chars().any(char::is_whitespace);
    if plausible {
        Ok(email)
    } else {
        Err(AppError::invalid_field(
            "email",
            "enter an email address like name@example.com",
        ))
    }
}

fn check_password(password: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(AppError::invalid_field(
            "password",
            format!("use at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(AppError::invalid_field(
            "password",
            format!("use at most {PASSWORD_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

/// The argon2id hash of a password (PHC string), on a blocking thread.
async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| AppError::internal(error.to_string()))
    })
    .await
    .map_err(AppError::internal)?
}

/// Whether `password` matches the PHC `hash`, on a blocking thread. Also run, against a
/// hash of nothing, for an unknown email, so that both answers take the same time.
pub(super) async fn password_matches(password: String, hash: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let parsed =
            PasswordHash::new(&hash).map_err(|error| AppError::internal(error.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(AppError::internal)?
}

/// A hash with the default parameters that no password matches, for unknown emails.
pub(super) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        Argon2::default()
            .hash_password(secret_token().as_bytes())
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

/// A random token: 32 bytes, URL-safe base64.
pub(super) fn secret_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a token.
pub(super) fn token_hash(token: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_stored_lower_case_and_must_look_like_one() {
        assert_eq!(
            checked_email(" Ada@Example.RW ").ok().as_deref(),
            Some("ada@example.rw")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.rw",
            "ada@example",
            "a da@example.rw",
        ] {
            assert!(checked_email(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_password_matches_its_own_hash_only() {
        let hash = hash_password("correct horse battery".into())
            .await
            .expect("hashed");
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            password_matches("correct horse battery".into(), hash.clone())
                .await
                .expect("checked")
        );
        assert!(
            !password_matches("correct horse battery!".into(), hash)
                .await
                .expect("checked")
        );
        assert!(
            !password_matches("anything".into(), decoy_hash().into())
                .await
                .expect("checked")
        );
    }
}
