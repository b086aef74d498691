#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[allow(unsafe_code)]
mod os;

pub use icefloe_core;
pub use icefloe_core::{
    AllocationStrategy, Attachable, BackpressureStrategy, CallbackProgression, CleanupState, ClientCreateError,
    EventActivation, EventId, ListenerCreateError, ListenerWaitError, LoanError, NameError, NodeCreationError,
    NodeName, NodeWaitError, NotifierCreateError, NotifierNotifyError, Payload, PublisherCreateError, ReceiveError,
    RequestSendError, SendError, ServerCreateError, ServiceCreateError, ServiceName, ServiceOpenError,
    ServiceOpenOrCreateError, SubscriberCreateError, WaitSetAttachmentError, WaitSetAttachmentId, WaitSetRunError,
    WaitSetRunResult, ZeroCopySend,
};
pub use os::{futex_calls, use_futex_wait_fallback, FutexCalls, Linux, LinuxShm};

/// A node on Linux.
pub type Node = icefloe_core::Node<Linux>;
/// Builds a [`Node`].
pub type NodeBuilder = icefloe_core::NodeBuilder<Linux>;
/// A publish-subscribe service on Linux.
pub type PublishSubscribe<T, H = ()> = icefloe_core::PublishSubscribe<Linux, T, H>;
/// A publisher on Linux.
pub type Publisher<'s, T, H = ()> = icefloe_core::Publisher<'s, Linux, T, H>;
/// A subscriber on Linux.
pub type Subscriber<'s, T, H = ()> = icefloe_core::Subscriber<'s, Linux, T, H>;
/// A received sample.
pub type Sample<'a, T, H = ()> = icefloe_core::Sample<'a, Linux, T, H>;
/// A loaned, written sample.
pub type SampleMut<'a, T, H = ()> = icefloe_core::SampleMut<'a, Linux, T, H>;
/// A loaned sample not yet written.
pub type SampleMutUninit<'a, T, H = ()> = icefloe_core::SampleMutUninit<'a, Linux, T, H>;

/// A request-response service on Linux.
pub type RequestResponse<Req, Res, ReqH = (), ResH = ()> = icefloe_core::RequestResponse<Linux, Req, Res, ReqH, ResH>;
/// A client on Linux.
pub type Client<'s, Req, Res, ReqH = (), ResH = ()> = icefloe_core::Client<'s, Linux, Req, Res, ReqH, ResH>;
/// A server on Linux.
pub type Server<'s, Req, Res, ReqH = (), ResH = ()> = icefloe_core::Server<'s, Linux, Req, Res, ReqH, ResH>;
/// A sent request waiting for its responses.
pub type PendingResponse<'a, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::PendingResponse<'a, Linux, Req, Res, ReqH, ResH>;
/// A received response.
pub type Response<'a, Req, Res, ReqH = (), ResH = ()> = icefloe_core::Response<'a, Linux, Req, Res, ReqH, ResH>;
/// A request a server took, to answer.
pub type ActiveRequest<'a, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::ActiveRequest<'a, Linux, Req, Res, ReqH, ResH>;
/// A loaned request, written.
pub type RequestMut<'a, Req, Res, ReqH = (), ResH = ()> = icefloe_core::RequestMut<'a, Linux, Req, Res, ReqH, ResH>;
/// A loaned request not yet written.
pub type RequestMutUninit<'a, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::RequestMutUninit<'a, Linux, Req, Res, ReqH, ResH>;
/// A loaned response, written.
pub type ResponseMut<'a, 'r, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::ResponseMut<'a, 'r, Linux, Req, Res, ReqH, ResH>;
/// A loaned response not yet written.
pub type ResponseMutUninit<'a, 'r, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::ResponseMutUninit<'a, 'r, Linux, Req, Res, ReqH, ResH>;

/// An event service of this platform.
pub type Event = icefloe_core::Event<Linux>;
/// A notifier of this platform.
pub type Notifier<'s> = icefloe_core::Notifier<'s, Linux>;
/// A listener of this platform.
pub type Listener<'s> = icefloe_core::Listener<'s, Linux>;

/// A WaitSet of this platform with room for `N` attachments.
pub type WaitSet<'a, const N: usize = 16> = icefloe_core::WaitSet<'a, Linux, N>;
/// A WaitSet attachment's guard.
pub type WaitSetGuard<'w, 'a, const N: usize = 16> = icefloe_core::WaitSetGuard<'w, 'a, Linux, N>;

/// Everything an application needs, in one `use`.
pub mod prelude {
    pub use crate::{
        ActiveRequest, AllocationStrategy, BackpressureStrategy, CallbackProgression, Client, Event, EventActivation,
        EventId, Linux, Listener, ListenerWaitError, LoanError, Node, NodeBuilder, NodeName, NodeWaitError, Notifier,
        NotifierNotifyError, PendingResponse, PublishSubscribe, Publisher, ReceiveError, RequestResponse,
        RequestSendError, Response, Sample, SampleMut, SampleMutUninit, SendError, Server, ServiceName, Subscriber,
        WaitSet, WaitSetAttachmentId, WaitSetGuard, WaitSetRunResult, ZeroCopySend,
    };
}
