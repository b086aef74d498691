#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "config-file")]
pub mod config;
#[allow(unsafe_code)]
mod os;
#[allow(unsafe_code)]
mod shared;

pub use icefloe_core;
pub use icefloe_core::discovery::{DiscoveryError, PortInfo, ServiceNode};
pub use icefloe_core::name::Prefix;
pub use icefloe_core::platform::{Permissions, ShmError};
#[cfg(feature = "postcard")]
pub use icefloe_core::serialize::{DecodeError, SerializeSendError};
pub use icefloe_core::service::publish_subscribe::Footprint;
pub use icefloe_core::Handle;
pub use icefloe_core::{
    AllocationStrategy, Attachable, BackpressureStrategy, CallbackProgression, Capacity, ChunkStats, CleanupState,
    ClientCreateError, EventActivation, EventId, ListenerCreateError, ListenerWaitError, LoanError, NameError,
    NodeCreationError, NodeName, NodeWaitError, NotifierCreateError, NotifierNotifyError, Payload,
    PublisherCreateError, ReceiveError, RequestResponseFootprint, RequestSendError, SendError, ServerCreateError,
    ServiceCreateError, ServiceName, ServiceOpenError, ServiceOpenOrCreateError, SignalHandlingMode,
    SubscriberCreateError, UnableToDeliverAction, UnableToDeliverHandler, UnableToDeliverInfo, WaitSetAttachmentError,
    WaitSetAttachmentId, WaitSetRunError, WaitSetRunResult, WaitSetToken, ZeroCopySend,
};
pub use icefloe_core::{MessagingPattern, NodeState, PortKind};
pub use os::{futex_calls, use_futex_wait_fallback, FutexCalls, Linux, LinuxShm};
pub use shared::Shared;

/// A node on Linux.
pub type Node = icefloe_core::Node<Linux>;
/// Builds a [`Node`].
pub type NodeBuilder = icefloe_core::NodeBuilder<Linux>;

/// Builds a service (from [`Node::service_builder`](icefloe_core::Node::service_builder)).
pub type ServiceBuilder<'n> = icefloe_core::ServiceBuilder<'n, Linux>;
/// Configures a publish-subscribe service.
pub type PublishSubscribeBuilder<'n, T, H = ()> = icefloe_core::PublishSubscribeBuilder<'n, Linux, T, H>;
/// Configures a request-response service.
pub type RequestResponseBuilder<'n, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::RequestResponseBuilder<'n, Linux, Req, Res, ReqH, ResH>;
/// Configures an event service.
pub type EventBuilder<'n> = icefloe_core::EventBuilder<'n, Linux>;

/// The service type behind a [`PublishSubscribe`] handle.
pub type PublishSubscribeService<T, H = ()> = icefloe_core::PublishSubscribe<Linux, T, H>;
/// A publish-subscribe service on Linux: an owning handle (cheap to clone);
/// its publishers and subscribers each hold a clone.
pub type PublishSubscribe<T, H = ()> = Shared<PublishSubscribeService<T, H>>;
/// Builds a [`Publisher`].
pub type PublisherBuilder<T, H = ()> = icefloe_core::PublisherBuilder<Linux, T, H, PublishSubscribe<T, H>>;
/// Builds a [`Subscriber`].
pub type SubscriberBuilder<T, H = ()> = icefloe_core::SubscriberBuilder<Linux, T, H, PublishSubscribe<T, H>>;
/// A publisher on Linux; owns a handle to its service (no lifetime).
pub type Publisher<T, H = ()> = icefloe_core::Publisher<Linux, T, H, PublishSubscribe<T, H>>;
/// A subscriber on Linux; owns a handle to its service (no lifetime).
pub type Subscriber<T, H = ()> = icefloe_core::Subscriber<Linux, T, H, PublishSubscribe<T, H>>;
/// A received sample, borrowing its subscriber.
pub type Sample<'a, T, H = ()> = icefloe_core::Sample<&'a Subscriber<T, H>, T, H>;
/// A loaned, written sample, borrowing its publisher.
pub type SampleMut<'a, T, H = ()> = icefloe_core::ChunkMut<&'a Publisher<T, H>, T, H>;
/// A loaned sample not yet written, borrowing its publisher.
pub type SampleMutUninit<'a, T, H = ()> = icefloe_core::ChunkMutUninit<&'a Publisher<T, H>, T, H>;

