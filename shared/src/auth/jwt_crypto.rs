//! jsonwebtoken's cryptography on ring, the library rustls and the AWS SDK's HTTPS client
//! already use here, so a function links one cryptography library (aws-lc, jsonwebtoken's
//! other choice, is about a megabyte of each binary).
//!
//! Only the algorithms Huddle uses: HMAC (HS256 for its own access tokens; HS384 and HS512
//! cost nothing more) signed and verified, RS256 and ES256 for an external identity
//! provider's ID tokens (verified; signed too, for tests that play the provider). Any other
//! algorithm is refused as `InvalidAlgorithm`, which token verification answers with a 401
//! like any other bad token.
//! [`install`] makes this the process's provider; the token code calls it before use.

use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents,
    UnparsedPublicKey,
};
use ring::{digest, hmac};

/// The provider: ring behind jsonwebtoken's signer and verifier traits.
static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    jwk_utils: JwkUtils {
        extract_rsa_public_key_components,
        extract_ec_public_key_coordinates,
        compute_digest,
    },
};

/// Makes ring jsonwebtoken's provider for this process; later calls change nothing.
pub fn install() {
    // Err only when a provider is already installed: this one, by an earlier call.
    let _already = RING_PROVIDER.install_default();
}

fn unsupported() -> Error {
    ErrorKind::InvalidAlgorithm.into()
}

/// The HMAC signer and verifier of `algorithm` with the key's `secret`, if `algorithm` is
/// an HMAC algorithm (the secret is only looked at then).
fn hmac_for(algorithm: Algorithm, secret: Result<&[u8], Error>) -> Option<Result<Hmac, Error>> {
    let hmac = match algorithm {
        Algorithm::HS256 => hmac::HMAC_SHA256,
        Algorithm::HS384 => hmac::HMAC_SHA384,
        Algorithm::HS512 => hmac::HMAC_SHA512,
        _ => return None,
    };
    Some(secret.map(|secret| Hmac {
        key: hmac::Key::new(hmac, secret),
        algorithm,
    }))
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    if let Some(hmac) = hmac_for(*algorithm, key.try_get_hmac_secret()) {
        return Ok(Box::new(hmac?));
    }
    match algorithm {
        Algorithm::ES256 => {
            if key.family() != AlgorithmFamily::Ec {
                return Err(ErrorKind::InvalidKeyFormat.into());
            }
            let pair = EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                key.inner(),
                &SystemRandom::new(),
            )
            .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?;
            Ok(Box::new(Es256Signer(pair)))
        }
        Algorithm::RS256 => {
            if key.family() != AlgorithmFamily::Rsa {
                return Err(ErrorKind::InvalidKeyFormat.into());
            }
            let pair = RsaKeyPair::from_der(key.inner())
                .or_else(|_| RsaKeyPair::from_pkcs8(key.inner()))
                .map_err(|e| Error::from(ErrorKind::InvalidRsaKey(e.to_string())))?;
            Ok(Box::new(Rs256Signer(pair)))
        }
        _ => Err(unsupported()),
    }
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    if let Some(hmac) = hmac_for(*algorithm, key.try_get_hmac_secret()) {
        return Ok(Box::new(hmac?));
    }
    match algorithm {
        Algorithm::ES256 if key.family() == AlgorithmFamily::Ec => {
            Ok(Box::new(Es256Verifier(key.as_bytes().to_vec())))
        }
        Algorithm::RS256 if key.family() == AlgorithmFamily::Rsa => {
            Ok(Box::new(Rs256Verifier(key.kind().clone())))
        }
        Algorithm::ES256 | Algorithm::RS256 => Err(ErrorKind::InvalidKeyFormat.into()),
        _ => Err(unsupported()),
    }
}

/// HMAC with a shared secret: signs and verifies (in constant time).
struct Hmac {
    key: hmac::Key,
    algorithm: Algorithm,
}

