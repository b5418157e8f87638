//! Argon2id password hashing at OWASP's parameters (m = 19 MiB, t = 2, p = 1), run on the
//! blocking pool so that hashing never stalls the async runtime, and bounded: at most
//! `concurrency` hashes run at once (each holds 19 MiB and a thread), at most `queue`
//! callers wait for one, and anyone beyond that gets a 503 at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::error::{ApiError, ApiResult};

const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// What a caller beyond the bound is told (with `Retry-After`, like every 503).
const BUSY: &str = "too many sign-ins at once; retry shortly";

/// A PHC string with the parameters above that no known password produces: logins with an
/// unknown email verify against it, so they cost the same work as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$aHVkZGxlLWR1bW15LXNhbHQ$\
                          0Rvo0wNkFTxSVQgQ6CIwJKTGWbAm4kWC6ZBZH5Tq3x8";

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

/// The bound on hashing: `concurrency` permits and at most `queue` waiters for one.
#[derive(Debug)]
pub struct HashLimiter {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
}

/// A waiter's place in the queue, given back when it gets a permit or gives up.
struct QueueSlot<'a>(&'a AtomicUsize);

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashLimiter {
    /// At most `concurrency` (at least 1) hashes at once, at most `queue` callers waiting.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            queue,
        }
    }

    /// A permit to hash: at once if one is free, after waiting if the queue has room, else
    /// a 503 `unavailable` at once. The permit is released when dropped.
    pub async fn acquire(&self) -> ApiResult<OwnedSemaphorePermit> {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::NoPermits) => {}
            Err(TryAcquireError::Closed) => return Err(ApiError::Unavailable(BUSY.into())),
        }
        let queued = self
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |waiting| {
                (waiting < self.queue).then_some(waiting + 1)
            });
        if queued.is_err() {
            tracing::warn!(queue = self.queue, "password hashing queue full");
            return Err(ApiError::Unavailable(BUSY.into()));
        }
        // Given back however the wait ends (a permit, or the request being dropped).
        let _slot = QueueSlot(&self.waiting);
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable(BUSY.into()))
    }

    /// Runs `work` on the blocking pool under a permit. The permit moves into the blocking
    /// task, so it is held until the hash is done even if the request is dropped meanwhile.
    async fn run<T, F>(&self, what: &'static str, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce() -> ApiResult<T> + Send + 'static,
    {
        let permit = self.acquire().await?;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .context(what)
        .map_err(ApiError::internal)?
    }

    /// Hashes a password into a PHC string (algorithm, parameters and salt included).
    pub async fn hash_password(&self, password: String) -> ApiResult<String> {
        self.run("password hashing task", move || hash_blocking(&password))
            .await
    }

    /// Verifies a password against a stored PHC string.
    pub async fn verify_password(&self, password: String, phc: String) -> ApiResult<bool> {
        self.run("password verification task", move || {
            verify_blocking(&password, &phc)
        })
        .await
    }

    /// Spends the same work as a real verification (under the same bound), for logins with
    /// an unknown email, so the response does not tell which emails have accounts.
    pub async fn verify_against_dummy(&self, password: String) -> ApiResult<()> {
        self.verify_password(password, DUMMY_HASH.to_owned())
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> HashLimiter {
        HashLimiter::new(2, 4)
    }

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_owasp_parameters() {
        let passwords = limiter();
        let hash = passwords
            .hash_password("correct horse".to_owned())
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify_password("correct horse".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify_password("wrong horse".into(), hash)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn same_password_gets_different_salts() {
        let passwords = limiter();
        let a = passwords.hash_password("same".to_owned()).await.unwrap();
        let b = passwords.hash_password("same".to_owned()).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn the_dummy_hash_costs_what_a_real_one_does() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        let real = hash_blocking("anything").unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(parsed.algorithm, real.algorithm);
        assert_eq!(parsed.params, real.params);
        assert_eq!(parsed.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
        limiter()
            .verify_against_dummy("huddle".into())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn beyond_the_permits_and_the_queue_callers_are_refused_at_once() {
        let limiter = Arc::new(HashLimiter::new(1, 0));
        let held = limiter.acquire().await.unwrap();
        // No permit and no room to wait: refused without waiting.
        let refused = limiter.acquire().await;
        assert!(
            matches!(refused, Err(ApiError::Unavailable(_))),
            "{refused:?}"
        );
        let hash = limiter.hash_password("password".into()).await;
        assert!(matches!(hash, Err(ApiError::Unavailable(_))), "{hash:?}");
        let dummy = limiter.verify_against_dummy("password".into()).await;
        assert!(matches!(dummy, Err(ApiError::Unavailable(_))), "{dummy:?}");
        drop(held);
        assert!(limiter.hash_password("password".into()).await.is_ok());
    }

    #[tokio::test]
    async fn the_queue_holds_its_size_and_frees_its_places() {
        let limiter = Arc::new(HashLimiter::new(1, 2));
        let held = limiter.acquire().await.unwrap();
        let mut waiters = Vec::new();
        for _ in 0..2 {
            let limiter = limiter.clone();
            waiters.push(tokio::spawn(async move { limiter.acquire().await.is_ok() }));
        }
        // Wait until both are queued (no timing: the count says so).
        while limiter.waiting.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        let third = limiter.acquire().await;
        assert!(matches!(third, Err(ApiError::Unavailable(_))), "{third:?}");
        drop(held);
        for waiter in waiters {
            assert!(waiter.await.unwrap(), "a queued caller gets its permit");
        }
        assert_eq!(limiter.waiting.load(Ordering::SeqCst), 0);

        // A waiter whose request is dropped gives its place back.
        let held = limiter.acquire().await.unwrap();
        let abandoned = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire().await.is_ok() })
        };
        while limiter.waiting.load(Ordering::SeqCst) < 1 {
            tokio::task::yield_now().await;
        }
        abandoned.abort();
        assert!(abandoned.await.is_err());
        assert_eq!(limiter.waiting.load(Ordering::SeqCst), 0);
        drop(held);
    }

    #[tokio::test]
    async fn a_permit_is_held_until_the_hash_ends_even_if_the_caller_gives_up() {
        let limiter = Arc::new(HashLimiter::new(1, 0));
        let (finish, finished) = std::sync::mpsc::channel::<()>();
        let hashing = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                limiter
                    .run("test work", move || {
                        let _released = finished.recv();
                        Ok(())
                    })
                    .await
            })
        };
        while limiter.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        // The caller goes away; the blocking work goes on, and keeps its permit.
        hashing.abort();
        assert!(hashing.await.is_err());
        assert_eq!(limiter.permits.available_permits(), 0);
        let refused = limiter.acquire().await;
        assert!(
            matches!(refused, Err(ApiError::Unavailable(_))),
            "{refused:?}"
        );
        finish.send(()).unwrap();
        // Released once the work ends.
        assert!(limiter.permits.clone().acquire_owned().await.is_ok());
    }
}
