//! `[cluster]`: how the node takes part in a cluster of nodes on one database
//! (docs/cluster.md).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The shortest lease a node accepts.
pub const LEASE_MS_MIN: u64 = 1_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// The node's name, unique in the cluster: one process per name. A node restarted
    /// under its name takes its earlier run's work over at once. Empty: the host's name.
    pub node_name: String,
    /// How long each renewal leases the node for (renewed every third of it): the longest
    /// a dead node's batches wait before another node takes them.
    pub lease_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> ClusterConfig {
        ClusterConfig {
            node_name: String::new(),
            lease_ms: 15_000,
        }
    }
}

impl ClusterConfig {
    /// The configured name, or else the host's.
    pub fn node_name(&self) -> String {
        if self.node_name.is_empty() {
            rustix::system::uname()
                .nodename()
                .to_string_lossy()
                .into_owned()
        } else {
            self.node_name.clone()
        }
    }

    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms)
    }
}
