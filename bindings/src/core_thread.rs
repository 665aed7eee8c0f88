//! The node's core thread: it owns the `Node` (one SQLite connection, shared
//! with the sessions through `Rc<RefCell<_>>`) and a tokio current-thread
//! runtime. Exported methods send it closures and wait for the answer, so
//! every caller on every thread is serialised without a lock on the node.

use crate::ble::BleCtl;
use crate::callbacks::{PlatformTransport, PollenListener};
use crate::error::PollenError;
use crate::events::{self, Event, EventSink, Observer};
use crate::links::{LinkInput, Running};
use pollen_node::node::Node;
use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{JoinHandle, ThreadId};
use tokio::sync::{Notify, mpsc, oneshot};

/// Work for the core thread.
type Job = Box<dyn FnOnce(&mut Core) + Send>;

/// State both sides see: the exported object (any thread) and the core thread.
#[derive(Default)]
pub(crate) struct Shared {
    /// The app's event listener.
    pub listener: Mutex<Option<Arc<dyn PollenListener>>>,
    /// The platform's link transport.
    pub transport: Mutex<Option<Arc<dyn PlatformTransport>>>,
    /// Live platform links: where their received bytes go. Kept here so
    /// `link_received` answers at once, without waiting for the core thread.
    pub links: Mutex<HashMap<u64, mpsc::UnboundedSender<LinkInput>>>,
    /// The runtime is running (platform links are accepted).
    pub running: AtomicBool,
}

/// Locks a mutex, taking over the data if a panicking thread poisoned it:
/// every value behind these locks stays valid between statements.
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// The transport, if the app set one.
    pub fn transport(&self) -> Option<Arc<dyn PlatformTransport>> {
        lock(&self.transport).clone()
    }

    /// Whether the runtime runs.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }
}

/// What the core thread owns.
pub(crate) struct Core {
    /// The node, shared with running sessions.
    pub node: Rc<RefCell<Node>>,
    /// This node's signing key.
    pub me: [u8; 32],
    /// Shared with the exported object.
    pub shared: Arc<Shared>,
    /// Events for the `pollen-events` thread.
    pub events: EventSink,
    /// Wakes the observer, which turns store changes into events.
    pub view: Rc<Notify>,
    /// The runtime, while started.
    pub run: Option<Running>,
    /// Bluetooth LE, on while the app set a radio.
    pub ble: Rc<BleCtl>,
    /// Callers waiting for the runtime to stop.
    stop_waiters: Vec<oneshot::Sender<()>>,
    /// Leave the loop after this job.
    exit: bool,
}

impl Core {
    /// Something local was written: the UI and the neighbours should hear.
    pub fn wrote(&mut self) {
        self.view.notify_one();
        if let Some(run) = &self.run {
            run.local_write();
        }
        self.ble.note_news();
    }

    /// Stops the runtime after this job; `done` fires once it has stopped.
    pub fn request_stop(&mut self, done: oneshot::Sender<()>) {
        self.stop_waiters.push(done);
    }
}

/// The exported object's handle on its core and events threads.
pub(crate) struct CoreHandle {
    jobs: mpsc::UnboundedSender<Job>,
    /// Shared with the core thread.
    pub shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    core_id: ThreadId,
    events_id: ThreadId,
}

