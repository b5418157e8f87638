//! Opaque list cursors. A cursor is encrypted and authenticated (AES-256-GCM, a random
//! nonce per cursor) with a key derived from the service secret, and bound to its list
//! by the associated data: nobody can read a key out of one, forge one, alter one or carry
//! one from one list to another. Anything that does not open is a 400 `invalid cursor`.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{ApiError, ApiResult};

/// Longest cursor accepted (characters), before any decoding.
pub const CURSOR_MAX: usize = 2048;

/// Domain separation: the cursor key is not the token signing key, though both come from
/// the same secret.
const KDF_SALT: &[u8] = b"huddle cursor key";
const KDF_INFO: &[u8] = b"huddle/cursor/aes-256-gcm/v1";

/// The key that seals and opens cursors. Built once at cold start; cheap to clone.
#[derive(Clone)]
pub struct CursorKey(Arc<LessSafeKey>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

fn invalid() -> ApiError {
    ApiError::invalid("invalid cursor")
}

impl CursorKey {
    /// Derives the cursor key from the service secret (HKDF-SHA256 with its own label).
    pub fn derive(secret: &[u8]) -> anyhow::Result<Self> {
        let mut bytes = [0u8; 32];
        Salt::new(HKDF_SHA256, KDF_SALT)
            .extract(secret)
            .expand(&[KDF_INFO], &AES_256_GCM)
            .and_then(|okm| okm.fill(&mut bytes))
            .map_err(|_| anyhow::anyhow!("deriving the cursor key failed"))?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| anyhow::anyhow!("building the cursor key failed"))?;
        Ok(Self(Arc::new(LessSafeKey::new(key))))
    }

    /// Seals `plaintext` for the list `scope` into a URL-safe cursor.
    pub fn seal(&self, scope: &[u8], plaintext: &[u8]) -> ApiResult<String> {
        let failed = || ApiError::internal(anyhow::anyhow!("sealing a cursor failed"));
        // A random 96-bit nonce per cursor: the chance of a repeat stays negligible for
        // far more cursors than a deployment issues under one key.
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| failed())?;
        let mut sealed = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(scope),
                &mut sealed,
            )
            .map_err(|_| failed())?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a cursor sealed for `scope`; anything else (malformed, altered, another
    /// list's, another deployment's) is a 400.
    pub fn open(&self, scope: &[u8], cursor: &str) -> ApiResult<Vec<u8>> {
        if cursor.len() > CURSOR_MAX {
            return Err(invalid());
        }
        let mut bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        if bytes.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(invalid());
        }
        let mut sealed = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| invalid())?;
        let plaintext = self
            .0
            .open_in_place(nonce, Aad::from(scope), &mut sealed)
            .map_err(|_| invalid())?;
        Ok(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn cursors_open_only_for_their_scope_and_key() {
        let key = CursorKey::derive(SECRET).unwrap();
        let cursor = key.seal(b"list-a", b"position").unwrap();
        assert_eq!(key.open(b"list-a", &cursor).unwrap(), b"position");
        // A random nonce each time: equal positions give different cursors.
        assert_ne!(cursor, key.seal(b"list-a", b"position").unwrap());
        assert!(key.open(b"list-b", &cursor).is_err());
        let other = CursorKey::derive(b"another secret of at least 32 bytes!").unwrap();
        assert!(other.open(b"list-a", &cursor).is_err());

        let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        for at in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[at] ^= 1;
            assert!(
                key.open(b"list-a", &URL_SAFE_NO_PAD.encode(&bytes))
                    .is_err()
            );
            bytes[at] ^= 1;
        }
        for bad in [
            "",
            "%%%",
            &cursor[..cursor.len() - 2],
            &"A".repeat(CURSOR_MAX + 1),
        ] {
            assert!(key.open(b"list-a", bad).is_err(), "{bad}");
        }
    }
}
