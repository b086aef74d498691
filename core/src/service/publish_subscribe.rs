//! The publish-subscribe pattern: builder, service handle, footprint.

use super::{
    at_least, check_payload, ServiceCore, ServiceCreateError, ServiceOpenError, ServiceOpenOrCreateError, TypeMismatch,
};
use crate::node::Node;
use crate::platform::Platform;
use crate::shm::service::{
    ServiceLayout, StaticConfig, MAX_NODES_LIMIT, MAX_QUEUE_CAPACITY, PATTERN_PUBLISH_SUBSCRIBE,
};
use crate::zero_copy::{Opaque, Payload, TypeDetail, TypeVariant, ZeroCopySend};
use core::marker::PhantomData;

/// Default publisher slots (as iceoryx2): 2.
pub const DEFAULT_MAX_PUBLISHERS: u32 = 2;
/// Default subscriber slots: 8.
pub const DEFAULT_MAX_SUBSCRIBERS: u32 = 8;
/// Default node slots: 20.
pub const DEFAULT_MAX_NODES: u32 = 20;
/// Default history: 0 (late joiners get nothing old).
pub const DEFAULT_HISTORY_SIZE: u32 = 0;
/// Default subscriber buffer: 2 samples.
pub const DEFAULT_SUBSCRIBER_MAX_BUFFER_SIZE: u32 = 2;
/// Default samples a subscriber may hold: 2.
pub const DEFAULT_SUBSCRIBER_MAX_BORROWED_SAMPLES: u32 = 2;
/// Default overflow behaviour: safe overflow on.
pub const DEFAULT_ENABLE_SAFE_OVERFLOW: bool = true;

/// Configures a publish-subscribe service. Every knob has iceoryx2's meaning
/// and default; on `open`, only the knobs set explicitly are checked.
pub struct PublishSubscribeBuilder<'n, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> {
    node: &'n Node<P>,
    name: crate::name::ServiceName,
    max_publishers: Option<u32>,
    max_subscribers: Option<u32>,
    max_nodes: Option<u32>,
    history_size: Option<u32>,
    buffer_size: Option<u32>,
    max_borrowed: Option<u32>,
    safe_overflow: Option<bool>,
    payload_alignment: Option<u32>,
    max_slice_len: Option<u32>,
    payload_type: Option<TypeDetail>,
    header_type: Option<TypeDetail>,
    _t: crate::zero_copy::TypeMarker<T, H>,
}

impl<'n, P: Platform, T: Payload + ?Sized> PublishSubscribeBuilder<'n, P, T, ()> {
    pub(crate) fn new(node: &'n Node<P>, name: crate::name::ServiceName) -> Self {
        Self {
            node,
            name,
            max_publishers: None,
            max_subscribers: None,
            max_nodes: None,
            history_size: None,
            buffer_size: None,
            max_borrowed: None,
            safe_overflow: None,
            payload_alignment: None,
            max_slice_len: None,
            payload_type: None,
            header_type: None,
            _t: PhantomData,
        }
    }
}

impl<P: Platform, H: ZeroCopySend> PublishSubscribeBuilder<'_, P, [Opaque], H> {
    /// The payload type, described at run time (a binding's type): the
    /// service records it and opens only against the same description (a
    /// Rust `T` or `[T]` of that name and layout included).
    pub fn payload_type_detail(mut self, detail: TypeDetail) -> Self {
        self.payload_type = Some(detail);
        self
    }
}

impl<P: Platform, T: Payload + ?Sized> PublishSubscribeBuilder<'_, P, T, Opaque> {
    /// The user header type, described at run time (a binding's type; a
    /// fixed-size one): the service records it and opens only against the
    /// same description.
    pub fn user_header_type_detail(mut self, detail: TypeDetail) -> Self {
        self.header_type = Some(detail);
        self
    }
}

/// The shared memory a service and its ports take, from QoS alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Footprint {
    /// Bytes of the service segment (tables and every connection's queues).
    pub service_segment: usize,
    /// Bytes of one publisher's data segment with the default port settings
    /// (2 loans; for slices, `initial_max_slice_len` 1). See
    /// [`PublisherBuilder::footprint`](crate::PublisherBuilder::footprint)
    /// for other settings.
    pub default_publisher_data_segment: usize,
    /// The service segment plus `max_publishers` default data segments:
    /// the most the service takes with default publishers.
    pub worst_case_total: usize,
}

