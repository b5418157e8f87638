//! Argon2id password hashing at OWASP's parameters (m = 19 MiB, t = 2, p = 1), bounded: at
//! most `concurrency` hashes run at once, each on one of `concurrency` threads that do
//! nothing else (so hashing never stalls the async runtime, and the 19 MiB each hash takes
//! is reused by the same few threads instead of being left in the allocator arenas of an
//! ever-changing set of blocking threads); at most `queue` callers wait for a hash, and
//! anyone beyond that gets a 503 at once.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

fn argon2_error(what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::internal(anyhow::anyhow!("{what}: {error}"))
}

thread_local! {
    /// This thread's argon2 working memory (19 MiB at the parameters above): allocated by
    /// its first hash and reused by every later one, so a hashing thread holds one block
    /// of memory for good instead of churning the allocator with a new 19 MiB each time.
    static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `argon2` with this thread's working memory, as the `out` of `salt` and `password`.
fn hash_into(argon2: &Argon2<'_>, password: &str, salt: &[u8], out: &mut [u8]) -> ApiResult<()> {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        let blocks = argon2.params().block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..blocks])
            .map_err(|e| argon2_error("argon2 hash", e))
    })
}

fn hash_blocking(password: &str) -> ApiResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    let argon2 = hasher()?;
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| argon2_error("argon2 salt", e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    hash_into(&argon2, password, salt_bytes, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params())
            .map_err(|e| argon2_error("argon2 params", e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| argon2_error("argon2 output", e))?),
    };
    Ok(phc.to_string())
}

fn verify_blocking(password: &str, phc: &str) -> ApiResult<bool> {
    let unreadable = |e| argon2_error("stored password hash unreadable", e);
    let parsed = PasswordHash::new(phc).map_err(unreadable)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(unreadable)?;
    let version = match parsed.version {
        Some(version) => Version::try_from(version).map_err(|e| unreadable(e.into()))?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(unreadable)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(unreadable(argon2::password_hash::Error::PhcStringField));
    };
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(unreadable)?;
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    hash_into(&argon2, password, salt_bytes, &mut out)?;
    // `Output` compares in constant time.
    Ok(Output::new(&out).map_err(unreadable)? == expected)
}

/// Work for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// The bound on hashing: `concurrency` permits and threads, and at most `queue` waiters for
/// a permit.
#[derive(Debug)]
pub struct HashLimiter {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    concurrency: usize,
    /// Where jobs go to the hashing threads, started at the first hash.
    workers: Mutex<Option<mpsc::Sender<Job>>>,
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
        let concurrency = concurrency.max(1);
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: AtomicUsize::new(0),
            queue,
            concurrency,
            workers: Mutex::new(None),
        }
    }

    /// The hashing threads' queue, starting them the first time. A job is only ever sent
    /// with a permit, so at most `concurrency` are in there and each finds a free thread.
    /// The threads end when the limiter is dropped.
    fn workers(&self) -> ApiResult<mpsc::Sender<Job>> {
        let mut workers = self
            .workers
            .lock()
            .map_err(|_| ApiError::internal(anyhow::anyhow!("password hashing workers lock")))?;
        if let Some(sender) = workers.as_ref() {
            return Ok(sender.clone());
        }
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..self.concurrency {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{index}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while taking a job, never while running one.
                        let job = match receiver.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            Err(mpsc::RecvError) => break,
                        }
                    }
                })
                .map_err(|e| {
                    ApiError::internal(anyhow::anyhow!("starting a hashing thread: {e}"))
                })?;
        }
        *workers = Some(sender.clone());
        Ok(sender)
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

    /// Runs `work` on a hashing thread under a permit. The permit moves into the job, so it
    /// is held until the work is done even if the request is dropped meanwhile.
    async fn run<T, F>(&self, what: &'static str, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce() -> ApiResult<T> + Send + 'static,
    {
        let permit = self.acquire().await?;
        let workers = self.workers()?;
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(work));
            drop(permit);
            // The caller may have gone; the work counted all the same.
            let _delivered = done.send(outcome);
        });
        workers
            .send(job)
            .map_err(|_| ApiError::internal(anyhow::anyhow!("{what}: hashing threads gone")))?;
        match result.await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_panic)) => Err(ApiError::internal(anyhow::anyhow!("{what} panicked"))),
            Err(_) => Err(ApiError::internal(anyhow::anyhow!(
                "{what} ended without a result"
            ))),
        }
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

    #[test]
    fn hashes_are_those_of_the_argon2_crate_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_blocking("correct horse").unwrap();
        let theirs = hasher()
            .unwrap()
            .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        let argon2 = hasher().unwrap();
        assert!(
            argon2
                .verify_password(b"correct horse", &PasswordHash::new(&ours).unwrap())
                .is_ok()
        );
        assert!(
            argon2
                .verify_password(b"wrong horse", &PasswordHash::new(&ours).unwrap())
                .is_err()
        );
        assert!(verify_blocking("correct horse", &theirs).unwrap());
        assert!(!verify_blocking("correct horse!", &theirs).unwrap());
        assert!(verify_blocking("x", "not a phc string").is_err());
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
