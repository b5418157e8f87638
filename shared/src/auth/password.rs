//! Argon2id password hashing at OWASP's parameters (m = 19 MiB, t = 2, p = 1), run on the
//! blocking pool so that hashing never stalls the async runtime.

use std::sync::OnceLock;

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{ApiError, ApiResult};

const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

fn hasher() -> ApiResult<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> ApiResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2 hash: {e}")))
}

fn verify_blocking(password: &str, phc: &str) -> ApiResult<bool> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored password hash unreadable: {e}")))?;
    Ok(hasher()?
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// Hashes a password into a PHC string (algorithm, parameters and salt included).
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .context("password hashing task")
        .map_err(ApiError::internal)?
}

/// Verifies a password against a stored PHC string.
pub async fn verify_password(password: String, phc: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || verify_blocking(&password, &phc))
        .await
        .context("password verification task")
        .map_err(ApiError::internal)?
}

/// Spends the same work as a real verification, for logins with an unknown email, so the
/// response time does not tell which emails have accounts.
pub async fn verify_against_dummy(password: String) -> ApiResult<()> {
    static DUMMY_HASH: OnceLock<String> = OnceLock::new();
    let dummy = match DUMMY_HASH.get() {
        Some(hash) => hash.clone(),
        None => {
            let hash = hash_password("huddle-dummy-password".to_owned()).await?;
            DUMMY_HASH.get_or_init(|| hash).clone()
        }
    };
    verify_password(password, dummy).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_owasp_parameters() {
        let hash = hash_password("correct horse".to_owned()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            verify_password("correct horse".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong horse".into(), hash).await.unwrap());
    }

    #[tokio::test]
    async fn same_password_gets_different_salts() {
        let a = hash_password("same".to_owned()).await.unwrap();
        let b = hash_password("same".to_owned()).await.unwrap();
        assert_ne!(a, b);
    }
}