impl<'n, P: Platform, T: Payload + ?Sized, H: ZeroCopySend> PublishSubscribeBuilder<'n, P, T, H> {
    /// Publisher slots (default [`DEFAULT_MAX_PUBLISHERS`]).
    pub fn max_publishers(mut self, n: u32) -> Self {
        self.max_publishers = Some(n);
        self
    }
    /// Subscriber slots (default [`DEFAULT_MAX_SUBSCRIBERS`]).
    pub fn max_subscribers(mut self, n: u32) -> Self {
        self.max_subscribers = Some(n);
        self
    }
    /// Nodes that may have the service open at once (default [`DEFAULT_MAX_NODES`]).
    pub fn max_nodes(mut self, n: u32) -> Self {
        self.max_nodes = Some(n);
        self
    }
    /// Samples each publisher keeps for late-joining subscribers (default 0).
    pub fn history_size(mut self, n: u32) -> Self {
        self.history_size = Some(n);
        self
    }
    /// Samples queued per subscriber (default 2).
    pub fn subscriber_max_buffer_size(mut self, n: u32) -> Self {
        self.buffer_size = Some(n);
        self
    }
    /// Samples a subscriber may hold at once (default 2).
    pub fn subscriber_max_borrowed_samples(mut self, n: u32) -> Self {
        self.max_borrowed = Some(n);
        self
    }
    /// When a subscriber's queue is full, drop its oldest sample (true, the
    /// default) or apply the publisher's backpressure strategy (false).
    pub fn enable_safe_overflow(mut self, on: bool) -> Self {
        self.safe_overflow = Some(on);
        self
    }
    /// Payload alignment in bytes, a power of two at least the type's own
    /// (default: the type's). On open, the service's must be at least this.
    pub fn payload_alignment(mut self, align: u32) -> Self {
        self.payload_alignment = Some(align);
        self
    }
    /// For slice payloads: the longest slice, in elements, that any publisher
    /// of the service may send; a publisher's own `max_slice_len` cannot
    /// exceed it (default [`DEFAULT_MAX_SLICE_LEN`](crate::service::DEFAULT_MAX_SLICE_LEN)).
    /// On open, the service's must be at least this.
    pub fn max_slice_len(mut self, n: u32) -> Self {
        self.max_slice_len = Some(n);
        self
    }

