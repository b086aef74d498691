#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(not(loom), deny(unsafe_code))]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

#[cfg(not(loom))]
#[allow(unsafe_code)]
pub mod arena;
pub mod config;
#[allow(unsafe_code)]
pub mod handle;
pub mod name;
pub mod node;
pub mod platform;
#[allow(unsafe_code)]
pub mod port;
#[cfg(feature = "postcard")]
#[allow(unsafe_code)]
pub mod serialize;
#[allow(unsafe_code)]
pub mod service;
#[allow(unsafe_code)]
pub mod shm;
pub mod sync;
pub mod waitset;
#[allow(unsafe_code)]
pub mod zero_copy;

#[cfg(all(any(test, feature = "conformance"), not(loom)))]
#[allow(unsafe_code)]
pub mod conformance;

pub use handle::Handle;
pub use icefloe_derive::ZeroCopySend;
pub use name::{NameError, NodeName, ServiceName};
pub use node::{CleanupState, Node, NodeBuilder, NodeCreationError, NodeWaitError};
pub use platform::{Platform, SignalHandlingMode};
pub use port::client::{Client, ClientBuilder, PendingResponse, RequestMut, RequestMutUninit, RequestSource, Response};
pub use port::listener::{EventActivation, Listener, ListenerBuilder};
pub use port::notifier::{Notifier, NotifierBuilder};
pub use port::publisher::{ChunkStats, Publisher, PublisherBuilder};
pub use port::sample::{ChunkMut, ChunkMutUninit, Lender, Sample, SampleMut, SampleMutUninit, SampleSource};
pub use port::server::{ActiveRequest, RequestHolder, ResponseMut, ResponseMutUninit, Server, ServerBuilder};
pub use port::subscriber::{Subscriber, SubscriberBuilder};
pub use port::{
    AllocationStrategy, BackpressureStrategy, ClientCreateError, ListenerCreateError, ListenerWaitError, LoanError,
    NotifierCreateError, NotifierNotifyError, PublisherCreateError, ReceiveError, RequestSendError, SendError,
    ServerCreateError, SubscriberCreateError,
};
pub use service::event::{Event, EventBuilder, EventId};
pub use service::publish_subscribe::{PublishSubscribe, PublishSubscribeBuilder};
pub use service::request_response::{RequestResponse, RequestResponseBuilder, RequestResponseFootprint};
pub use service::{ServiceCreateError, ServiceOpenError, ServiceOpenOrCreateError};
pub use waitset::{
    Attachable, CallbackProgression, WaitSet, WaitSetAttachmentError, WaitSetAttachmentId, WaitSetGuard,
    WaitSetRunError, WaitSetRunResult,
};
pub use zero_copy::{Payload, ZeroCopySend};
