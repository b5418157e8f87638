//! Opaque bearer secrets (refresh tokens, WebSocket tickets): 256 random bits, handed to
//! the client once and stored only as a SHA-256 digest.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};

/// The longest secret we will hash; anything longer is not one of ours.
pub const MAX_SECRET_LEN: usize = 128;

/// A fresh random secret, URL-safe base64 (43 characters).
pub fn generate() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("random source failed: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The digest under which a secret is stored and looked up.
pub fn digest(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_digests_stable() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
        assert_ne!(digest(&a), a);
    }
}