/// The service type behind a [`RequestResponse`] handle.
pub type RequestResponseService<Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::RequestResponse<Linux, Req, Res, ReqH, ResH>;
/// A request-response service on Linux: an owning handle (cheap to clone);
/// its clients and servers each hold a clone.
pub type RequestResponse<Req, Res, ReqH = (), ResH = ()> = Shared<RequestResponseService<Req, Res, ReqH, ResH>>;
/// Builds a [`Client`].
pub type ClientBuilder<Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::ClientBuilder<Linux, Req, Res, ReqH, ResH, RequestResponse<Req, Res, ReqH, ResH>>;
/// Builds a [`Server`].
pub type ServerBuilder<Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::ServerBuilder<Linux, Req, Res, ReqH, ResH, RequestResponse<Req, Res, ReqH, ResH>>;
/// A client on Linux; owns a handle to its service (no lifetime).
pub type Client<Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::Client<Linux, Req, Res, ReqH, ResH, RequestResponse<Req, Res, ReqH, ResH>>;
/// A server on Linux; owns a handle to its service (no lifetime).
pub type Server<Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::Server<Linux, Req, Res, ReqH, ResH, RequestResponse<Req, Res, ReqH, ResH>>;
/// A sent request waiting for its responses, borrowing its client.
pub type PendingResponse<'a, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::PendingResponse<&'a Client<Req, Res, ReqH, ResH>>;
/// A received response, borrowing its pending response.
pub type Response<'a, 'c, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::Response<&'a PendingResponse<'c, Req, Res, ReqH, ResH>, Res, ResH>;
/// A request a server took, to answer; borrows its server.
pub type ActiveRequest<'a, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::ActiveRequest<&'a Server<Req, Res, ReqH, ResH>, Req, ReqH>;
/// A loaned request, written, borrowing its client.
pub type RequestMut<'a, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::ChunkMut<&'a Client<Req, Res, ReqH, ResH>, Req, ReqH>;
/// A loaned request not yet written, borrowing its client.
pub type RequestMutUninit<'a, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::ChunkMutUninit<&'a Client<Req, Res, ReqH, ResH>, Req, ReqH>;
/// A loaned response, written, borrowing its active request.
pub type ResponseMut<'a, 'r, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::ChunkMut<&'a ActiveRequest<'r, Req, Res, ReqH, ResH>, Res, ResH>;
/// A loaned response not yet written, borrowing its active request.
pub type ResponseMutUninit<'a, 'r, Req, Res, ReqH = (), ResH = ()> =
    icefloe_core::ChunkMutUninit<&'a ActiveRequest<'r, Req, Res, ReqH, ResH>, Res, ResH>;

/// The service type behind an [`Event`] handle.
pub type EventService = icefloe_core::Event<Linux>;
/// An event service on Linux: an owning handle (cheap to clone); its
/// notifiers and listeners each hold a clone.
pub type Event = Shared<EventService>;
/// Builds a [`Notifier`].
pub type NotifierBuilder = icefloe_core::NotifierBuilder<Linux, Event>;
/// Builds a [`Listener`].
pub type ListenerBuilder = icefloe_core::ListenerBuilder<Linux, Event>;
/// A notifier on Linux; owns a handle to its service (no lifetime).
pub type Notifier = icefloe_core::Notifier<Linux, Event>;
/// A listener on Linux; owns a handle to its service (no lifetime).
pub type Listener = icefloe_core::Listener<Linux, Event>;

