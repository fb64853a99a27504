//! The operator simulator server: one HTTP server that speaks MTN MoMo's and Airtel Money's
//! wire protocols on their own paths, keeps state, injects a profile's faults, calls back,
//! and records every execution (`/_sim/transfers`) for load tests and audits.
//!
//! # Layout
//! - `profile`: the TOML profile and its validation
//! - `book`: transfers and payments by reference, the float, the execution record
//! - `faults`: what one POST becomes; `draws`: the seeded dice behind it
//! - `tokens`, `limits` (the two kinds of 429), `callbacks`, `stats`
//! - `forgery`: forged and lying MTN callbacks
//! - `mtn`, `airtel`: the two wire protocols; `admin`: `/_sim/*`

mod admin;
mod airtel;
mod book;
mod callbacks;
mod draws;
mod faults;
mod forgery;
mod limits;
mod mtn;
mod profile;
mod stats;
mod tokens;

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use payrail_engine::ids::Reference;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use book::{ExecutedTransfer, Kind, SimOperator, TransferStatus, TransfersReport};
pub use profile::{
    AirtelCredential, CallbackMethod, CallbackProfile, MtnCredential, Product, SimFaults,
    SimProfileError, SimServerProfile,
};
pub use stats::{FaultCounts, ForgedCallbacks, SimStats, TokenRequests};

use book::Book;
use callbacks::Callbacks;
use draws::Draws;
use limits::{Burst, StatusLimit};
use stats::Counters;
use tokens::Tokens;

/// How long `shutdown` lets in-flight requests finish; held replies (`hang_ms`) are cut.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Why a simulator server could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimServerError {
    #[error(transparent)]
    Profile(#[from] SimProfileError),
    #[error("building the callback HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("reading the listener's address: {0}")]
    Io(#[from] std::io::Error),
}

/// The profile in force and what is derived from it; replaced whole on a profile change.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) profile: SimServerProfile,
    pub(crate) status_limit: StatusLimit,
}

impl Live {
    fn new(profile: SimServerProfile) -> Live {
        Live {
            status_limit: StatusLimit::new(profile.status_queries_per_second),
            profile,
        }
    }

    pub(crate) fn draws(&self) -> Draws {
        Draws::new(self.profile.seed)
    }

    /// Sleeps for the profile's latency of this reply.
    pub(crate) async fn travel(&self, reference: Reference, attempt: u32) {
        let delay = self
            .draws()
            .latency(self.profile.latency, reference, attempt);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    /// Holds a reply until the client has surely given up.
    pub(crate) async fn hang(&self) {
        tokio::time::sleep(Duration::from_millis(self.profile.hang_ms)).await;
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct Sim {
    live: RwLock<Arc<Live>>,
    pub(crate) book: Book,
    pub(crate) tokens: Tokens,
    pub(crate) counters: Arc<Counters>,
    pub(crate) callbacks: Callbacks,
    pub(crate) burst: Burst,
}

impl Sim {
    pub(crate) fn live(&self) -> Arc<Live> {
        Arc::clone(&self.live.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Validates and installs a profile. The float is reset only if the profile's float
    /// changed; the status limiter restarts.
    fn set_profile(&self, profile: SimServerProfile) -> Result<(), SimProfileError> {
        profile.validate()?;
        let mut live = self.live.write().unwrap_or_else(PoisonError::into_inner);
        if live.profile.float != profile.float {
            self.book.set_floats(&profile.float);
        }
        *live = Arc::new(Live::new(profile));
        Ok(())
    }
}

/// A simulator: its state and its router. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SimServer {
    sim: Arc<Sim>,
}

impl SimServer {
    pub fn new(profile: SimServerProfile) -> Result<SimServer, SimServerError> {
        profile.validate()?;
        let sim = Sim {
            book: Book::new(&profile.float),
            live: RwLock::new(Arc::new(Live::new(profile))),
            tokens: Tokens::default(),
            counters: Arc::default(),
            callbacks: Callbacks::new()?,
            burst: Burst::new(),
        };
        Ok(SimServer { sim: Arc::new(sim) })
    }

    /// Both operators' paths and `/_sim/*`.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(mtn::router())
            .merge(airtel::router())
            .merge(admin::router())
            .fallback(no_such_path)
            .with_state(Arc::clone(&self.sim))
    }

    /// Every transfer and payment created, oldest first.
    pub fn transfers(&self) -> Vec<ExecutedTransfer> {
        self.sim.book.report().transfers
    }

    /// What `GET /_sim/transfers` answers.
    pub fn report(&self) -> TransfersReport {
        self.sim.book.report()
    }

    pub fn stats(&self) -> SimStats {
        self.sim.counters.snapshot()
    }

    pub fn profile(&self) -> SimServerProfile {
        self.sim.live().profile.clone()
    }

    pub fn set_profile(&self, profile: SimServerProfile) -> Result<(), SimProfileError> {
        self.sim.set_profile(profile)
    }

    /// Abandons callbacks not yet delivered.
    pub fn stop_callbacks(&self) {
        self.sim.callbacks.stop();
    }
}

/// A running simulator server.
#[derive(Debug)]
pub struct SimServerHandle {
    server: SimServer,
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Serves a new simulator with `profile` on `listener` until `shutdown`.
pub async fn spawn(
    listener: TcpListener,
    profile: SimServerProfile,
) -> Result<SimServerHandle, SimServerError> {
    let server = SimServer::new(profile)?;
    let address = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = server.router();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(SimServerHandle {
        server,
        address,
        stop,
        task,
    })
}

impl SimServerHandle {
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn server(&self) -> &SimServer {
        &self.server
    }

    pub fn transfers(&self) -> Vec<ExecutedTransfer> {
        self.server.transfers()
    }

    pub fn report(&self) -> TransfersReport {
        self.server.report()
    }

    pub fn stats(&self) -> SimStats {
        self.server.stats()
    }

    pub fn profile(&self) -> SimServerProfile {
        self.server.profile()
    }

    pub fn set_profile(&self, profile: SimServerProfile) -> Result<(), SimProfileError> {
        self.server.set_profile(profile)
    }

    /// Stops accepting, lets in-flight requests finish for `SHUTDOWN_GRACE`, cuts the rest
    /// (held replies) and abandons pending callbacks.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        self.server.stop_callbacks();
        let mut task = self.task;
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// A header's value as text, if present and visible ASCII.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// A JSON response from serialised bytes.
pub(crate) fn json(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.into(),
    )
        .into_response()
}

/// A JSON response with `Retry-After`.
pub(crate) fn too_many(retry_after_secs: u64, body: Vec<u8>) -> Response {
    let mut response = json(StatusCode::TOO_MANY_REQUESTS, body);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// A 200 whose body claims to be JSON and is not: a proxy's error page.
pub(crate) fn garbage() -> Response {
    json(
        StatusCode::OK,
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
    )
}

async fn no_such_path() -> Response {
    json(
        StatusCode::NOT_FOUND,
        r#"{"code":"RESOURCE_NOT_FOUND","message":"No such path on the simulator."}"#,
    )
}
