//! Datastore connections shared by the request threads. A `Store` serves one caller
//! at a time; requests borrow one, on a blocking thread, and give it back. A
//! connection that failed is dropped rather than returned, and a new one is opened
//! on the next borrow.

use leakhound_store::{Store, StoreError};
use std::sync::{Condvar, Mutex, PoisonError};

pub(crate) struct Stores {
    spec: String,
    most: usize,
    state: Mutex<Idle>,
    returned: Condvar,
}

struct Idle {
    stores: Vec<Store>,
    /// Connections open, borrowed or idle.
    open: usize,
}

impl Stores {
    pub fn new(spec: String, most: usize, first: Store) -> Stores {
        Stores {
            spec,
            most: most.max(1),
            state: Mutex::new(Idle {
                stores: vec![first],
                open: 1,
            }),
            returned: Condvar::new(),
        }
    }

    /// Run `f` with a connection, waiting for one when all are busy.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut store = self.borrow()?;
        let out = f(&mut store);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if out.is_ok() {
            state.stores.push(store);
        } else {
            state.open -= 1;
        }
        drop(state);
        self.returned.notify_one();
        out
    }

    fn borrow(&self) -> Result<Store, StoreError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(store) = state.stores.pop() {
                return Ok(store);
            }
            if state.open < self.most {
                state.open += 1;
                drop(state);
                return Store::open(&self.spec).inspect_err(|_| {
                    let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                    state.open -= 1;
                });
            }
            state = self
                .returned
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}
