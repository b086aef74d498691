//! [`Shared`]: the owning handle through which services are held on the
//! platforms with std, so that ports carry no lifetime.

use icefloe_core::Handle;
use std::ops::Deref;
use std::sync::Arc;

/// An owning, reference-counted handle to a service (or, for bindings, to a
/// port): what a node's service builders return on
/// Linux and QNX (`type Hold<X> = Shared<X>`). Cloning it is one atomic increment; the service is
/// closed (and removed, if this was its last user) when the last clone and
/// the last port made from it are gone.
///
/// Its `publisher_builder`, `subscriber_builder`, `client_builder`,
/// `server_builder`, `notifier_builder` and `listener_builder` build ports
/// that hold a clone, so a port may be stored in a struct, returned from a
/// function or moved into a `'static` thread. Everything else of the
/// service is reached through `Deref`.
///
/// Wrapping a port in `Shared` (`Shared::new(subscriber)`) lets samples,
/// loans, pending responses and active requests hold the port the same way
/// (`Subscriber::receive_via(&shared)`, `Publisher::loan_uninit_via`, …):
/// what bindings to other languages need. Such a handle to a port is not
/// `Send` (ports are not `Sync`): it stays on the port's thread.
pub struct Shared<X>(Arc<X>);

impl<X> Shared<X> {
    /// A new handle owning `x`. Allocates once (the reference count).
    pub fn new(x: X) -> Self {
        Self(Arc::new(x))
    }

    /// How many handles (and ports holding one) share the target.
    pub fn handle_count(this: &Self) -> usize {
        Arc::strong_count(&this.0)
    }
}

impl<X> Clone for Shared<X> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<X> Deref for Shared<X> {
    type Target = X;
    #[inline]
    fn deref(&self) -> &X {
        &self.0
    }
}

impl<X> From<X> for Shared<X> {
    fn from(x: X) -> Self {
        Self::new(x)
    }
}

impl<X> std::borrow::Borrow<X> for Shared<X> {
    fn borrow(&self) -> &X {
        &self.0
    }
}

impl<X: std::fmt::Debug> std::fmt::Debug for Shared<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (*self.0).fmt(f)
    }
}

// SAFETY: an `Arc`'s target lives, at one address, until the last clone is
// dropped, and `deref` always returns it.
unsafe impl<X> Handle for Shared<X> {}
