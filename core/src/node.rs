//! Nodes: one participant, the owner of services and ports.

use crate::config::Config;
use crate::name::{NameError, NodeName, Prefix};
use crate::platform::{LivenessId, Permissions, Platform, ShmError, SignalHandlingMode, Termination};
use core::fmt;
use core::marker::PhantomData;
use core::time::Duration;

/// Builds a [`Node`].
///
/// ```
/// # fn demo<P: icefloe_core::Platform>() -> Result<(), icefloe_core::NodeCreationError> {
/// use icefloe_core::{NodeBuilder, NodeName};
/// let node = NodeBuilder::<P>::new().name(NodeName::new("camera").unwrap()).create()?;
/// # Ok(()) }
/// ```
pub struct NodeBuilder<P: Platform> {
    name: NodeName,
    config: Config,
    signals: SignalHandlingMode,
    _p: PhantomData<P>,
}

/// Why a node could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NodeCreationError {
    /// The prefix given to [`NodeBuilder::prefix`] is invalid.
    InvalidPrefix(NameError),
    /// The OS refused the node's record: permissions.
    InsufficientPermissions,
    /// The OS refused the node's record: memory, descriptors, arena space or
    /// registry slots.
    InsufficientResources,
    /// Another shared-memory failure while writing the node's record.
    Shm(ShmError),
}

impl fmt::Display for NodeCreationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPrefix(e) => write!(f, "the node's segment prefix is invalid: {e}"),
            Self::InsufficientPermissions => {
                f.write_str("the OS refused to create the node's record in shared memory: insufficient permissions")
            }
            Self::InsufficientResources => f.write_str(
                "the OS refused to create the node's record in shared memory: out of memory, descriptors or arena \
                 space",
            ),
            Self::Shm(e) => write!(f, "the node's record could not be created in shared memory: {e}"),
        }
    }
}

impl core::error::Error for NodeCreationError {}

/// Why [`Node::wait`] returned early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NodeWaitError {
    /// An interrupt (Ctrl-C, SIGINT) arrived.
    Interrupt,
    /// A termination request (SIGTERM) arrived.
    TerminationRequest,
}

impl fmt::Display for NodeWaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Interrupt => "the node's wait was interrupted (SIGINT, Ctrl-C)",
            Self::TerminationRequest => "the node's wait ended on a termination request (SIGTERM)",
        })
    }
}

impl core::error::Error for NodeWaitError {}

/// What [`Node::cleanup_dead_nodes`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CleanupState {
    /// Dead nodes whose resources were reclaimed.
    pub cleanups: u32,
    /// Services that could not be inspected (corrupt or inaccessible).
    pub failed_cleanups: u32,
}

impl<P: Platform> Default for NodeBuilder<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Platform> NodeBuilder<P> {
    /// A builder with an empty name and the default [`Config`]: prefix
    /// [`DEFAULT_PREFIX`](crate::name::DEFAULT_PREFIX), owner-only
    /// permissions, iceoryx2's default QoS.
    pub fn new() -> Self {
        Self {
            name: NodeName::new("").unwrap_or_else(|_| unreachable_name()),
            config: Config::default(),
            signals: SignalHandlingMode::default(),
            _p: PhantomData,
        }
    }

    /// Whether the platform catches SIGINT / SIGTERM for this process
    /// (default [`SignalHandlingMode::HandleTerminationRequests`]: waits then
    /// end with an `Interrupt` error on Ctrl-C, and a handler installed
    /// before is chained). [`SignalHandlingMode::Disabled`] leaves the
    /// application's signal handling alone; see the mode's docs for what
    /// each choice means for blocking waits. Handlers, once installed by a
    /// node of this process, stay for the process's life.
    pub fn signal_handling_mode(mut self, mode: SignalHandlingMode) -> Self {
        self.signals = mode;
        self
    }

    /// Names the node.
    pub fn name(mut self, name: NodeName) -> Self {
        self.name = name;
        self
    }

