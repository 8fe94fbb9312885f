//! Host I/O in flight for one isolate: operations run on the I/O runtime and report back on a
//! per-isolate channel the event loop drains; cancelled or superseded completions are dropped.

use std::collections::HashMap;
use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use super::http_client::{io_runtime, FetchFailure, FetchResponse};

/// What an operation produces.
pub(crate) type OpResult = Result<FetchResponse, FetchFailure>;

/// A host operation that finished on the I/O runtime.
#[derive(Debug)]
pub(crate) struct OpCompletion {
    /// The JS op id.
    pub id: u32,
    /// Which arming of `id` this is (ids can be reused after cancellation).
    pub ticket: u64,
    /// The outcome.
    pub result: OpResult,
}

/// Host I/O in flight for one isolate.
pub(crate) struct Ops {
    tx: mpsc::Sender<OpCompletion>,
    rx: mpsc::Receiver<OpCompletion>,
    in_flight: HashMap<u32, (u64, tokio::task::AbortHandle)>,
    next_ticket: u64,
}

impl Ops {
    pub(crate) fn new() -> Self {
        let (tx, rx) = mpsc::channel();
        Ops {
            tx,
            rx,
            in_flight: HashMap::new(),
            next_ticket: 0,
        }
    }

    /// Number of operations whose completion is still expected.
    pub(crate) fn pending(&self) -> usize {
        self.in_flight.len()
    }

    /// Cancels everything in flight; their completions are dropped.
    pub(crate) fn cancel_all(&mut self) {
        for (_, (_, handle)) in self.in_flight.drain() {
            handle.abort();
        }
        while self.rx.try_recv().is_ok() {}
    }

    /// Runs `operation` on the I/O runtime as op `id` (replacing an op of the same id).
    pub(crate) fn start(
        &mut self,
        id: u32,
        operation: impl Future<Output = OpResult> + Send + 'static,
    ) {
        self.cancel(id);
        self.next_ticket += 1;
        let ticket = self.next_ticket;
        let tx = self.tx.clone();
        let task = io_runtime().spawn(async move {
            let result = operation.await;
            let _ = tx.send(OpCompletion { id, ticket, result });
        });
        self.in_flight.insert(id, (ticket, task.abort_handle()));
    }

    /// Cancels op `id`; its completion, if any, is dropped.
    pub(crate) fn cancel(&mut self, id: u32) {
        if let Some((_, handle)) = self.in_flight.remove(&id) {
            handle.abort();
        }
    }

    /// Takes a completion if one is ready (waiting up to `wait`), skipping cancelled ones.
    pub(crate) fn next_completion(&mut self, wait: Option<Duration>) -> Option<OpCompletion> {
        loop {
            let completion = match wait {
                None => self.rx.try_recv().ok()?,
                Some(d) => self.rx.recv_timeout(d).ok()?,
            };
            match self.in_flight.get(&completion.id) {
                Some((ticket, _)) if *ticket == completion.ticket => {
                    self.in_flight.remove(&completion.id);
                    return Some(completion);
                }
                // Cancelled or superseded: drop it and look again without waiting.
                _ => {
                    if wait.is_some() {
                        return None;
                    }
                }
            }
        }
    }
}
