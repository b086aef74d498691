//! One error code per Rust error variant, and its sentence.

use icefloe_linux::icefloe_core::zero_copy::InvalidTypeDetail;
use icefloe_linux::{
    ClientCreateError, ListenerCreateError, LoanError, NameError, NodeCreationError, NotifierCreateError,
    NotifierNotifyError, PublisherCreateError, ReceiveError, RequestSendError, SendError, ServerCreateError,
    ServiceCreateError, ServiceOpenError, ServiceOpenOrCreateError, SubscriberCreateError,
};

/// What a call of the C API returns: `ICEFLOE_OK` or why it failed (one
/// value per Rust error variant; `icefloe_error_string` says it in words).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum icefloe_error {
    /// Success.
    ICEFLOE_OK = 0,
    /// A pointer argument is NULL
    ICEFLOE_ERROR_NULL_ARGUMENT = 1,
    /// A string argument is not UTF-8
    ICEFLOE_ERROR_INVALID_UTF8 = 2,
    /// The handle was already consumed (sent, released, discarded) or belongs to another port
    ICEFLOE_ERROR_STALE_HANDLE = 3,
    /// The name is empty
    ICEFLOE_ERROR_NAME_EMPTY = 4,
    /// The name is longer than its limit
    ICEFLOE_ERROR_NAME_TOO_LONG = 5,
    /// The name holds a character it may not
    ICEFLOE_ERROR_NAME_INVALID_CHARACTER = 6,
    /// The type name is longer than a service can record
    ICEFLOE_ERROR_TYPE_NAME_TOO_LONG = 7,
    /// The alignment is not a power of two up to 4096, or the size is not a multiple of it
    ICEFLOE_ERROR_TYPE_LAYOUT = 8,
    /// The prefix is not 1-12 characters of [A-Za-z0-9_]
    ICEFLOE_ERROR_NODE_INVALID_PREFIX = 9,
    /// The node's record could not be created: permission denied
    ICEFLOE_ERROR_NODE_INSUFFICIENT_PERMISSIONS = 10,
    /// The node's record could not be created: out of resources
    ICEFLOE_ERROR_NODE_INSUFFICIENT_RESOURCES = 11,
    /// The node's record could not be created
    ICEFLOE_ERROR_NODE_SHM = 12,
    /// `ServiceOpenError::DoesNotExist`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_EXIST = 13,
    /// `ServiceOpenError::IncompatiblePayloadType`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_TYPE = 14,
    /// `ServiceOpenError::IncompatiblePayloadSize`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_SIZE = 15,
    /// `ServiceOpenError::IncompatiblePayloadAlignment`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_ALIGNMENT = 16,
    /// `ServiceOpenError::IncompatibleUserHeader`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_USER_HEADER = 17,
    /// `ServiceOpenError::IncompatibleOverflowBehavior`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_OVERFLOW_BEHAVIOR = 18,
    /// `ServiceOpenError::IncompatibleResponseType`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_TYPE = 19,
    /// `ServiceOpenError::IncompatibleResponseSize`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_SIZE = 20,
    /// `ServiceOpenError::IncompatibleResponseAlignment`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_ALIGNMENT = 21,
    /// `ServiceOpenError::IncompatibleResponseUserHeader`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_USER_HEADER = 22,
    /// `ServiceOpenError::IncompatibleOverflowBehaviorForResponses`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_OVERFLOW_BEHAVIOR_FOR_RESPONSES = 23,
    /// `ServiceOpenError::IncompatibleFireAndForgetBehavior`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_FIRE_AND_FORGET_BEHAVIOR = 24,
    /// `ServiceOpenError::DoesNotSupportRequestedAmountOfClients`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_CLIENTS = 25,
    /// `ServiceOpenError::DoesNotSupportRequestedAmountOfServers`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_SERVERS = 26,
    /// `ServiceOpenError::DoesNotSupportRequestedAmountOfActiveRequestsPerClient`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_ACTIVE_REQUESTS_PER_CLIENT = 27,
    /// `ServiceOpenError::DoesNotSupportRequestedAmountOfClientRequestLoans`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_CLIENT_REQUEST_LOANS = 28,
    /// `ServiceOpenError::DoesNotSupportRequestedResponseBufferSize`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_RESPONSE_BUFFER_SIZE = 29,
    /// `ServiceOpenError::DoesNotSupportRequestedAmountOfBorrowedResponsesPerPendingResponse`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_BORROWED_RESPONSES_PER_PENDING_RESPONSE = 30,
    /// `ServiceOpenError::DoesNotSupportRequestedMaxResponseSliceLen`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_RESPONSE_SLICE_LEN = 31,
    /// `ServiceOpenError::DoesNotSupportRequestedAmountOfPublishers`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_PUBLISHERS = 32,
    /// `ServiceOpenError::DoesNotSupportRequestedAmountOfSubscribers`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_SUBSCRIBERS = 33,
    /// `ServiceOpenError::DoesNotSupportRequestedAmountOfNodes`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_NODES = 34,
    /// `ServiceOpenError::DoesNotSupportRequestedMinHistorySize`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_HISTORY_SIZE = 35,
    /// `ServiceOpenError::DoesNotSupportRequestedMinBufferSize`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_BUFFER_SIZE = 36,
    /// `ServiceOpenError::DoesNotSupportRequestedMinSubscriberBorrowedSamples`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_SUBSCRIBER_BORROWED_SAMPLES = 37,
    /// `ServiceOpenError::DoesNotSupportRequestedMaxSliceLen`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_SLICE_LEN = 38,
    /// `ServiceOpenError::ExceedsMaxNumberOfNodes`.
    ICEFLOE_ERROR_SERVICE_OPEN_EXCEEDS_MAX_NUMBER_OF_NODES = 39,
    /// `ServiceOpenError::ExceedsBuildLimit`.
    ICEFLOE_ERROR_SERVICE_OPEN_EXCEEDS_BUILD_LIMIT = 40,
    /// `ServiceOpenError::IsMarkedForDestruction`.
    ICEFLOE_ERROR_SERVICE_OPEN_IS_MARKED_FOR_DESTRUCTION = 41,
    /// `ServiceOpenError::HangsInCreation`.
    ICEFLOE_ERROR_SERVICE_OPEN_HANGS_IN_CREATION = 42,
    /// `ServiceOpenError::VersionMismatch`.
    ICEFLOE_ERROR_SERVICE_OPEN_VERSION_MISMATCH = 43,
    /// `ServiceOpenError::ServiceInCorruptedState`.
    ICEFLOE_ERROR_SERVICE_OPEN_SERVICE_IN_CORRUPTED_STATE = 44,
    /// `ServiceOpenError::HashCollision`.
    ICEFLOE_ERROR_SERVICE_OPEN_HASH_COLLISION = 45,
    /// `ServiceOpenError::InsufficientPermissions`.
    ICEFLOE_ERROR_SERVICE_OPEN_INSUFFICIENT_PERMISSIONS = 46,
    /// `ServiceOpenError::Shm`.
    ICEFLOE_ERROR_SERVICE_OPEN_SHM = 47,
    /// `ServiceOpenError::DoesNotSupportRequestedAmountOfNotifiers`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_NOTIFIERS = 48,
    /// `ServiceOpenError::DoesNotSupportRequestedAmountOfListeners`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_LISTENERS = 49,
    /// `ServiceOpenError::DoesNotSupportRequestedMaxEventId`.
    ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_EVENT_ID = 50,
    /// `ServiceOpenError::IncompatibleNotifierCreatedEvent`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_CREATED_EVENT = 51,
    /// `ServiceOpenError::IncompatibleNotifierDroppedEvent`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_DROPPED_EVENT = 52,
    /// `ServiceOpenError::IncompatibleNotifierDeadEvent`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_DEAD_EVENT = 53,
    /// `ServiceOpenError::IncompatibleDeadline`.
    ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_DEADLINE = 54,
    /// `ServiceCreateError::AlreadyExists`.
    ICEFLOE_ERROR_SERVICE_CREATE_ALREADY_EXISTS = 55,
    /// `ServiceCreateError::InvalidQos`.
    ICEFLOE_ERROR_SERVICE_CREATE_INVALID_QOS = 56,
    /// `ServiceCreateError::ExceedsBuildLimit`.
    ICEFLOE_ERROR_SERVICE_CREATE_EXCEEDS_BUILD_LIMIT = 57,
    /// `ServiceCreateError::TypeNameTooLong`.
    ICEFLOE_ERROR_SERVICE_CREATE_TYPE_NAME_TOO_LONG = 58,
    /// `ServiceCreateError::InsufficientPermissions`.
    ICEFLOE_ERROR_SERVICE_CREATE_INSUFFICIENT_PERMISSIONS = 59,
    /// `ServiceCreateError::InsufficientResources`.
    ICEFLOE_ERROR_SERVICE_CREATE_INSUFFICIENT_RESOURCES = 60,
    /// `ServiceCreateError::Shm`.
    ICEFLOE_ERROR_SERVICE_CREATE_SHM = 61,
    /// `ServiceOpenOrCreateError::SystemInFlux`.
    ICEFLOE_ERROR_SERVICE_SYSTEM_IN_FLUX = 62,
    /// `PublisherCreateError::ExceedsMaxSupportedPublishers`.
    ICEFLOE_ERROR_PUBLISHER_CREATE_EXCEEDS_MAX_SUPPORTED_PUBLISHERS = 63,
    /// `PublisherCreateError::InvalidConfig`.
    ICEFLOE_ERROR_PUBLISHER_CREATE_INVALID_CONFIG = 64,
    /// `PublisherCreateError::DataSegmentTooLarge`.
    ICEFLOE_ERROR_PUBLISHER_CREATE_DATA_SEGMENT_TOO_LARGE = 65,
    /// `PublisherCreateError::UnableToCreateDataSegment`.
    ICEFLOE_ERROR_PUBLISHER_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT = 66,
    /// `SubscriberCreateError::ExceedsMaxSupportedSubscribers`.
    ICEFLOE_ERROR_SUBSCRIBER_CREATE_EXCEEDS_MAX_SUPPORTED_SUBSCRIBERS = 67,
    /// `LoanError::ExceedsMaxLoans`.
    ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOANS = 68,
    /// `LoanError::OutOfMemory`.
    ICEFLOE_ERROR_LOAN_OUT_OF_MEMORY = 69,
    /// `LoanError::ExceedsMaxLoanSize`.
    ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOAN_SIZE = 70,
    /// `SendError::ConnectionCorrupted`.
    ICEFLOE_ERROR_SEND_CONNECTION_CORRUPTED = 71,
    /// `ReceiveError::ExceedsMaxBorrows`.
    ICEFLOE_ERROR_RECEIVE_EXCEEDS_MAX_BORROWS = 72,
    /// `ReceiveError::ConnectionCorrupted`.
    ICEFLOE_ERROR_RECEIVE_CONNECTION_CORRUPTED = 73,
    /// `ReceiveError::CorruptedSample`.
    ICEFLOE_ERROR_RECEIVE_CORRUPTED_SAMPLE = 74,
    /// `ReceiveError::UnableToMapPublishersDataSegment`.
    ICEFLOE_ERROR_RECEIVE_UNABLE_TO_MAP_PUBLISHERS_DATA_SEGMENT = 75,
    /// `ReceiveError::Interrupt`.
    ICEFLOE_ERROR_RECEIVE_INTERRUPT = 76,
    /// `ReceiveError::TerminationRequest`.
    ICEFLOE_ERROR_RECEIVE_TERMINATION_REQUEST = 77,
    /// `ClientCreateError::ExceedsMaxSupportedClients`.
    ICEFLOE_ERROR_CLIENT_CREATE_EXCEEDS_MAX_SUPPORTED_CLIENTS = 78,
    /// `ClientCreateError::InvalidConfig`.
    ICEFLOE_ERROR_CLIENT_CREATE_INVALID_CONFIG = 79,
    /// `ClientCreateError::DataSegmentTooLarge`.
    ICEFLOE_ERROR_CLIENT_CREATE_DATA_SEGMENT_TOO_LARGE = 80,
    /// `ClientCreateError::UnableToCreateDataSegment`.
    ICEFLOE_ERROR_CLIENT_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT = 81,
    /// `ServerCreateError::ExceedsMaxSupportedServers`.
    ICEFLOE_ERROR_SERVER_CREATE_EXCEEDS_MAX_SUPPORTED_SERVERS = 82,
    /// `ServerCreateError::InvalidConfig`.
    ICEFLOE_ERROR_SERVER_CREATE_INVALID_CONFIG = 83,
    /// `ServerCreateError::DataSegmentTooLarge`.
    ICEFLOE_ERROR_SERVER_CREATE_DATA_SEGMENT_TOO_LARGE = 84,
    /// `ServerCreateError::UnableToCreateDataSegment`.
    ICEFLOE_ERROR_SERVER_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT = 85,
    /// `RequestSendError::ExceedsMaxActiveRequests`.
    ICEFLOE_ERROR_REQUEST_SEND_EXCEEDS_MAX_ACTIVE_REQUESTS = 86,
    /// A pending response cannot end while responses it received are held: release them first.
    ICEFLOE_ERROR_PENDING_RESPONSE_HOLDS_RESPONSES = 87,
    /// `ListenerCreateError::ExceedsMaxSupportedListeners`.
    ICEFLOE_ERROR_LISTENER_CREATE_EXCEEDS_MAX_SUPPORTED_LISTENERS = 88,
    /// `NotifierCreateError::ExceedsMaxSupportedNotifiers`.
    ICEFLOE_ERROR_NOTIFIER_CREATE_EXCEEDS_MAX_SUPPORTED_NOTIFIERS = 89,
    /// `NotifierCreateError::EventIdOutOfBounds`.
    ICEFLOE_ERROR_NOTIFIER_CREATE_EVENT_ID_OUT_OF_BOUNDS = 90,
    /// `NotifierNotifyError::EventIdOutOfBounds`.
    ICEFLOE_ERROR_NOTIFY_EVENT_ID_OUT_OF_BOUNDS = 91,
    /// `NotifierNotifyError::MissedDeadline`.
    ICEFLOE_ERROR_NOTIFY_MISSED_DEADLINE = 92,
    /// `ListenerWaitError::Interrupt`.
    ICEFLOE_ERROR_LISTENER_WAIT_INTERRUPT = 93,
    /// `ListenerWaitError::TerminationRequest`.
    ICEFLOE_ERROR_LISTENER_WAIT_TERMINATION_REQUEST = 94,
    /// An error this version of the C API does not know (a newer icefloe).
    ICEFLOE_ERROR_UNKNOWN = 999,
}