impl Signer<Vec<u8>> for Hmac {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(hmac::sign(&self.key, message).as_ref().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hmac {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> Result<(), signature::Error> {
        hmac::verify(&self.key, message, tag).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hmac {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

impl JwtVerifier for Hmac {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

/// ES256 signing with a P-256 key pair (PKCS#8).
struct Es256Signer(EcdsaKeyPair);

impl Signer<Vec<u8>> for Es256Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        self.0
            .sign(&SystemRandom::new(), message)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Es256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

/// ES256 verification with a P-256 public key (the uncompressed point).
struct Es256Verifier(Vec<u8>);

impl Verifier<Vec<u8>> for Es256Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.0)
            .verify(message, signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for Es256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

/// RS256 signing with an RSA key pair (PKCS#1 or PKCS#8 DER).
struct Rs256Signer(RsaKeyPair);

impl Signer<Vec<u8>> for Rs256Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| signature::Error::new())?;
        Ok(signature)
    }
}

impl JwtSigner for Rs256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

/// RS256 verification (2048 to 8192 bits) with a DER public key or its modulus and exponent.
struct Rs256Verifier(DecodingKeyKind);

impl Verifier<Vec<u8>> for Rs256Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let verified =
            match &self.0 {
                DecodingKeyKind::SecretOrDer(der) => {
                    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
                        .verify(message, signature)
                }
                DecodingKeyKind::RsaModulusExponent { n, e } => RsaPublicKeyComponents { n, e }
                    .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature),
            };
        verified.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for Rs256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

/// The public modulus and exponent of an RSA private key (DER), for a JWK.
fn extract_rsa_public_key_components(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let pair = RsaKeyPair::from_der(der)
        .or_else(|_| RsaKeyPair::from_pkcs8(der))
        .map_err(|e| Error::from(ErrorKind::InvalidRsaKey(e.to_string())))?;
    let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
    Ok((public.n, public.e))
}

/// The curve and public point of a P-256 private key (PKCS#8), for a JWK.
fn extract_ec_public_key_coordinates(
    pkcs8: &[u8],
    algorithm: Algorithm,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>), Error> {
    if algorithm != Algorithm::ES256 {
        return Err(unsupported());
    }
    let pair = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8,
        &SystemRandom::new(),
    )
    .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?;
    // An uncompressed point: 0x04, then x and y of 32 bytes each.
    match pair.public_key().as_ref() {
        [4, point @ ..] if point.len() == 64 => {
            let (x, y) = point.split_at(32);
            Ok((EllipticCurve::P256, x.to_vec(), y.to_vec()))
        }
        _ => Err(ErrorKind::InvalidEcdsaKey.into()),
    }
}

/// A JWK thumbprint's digest.
fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Vec<u8> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &digest::SHA256,
        ThumbprintHash::SHA384 => &digest::SHA384,
        ThumbprintHash::SHA512 => &digest::SHA512,
    };
    digest::digest(algorithm, data).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Header, Validation, decode, encode};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Claims {
        sub: String,
        exp: i64,
    }

    fn claims() -> Claims {
        Claims {
            sub: "someone".into(),
            exp: chrono::Utc::now().timestamp() + 60,
        }
    }

    fn round_trip(algorithm: Algorithm, encoding: &EncodingKey, decoding: &DecodingKey) {
        install();
        let token = encode(&Header::new(algorithm), &claims(), encoding).unwrap();
        let read = decode::<Claims>(&token, decoding, &Validation::new(algorithm)).unwrap();
        assert_eq!(read.claims.sub, "someone");
        // One bit of the signature changed: refused.
        let (body, signature) = token.rsplit_once('.').unwrap();
        let mut altered = signature.as_bytes().to_vec();
        altered[0] = if altered[0] == b'A' { b'B' } else { b'A' };
        let altered = format!("{body}.{}", String::from_utf8(altered).unwrap());
        assert!(decode::<Claims>(&altered, decoding, &Validation::new(algorithm)).is_err());
    }

    #[test]
    fn hmac_signs_and_verifies_and_refuses_another_secret() {
        let secret = b"a secret of at least thirty-two bytes";
        for algorithm in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            round_trip(
                algorithm,
                &EncodingKey::from_secret(secret),
                &DecodingKey::from_secret(secret),
            );
        }
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(secret),
        )
        .unwrap();
        assert!(
            decode::<Claims>(
                &token,
                &DecodingKey::from_secret(b"another secret of thirty-two bytes!!"),
                &Validation::new(Algorithm::HS256)
            )
            .is_err()
        );
    }

    #[test]
    fn es256_signs_and_verifies_through_a_jwk() {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let encoding = EncodingKey::from_ec_der(pkcs8.as_ref());
        install();
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::ES256).unwrap();
        round_trip(
            Algorithm::ES256,
            &encoding,
            &DecodingKey::from_jwk(&jwk).unwrap(),
        );
    }

    /// An algorithm Huddle does not use is refused, not a panic.
    #[test]
    fn other_algorithms_are_refused() {
        install();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let error = encode(
            &Header::new(Algorithm::ES384),
            &claims(),
            &EncodingKey::from_ec_der(pkcs8.as_ref()),
        )
        .unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::InvalidAlgorithm);
    }
}