/// Discovery of services on Linux: `Service::list(&prefix, |s| …)`,
/// `Service::details`, `Service::does_exist`.
pub type Service = icefloe_core::Service<Linux>;
/// One service as discovery reads it.
pub type ServiceDetails = icefloe_core::ServiceDetails<Linux>;
/// One node as its record shows it (from `Node::list`).
pub type NodeInfo = icefloe_core::NodeInfo<Linux>;

/// Every service under `prefix`, collected (the core's
/// [`Service::list`] calls back instead).
pub fn list_services(prefix: &Prefix) -> Result<Vec<ServiceDetails>, DiscoveryError> {
    let mut all = Vec::new();
    Service::list(prefix, |s| {
        all.push(s);
        CallbackProgression::Continue
    })?;
    Ok(all)
}

/// Every node record under `prefix`, collected (the core's [`Node::list`]
/// calls back instead).
pub fn list_nodes(prefix: &Prefix) -> Result<Vec<NodeInfo>, DiscoveryError> {
    let mut all = Vec::new();
    Node::list(prefix, |n| {
        all.push(n);
        CallbackProgression::Continue
    })?;
    Ok(all)
}

/// A WaitSet of this platform with room for `N` attachments.
pub type WaitSet<'a, const N: usize = 16> = icefloe_core::WaitSet<'a, Linux, N>;
/// A WaitSet attachment's guard.
pub type WaitSetGuard<'w, 'a, const N: usize = 16> = icefloe_core::WaitSetGuard<'w, 'a, Linux, N>;

impl<T: Payload + ?Sized, H: ZeroCopySend> PublishSubscribe<T, H> {
    /// Starts building a publisher that holds a clone of this handle (so it
    /// has no lifetime).
    pub fn publisher_builder(&self) -> PublisherBuilder<T, H> {
        icefloe_core::PublisherBuilder::new(self.clone())
    }

    /// Starts building a subscriber that holds a clone of this handle.
    pub fn subscriber_builder(&self) -> SubscriberBuilder<T, H> {
        icefloe_core::SubscriberBuilder::new(self.clone())
    }
}

impl<Req: Payload + ?Sized, Res: Payload + ?Sized, ReqH: ZeroCopySend, ResH: ZeroCopySend>
    RequestResponse<Req, Res, ReqH, ResH>
{
    /// Starts building a client that holds a clone of this handle (so it
    /// has no lifetime).
    pub fn client_builder(&self) -> ClientBuilder<Req, Res, ReqH, ResH> {
        icefloe_core::ClientBuilder::new(self.clone())
    }

    /// Starts building a server that holds a clone of this handle.
    pub fn server_builder(&self) -> ServerBuilder<Req, Res, ReqH, ResH> {
        icefloe_core::ServerBuilder::new(self.clone())
    }
}

impl Event {
    /// Starts building a notifier that holds a clone of this handle (so it
    /// has no lifetime).
    pub fn notifier_builder(&self) -> NotifierBuilder {
        icefloe_core::NotifierBuilder::new(self.clone())
    }

    /// Starts building a listener that holds a clone of this handle.
    pub fn listener_builder(&self) -> ListenerBuilder {
        icefloe_core::ListenerBuilder::new(self.clone())
    }
}

/// Everything an application needs, in one `use`.
pub mod prelude {
    pub use crate::{
        ActiveRequest, AllocationStrategy, BackpressureStrategy, CallbackProgression, Client, Event, EventActivation,
        EventId, Linux, Listener, ListenerWaitError, LoanError, Node, NodeBuilder, NodeName, NodeWaitError, Notifier,
        NotifierNotifyError, PendingResponse, PublishSubscribe, Publisher, ReceiveError, RequestResponse,
        RequestSendError, Response, Sample, SampleMut, SampleMutUninit, SendError, Server, ServiceName, Shared,
        SignalHandlingMode, Subscriber, WaitSet, WaitSetAttachmentId, WaitSetGuard, WaitSetRunResult, ZeroCopySend,
    };
}