impl From<ServiceOpenError> for icefloe_error {
    fn from(e: ServiceOpenError) -> Self {
        match e {
            ServiceOpenError::DoesNotExist => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_EXIST,
            ServiceOpenError::IncompatiblePayloadType => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_TYPE,
            ServiceOpenError::IncompatiblePayloadSize => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_SIZE,
            ServiceOpenError::IncompatiblePayloadAlignment => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_ALIGNMENT,
            ServiceOpenError::IncompatibleUserHeader => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_USER_HEADER,
            ServiceOpenError::IncompatibleOverflowBehavior => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_OVERFLOW_BEHAVIOR,
            ServiceOpenError::IncompatibleResponseType => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_TYPE,
            ServiceOpenError::IncompatibleResponseSize => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_SIZE,
            ServiceOpenError::IncompatibleResponseAlignment => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_ALIGNMENT,
            ServiceOpenError::IncompatibleResponseUserHeader => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_USER_HEADER,
            ServiceOpenError::IncompatibleOverflowBehaviorForResponses => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_OVERFLOW_BEHAVIOR_FOR_RESPONSES,
            ServiceOpenError::IncompatibleFireAndForgetBehavior => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_FIRE_AND_FORGET_BEHAVIOR,
            ServiceOpenError::DoesNotSupportRequestedAmountOfClients { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_CLIENTS,
            ServiceOpenError::DoesNotSupportRequestedAmountOfServers { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_SERVERS,
            ServiceOpenError::DoesNotSupportRequestedAmountOfActiveRequestsPerClient { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_ACTIVE_REQUESTS_PER_CLIENT,
            ServiceOpenError::DoesNotSupportRequestedAmountOfClientRequestLoans { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_CLIENT_REQUEST_LOANS,
            ServiceOpenError::DoesNotSupportRequestedResponseBufferSize { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_RESPONSE_BUFFER_SIZE,
            ServiceOpenError::DoesNotSupportRequestedAmountOfBorrowedResponsesPerPendingResponse { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_BORROWED_RESPONSES_PER_PENDING_RESPONSE,
            ServiceOpenError::DoesNotSupportRequestedMaxResponseSliceLen { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_RESPONSE_SLICE_LEN,
            ServiceOpenError::DoesNotSupportRequestedAmountOfPublishers { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_PUBLISHERS,
            ServiceOpenError::DoesNotSupportRequestedAmountOfSubscribers { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_SUBSCRIBERS,
            ServiceOpenError::DoesNotSupportRequestedAmountOfNodes { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_NODES,
            ServiceOpenError::DoesNotSupportRequestedMinHistorySize { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_HISTORY_SIZE,
            ServiceOpenError::DoesNotSupportRequestedMinBufferSize { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_BUFFER_SIZE,
            ServiceOpenError::DoesNotSupportRequestedMinSubscriberBorrowedSamples { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_SUBSCRIBER_BORROWED_SAMPLES,
            ServiceOpenError::DoesNotSupportRequestedMaxSliceLen { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_SLICE_LEN,
            ServiceOpenError::ExceedsMaxNumberOfNodes => Self::ICEFLOE_ERROR_SERVICE_OPEN_EXCEEDS_MAX_NUMBER_OF_NODES,
            ServiceOpenError::ExceedsBuildLimit => Self::ICEFLOE_ERROR_SERVICE_OPEN_EXCEEDS_BUILD_LIMIT,
            ServiceOpenError::IsMarkedForDestruction => Self::ICEFLOE_ERROR_SERVICE_OPEN_IS_MARKED_FOR_DESTRUCTION,
            ServiceOpenError::HangsInCreation => Self::ICEFLOE_ERROR_SERVICE_OPEN_HANGS_IN_CREATION,
            ServiceOpenError::VersionMismatch => Self::ICEFLOE_ERROR_SERVICE_OPEN_VERSION_MISMATCH,
            ServiceOpenError::ServiceInCorruptedState => Self::ICEFLOE_ERROR_SERVICE_OPEN_SERVICE_IN_CORRUPTED_STATE,
            ServiceOpenError::HashCollision => Self::ICEFLOE_ERROR_SERVICE_OPEN_HASH_COLLISION,
            ServiceOpenError::InsufficientPermissions => Self::ICEFLOE_ERROR_SERVICE_OPEN_INSUFFICIENT_PERMISSIONS,
            ServiceOpenError::Shm { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_SHM,
            ServiceOpenError::DoesNotSupportRequestedAmountOfNotifiers { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_NOTIFIERS,
            ServiceOpenError::DoesNotSupportRequestedAmountOfListeners { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_LISTENERS,
            ServiceOpenError::DoesNotSupportRequestedMaxEventId { .. } => Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_EVENT_ID,
            ServiceOpenError::IncompatibleNotifierCreatedEvent => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_CREATED_EVENT,
            ServiceOpenError::IncompatibleNotifierDroppedEvent => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_DROPPED_EVENT,
            ServiceOpenError::IncompatibleNotifierDeadEvent => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_DEAD_EVENT,
            ServiceOpenError::IncompatibleDeadline => Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_DEADLINE,
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<ServiceCreateError> for icefloe_error {
    fn from(e: ServiceCreateError) -> Self {
        match e {
            ServiceCreateError::AlreadyExists => Self::ICEFLOE_ERROR_SERVICE_CREATE_ALREADY_EXISTS,
            ServiceCreateError::InvalidQos { .. } => Self::ICEFLOE_ERROR_SERVICE_CREATE_INVALID_QOS,
            ServiceCreateError::ExceedsBuildLimit { .. } => Self::ICEFLOE_ERROR_SERVICE_CREATE_EXCEEDS_BUILD_LIMIT,
            ServiceCreateError::TypeNameTooLong => Self::ICEFLOE_ERROR_SERVICE_CREATE_TYPE_NAME_TOO_LONG,
            ServiceCreateError::InsufficientPermissions => Self::ICEFLOE_ERROR_SERVICE_CREATE_INSUFFICIENT_PERMISSIONS,
            ServiceCreateError::InsufficientResources => Self::ICEFLOE_ERROR_SERVICE_CREATE_INSUFFICIENT_RESOURCES,
            ServiceCreateError::Shm { .. } => Self::ICEFLOE_ERROR_SERVICE_CREATE_SHM,
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<PublisherCreateError> for icefloe_error {
    fn from(e: PublisherCreateError) -> Self {
        match e {
            PublisherCreateError::ExceedsMaxSupportedPublishers => {
                Self::ICEFLOE_ERROR_PUBLISHER_CREATE_EXCEEDS_MAX_SUPPORTED_PUBLISHERS
            }
            PublisherCreateError::InvalidConfig => Self::ICEFLOE_ERROR_PUBLISHER_CREATE_INVALID_CONFIG,
            PublisherCreateError::DataSegmentTooLarge => Self::ICEFLOE_ERROR_PUBLISHER_CREATE_DATA_SEGMENT_TOO_LARGE,
            PublisherCreateError::UnableToCreateDataSegment { .. } => {
                Self::ICEFLOE_ERROR_PUBLISHER_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT
            }
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<SubscriberCreateError> for icefloe_error {
    fn from(e: SubscriberCreateError) -> Self {
        match e {
            SubscriberCreateError::ExceedsMaxSupportedSubscribers => {
                Self::ICEFLOE_ERROR_SUBSCRIBER_CREATE_EXCEEDS_MAX_SUPPORTED_SUBSCRIBERS
            }
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<LoanError> for icefloe_error {
    fn from(e: LoanError) -> Self {
        match e {
            LoanError::ExceedsMaxLoans => Self::ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOANS,
            LoanError::OutOfMemory => Self::ICEFLOE_ERROR_LOAN_OUT_OF_MEMORY,
            LoanError::ExceedsMaxLoanSize => Self::ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOAN_SIZE,
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<ReceiveError> for icefloe_error {
    fn from(e: ReceiveError) -> Self {
        match e {
            ReceiveError::ExceedsMaxBorrows => Self::ICEFLOE_ERROR_RECEIVE_EXCEEDS_MAX_BORROWS,
            ReceiveError::ConnectionCorrupted => Self::ICEFLOE_ERROR_RECEIVE_CONNECTION_CORRUPTED,
            ReceiveError::CorruptedSample => Self::ICEFLOE_ERROR_RECEIVE_CORRUPTED_SAMPLE,
            ReceiveError::UnableToMapPublishersDataSegment => {
                Self::ICEFLOE_ERROR_RECEIVE_UNABLE_TO_MAP_PUBLISHERS_DATA_SEGMENT
            }
            ReceiveError::Interrupt => Self::ICEFLOE_ERROR_RECEIVE_INTERRUPT,
            ReceiveError::TerminationRequest => Self::ICEFLOE_ERROR_RECEIVE_TERMINATION_REQUEST,
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<SendError> for icefloe_error {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Loan(l) => l.into(),
            SendError::ConnectionCorrupted { .. } => Self::ICEFLOE_ERROR_SEND_CONNECTION_CORRUPTED,
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<ServiceOpenOrCreateError> for icefloe_error {
    fn from(e: ServiceOpenOrCreateError) -> Self {
        match e {
            ServiceOpenOrCreateError::Open(o) => o.into(),
            ServiceOpenOrCreateError::Create(c) => c.into(),
            ServiceOpenOrCreateError::SystemInFlux => Self::ICEFLOE_ERROR_SERVICE_SYSTEM_IN_FLUX,
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<NameError> for icefloe_error {
    fn from(e: NameError) -> Self {
        match e {
            NameError::Empty => Self::ICEFLOE_ERROR_NAME_EMPTY,
            NameError::TooLong { .. } => Self::ICEFLOE_ERROR_NAME_TOO_LONG,
            NameError::InvalidCharacter => Self::ICEFLOE_ERROR_NAME_INVALID_CHARACTER,
            #[allow(unreachable_patterns)]
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<InvalidTypeDetail> for icefloe_error {
    fn from(e: InvalidTypeDetail) -> Self {
        match e {
            InvalidTypeDetail::NameTooLong => Self::ICEFLOE_ERROR_TYPE_NAME_TOO_LONG,
            InvalidTypeDetail::Layout => Self::ICEFLOE_ERROR_TYPE_LAYOUT,
        }
    }
}

impl From<NodeCreationError> for icefloe_error {
    fn from(e: NodeCreationError) -> Self {
        match e {
            NodeCreationError::InvalidPrefix(_) => Self::ICEFLOE_ERROR_NODE_INVALID_PREFIX,
            NodeCreationError::InsufficientPermissions => Self::ICEFLOE_ERROR_NODE_INSUFFICIENT_PERMISSIONS,
            NodeCreationError::InsufficientResources => Self::ICEFLOE_ERROR_NODE_INSUFFICIENT_RESOURCES,
            NodeCreationError::Shm(_) => Self::ICEFLOE_ERROR_NODE_SHM,
            #[allow(unreachable_patterns)]
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl icefloe_error {
    /// The sentence for the code, NUL-terminated.
    pub(crate) fn sentence(self) -> &'static core::ffi::CStr {
        match self {
            Self::ICEFLOE_OK => c"success",
            Self::ICEFLOE_ERROR_NULL_ARGUMENT => c"a pointer argument is NULL",
            Self::ICEFLOE_ERROR_INVALID_UTF8 => c"a string argument is not UTF-8",
            Self::ICEFLOE_ERROR_STALE_HANDLE => c"the handle was already consumed (sent, released, discarded) or belongs to another port",
            Self::ICEFLOE_ERROR_NAME_EMPTY => c"the name is empty",
            Self::ICEFLOE_ERROR_NAME_TOO_LONG => c"the name is longer than its limit",
            Self::ICEFLOE_ERROR_NAME_INVALID_CHARACTER => c"the name holds a character it may not",
            Self::ICEFLOE_ERROR_TYPE_NAME_TOO_LONG => c"the type name is longer than a service can record",
            Self::ICEFLOE_ERROR_TYPE_LAYOUT => c"the alignment is not a power of two up to 4096, or the size is not a multiple of it",
            Self::ICEFLOE_ERROR_NODE_INVALID_PREFIX => c"the prefix is not 1-12 characters of [A-Za-z0-9_]",
            Self::ICEFLOE_ERROR_NODE_INSUFFICIENT_PERMISSIONS => c"the node's record could not be created: permission denied",
            Self::ICEFLOE_ERROR_NODE_INSUFFICIENT_RESOURCES => c"the node's record could not be created: out of resources",
            Self::ICEFLOE_ERROR_NODE_SHM => c"the node's record could not be created",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_EXIST => c"opening the service failed: does not exist",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_TYPE => c"opening the service failed: incompatible payload type",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_SIZE => c"opening the service failed: incompatible payload size",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_ALIGNMENT => c"opening the service failed: incompatible payload alignment",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_USER_HEADER => c"opening the service failed: incompatible user header",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_OVERFLOW_BEHAVIOR => c"opening the service failed: incompatible overflow behavior",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_TYPE => c"opening the service failed: incompatible response type",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_SIZE => c"opening the service failed: incompatible response size",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_ALIGNMENT => c"opening the service failed: incompatible response alignment",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_USER_HEADER => c"opening the service failed: incompatible response user header",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_OVERFLOW_BEHAVIOR_FOR_RESPONSES => c"opening the service failed: incompatible overflow behavior for responses",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_FIRE_AND_FORGET_BEHAVIOR => c"opening the service failed: incompatible fire and forget behavior",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_CLIENTS => c"opening the service failed: does not support requested amount of clients",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_SERVERS => c"opening the service failed: does not support requested amount of servers",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_ACTIVE_REQUESTS_PER_CLIENT => c"opening the service failed: does not support requested amount of active requests per client",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_CLIENT_REQUEST_LOANS => c"opening the service failed: does not support requested amount of client request loans",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_RESPONSE_BUFFER_SIZE => c"opening the service failed: does not support requested response buffer size",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_BORROWED_RESPONSES_PER_PENDING_RESPONSE => c"opening the service failed: does not support requested amount of borrowed responses per pending response",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_RESPONSE_SLICE_LEN => c"opening the service failed: does not support requested max response slice len",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_PUBLISHERS => c"opening the service failed: does not support requested amount of publishers",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_SUBSCRIBERS => c"opening the service failed: does not support requested amount of subscribers",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_NODES => c"opening the service failed: does not support requested amount of nodes",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_HISTORY_SIZE => c"opening the service failed: does not support requested min history size",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_BUFFER_SIZE => c"opening the service failed: does not support requested min buffer size",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_SUBSCRIBER_BORROWED_SAMPLES => c"opening the service failed: does not support requested min subscriber borrowed samples",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_SLICE_LEN => c"opening the service failed: does not support requested max slice len",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_EXCEEDS_MAX_NUMBER_OF_NODES => c"opening the service failed: exceeds max number of nodes",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_EXCEEDS_BUILD_LIMIT => c"opening the service failed: exceeds build limit",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_IS_MARKED_FOR_DESTRUCTION => c"opening the service failed: is marked for destruction",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_HANGS_IN_CREATION => c"opening the service failed: hangs in creation",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_VERSION_MISMATCH => c"opening the service failed: version mismatch",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_SERVICE_IN_CORRUPTED_STATE => c"opening the service failed: service in corrupted state",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_HASH_COLLISION => c"opening the service failed: hash collision",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INSUFFICIENT_PERMISSIONS => c"opening the service failed: insufficient permissions",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_SHM => c"opening the service failed: shm",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_NOTIFIERS => c"opening the service failed: does not support requested amount of notifiers",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_LISTENERS => c"opening the service failed: does not support requested amount of listeners",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_EVENT_ID => c"opening the service failed: does not support requested max event id",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_CREATED_EVENT => c"opening the service failed: incompatible notifier created event",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_DROPPED_EVENT => c"opening the service failed: incompatible notifier dropped event",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_DEAD_EVENT => c"opening the service failed: incompatible notifier dead event",
            Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_DEADLINE => c"opening the service failed: incompatible deadline",
            Self::ICEFLOE_ERROR_SERVICE_CREATE_ALREADY_EXISTS => c"creating the service failed: already exists",
            Self::ICEFLOE_ERROR_SERVICE_CREATE_INVALID_QOS => c"creating the service failed: invalid qos",
            Self::ICEFLOE_ERROR_SERVICE_CREATE_EXCEEDS_BUILD_LIMIT => c"creating the service failed: exceeds build limit",
            Self::ICEFLOE_ERROR_SERVICE_CREATE_TYPE_NAME_TOO_LONG => c"creating the service failed: type name too long",
            Self::ICEFLOE_ERROR_SERVICE_CREATE_INSUFFICIENT_PERMISSIONS => c"creating the service failed: insufficient permissions",
            Self::ICEFLOE_ERROR_SERVICE_CREATE_INSUFFICIENT_RESOURCES => c"creating the service failed: insufficient resources",
            Self::ICEFLOE_ERROR_SERVICE_CREATE_SHM => c"creating the service failed: shm",
            Self::ICEFLOE_ERROR_SERVICE_SYSTEM_IN_FLUX => c"opening or creating the service failed: system in flux",
            Self::ICEFLOE_ERROR_PUBLISHER_CREATE_EXCEEDS_MAX_SUPPORTED_PUBLISHERS => c"creating the publisher failed: exceeds max supported publishers",
            Self::ICEFLOE_ERROR_PUBLISHER_CREATE_INVALID_CONFIG => c"creating the publisher failed: invalid config",
            Self::ICEFLOE_ERROR_PUBLISHER_CREATE_DATA_SEGMENT_TOO_LARGE => c"creating the publisher failed: data segment too large",
            Self::ICEFLOE_ERROR_PUBLISHER_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT => c"creating the publisher failed: unable to create data segment",
            Self::ICEFLOE_ERROR_SUBSCRIBER_CREATE_EXCEEDS_MAX_SUPPORTED_SUBSCRIBERS => c"creating the subscriber failed: exceeds max supported subscribers",
            Self::ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOANS => c"the loan failed: exceeds max loans",
            Self::ICEFLOE_ERROR_LOAN_OUT_OF_MEMORY => c"the loan failed: out of memory",
            Self::ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOAN_SIZE => c"the loan failed: exceeds max loan size",
            Self::ICEFLOE_ERROR_SEND_CONNECTION_CORRUPTED => c"the send failed: connection corrupted",
            Self::ICEFLOE_ERROR_RECEIVE_EXCEEDS_MAX_BORROWS => c"the receive failed: exceeds max borrows",
            Self::ICEFLOE_ERROR_RECEIVE_CONNECTION_CORRUPTED => c"the receive failed: connection corrupted",
            Self::ICEFLOE_ERROR_RECEIVE_CORRUPTED_SAMPLE => c"the receive failed: corrupted sample",
            Self::ICEFLOE_ERROR_RECEIVE_UNABLE_TO_MAP_PUBLISHERS_DATA_SEGMENT => c"the receive failed: unable to map publishers data segment",
            Self::ICEFLOE_ERROR_RECEIVE_INTERRUPT => c"the receive failed: interrupt",
            Self::ICEFLOE_ERROR_RECEIVE_TERMINATION_REQUEST => c"the receive failed: termination request",
            Self::ICEFLOE_ERROR_CLIENT_CREATE_EXCEEDS_MAX_SUPPORTED_CLIENTS => c"creating the client failed: exceeds max supported clients",
            Self::ICEFLOE_ERROR_CLIENT_CREATE_INVALID_CONFIG => c"creating the client failed: invalid config",
            Self::ICEFLOE_ERROR_CLIENT_CREATE_DATA_SEGMENT_TOO_LARGE => c"creating the client failed: data segment too large",
            Self::ICEFLOE_ERROR_CLIENT_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT => c"creating the client failed: unable to create data segment",
            Self::ICEFLOE_ERROR_SERVER_CREATE_EXCEEDS_MAX_SUPPORTED_SERVERS => c"creating the server failed: exceeds max supported servers",
            Self::ICEFLOE_ERROR_SERVER_CREATE_INVALID_CONFIG => c"creating the server failed: invalid config",
            Self::ICEFLOE_ERROR_SERVER_CREATE_DATA_SEGMENT_TOO_LARGE => c"creating the server failed: data segment too large",
            Self::ICEFLOE_ERROR_SERVER_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT => c"creating the server failed: unable to create data segment",
            Self::ICEFLOE_ERROR_REQUEST_SEND_EXCEEDS_MAX_ACTIVE_REQUESTS => c"sending the request failed: the client already has max_active_requests_per_client pending responses",
            Self::ICEFLOE_ERROR_PENDING_RESPONSE_HOLDS_RESPONSES => c"the pending response still holds received responses: release them first",
            Self::ICEFLOE_ERROR_LISTENER_CREATE_EXCEEDS_MAX_SUPPORTED_LISTENERS => c"creating the listener failed: exceeds max supported listeners",
            Self::ICEFLOE_ERROR_NOTIFIER_CREATE_EXCEEDS_MAX_SUPPORTED_NOTIFIERS => c"creating the notifier failed: exceeds max supported notifiers",
            Self::ICEFLOE_ERROR_NOTIFIER_CREATE_EVENT_ID_OUT_OF_BOUNDS => c"creating the notifier failed: its default event id is above the service's event_id_max_value",
            Self::ICEFLOE_ERROR_NOTIFY_EVENT_ID_OUT_OF_BOUNDS => c"notifying failed: the event id is above the service's event_id_max_value",
            Self::ICEFLOE_ERROR_NOTIFY_MISSED_DEADLINE => c"notifying missed the service's deadline (the listeners were woken)",
            Self::ICEFLOE_ERROR_LISTENER_WAIT_INTERRUPT => c"the wait ended: SIGINT",
            Self::ICEFLOE_ERROR_LISTENER_WAIT_TERMINATION_REQUEST => c"the wait ended: SIGTERM",
            Self::ICEFLOE_ERROR_UNKNOWN => c"an error this version of the C API does not know",
        }
    }

    /// Every code, for tests.
    #[doc(hidden)]
    pub const ALL: &'static [icefloe_error] = &[
        Self::ICEFLOE_OK,
        Self::ICEFLOE_ERROR_NULL_ARGUMENT,
        Self::ICEFLOE_ERROR_INVALID_UTF8,
        Self::ICEFLOE_ERROR_STALE_HANDLE,
        Self::ICEFLOE_ERROR_NAME_EMPTY,
        Self::ICEFLOE_ERROR_NAME_TOO_LONG,
        Self::ICEFLOE_ERROR_NAME_INVALID_CHARACTER,
        Self::ICEFLOE_ERROR_TYPE_NAME_TOO_LONG,
        Self::ICEFLOE_ERROR_TYPE_LAYOUT,
        Self::ICEFLOE_ERROR_NODE_INVALID_PREFIX,
        Self::ICEFLOE_ERROR_NODE_INSUFFICIENT_PERMISSIONS,
        Self::ICEFLOE_ERROR_NODE_INSUFFICIENT_RESOURCES,
        Self::ICEFLOE_ERROR_NODE_SHM,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_EXIST,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_TYPE,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_SIZE,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_PAYLOAD_ALIGNMENT,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_USER_HEADER,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_OVERFLOW_BEHAVIOR,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_TYPE,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_SIZE,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_ALIGNMENT,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_RESPONSE_USER_HEADER,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_OVERFLOW_BEHAVIOR_FOR_RESPONSES,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_FIRE_AND_FORGET_BEHAVIOR,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_CLIENTS,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_SERVERS,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_ACTIVE_REQUESTS_PER_CLIENT,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_CLIENT_REQUEST_LOANS,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_RESPONSE_BUFFER_SIZE,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_BORROWED_RESPONSES_PER_PENDING_RESPONSE,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_RESPONSE_SLICE_LEN,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_PUBLISHERS,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_SUBSCRIBERS,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_NODES,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_HISTORY_SIZE,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_BUFFER_SIZE,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MIN_SUBSCRIBER_BORROWED_SAMPLES,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_SLICE_LEN,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_EXCEEDS_MAX_NUMBER_OF_NODES,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_EXCEEDS_BUILD_LIMIT,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_IS_MARKED_FOR_DESTRUCTION,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_HANGS_IN_CREATION,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_VERSION_MISMATCH,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_SERVICE_IN_CORRUPTED_STATE,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_HASH_COLLISION,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INSUFFICIENT_PERMISSIONS,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_SHM,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_NOTIFIERS,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_AMOUNT_OF_LISTENERS,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_DOES_NOT_SUPPORT_REQUESTED_MAX_EVENT_ID,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_CREATED_EVENT,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_DROPPED_EVENT,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_NOTIFIER_DEAD_EVENT,
        Self::ICEFLOE_ERROR_SERVICE_OPEN_INCOMPATIBLE_DEADLINE,
        Self::ICEFLOE_ERROR_SERVICE_CREATE_ALREADY_EXISTS,
        Self::ICEFLOE_ERROR_SERVICE_CREATE_INVALID_QOS,
        Self::ICEFLOE_ERROR_SERVICE_CREATE_EXCEEDS_BUILD_LIMIT,
        Self::ICEFLOE_ERROR_SERVICE_CREATE_TYPE_NAME_TOO_LONG,
        Self::ICEFLOE_ERROR_SERVICE_CREATE_INSUFFICIENT_PERMISSIONS,
        Self::ICEFLOE_ERROR_SERVICE_CREATE_INSUFFICIENT_RESOURCES,
        Self::ICEFLOE_ERROR_SERVICE_CREATE_SHM,
        Self::ICEFLOE_ERROR_SERVICE_SYSTEM_IN_FLUX,
        Self::ICEFLOE_ERROR_PUBLISHER_CREATE_EXCEEDS_MAX_SUPPORTED_PUBLISHERS,
        Self::ICEFLOE_ERROR_PUBLISHER_CREATE_INVALID_CONFIG,
        Self::ICEFLOE_ERROR_PUBLISHER_CREATE_DATA_SEGMENT_TOO_LARGE,
        Self::ICEFLOE_ERROR_PUBLISHER_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT,
        Self::ICEFLOE_ERROR_SUBSCRIBER_CREATE_EXCEEDS_MAX_SUPPORTED_SUBSCRIBERS,
        Self::ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOANS,
        Self::ICEFLOE_ERROR_LOAN_OUT_OF_MEMORY,
        Self::ICEFLOE_ERROR_LOAN_EXCEEDS_MAX_LOAN_SIZE,
        Self::ICEFLOE_ERROR_SEND_CONNECTION_CORRUPTED,
        Self::ICEFLOE_ERROR_RECEIVE_EXCEEDS_MAX_BORROWS,
        Self::ICEFLOE_ERROR_RECEIVE_CONNECTION_CORRUPTED,
        Self::ICEFLOE_ERROR_RECEIVE_CORRUPTED_SAMPLE,
        Self::ICEFLOE_ERROR_RECEIVE_UNABLE_TO_MAP_PUBLISHERS_DATA_SEGMENT,
        Self::ICEFLOE_ERROR_RECEIVE_INTERRUPT,
        Self::ICEFLOE_ERROR_RECEIVE_TERMINATION_REQUEST,
        Self::ICEFLOE_ERROR_CLIENT_CREATE_EXCEEDS_MAX_SUPPORTED_CLIENTS,
        Self::ICEFLOE_ERROR_CLIENT_CREATE_INVALID_CONFIG,
        Self::ICEFLOE_ERROR_CLIENT_CREATE_DATA_SEGMENT_TOO_LARGE,
        Self::ICEFLOE_ERROR_CLIENT_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT,
        Self::ICEFLOE_ERROR_SERVER_CREATE_EXCEEDS_MAX_SUPPORTED_SERVERS,
        Self::ICEFLOE_ERROR_SERVER_CREATE_INVALID_CONFIG,
        Self::ICEFLOE_ERROR_SERVER_CREATE_DATA_SEGMENT_TOO_LARGE,
        Self::ICEFLOE_ERROR_SERVER_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT,
        Self::ICEFLOE_ERROR_REQUEST_SEND_EXCEEDS_MAX_ACTIVE_REQUESTS,
        Self::ICEFLOE_ERROR_PENDING_RESPONSE_HOLDS_RESPONSES,
        Self::ICEFLOE_ERROR_LISTENER_CREATE_EXCEEDS_MAX_SUPPORTED_LISTENERS,
        Self::ICEFLOE_ERROR_NOTIFIER_CREATE_EXCEEDS_MAX_SUPPORTED_NOTIFIERS,
        Self::ICEFLOE_ERROR_NOTIFIER_CREATE_EVENT_ID_OUT_OF_BOUNDS,
        Self::ICEFLOE_ERROR_NOTIFY_EVENT_ID_OUT_OF_BOUNDS,
        Self::ICEFLOE_ERROR_NOTIFY_MISSED_DEADLINE,
        Self::ICEFLOE_ERROR_LISTENER_WAIT_INTERRUPT,
        Self::ICEFLOE_ERROR_LISTENER_WAIT_TERMINATION_REQUEST,
        Self::ICEFLOE_ERROR_UNKNOWN,
    ];
}

impl From<ClientCreateError> for icefloe_error {
    fn from(e: ClientCreateError) -> Self {
        match e {
            ClientCreateError::ExceedsMaxSupportedClients => {
                Self::ICEFLOE_ERROR_CLIENT_CREATE_EXCEEDS_MAX_SUPPORTED_CLIENTS
            }
            ClientCreateError::InvalidConfig => Self::ICEFLOE_ERROR_CLIENT_CREATE_INVALID_CONFIG,
            ClientCreateError::DataSegmentTooLarge => Self::ICEFLOE_ERROR_CLIENT_CREATE_DATA_SEGMENT_TOO_LARGE,
            ClientCreateError::UnableToCreateDataSegment(_) => {
                Self::ICEFLOE_ERROR_CLIENT_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT
            }
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<ServerCreateError> for icefloe_error {
    fn from(e: ServerCreateError) -> Self {
        match e {
            ServerCreateError::ExceedsMaxSupportedServers => {
                Self::ICEFLOE_ERROR_SERVER_CREATE_EXCEEDS_MAX_SUPPORTED_SERVERS
            }
            ServerCreateError::InvalidConfig => Self::ICEFLOE_ERROR_SERVER_CREATE_INVALID_CONFIG,
            ServerCreateError::DataSegmentTooLarge => Self::ICEFLOE_ERROR_SERVER_CREATE_DATA_SEGMENT_TOO_LARGE,
            ServerCreateError::UnableToCreateDataSegment(_) => {
                Self::ICEFLOE_ERROR_SERVER_CREATE_UNABLE_TO_CREATE_DATA_SEGMENT
            }
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<RequestSendError> for icefloe_error {
    fn from(e: RequestSendError) -> Self {
        match e {
            RequestSendError::ExceedsMaxActiveRequests => Self::ICEFLOE_ERROR_REQUEST_SEND_EXCEEDS_MAX_ACTIVE_REQUESTS,
            RequestSendError::Send(s) => s.into(),
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<ListenerCreateError> for icefloe_error {
    fn from(e: ListenerCreateError) -> Self {
        match e {
            ListenerCreateError::ExceedsMaxSupportedListeners => {
                Self::ICEFLOE_ERROR_LISTENER_CREATE_EXCEEDS_MAX_SUPPORTED_LISTENERS
            }
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<NotifierCreateError> for icefloe_error {
    fn from(e: NotifierCreateError) -> Self {
        match e {
            NotifierCreateError::ExceedsMaxSupportedNotifiers => {
                Self::ICEFLOE_ERROR_NOTIFIER_CREATE_EXCEEDS_MAX_SUPPORTED_NOTIFIERS
            }
            NotifierCreateError::EventIdOutOfBounds => Self::ICEFLOE_ERROR_NOTIFIER_CREATE_EVENT_ID_OUT_OF_BOUNDS,
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}

impl From<NotifierNotifyError> for icefloe_error {
    fn from(e: NotifierNotifyError) -> Self {
        match e {
            NotifierNotifyError::EventIdOutOfBounds => Self::ICEFLOE_ERROR_NOTIFY_EVENT_ID_OUT_OF_BOUNDS,
            NotifierNotifyError::MissedDeadline { .. } => Self::ICEFLOE_ERROR_NOTIFY_MISSED_DEADLINE,
            _ => Self::ICEFLOE_ERROR_UNKNOWN,
        }
    }
}
