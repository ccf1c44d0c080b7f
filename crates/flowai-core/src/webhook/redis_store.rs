//! The dedupe store shared by receiver replicas: Redis, `SET NX PX` claims, done marks, token-checked releases.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::dedupe::{Claim, DedupeStore, StoreFuture, redis_target};
use crate::error::{Error, Result};

/// What a done key holds; a claim holds its random token instead.
const DONE: &str = "done";
/// Every key of the store starts with this.
const PREFIX: &str = "flowai:webhook:";
/// Deletes a claim only while it still holds the releasing handler's token, so that a
/// handler whose claim expired cannot release the claim a retry took since.
const RELEASE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/// How a [`RedisStore`] claims and remembers calls.
#[derive(Debug, Clone)]
pub struct RedisStoreOptions {
    /// How long a claim holds a call against other replicas; a replica that dies holding
    /// it leaves the call to a retry after this long. Longer than the slowest handler.
    pub claim_ttl: Duration,
    /// How long a handled call is remembered; longer than the sender retries (Flow.ai: 4 h).
    pub done_ttl: Duration,
    /// Deadline of one store operation, reconnecting included; past it the call gets 503.
    pub op_timeout: Duration,
}

impl Default for RedisStoreOptions {
    fn default() -> Self {
        RedisStoreOptions {
            claim_ttl: Duration::from_secs(60),
            done_ttl: Duration::from_secs(24 * 3600),
            op_timeout: Duration::from_secs(1),
        }
    }
}

/// Dedupe through one Redis server shared by every replica.
pub struct RedisStore {
    conn: ConnectionManager,
    options: RedisStoreOptions,
    /// `host:port` only: the URL may carry a password.
    target: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.target)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store for `url` (`redis://[user:password@]host[:port][/db]`). It connects lazily
    /// and reconnects on its own, so a Redis that is down now only makes calls fail (503)
    /// until it is back. Must run inside a tokio runtime.
    pub fn new(url: &str, options: RedisStoreOptions) -> Result<RedisStore> {
        let target = redis_target(url)?;
        let client = redis::Client::open(url).map_err(|e| {
            Error::invalid(format!(
                "dedup_url is not a usable Redis URL ({target}): {}",
                reason(&e)
            ))
        })?;
        // Fail fast while Redis is away: a call waits for one short connection attempt,
        // then gets 503 and is retried by its sender, instead of holding its connection
        // through a long reconnect schedule.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(20))
            .set_max_delay(Duration::from_millis(200))
            .set_connection_timeout(Some(options.op_timeout))
            .set_response_timeout(Some(options.op_timeout));
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(|e| {
            Error::connection(format!(
                "cannot set up the dedupe store at {target}: {}",
                reason(&e)
            ))
        })?;
        Ok(RedisStore {
            conn,
            options,
            target,
        })
    }

    /// Whether Redis answers now (a `PING` within the operation deadline).
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("PING");
        self.run(async move { cmd.query_async::<String>(&mut conn).await })
            .await
            .map(drop)
    }

    async fn run<T>(&self, op: impl Future<Output = redis::RedisResult<T>>) -> Result<T> {
        match tokio::time::timeout(self.options.op_timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Error::connection(format!(
                "the dedupe store at {} failed: {}",
                self.target,
                reason(&e)
            ))),
            Err(_) => Err(Error::connection(format!(
                "the dedupe store at {} did not answer in time",
                self.target
            ))),
        }
    }

    async fn claim_key(&self, key: &str) -> Result<Claim> {
        let key = format!("{PREFIX}{key}");
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut conn = self.conn.clone();
        let set = redis::cmd("SET")
            .arg(&key)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(millis(self.options.claim_ttl))
            .to_owned();
        let claimed: Option<String> = self.run(set.query_async(&mut conn)).await?;
        if claimed.is_some() {
            return Ok(Claim::New(token));
        }
        let get = redis::cmd("GET").arg(&key).to_owned();
        let held: Option<String> = self.run(get.query_async(&mut conn)).await?;
        // Gone between the two commands (an expired claim): still someone else's moment;
        // the sender's retry claims it.
        Ok(match held.as_deref() {
            Some(DONE) => Claim::Done,
            _ => Claim::InFlight,
        })
    }

    async fn done_key(&self, key: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        let set = redis::cmd("SET")
            .arg(format!("{PREFIX}{key}"))
            .arg(DONE)
            .arg("PX")
            .arg(millis(self.options.done_ttl))
            .to_owned();
        self.run(set.query_async::<()>(&mut conn)).await
    }

    async fn release_key(&self, key: &str, token: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        let eval = redis::cmd("EVAL")
            .arg(RELEASE)
            .arg(1)
            .arg(format!("{PREFIX}{key}"))
            .arg(token)
            .to_owned();
        self.run(eval.query_async::<i64>(&mut conn)).await.map(drop)
    }
}

impl DedupeStore for RedisStore {
    fn claim<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Claim> {
        Box::pin(self.claim_key(key))
    }

    fn done<'a>(&'a self, key: &'a str, _token: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.done_key(key))
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.release_key(key, token))
    }

    fn keys_bodies(&self) -> bool {
        true
    }
}

/// Why a Redis command failed, in words that cannot carry the URL or its password.
fn reason(e: &redis::RedisError) -> &'static str {
    if e.is_connection_refusal() {
        "connection refused"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_connection_dropped() {
        "connection dropped"
    } else if e.is_io_error() {
        "I/O error"
    } else {
        "an error answer"
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}