    /// A user header of type `H2` in every sample (default `()`).
    pub fn user_header<H2: ZeroCopySend>(self) -> PublishSubscribeBuilder<'n, P, T, H2> {
        PublishSubscribeBuilder {
            node: self.node,
            name: self.name,
            max_publishers: self.max_publishers,
            max_subscribers: self.max_subscribers,
            max_nodes: self.max_nodes,
            history_size: self.history_size,
            buffer_size: self.buffer_size,
            max_borrowed: self.max_borrowed,
            safe_overflow: self.safe_overflow,
            payload_alignment: self.payload_alignment,
            max_slice_len: self.max_slice_len,
            payload_type: self.payload_type,
            header_type: None,
            _t: PhantomData,
        }
    }

    /// The user header type the service records: `H`'s, or the one given at run time.
    fn header_detail(&self) -> Result<TypeDetail, crate::zero_copy::TypeNameTooLong> {
        self.header_type.clone().map_or_else(TypeDetail::of::<H>, Ok)
    }

    /// The payload type the service records: `T`'s, or the one given at run time.
    fn payload_detail(&self) -> Result<TypeDetail, crate::zero_copy::TypeNameTooLong> {
        self.payload_type.clone().map_or_else(TypeDetail::of_payload::<T>, Ok)
    }

    fn config(&self) -> Result<StaticConfig, ServiceCreateError> {
        let payload = self.payload_detail().map_err(|_| ServiceCreateError::TypeNameTooLong)?;
        let is_slice = payload.variant == TypeVariant::Slice;
        let user_header = self.header_detail().map_err(|_| ServiceCreateError::TypeNameTooLong)?;
        if user_header.variant != TypeVariant::FixedSize {
            return Err(ServiceCreateError::InvalidQos("user_header"));
        }
        let d = &self.node.config().publish_subscribe;
        let cfg = StaticConfig {
            name: self.name.clone(),
            pattern: PATTERN_PUBLISH_SUBSCRIBE,
            max_publishers: self.max_publishers.unwrap_or(d.max_publishers),
            max_subscribers: self.max_subscribers.unwrap_or(d.max_subscribers),
            max_nodes: self.max_nodes.unwrap_or(d.max_nodes),
            history_size: self.history_size.unwrap_or(d.history_size),
            subscriber_max_buffer_size: self.buffer_size.unwrap_or(d.subscriber_max_buffer_size),
            subscriber_max_borrowed_samples: self.max_borrowed.unwrap_or(d.subscriber_max_borrowed_samples),
            enable_safe_overflow: self.safe_overflow.unwrap_or(d.enable_safe_overflow),
            payload_alignment: self.payload_alignment.unwrap_or(payload.align).max(payload.align),
            payload,
            user_header,
            max_slice_len: if is_slice {
                self.max_slice_len.unwrap_or(crate::service::DEFAULT_MAX_SLICE_LEN)
            } else {
                1
            },
            response: None,
            event: None,
        };
        let q = 1..=MAX_QUEUE_CAPACITY;
        if cfg.max_publishers as usize > crate::config::MAX_PUBLISHERS {
            return Err(ServiceCreateError::ExceedsBuildLimit("max_publishers"));
        }
        if cfg.max_subscribers as usize > crate::config::MAX_SUBSCRIBERS {
            return Err(ServiceCreateError::ExceedsBuildLimit("max_subscribers"));
        }
        let checks = [
            (cfg.max_publishers >= 1, "max_publishers"),
            (cfg.max_subscribers >= 1, "max_subscribers"),
            ((1..=MAX_NODES_LIMIT).contains(&cfg.max_nodes), "max_nodes"),
            (cfg.history_size <= MAX_QUEUE_CAPACITY, "history_size"),
            (q.contains(&cfg.subscriber_max_buffer_size), "subscriber_max_buffer_size"),
            (q.contains(&cfg.subscriber_max_borrowed_samples), "subscriber_max_borrowed_samples"),
            (cfg.payload_alignment.is_power_of_two() && cfg.payload_alignment <= 4096, "payload_alignment"),
            (cfg.max_slice_len >= 1, "max_slice_len"),
        ];
        if let Some((_, field)) = checks.iter().find(|(ok, _)| !ok) {
            return Err(ServiceCreateError::InvalidQos(field));
        }
        Ok(cfg)
    }

    /// The shared memory the configured service takes, before creating it.
    pub fn footprint(&self) -> Result<Footprint, ServiceCreateError> {
        Footprint::of(&self.config()?)
    }

    fn verify(&self, stored: &StaticConfig) -> Result<(), ServiceOpenError> {
        use ServiceOpenError as E;
        if stored.max_publishers as usize > crate::config::MAX_PUBLISHERS
            || stored.max_subscribers as usize > crate::config::MAX_SUBSCRIBERS
        {
            return Err(E::ExceedsBuildLimit);
        }
        let want = self.payload_detail().map_err(|_| E::IncompatiblePayloadType)?;
        check_payload(&want, &stored.payload, stored.payload_alignment, self.payload_alignment).map_err(
            |m| match m {
                TypeMismatch::Type => E::IncompatiblePayloadType,
                TypeMismatch::Size => E::IncompatiblePayloadSize,
                TypeMismatch::Alignment => E::IncompatiblePayloadAlignment,
            },
        )?;
        if Ok(&stored.user_header) != self.header_detail().as_ref() {
            return Err(E::IncompatibleUserHeader);
        }
        if self.safe_overflow.is_some_and(|v| v != stored.enable_safe_overflow) {
            return Err(E::IncompatibleOverflowBehavior);
        }
        if want.variant == TypeVariant::Slice {
            at_least(self.max_slice_len, stored.max_slice_len, E::DoesNotSupportRequestedMaxSliceLen)?;
        }
        at_least(self.max_publishers, stored.max_publishers, E::DoesNotSupportRequestedAmountOfPublishers)?;
        at_least(self.max_subscribers, stored.max_subscribers, E::DoesNotSupportRequestedAmountOfSubscribers)?;
        at_least(self.max_nodes, stored.max_nodes, E::DoesNotSupportRequestedAmountOfNodes)?;
        at_least(self.history_size, stored.history_size, E::DoesNotSupportRequestedMinHistorySize)?;
        at_least(self.buffer_size, stored.subscriber_max_buffer_size, E::DoesNotSupportRequestedMinBufferSize)?;
        at_least(
            self.max_borrowed,
            stored.subscriber_max_borrowed_samples,
            E::DoesNotSupportRequestedMinSubscriberBorrowedSamples,
        )?;
        Ok(())
    }

    /// Creates the service; fails with [`ServiceCreateError::AlreadyExists`]
    /// if a live one exists (a leftover of dead nodes is cleaned and
    /// replaced). Costs one segment of [`footprint`](Self::footprint) bytes.
    pub fn create(self) -> Result<P::Hold<PublishSubscribe<P, T, H>>, ServiceCreateError> {
        let cfg = self.config()?;
        Ok(PublishSubscribe { core: ServiceCore::create(self.node, cfg)?, _t: PhantomData }.into())
    }

    /// Opens an existing service, checking types and requested QoS.
    pub fn open(self) -> Result<P::Hold<PublishSubscribe<P, T, H>>, ServiceOpenError> {
        let core = ServiceCore::open(self.node, PATTERN_PUBLISH_SUBSCRIBE, &self.name, |c| self.verify(c))?;
        Ok(PublishSubscribe { core, _t: PhantomData }.into())
    }

    /// Opens the service, or creates it if it does not exist.
    pub fn open_or_create(self) -> Result<P::Hold<PublishSubscribe<P, T, H>>, ServiceOpenOrCreateError> {
        let core = ServiceCore::open_or_create(
            self.node,
            PATTERN_PUBLISH_SUBSCRIBE,
            &self.name,
            || self.config(),
            |c| self.verify(c),
        )?;
        Ok(PublishSubscribe { core, _t: PhantomData }.into())
    }
}

