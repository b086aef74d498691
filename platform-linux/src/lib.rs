#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[allow(unsafe_code)]
mod os;

pub use icefloe_core;
pub use icefloe_core::{
    AllocationStrategy, BackpressureStrategy, CleanupState, LoanError, NameError, NodeCreationError, NodeName,
    NodeWaitError, Payload, PublisherCreateError, ReceiveError, SendError, ServiceCreateError, ServiceName,
    ServiceOpenError, ServiceOpenOrCreateError, SubscriberCreateError, ZeroCopySend,
};
pub use os::{Linux, LinuxShm};

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

/// Everything an application needs, in one `use`.
pub mod prelude {
    pub use crate::{
        BackpressureStrategy, Linux, LoanError, Node, NodeBuilder, NodeName, NodeWaitError, PublishSubscribe,
        Publisher, ReceiveError, Sample, SampleMut, SampleMutUninit, SendError, ServiceName, Subscriber, ZeroCopySend,
    };
}