    /// Sets the segment-name prefix: nodes only see services made with the
    /// same prefix (use one per test, or per "domain").
    pub fn prefix(mut self, prefix: &str) -> Result<Self, NodeCreationError> {
        self.config.prefix = Prefix::new(prefix).map_err(NodeCreationError::InvalidPrefix)?;
        Ok(self)
    }

    /// Who may open the segments this node creates (default: owner only).
    pub fn permissions(mut self, p: Permissions) -> Self {
        self.config.permissions = p;
        self
    }

    /// Takes prefix, permissions, cleanup policy and default QoS from
    /// `config` (an operator's configuration, for example the TOML file
    /// `icefloe-linux` loads). Later calls of [`prefix`](Self::prefix) and
    /// [`permissions`](Self::permissions) override those two.
    pub fn config(mut self, config: &Config) -> Self {
        self.config = config.clone();
        self
    }

    /// Creates the node: takes this participant's liveness id and a unique
    /// node id, and writes the node's record (id, name, liveness: what
    /// [`Node::list`] shows) to a small shared-memory segment that the node
    /// removes when it drops. Costs no allocation.
    pub fn create(self) -> Result<Node<P>, NodeCreationError> {
        P::prepare_termination_handling(self.signals);
        let liveness = P::liveness_self();
        let c = &self.config;
        let mut salt = 0;
        let id = loop {
            let id = crate::name::unique_id::<P>(liveness, salt);
            match crate::discovery::create_record::<P>(&c.prefix, id, &self.name, liveness, c.permissions) {
                Ok(()) => break id,
                // A record of that id exists: a 64-bit collision, or a
                // leftover; another id.
                Err(ShmError::AlreadyExists) if salt < 8 => salt += 1,
                Err(ShmError::PermissionDenied) => return Err(NodeCreationError::InsufficientPermissions),
                Err(ShmError::InsufficientResources) => return Err(NodeCreationError::InsufficientResources),
                Err(e) => return Err(NodeCreationError::Shm(e)),
            }
        };
        let node = Node { name: self.name, config: self.config, liveness, id, _p: PhantomData };
        if node.config.cleanup.on_node_creation {
            node.cleanup_dead_nodes();
        }
        Ok(node)
    }
}

#[cold]
fn unreachable_name() -> NodeName {
    // The empty node name is valid; this is never reached.
    NodeName::new("-").expect("a one-character node name is valid")
}

/// A participant: creates and opens services, waits, cleans up after dead
/// peers.
pub struct Node<P: Platform> {
    name: NodeName,
    config: Config,
    liveness: LivenessId,
    id: u64,
    _p: PhantomData<P>,
}

impl<P: Platform> Node<P> {
    /// The node's name.
    pub fn name(&self) -> &NodeName {
        &self.name
    }

    /// The node's unique id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The segment-name prefix.
    pub fn prefix(&self) -> &Prefix {
        &self.config.prefix
    }

    /// Segment permissions.
    pub fn permissions(&self) -> Permissions {
        self.config.permissions
    }

    /// The configuration the node was built with (prefix, permissions,
    /// cleanup policy, the QoS services get for knobs left unset).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// This participant's liveness id.
    pub fn liveness(&self) -> LivenessId {
        self.liveness
    }

    /// Sleeps for `cycle`; returns an error at once when SIGINT or SIGTERM
    /// arrives (on platforms that have them), so loops end cleanly:
    /// `while node.wait(period).is_ok() { … }`.
    pub fn wait(&self, cycle: Duration) -> Result<(), NodeWaitError> {
        if let Some(t) = P::take_termination_request() {
            return Err(t.into());
        }
        P::sleep(cycle).map_err(Into::into)
    }
}

impl<P: Platform> Drop for Node<P> {
    fn drop(&mut self) {
        let _ = P::shm_unlink(&crate::discovery::record_name(&self.config.prefix, self.id));
        if self.config.cleanup.on_node_drop {
            self.cleanup_dead_nodes();
        }
    }
}

impl From<Termination> for NodeWaitError {
    fn from(t: Termination) -> Self {
        match t {
            Termination::Interrupt => Self::Interrupt,
            Termination::Terminate => Self::TerminationRequest,
        }
    }
}
