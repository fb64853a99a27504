//! The export runner: a task that makes waiting exports one at a time (nodes share the
//! work: each claims a job under a lease) and removes expired files every minute.

use std::time::Duration;

use payrail_engine::app::App;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long to wait when no export was waiting (or the database failed), unless this node
/// is asked for one meanwhile.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// How often expired files are removed.
const EXPIRY_SWEEP: Duration = Duration::from_secs(60);

/// The running runner; [`Runner::stop`] ends it.
#[derive(Debug)]
pub struct Runner {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Runner {
    pub fn start(app: App) -> Runner {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(app, stopped));
        Runner { stop, task }
    }

    /// Stops after the export being made, if any: its lease would hand it to another node
    /// anyway, but a finished file is not thrown away.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the export runner ended badly");
        }
    }
}

async fn run(app: App, mut stop: oneshot::Receiver<()>) {
    let mut expiry = tokio::time::interval(EXPIRY_SWEEP);
    loop {
        let made = match app.run_next_export().await {
            Ok(made) => made.is_some(),
            Err(error) => {
                tracing::warn!(%error, "an export could not be made");
                false
            }
        };
        if made {
            if !matches!(stop.try_recv(), Err(oneshot::error::TryRecvError::Empty)) {
                break;
            }
            continue;
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = expiry.tick() => {
                match app.expire_exports().await {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "expired export files removed"),
                    Err(error) => tracing::warn!(%error, "expired exports could not be removed"),
                }
            }
            () = app.export_asked() => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}