/// A publish-subscribe service handle: makes publishers and subscribers.
/// Dropping the last handle of the last node removes the service.
pub struct PublishSubscribe<P: Platform, T: Payload + ?Sized, H: ZeroCopySend = ()> {
    pub(crate) core: ServiceCore<P>,
    _t: crate::zero_copy::TypeMarker<T, H>,
}

impl<P: Platform, T: Payload + ?Sized, H: ZeroCopySend> PublishSubscribe<P, T, H> {
    /// The service's name.
    pub fn name(&self) -> &crate::name::ServiceName {
        &self.core.config.name
    }

    /// The stored configuration (QoS and types).
    pub fn static_config(&self) -> &StaticConfig {
        &self.core.config
    }

    /// Whether payloads are slices.
    pub fn is_slice(&self) -> bool {
        self.core.config.payload.variant == TypeVariant::Slice
    }

    /// Publishers of the service now, in every process (iceoryx2's
    /// `dynamic_config().number_of_publishers()`).
    pub fn number_of_publishers(&self) -> u32 {
        self.core.live_senders()
    }

    /// Subscribers of the service now, in every process.
    pub fn number_of_subscribers(&self) -> u32 {
        self.core.live_receivers()
    }

    /// Reclaims what dead nodes left in this service; returns how many dead
    /// nodes were cleaned.
    pub fn cleanup_dead_nodes(&self) -> u32 {
        self.core.cleanup_dead_nodes()
    }

    /// The shared memory this service takes (see [`Footprint`]).
    pub fn footprint(&self) -> Footprint {
        Footprint::of(&self.core.config).unwrap_or(Footprint {
            service_segment: ServiceLayout::of(&self.core.config).size,
            default_publisher_data_segment: 0,
            worst_case_total: 0,
        })
    }
}
