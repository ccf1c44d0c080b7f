//! Fault injection: knobs set in-process or over HTTP (`/_emulator/faults`) to break things on purpose.

use std::sync::Mutex;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::AppState;

/// The current faults. Every field's default means "no fault".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FaultConfig {
    /// Close every Flow socket after this many inbound frames on it.
    pub drop_after_frames: Option<u64>,
    /// Stop reading and writing (but keep TCP open) after this many inbound frames.
    pub stall_after_frames: Option<u64>,
    /// Answer the next N socket.info calls with `refuse_status`.
    pub refuse_socket_info: u32,
    /// The status used while refusing socket.info (default 503).
    pub refuse_status: Option<u16>,
    /// Delay every bot reply and delivered echo by this many milliseconds.
    pub reply_delay_ms: u64,
    /// Answer the next N Messaging/Management REST calls with 500.
    pub fail_http: u32,
    /// Close every AIDA socket after this many inbound frames on it.
    pub aida_drop_after_frames: Option<u64>,
    /// Leave AIDA heartbeats unanswered.
    pub aida_ignore_heartbeats: bool,
    /// Answer the next N socket.info calls with an endpoint that was already used (refused on connect).
    pub stale_socket_endpoints: u32,
    /// Send a non-JSON text frame before the answers to the next N Flow socket `message.send`s.
    pub socket_garbage_frames: u32,
    /// Send a close frame (1001, going away) before dropping a socket for `drop_after_frames`
    /// or `aida_drop_after_frames`, like a server shutting down cleanly.
    pub close_cleanly: bool,
    /// Stop reading and writing AIDA sockets (but keep TCP open) after this many inbound frames.
    pub aida_stall_after_frames: Option<u64>,
    /// Refuse the next N AIDA websocket upgrades with `refuse_status` (default 503).
    pub refuse_aida_connect: u32,
    /// Hold the answers to every `ack_delay_every`-th inbound frame of a socket (Flow and AIDA)
    /// for this many milliseconds; later frames of that socket wait behind it.
    pub ack_delay_ms: u64,
    /// Which frames `ack_delay_ms` delays: every n-th per socket (0 and 1 mean every frame).
    pub ack_delay_every: u64,
    /// How long a stalled socket (Flow or AIDA) is held open before the emulator drops it,
    /// in milliseconds; 0 holds it for the idle timeout, at least a minute.
    pub stall_hold_ms: u64,
    /// Answer the next N Flow REST API v1 calls with `rest_v1_status` (default 503).
    pub rest_v1_failures: u32,
    /// The status of those answers (e.g. 429, 500, 503).
    pub rest_v1_status: Option<u16>,
    /// The `Retry-After` header of those answers (seconds or an HTTP date), when set.
    pub rest_v1_retry_after: Option<String>,
    /// Hold the next N Flow REST API v1 calls for `rest_v1_stall_ms` before answering them.
    pub rest_v1_stalls: u32,
    /// How long a stalled v1 call is held, in milliseconds.
    pub rest_v1_stall_ms: u64,
}

