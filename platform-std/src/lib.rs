//! What icefloe's platform crates with `std` share, so that each of them
//! (`icefloe-linux`, `icefloe-qnx`) is one dependency with the same names:
//!
//! - [`Shared`], the owning handle services and ports are held through, and
//!   the `publisher_builder`, `client_builder`, … methods on it;
//! - [`platform_api!`], which writes a platform crate's type names (`Node`,
//!   `Publisher<T>`, `Sample<'a, T>`, …, each the core's generic type with
//!   the platform filled in) and its `prelude`;
//! - [`list_services`] and [`list_nodes`], discovery collected;
//! - [`config`], the operator's TOML configuration file (feature
//!   `config-file`);
//! - [`termination`], the SIGINT / SIGTERM handler of the POSIX platforms,
//!   and [`posix`], their segment paths, error codes and listing.
//!
//! An application does not depend on this crate: it depends on its
//! platform's crate, which re-exports all of it.
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "config-file")]
pub mod config;
#[cfg(unix)]
pub mod posix;
#[allow(unsafe_code)]
mod shared;
#[cfg(unix)]
#[allow(unsafe_code)]
pub mod termination;

pub use icefloe_core;
use icefloe_core::discovery::DiscoveryError;
use icefloe_core::name::Prefix;
use icefloe_core::platform::Platform;
use icefloe_core::{CallbackProgression, Payload, ZeroCopySend};
pub use shared::Shared;

/// Every service under `prefix`, collected (the core's
/// [`Service::list`](icefloe_core::Service::list) calls back instead).
pub fn list_services<P: Platform>(prefix: &Prefix) -> Result<Vec<icefloe_core::ServiceDetails<P>>, DiscoveryError> {
    let mut all = Vec::new();
    icefloe_core::Service::<P>::list(prefix, |s| {
        all.push(s);
        CallbackProgression::Continue
    })?;
    Ok(all)
}