impl CoreHandle {
    /// Starts the core and events threads around `node`.
    pub fn spawn(node: Node) -> Result<CoreHandle, PollenError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PollenError::Runtime {
                detail: format!("cannot start the runtime: {e}"),
            })?;
        let shared = Arc::new(Shared::default());
        let (event_tx, event_rx) = std::sync::mpsc::channel::<Event>();
        let spawn_failed = |e: std::io::Error| PollenError::Runtime {
            detail: format!("cannot start a thread: {e}"),
        };
        let events_thread = std::thread::Builder::new()
            .name("pollen-events".into())
            .spawn({
                let shared = shared.clone();
                move || events::deliver(event_rx, &shared)
            })
            .map_err(spawn_failed)?;
        let (jobs, jobs_rx) = mpsc::unbounded_channel::<Job>();
        let core_thread = std::thread::Builder::new()
            .name("pollen-core".into())
            .spawn({
                let shared = shared.clone();
                move || run(runtime, node, jobs_rx, event_tx, shared)
            })
            .map_err(spawn_failed)?;
        Ok(CoreHandle {
            jobs,
            shared,
            core_id: core_thread.thread().id(),
            events_id: events_thread.thread().id(),
            threads: Mutex::new(vec![core_thread, events_thread]),
        })
    }

    fn wrap<T: Send + 'static>(
        f: impl FnOnce(&mut Core) -> Result<T, PollenError> + Send + 'static,
        reply: impl FnOnce(Result<T, PollenError>) + Send + 'static,
    ) -> Job {
        Box::new(move |core: &mut Core| {
            let result = catch_unwind(AssertUnwindSafe(|| f(core)))
                .unwrap_or_else(|panic| Err(internal(panic)));
            reply(result);
        })
    }

    /// Runs `f` on the core thread and waits for its result.
    pub fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core) -> Result<T, PollenError> + Send + 'static,
    ) -> Result<T, PollenError> {
        if std::thread::current().id() == self.core_id {
            // A transport callback waiting on its own thread would never return.
            return Err(PollenError::Internal {
                detail: "blocking node call from a transport callback (core thread)".into(),
            });
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.jobs
            .send(Self::wrap(f, move |r| {
                let _ = tx.send(r);
            }))
            .map_err(|_| PollenError::ShutDown)?;
        rx.recv().map_err(|_| PollenError::ShutDown)?
    }

    /// Runs `f` on the core thread; the future resolves with its result and
    /// needs no particular executor.
    pub async fn call_async<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core) -> Result<T, PollenError> + Send + 'static,
    ) -> Result<T, PollenError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Self::wrap(f, move |r| {
                let _ = tx.send(r);
            }))
            .map_err(|_| PollenError::ShutDown)?;
        rx.await.map_err(|_| PollenError::ShutDown)?
    }

    /// Runs `f` on the core thread without waiting (transport-side calls).
    pub fn post(&self, f: impl FnOnce(&mut Core) + Send + 'static) -> Result<(), PollenError> {
        self.jobs
            .send(Self::wrap(
                move |core| {
                    f(core);
                    Ok(())
                },
                |r: Result<(), PollenError>| {
                    if let Err(e) = r {
                        tracing::error!(error = %e, "core job failed");
                    }
                },
            ))
            .map_err(|_| PollenError::ShutDown)
    }

    /// Stops the runtime and both threads; waits for them unless called from
    /// one of them (a listener may shut its node down).
    pub fn shutdown(&self, wait: bool) {
        let _ = self.jobs.send(Box::new(|core: &mut Core| core.exit = true));
        let here = std::thread::current().id();
        if !wait || here == self.core_id || here == self.events_id {
            return;
        }
        let threads: Vec<JoinHandle<()>> = lock(&self.threads).drain(..).collect();
        for t in threads {
            if t.join().is_err() {
                tracing::error!("a pollen thread panicked");
            }
        }
    }
}

fn internal(panic: Box<dyn std::any::Any + Send>) -> PollenError {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
    tracing::error!(%detail, "panic in the core thread");
    PollenError::Internal { detail }
}

/// The core thread's loop: jobs in order; stopping the runtime is awaited
/// between jobs so sessions can commit what they received.
fn run(
    runtime: tokio::runtime::Runtime,
    node: Node,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    events: EventSink,
    shared: Arc<Shared>,
) {
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let me = node.public().signing;
        let node = Rc::new(RefCell::new(node));
        let view = Rc::new(Notify::new());
        let ble = Rc::new(BleCtl::new(node.clone(), view.clone(), events.clone()));
        let mut core = Core {
            node,
            me,
            shared,
            events,
            view,
            run: None,
            ble: ble.clone(),
            stop_waiters: Vec::new(),
            exit: false,
        };
        Observer::spawn(&core);
        let ble_timer = tokio::task::spawn_local(ble.run_timer());
        while let Some(job) = jobs.recv().await {
            job(&mut core);
            if !core.stop_waiters.is_empty() || core.exit {
                if let Some(run) = core.run.take() {
                    run.stop(&core).await;
                }
                for w in core.stop_waiters.drain(..) {
                    let _ = w.send(());
                }
            }
            if core.exit {
                break;
            }
        }
        if let Some(run) = core.run.take() {
            run.stop(&core).await;
        }
        ble_timer.abort();
        if catch_unwind(AssertUnwindSafe(|| core.ble.stop())).is_err() {
            tracing::error!("panic while stopping BLE");
        }
        // Later calls fail with ShutDown rather than wait forever.
        jobs.close();
        lock(&core.shared.links).clear();
    });
}
