#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(not(loom), deny(unsafe_code))]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

#[cfg(not(loom))]
#[allow(unsafe_code)]
pub mod arena;
// Loans and samples: reads and writes of chunk memory in place.
#[allow(unsafe_code)]
pub mod chunk;
pub mod config;
#[doc(hidden)]
pub mod crash;
pub mod discovery;
#[allow(unsafe_code)]
pub mod handle;
mod logging;
pub mod name;
pub mod node;
#[allow(unsafe_code)] // the platform contract: `unsafe trait SharedMemory`
pub mod platform;
pub mod port;
#[cfg(feature = "postcard")]
#[allow(unsafe_code)]
pub mod serialize;
pub mod service;
mod signal;
// The layouts in shared memory and the atomics they are made of: internals
// that the conformance suite, the fuzzers and the platform crates reach, not
// part of the documented API.
#[doc(hidden)]
#[allow(unsafe_code)]
pub mod shm;
#[doc(hidden)]
pub mod sync;
pub mod waitset;
#[allow(unsafe_code)]
pub mod zero_copy;

#[cfg(all(any(test, feature = "conformance"), not(loom)))]
#[allow(unsafe_code)]
pub mod conformance;

pub use chunk::{ChunkMut, ChunkMutUninit, Lender, Sample, SampleSource};
pub use discovery::{MessagingPattern, NodeInfo, NodeState, PortKind, Service, ServiceDetails};
pub use handle::Handle;
pub use icefloe_derive::ZeroCopySend;
pub use name::{NameError, NodeName, ServiceName};
pub use node::{CleanupState, Node, NodeBuilder, NodeCreationError, NodeWaitError};
pub use platform::{Platform, SignalHandlingMode};
pub use port::client::{Client, ClientBuilder, PendingResponse, RequestMut, RequestMutUninit, RequestSource, Response};
pub use port::listener::{EventActivation, Listener, ListenerBuilder};
pub use port::notifier::{Notifier, NotifierBuilder};
pub use port::publisher::{ChunkStats, Publisher, PublisherBuilder, SampleMut, SampleMutUninit};
pub use port::server::{ActiveRequest, RequestHolder, ResponseMut, ResponseMutUninit, Server, ServerBuilder};
pub use port::subscriber::{Subscriber, SubscriberBuilder};
pub use port::{
    AllocationStrategy, BackpressureStrategy, ClientCreateError, ListenerCreateError, ListenerWaitError, LoanError,
    NotifierCreateError, NotifierNotifyError, PublisherCreateError, ReceiveError, RequestSendError, SendError,
    ServerCreateError, SubscriberCreateError, UnableToDeliverAction, UnableToDeliverHandler, UnableToDeliverInfo,
};
pub use service::event::{Event, EventBuilder, EventId};
pub use service::publish_subscribe::{PublishSubscribe, PublishSubscribeBuilder};
pub use service::request_response::{RequestResponse, RequestResponseBuilder, RequestResponseFootprint};
pub use service::{Capacity, ServiceBuilder, ServiceCreateError, ServiceOpenError, ServiceOpenOrCreateError};
pub use waitset::{
    Attachable, CallbackProgression, WaitSet, WaitSetAttachmentError, WaitSetAttachmentId, WaitSetGuard,
    WaitSetRunError, WaitSetRunResult, WaitSetToken,
};
pub use zero_copy::{Opaque, Payload, TypeDetail, TypeVariant, ZeroCopySend};

/// Every public error reads as a sentence (what happened, often what to do),
/// never as the name of its variant.
#[cfg(all(test, not(loom)))]
mod error_sentences {
    use crate::platform::ShmError;
    use crate::*;
    use std::format;
    use std::string::ToString;

    fn check(errors: &[(&dyn core::fmt::Display, &dyn core::fmt::Debug)]) {
        for (display, debug) in errors {
            let text = display.to_string();
            let name = format!("{debug:?}");
            assert_ne!(text, name, "{name} has no sentence of its own");
            assert!(text.contains(' ') && text.len() > 20, "{name}: {text:?} does not read as a sentence");
            let variant = name.split(['(', ' ', '{']).next().unwrap_or("");
            assert!(!text.contains(variant), "{name}: {text:?} repeats the variant's name");
        }
    }

    macro_rules! each {
        ($($e:expr),* $(,)?) => { check(&[$((&$e, &$e)),*]) };
    }