/// Every node record under `prefix`, collected (the core's
/// [`Node::list`](icefloe_core::Node::list) calls back instead).
pub fn list_nodes<P: Platform>(prefix: &Prefix) -> Result<Vec<icefloe_core::NodeInfo<P>>, DiscoveryError> {
    let mut all = Vec::new();
    icefloe_core::Node::<P>::list(prefix, |n| {
        all.push(n);
        CallbackProgression::Continue
    })?;
    Ok(all)
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> Shared<icefloe_core::PublishSubscribe<P, T, H>> {
    /// Starts building a publisher that holds a clone of this handle (so it
    /// has no lifetime).
    pub fn publisher_builder(&self) -> icefloe_core::PublisherBuilder<P, T, H, Self> {
        icefloe_core::PublisherBuilder::new(self.clone())
    }

    /// Starts building a subscriber that holds a clone of this handle.
    pub fn subscriber_builder(&self) -> icefloe_core::SubscriberBuilder<P, T, H, Self> {
        icefloe_core::SubscriberBuilder::new(self.clone())
    }
}

impl<P: Platform, Req: Payload + ?Sized, Res: Payload + ?Sized, ReqH: ZeroCopySend, ResH: ZeroCopySend>
    Shared<icefloe_core::RequestResponse<P, Req, Res, ReqH, ResH>>
{
    /// Starts building a client that holds a clone of this handle (so it
    /// has no lifetime).
    pub fn client_builder(&self) -> icefloe_core::ClientBuilder<P, Req, Res, ReqH, ResH, Self> {
        icefloe_core::ClientBuilder::new(self.clone())
    }

    /// Starts building a server that holds a clone of this handle.
    pub fn server_builder(&self) -> icefloe_core::ServerBuilder<P, Req, Res, ReqH, ResH, Self> {
        icefloe_core::ServerBuilder::new(self.clone())
    }
}

impl<P: Platform> Shared<icefloe_core::Event<P>> {
    /// Starts building a notifier that holds a clone of this handle (so it
    /// has no lifetime).
    pub fn notifier_builder(&self) -> icefloe_core::NotifierBuilder<P, Self> {
        icefloe_core::NotifierBuilder::new(self.clone())
    }

    /// Starts building a listener that holds a clone of this handle.
    pub fn listener_builder(&self) -> icefloe_core::ListenerBuilder<P, Self> {
        icefloe_core::ListenerBuilder::new(self.clone())
    }
}

/// Writes a platform crate's public names: `platform_api!(Linux, "Linux")`
/// in `icefloe-linux`, `platform_api!(Qnx, "QNX")` in `icefloe-qnx`. The
/// platform type must hold services as [`Shared`] (`type Hold<X> =
/// Shared<X>`). What it writes: the core's API re-exported (builders,
/// ports, errors, QoS types), every generic type with the platform filled
/// in (`Node`, `Publisher<T, H>`, `Sample<'a, T, H>`, `Client<Req, Res>`,
/// `WaitSet<'a, N>`, …), `list_services` / `list_nodes`, and `prelude`.
/// So an application's code reads the same on every platform with std;
/// only the crate's name changes.
#[macro_export]
macro_rules! platform_api {
    ($P:ident, $os:literal) => {
        pub use $crate::icefloe_core;
        pub use $crate::icefloe_core::discovery::{DiscoveryError, PortInfo, ServiceNode};
        pub use $crate::icefloe_core::name::Prefix;
        pub use $crate::icefloe_core::platform::{Permissions, ShmError};
        #[cfg(feature = "postcard")]
        pub use $crate::icefloe_core::serialize::{DecodeError, SerializeSendError};
        pub use $crate::icefloe_core::service::publish_subscribe::Footprint;
        pub use $crate::icefloe_core::Handle;
        pub use $crate::icefloe_core::{
            AllocationStrategy, Attachable, BackpressureStrategy, CallbackProgression, Capacity, ChunkStats,
            CleanupState, ClientCreateError, EventActivation, EventId, ListenerCreateError, ListenerWaitError,
            LoanError, NameError, NodeCreationError, NodeName, NodeWaitError, NotifierCreateError, NotifierNotifyError,
            Payload, PublisherCreateError, ReceiveError, RequestResponseFootprint, RequestSendError, SendError,
            ServerCreateError, ServiceCreateError, ServiceName, ServiceOpenError, ServiceOpenOrCreateError,
            SignalHandlingMode, SubscriberCreateError, UnableToDeliverAction, UnableToDeliverHandler,
            UnableToDeliverInfo, WaitSetAttachmentError, WaitSetAttachmentId, WaitSetRunError, WaitSetRunResult,
            WaitSetToken, ZeroCopySend,
        };
        pub use $crate::icefloe_core::{MessagingPattern, NodeState, PortKind};
        pub use $crate::Shared;

        #[doc = concat!("A node on ", $os, ".")]
        pub type Node = $crate::icefloe_core::Node<$P>;
        /// Builds a [`Node`].
        pub type NodeBuilder = $crate::icefloe_core::NodeBuilder<$P>;

        /// Builds a service (from [`Node::service_builder`](icefloe_core::Node::service_builder)).
        pub type ServiceBuilder<'n> = $crate::icefloe_core::ServiceBuilder<'n, $P>;
        /// Configures a publish-subscribe service.
        pub type PublishSubscribeBuilder<'n, T, H = ()> = $crate::icefloe_core::PublishSubscribeBuilder<'n, $P, T, H>;
        /// Configures a request-response service.
        pub type RequestResponseBuilder<'n, Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::RequestResponseBuilder<'n, $P, Req, Res, ReqH, ResH>;
        /// Configures an event service.
        pub type EventBuilder<'n> = $crate::icefloe_core::EventBuilder<'n, $P>;

        /// The service type behind a [`PublishSubscribe`] handle.
        pub type PublishSubscribeService<T, H = ()> = $crate::icefloe_core::PublishSubscribe<$P, T, H>;
        #[doc = concat!("A publish-subscribe service on ", $os, ": an owning handle (cheap to clone);")]
        /// its publishers and subscribers each hold a clone.
        pub type PublishSubscribe<T, H = ()> = Shared<PublishSubscribeService<T, H>>;
        /// Builds a [`Publisher`].
        pub type PublisherBuilder<T, H = ()> = $crate::icefloe_core::PublisherBuilder<$P, T, H, PublishSubscribe<T, H>>;
        /// Builds a [`Subscriber`].
        pub type SubscriberBuilder<T, H = ()> =
            $crate::icefloe_core::SubscriberBuilder<$P, T, H, PublishSubscribe<T, H>>;
        #[doc = concat!("A publisher on ", $os, "; owns a handle to its service (no lifetime).")]
        pub type Publisher<T, H = ()> = $crate::icefloe_core::Publisher<$P, T, H, PublishSubscribe<T, H>>;
        #[doc = concat!("A subscriber on ", $os, "; owns a handle to its service (no lifetime).")]
        pub type Subscriber<T, H = ()> = $crate::icefloe_core::Subscriber<$P, T, H, PublishSubscribe<T, H>>;
        /// A received sample, borrowing its subscriber.
        pub type Sample<'a, T, H = ()> = $crate::icefloe_core::Sample<&'a Subscriber<T, H>, T, H>;
        /// A loaned, written sample, borrowing its publisher.
        pub type SampleMut<'a, T, H = ()> = $crate::icefloe_core::ChunkMut<&'a Publisher<T, H>, T, H>;
        /// A loaned sample not yet written, borrowing its publisher.
        pub type SampleMutUninit<'a, T, H = ()> = $crate::icefloe_core::ChunkMutUninit<&'a Publisher<T, H>, T, H>;

        /// The service type behind a [`RequestResponse`] handle.
        pub type RequestResponseService<Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::RequestResponse<$P, Req, Res, ReqH, ResH>;
        #[doc = concat!("A request-response service on ", $os, ": an owning handle (cheap to clone);")]
        /// its clients and servers each hold a clone.
        pub type RequestResponse<Req, Res, ReqH = (), ResH = ()> = Shared<RequestResponseService<Req, Res, ReqH, ResH>>;
        /// Builds a [`Client`].
        pub type ClientBuilder<Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::ClientBuilder<$P, Req, Res, ReqH, ResH, RequestResponse<Req, Res, ReqH, ResH>>;
        /// Builds a [`Server`].
        pub type ServerBuilder<Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::ServerBuilder<$P, Req, Res, ReqH, ResH, RequestResponse<Req, Res, ReqH, ResH>>;
        #[doc = concat!("A client on ", $os, "; owns a handle to its service (no lifetime).")]
        pub type Client<Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::Client<$P, Req, Res, ReqH, ResH, RequestResponse<Req, Res, ReqH, ResH>>;
        #[doc = concat!("A server on ", $os, "; owns a handle to its service (no lifetime).")]
        pub type Server<Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::Server<$P, Req, Res, ReqH, ResH, RequestResponse<Req, Res, ReqH, ResH>>;
        /// A sent request waiting for its responses, borrowing its client.
        pub type PendingResponse<'a, Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::PendingResponse<&'a Client<Req, Res, ReqH, ResH>>;
        /// A received response, borrowing its pending response.
        pub type Response<'a, 'c, Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::Response<&'a PendingResponse<'c, Req, Res, ReqH, ResH>, Res, ResH>;
        /// A request a server took, to answer; borrows its server.
        pub type ActiveRequest<'a, Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::ActiveRequest<&'a Server<Req, Res, ReqH, ResH>, Req, ReqH>;
        /// A loaned request, written, borrowing its client.
        pub type RequestMut<'a, Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::ChunkMut<&'a Client<Req, Res, ReqH, ResH>, Req, ReqH>;
        /// A loaned request not yet written, borrowing its client.
        pub type RequestMutUninit<'a, Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::ChunkMutUninit<&'a Client<Req, Res, ReqH, ResH>, Req, ReqH>;
        /// A loaned response, written, borrowing its active request.
        pub type ResponseMut<'a, 'r, Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::ChunkMut<&'a ActiveRequest<'r, Req, Res, ReqH, ResH>, Res, ResH>;
        /// A loaned response not yet written, borrowing its active request.
        pub type ResponseMutUninit<'a, 'r, Req, Res, ReqH = (), ResH = ()> =
            $crate::icefloe_core::ChunkMutUninit<&'a ActiveRequest<'r, Req, Res, ReqH, ResH>, Res, ResH>;

        /// The service type behind an [`Event`] handle.
        pub type EventService = $crate::icefloe_core::Event<$P>;
        #[doc = concat!("An event service on ", $os, ": an owning handle (cheap to clone); its")]
        /// notifiers and listeners each hold a clone.
        pub type Event = Shared<EventService>;
        /// Builds a [`Notifier`].
        pub type NotifierBuilder = $crate::icefloe_core::NotifierBuilder<$P, Event>;
        /// Builds a [`Listener`].
        pub type ListenerBuilder = $crate::icefloe_core::ListenerBuilder<$P, Event>;
        #[doc = concat!("A notifier on ", $os, "; owns a handle to its service (no lifetime).")]
        pub type Notifier = $crate::icefloe_core::Notifier<$P, Event>;
        #[doc = concat!("A listener on ", $os, "; owns a handle to its service (no lifetime).")]
        pub type Listener = $crate::icefloe_core::Listener<$P, Event>;

        #[doc = concat!("Discovery of services on ", $os, ": `Service::list(&prefix, |s| …)`,")]
        /// `Service::details`, `Service::does_exist`.
        pub type Service = $crate::icefloe_core::Service<$P>;
        /// One service as discovery reads it.
        pub type ServiceDetails = $crate::icefloe_core::ServiceDetails<$P>;
        /// One node as its record shows it (from `Node::list`).
        pub type NodeInfo = $crate::icefloe_core::NodeInfo<$P>;

        /// Every service under `prefix`, collected (the core's
        /// [`Service::list`] calls back instead).
        pub fn list_services(prefix: &Prefix) -> Result<Vec<ServiceDetails>, DiscoveryError> {
            $crate::list_services::<$P>(prefix)
        }

        /// Every node record under `prefix`, collected (the core's
        /// [`Node::list`] calls back instead).
        pub fn list_nodes(prefix: &Prefix) -> Result<Vec<NodeInfo>, DiscoveryError> {
            $crate::list_nodes::<$P>(prefix)
        }

        /// A WaitSet of this platform with room for `N` attachments.
        pub type WaitSet<'a, const N: usize = 16> = $crate::icefloe_core::WaitSet<'a, $P, N>;
        /// A WaitSet attachment's guard.
        pub type WaitSetGuard<'w, 'a, const N: usize = 16> = $crate::icefloe_core::WaitSetGuard<'w, 'a, $P, N>;

        /// Everything an application needs, in one `use`.
        pub mod prelude {
            pub use super::{
                $P, ActiveRequest, AllocationStrategy, BackpressureStrategy, CallbackProgression, Client, Event,
                EventActivation, EventId, Listener, ListenerWaitError, LoanError, Node, NodeBuilder, NodeName,
                NodeWaitError, Notifier, NotifierNotifyError, PendingResponse, PublishSubscribe, Publisher,
                ReceiveError, RequestResponse, RequestSendError, Response, Sample, SampleMut, SampleMutUninit,
                SendError, Server, ServiceName, Shared, SignalHandlingMode, Subscriber, WaitSet, WaitSetAttachmentId,
                WaitSetGuard, WaitSetRunResult, ZeroCopySend,
            };
        }
    };
}
