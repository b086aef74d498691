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

/// A family of types with one lifetime: `Of<'s>` is what a port keeps of
/// its service when it may borrow it for `'s` (its located tables, queues
/// and segments).
pub(crate) trait Family {
    /// The parts, borrowing the service for `'s`.
    type Of<'s>;
    /// `Of<'static>` seen for a shorter lifetime. Implementations are the
    /// identity (`p`), which compiles only if `Of` is covariant in `'s`.
    fn shorten<'a>(p: &'a Self::Of<'static>) -> &'a Self::Of<'a>;
}

/// Declares `$family`, the [`Family`] whose members are `$parts<'s, P>`
/// (a port's parts for platform `P`; the compiler checks they are
/// covariant in `'s`).
macro_rules! family {
    ($family:ident, $parts:ident) => {
        pub(crate) struct $family<P>(core::marker::PhantomData<P>);

        impl<P: crate::platform::Platform> crate::handle::Family for $family<P> {
            type Of<'s> = $parts<'s, P>;
            fn shorten<'a>(p: &'a $parts<'static, P>) -> &'a $parts<'a, P> {
                p
            }
        }
    };
}
pub(crate) use family;

/// A port's parts (`F::Of`) together with the handle they borrow from: the
/// one place where a borrow of the service is stretched past what the
/// compiler can see (the handle lives beside the parts, so the borrow stays
/// valid as long as both do). Ports reach their parts only through
/// [`parts`](Self::parts), for no longer than they borrow the port, so no
/// reference into the service outlives the handle.
pub(crate) struct Anchored<S: Handle, F: Family> {
    /// Declared first: dropped before the handle they borrow from.
    parts: F::Of<'static>,
    /// Keeps the service the parts borrow from.
    _handle: S,
}

impl<S: Handle, F: Family> Anchored<S, F>
where
    S::Target: Sized + 'static,
{
    /// Builds the parts from the service `handle` leads to, and keeps both.
    /// `build` works for every lifetime, so it cannot keep the reference it
    /// is given anywhere but in the parts it returns.
    #[inline]
    pub(crate) fn new<E>(
        handle: S,
        build: impl for<'x> FnOnce(&'x S::Target) -> Result<F::Of<'x>, E>,
    ) -> Result<Self, E> {
        let target: *const S::Target = &*handle;
        // SAFETY: `Handle`'s contract keeps the target alive, at this
        // address, while `handle` (kept in the returned value, and dropped
        // after the parts) lives; `build` is generic over the lifetime, so
        // the reference ends up only in the parts, which are handed out only
        // through `parts` below, shortened to a borrow of `self`.
        let parts = build(unsafe { &*target })?;
        Ok(Self { parts, _handle: handle })
    }

    /// The parts, for as long as `self` is borrowed.
    #[inline(always)]
    pub(crate) fn parts(&self) -> &F::Of<'_> {
        F::shorten(&self.parts)
    }
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