    #[test]
    fn port_errors() {
        let shm = ShmError::InsufficientResources;
        each!(
            LoanError::ExceedsMaxLoans,
            LoanError::OutOfMemory,
            LoanError::ExceedsMaxLoanSize,
            SendError::Loan(LoanError::OutOfMemory),
            SendError::ConnectionCorrupted { delivered: 2 },
            ReceiveError::ExceedsMaxBorrows,
            ReceiveError::ConnectionCorrupted,
            ReceiveError::CorruptedSample,
            ReceiveError::UnableToMapPublishersDataSegment,
            ReceiveError::Interrupt,
            ReceiveError::TerminationRequest,
            PublisherCreateError::ExceedsMaxSupportedPublishers,
            PublisherCreateError::InvalidConfig,
            PublisherCreateError::DataSegmentTooLarge,
            PublisherCreateError::UnableToCreateDataSegment(shm),
            SubscriberCreateError::ExceedsMaxSupportedSubscribers,
            RequestSendError::ExceedsMaxActiveRequests,
            RequestSendError::Send(SendError::Loan(LoanError::ExceedsMaxLoans)),
            ClientCreateError::ExceedsMaxSupportedClients,
            ClientCreateError::InvalidConfig,
            ClientCreateError::DataSegmentTooLarge,
            ClientCreateError::UnableToCreateDataSegment(shm),
            ServerCreateError::ExceedsMaxSupportedServers,
            ServerCreateError::InvalidConfig,
            ServerCreateError::DataSegmentTooLarge,
            ServerCreateError::UnableToCreateDataSegment(shm),
            NotifierCreateError::ExceedsMaxSupportedNotifiers,
            NotifierCreateError::EventIdOutOfBounds,
            ListenerCreateError::ExceedsMaxSupportedListeners,
            NotifierNotifyError::EventIdOutOfBounds,
            NotifierNotifyError::MissedDeadline { delivered: 1 },
            ListenerWaitError::Interrupt,
            ListenerWaitError::TerminationRequest,
            NodeWaitError::Interrupt,
            NodeCreationError::InvalidPrefix(NameError::Empty),
            NodeCreationError::InsufficientPermissions,
            NodeCreationError::InsufficientResources,
            NodeCreationError::Shm(ShmError::Os(5)),
            discovery::DiscoveryError::ListFailed(ShmError::PermissionDenied),
            discovery::DiscoveryError::NodeNotDead(NodeState::Alive),
        );
    }

    #[test]
    fn service_errors() {
        let c = Capacity { service: 8, requested: 12 };
        use ServiceOpenError as O;
        each!(
            ServiceCreateError::AlreadyExists,
            ServiceCreateError::InvalidQos("max_nodes"),
            ServiceCreateError::ExceedsBuildLimit("max_publishers"),
            ServiceCreateError::TypeNameTooLong,
            ServiceCreateError::InsufficientPermissions,
            ServiceCreateError::InsufficientResources,
            ServiceCreateError::Shm(ShmError::InvalidName),
            O::DoesNotExist,
            O::IncompatiblePayloadType,
            O::IncompatiblePayloadSize,
            O::IncompatiblePayloadAlignment,
            O::IncompatibleUserHeader,
            O::IncompatibleOverflowBehavior,
            O::IncompatibleResponseType,
            O::IncompatibleResponseSize,
            O::IncompatibleResponseAlignment,
            O::IncompatibleResponseUserHeader,
            O::IncompatibleOverflowBehaviorForResponses,
            O::IncompatibleFireAndForgetBehavior,
            O::DoesNotSupportRequestedAmountOfClients(c),
            O::DoesNotSupportRequestedAmountOfServers(c),
            O::DoesNotSupportRequestedAmountOfActiveRequestsPerClient(c),
            O::DoesNotSupportRequestedAmountOfClientRequestLoans(c),
            O::DoesNotSupportRequestedResponseBufferSize(c),
            O::DoesNotSupportRequestedAmountOfBorrowedResponsesPerPendingResponse(c),
            O::DoesNotSupportRequestedMaxResponseSliceLen(c),
            O::DoesNotSupportRequestedAmountOfPublishers(c),
            O::DoesNotSupportRequestedAmountOfSubscribers(c),
            O::DoesNotSupportRequestedAmountOfNodes(c),
            O::DoesNotSupportRequestedMinHistorySize(c),
            O::DoesNotSupportRequestedMinBufferSize(c),
            O::DoesNotSupportRequestedMinSubscriberBorrowedSamples(c),
            O::DoesNotSupportRequestedMaxSliceLen(c),
            O::ExceedsMaxNumberOfNodes,
            O::ExceedsBuildLimit,
            O::IsMarkedForDestruction,
            O::HangsInCreation,
            O::VersionMismatch,
            O::ServiceInCorruptedState,
            O::HashCollision,
            O::InsufficientPermissions,
            O::Shm(ShmError::Os(5)),
            O::DoesNotSupportRequestedAmountOfNotifiers(c),
            O::DoesNotSupportRequestedAmountOfListeners(c),
            O::DoesNotSupportRequestedMaxEventId(c),
            O::IncompatibleNotifierCreatedEvent,
            O::IncompatibleNotifierDroppedEvent,
            O::IncompatibleNotifierDeadEvent,
            O::IncompatibleDeadline,
            ServiceOpenOrCreateError::Open(O::DoesNotExist),
            ServiceOpenOrCreateError::Create(ServiceCreateError::AlreadyExists),
            ServiceOpenOrCreateError::SystemInFlux,
            WaitSetAttachmentError::InsufficientCapacity,
            WaitSetAttachmentError::AlreadyAttached,
            WaitSetAttachmentError::NotAttachable,
            WaitSetRunError::NoAttachments,
        );
        assert_eq!(
            O::DoesNotSupportRequestedAmountOfSubscribers(c).to_string(),
            "the service was created with max_subscribers 8; this open asks for 12: ask for at most 8, or recreate \
             the service"
        );
    }
}
