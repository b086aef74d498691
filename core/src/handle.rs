//! How ports hold their service, and samples, loans and pending responses
//! their port.
//!
//! Every port is generic over a [`Handle`] to its service, and everything a
//! port hands out (a loan, a sample, a pending response, an active request)
//! over a [`Handle`] to that port:
//!
//! * a shared borrow `&'a X`: zero cost, no heap, what the core and the
//!   platforms without a heap use (the port cannot outlive the service);
//! * an owning, reference-counted handle where a heap exists (`Shared` in
//!   `icefloe-linux`, over an `Arc`): the port keeps the service alive and may
//!   be stored in a struct, returned, or moved to a `'static` thread; a
//!   binding (Python, C) can wrap it in an object that carries no lifetime.
//!
//! What a service builder's `create` / `open` returns is chosen by the
//! platform ([`Platform::Hold`](crate::Platform::Hold)): the service itself
//! (its ports borrow it) or the owning handle (its ports hold a clone).

use core::ops::Deref;

/// A pointer through which a port reaches its service, or a sample its port.
///
/// # Safety
///
/// Implementors promise that the object a handle dereferences to stays
/// alive, at the same address, for as long as the handle or any of its
/// clones lives, and that `deref` returns that same object every time.
/// Ports rely on it: they locate their service's tables once, when they are
/// made, and keep those locations beside the handle.
pub unsafe trait Handle: Clone + Deref {}

// SAFETY: a shared borrow points at one object that outlives the borrow and
// cannot move while borrowed.
unsafe impl<X: ?Sized> Handle for &X {}

/// The target of `handle`, for as long as the caller says.
///
/// # Safety
///
/// The caller must keep `handle` (or a clone) alive for all of `'x`, and
/// must not hand a reference of lifetime `'x` to code that could keep it
/// past that: ports keep such references in private fields beside the
/// handle, declared before it (so dropped first), and give out only
/// reborrows tied to `&self`.
#[inline]
pub(crate) unsafe fn anchor<'x, S: Handle>(handle: &S) -> &'x S::Target
where
    S::Target: Sized,
{
    let target: *const S::Target = &**handle;
    // SAFETY: `Handle`'s contract keeps the target alive at this address
    // while the handle lives, which the caller guarantees for `'x`.
    unsafe { &*target }
}

/// The ports and what they hand out, in the borrowing form: each port
/// borrows its service for `'s` (no heap, zero cost), as on platforms
/// without a heap. `borrowed::Publisher<'s, P, T>` is
/// `Publisher<P, T, (), &'s PublishSubscribe<P, T>>`.
pub mod borrowed {
    use crate::{Event, PublishSubscribe, RequestResponse};

    /// A publisher borrowing its service.
    pub type Publisher<'s, P, T, H = ()> = crate::Publisher<P, T, H, &'s PublishSubscribe<P, T, H>>;
    /// A subscriber borrowing its service.
    pub type Subscriber<'s, P, T, H = ()> = crate::Subscriber<P, T, H, &'s PublishSubscribe<P, T, H>>;
    /// A client borrowing its service.
    pub type Client<'s, P, Req, Res, ReqH = (), ResH = ()> =
        crate::Client<P, Req, Res, ReqH, ResH, &'s RequestResponse<P, Req, Res, ReqH, ResH>>;
    /// A server borrowing its service.
    pub type Server<'s, P, Req, Res, ReqH = (), ResH = ()> =
        crate::Server<P, Req, Res, ReqH, ResH, &'s RequestResponse<P, Req, Res, ReqH, ResH>>;
    /// A notifier borrowing its service.
    pub type Notifier<'s, P> = crate::Notifier<P, &'s Event<P>>;
    /// A listener borrowing its service.
    pub type Listener<'s, P> = crate::Listener<P, &'s Event<P>>;
    /// A sample borrowing its subscriber (which borrows its service).
    pub type Sample<'a, 's, P, T, H = ()> = crate::Sample<&'a Subscriber<'s, P, T, H>, T, H>;
    /// A pending response borrowing its client.
    pub type PendingResponse<'a, 's, P, Req, Res, ReqH = (), ResH = ()> =
        crate::PendingResponse<&'a Client<'s, P, Req, Res, ReqH, ResH>>;
    /// An active request borrowing its server.
    pub type ActiveRequest<'a, 's, P, Req, Res, ReqH = (), ResH = ()> =
        crate::ActiveRequest<&'a Server<'s, P, Req, Res, ReqH, ResH>, Req, ReqH>;
}
