//! Which operating-system user runs the server. PostgreSQL refuses to run as root, so under
//! root the server runs as the `postgres` account, which must own its data directory and be
//! able to reach it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::unistd::{Gid, Uid, User, chown};

/// The account Debian's packages create for PostgreSQL.
const POSTGRES_ACCOUNT: &str = "postgres";

/// The user and group the server runs as.
#[derive(Clone, Copy, Debug)]
pub enum ServerUser {
    /// Not root: the server runs as the current user.
    Current,
    /// Root: the server runs as this unprivileged account.
    Switch { uid: Uid, gid: Gid },
}

impl ServerUser {
    /// Decides from the effective user id.
    pub fn detect() -> Result<ServerUser, String> {
        if !Uid::effective().is_root() {
            return Ok(ServerUser::Current);
        }
        match User::from_name(POSTGRES_ACCOUNT) {
            Ok(Some(user)) => Ok(ServerUser::Switch {
                uid: user.uid,
                gid: user.gid,
            }),
            Ok(None) => Err(format!(
                "running as root, and PostgreSQL refuses root: create the `{POSTGRES_ACCOUNT}` \
                 account (Debian's postgresql package does) or run Payrail as another user"
            )),
            Err(errno) => Err(format!(
                "looking up the `{POSTGRES_ACCOUNT}` account: {errno}"
            )),
        }
    }

    /// Hands a file or directory to the server's user.
    pub fn give(&self, path: &Path) -> std::io::Result<()> {
        match self {
            ServerUser::Current => Ok(()),
            ServerUser::Switch { uid, gid } => {
                chown(path, Some(*uid), Some(*gid)).map_err(std::io::Error::from)
            }
        }
    }

    /// Makes sure the server's user can walk down to `dir`: under root, a directory on the
    /// way that others may not search (such as one made by `mktemp -d`) gets search
    /// permission for others, and the change is logged. Nothing else about it changes.
    pub fn ensure_reachable(&self, dir: &Path) -> std::io::Result<()> {
        let ServerUser::Switch { uid, .. } = self else {
            return Ok(());
        };
        for ancestor in dir.ancestors().skip(1) {
            let metadata = std::fs::metadata(ancestor)?;
            let mode = metadata.permissions().mode();
            let owned = std::os::unix::fs::MetadataExt::uid(&metadata) == uid.as_raw();
            if mode & 0o001 != 0 || owned {
                continue;
            }
            tracing::warn!(
                directory = %ancestor.display(),
                "granting search permission (o+x) so the postgres account can reach its data directory"
            );
            std::fs::set_permissions(ancestor, std::fs::Permissions::from_mode(mode | 0o001))?;
        }
        Ok(())
    }

    /// The ids to switch to when starting a server program, if any.
    pub fn ids(&self) -> Option<(u32, u32)> {
        match self {
            ServerUser::Current => None,
            ServerUser::Switch { uid, gid } => Some((uid.as_raw(), gid.as_raw())),
        }
    }
}