/// What a Flow REST API v1 call meets, from [`Faults::take_rest_v1_fault`].
#[derive(Clone, Debug, PartialEq)]
pub enum RestV1Fault {
    /// Answer with this status (and `Retry-After`) instead of serving the call.
    Fail {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` header value.
        retry_after: Option<String>,
    },
    /// Hold the call this long, then serve it.
    Stall(std::time::Duration),
}

/// Thread-safe holder of the [`FaultConfig`].
#[derive(Debug, Default)]
pub struct Faults {
    config: Mutex<FaultConfig>,
}

impl Faults {
    /// A copy of the current faults.
    pub fn get(&self) -> FaultConfig {
        self.lock().clone()
    }

    /// Replace every fault.
    pub fn set(&self, config: FaultConfig) {
        *self.lock() = config;
    }

    /// Change some faults in place.
    pub fn update(&self, change: impl FnOnce(&mut FaultConfig)) {
        change(&mut self.lock());
    }

    /// Remove every fault.
    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    /// When socket.info must be refused now, the status to answer (and one refusal is used up).
    pub fn take_socket_info_refusal(&self) -> Option<u16> {
        let mut c = self.lock();
        if c.refuse_socket_info == 0 {
            return None;
        }
        c.refuse_socket_info -= 1;
        Some(c.refuse_status.unwrap_or(503))
    }

    /// When an AIDA websocket upgrade must be refused now, the status to answer (and one refusal is used up).
    pub fn take_aida_refusal(&self) -> Option<u16> {
        let mut c = self.lock();
        if c.refuse_aida_connect == 0 {
            return None;
        }
        c.refuse_aida_connect -= 1;
        Some(c.refuse_status.unwrap_or(503))
    }

    /// How long a stalled socket is held open (see [`FaultConfig::stall_hold_ms`]).
    pub fn stall_hold(&self, idle_timeout: std::time::Duration) -> std::time::Duration {
        match self.lock().stall_hold_ms {
            0 => idle_timeout.max(std::time::Duration::from_secs(60)),
            ms => std::time::Duration::from_millis(ms),
        }
    }

    /// How long to hold the answers to the `count`-th inbound frame of a socket (1-based).
    pub fn ack_delay(&self, count: u64) -> Option<std::time::Duration> {
        let c = self.lock();
        let every = c.ack_delay_every.max(1);
        (c.ack_delay_ms > 0 && count % every == 0)
            .then(|| std::time::Duration::from_millis(c.ack_delay_ms))
    }

    /// Whether this socket.info answer must carry a used endpoint (and one is used up).
    pub fn take_stale_socket_endpoint(&self) -> bool {
        let mut c = self.lock();
        if c.stale_socket_endpoints == 0 {
            return false;
        }
        c.stale_socket_endpoints -= 1;
        true
    }

    /// Whether a garbage frame must precede this `message.send`'s answers (and one is used up).
    pub fn take_socket_garbage(&self) -> bool {
        let mut c = self.lock();
        if c.socket_garbage_frames == 0 {
            return false;
        }
        c.socket_garbage_frames -= 1;
        true
    }

    /// Whether this REST call must fail with 500 (and one failure is used up).
    pub fn take_http_failure(&self) -> bool {
        let mut c = self.lock();
        if c.fail_http == 0 {
            return false;
        }
        c.fail_http -= 1;
        true
    }

    /// The fault the next Flow REST API v1 call meets, if any (and one is used up);
    /// failures are used up before stalls.
    pub fn take_rest_v1_fault(&self) -> Option<RestV1Fault> {
        let mut c = self.lock();
        if c.rest_v1_failures > 0 {
            c.rest_v1_failures -= 1;
            return Some(RestV1Fault::Fail {
                status: c.rest_v1_status.unwrap_or(503),
                retry_after: c.rest_v1_retry_after.clone(),
            });
        }
        if c.rest_v1_stalls > 0 {
            c.rest_v1_stalls -= 1;
            return Some(RestV1Fault::Stall(std::time::Duration::from_millis(
                c.rest_v1_stall_ms,
            )));
        }
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultConfig> {
        // A poisoned lock still holds valid plain data.
        self.config.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `GET` reads, `POST` replaces and `DELETE` clears the faults.
pub fn router() -> Router<AppState> {
    Router::new().route("/_emulator/faults", get(read).post(replace).delete(clear))
}

async fn read(State(state): State<AppState>) -> Json<FaultConfig> {
    Json(state.faults.get())
}

async fn replace(
    State(state): State<AppState>,
    Json(config): Json<FaultConfig>,
) -> Json<FaultConfig> {
    state.faults.set(config.clone());
    Json(config)
}

async fn clear(State(state): State<AppState>) -> Json<FaultConfig> {
    state.faults.clear();
    Json(FaultConfig::default())
}
