//! First use of a data directory: `initdb` with a generated superuser password, kept in
//! `<root>/postgres.password` (mode 0600) for every later connection.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::distr::{Alphanumeric, SampleString};

use super::binaries::Binaries;
use super::os_user::ServerUser;
use super::{LaunchError, SUPERUSER, io_error};

/// Length of the generated superuser password (alphanumeric: ~190 bits).
const PASSWORD_LEN: usize = 32;

pub fn password_file(root: &Path) -> PathBuf {
    root.join("postgres.password")
}

/// Initialises `data` as the server's user, with scram-sha-256 and a new password.
pub async fn initdb(
    binaries: &Binaries,
    user: &ServerUser,
    root: &Path,
    data: &Path,
) -> Result<(), LaunchError> {
    std::fs::create_dir_all(data).map_err(io_error("creating the data directory"))?;
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700))
        .map_err(io_error("restricting the data directory"))?;
    user.give(data).map_err(io_error(
        "handing the data directory to the postgres account",
    ))?;
    let password = Alphanumeric.sample_string(&mut rand::rng(), PASSWORD_LEN);
    let initdb_password = root.join("initdb.password");
    write_private(&initdb_password, &password)?;
    user.give(&initdb_password).map_err(io_error(
        "handing the password file to the postgres account",
    ))?;
    let mut command = tokio::process::Command::new(binaries.program("initdb"));
    command
        .arg("--pgdata")
        .arg(data)
        .arg(format!("--username={SUPERUSER}"))
        .arg("--auth=scram-sha-256")
        .arg(format!("--pwfile={}", initdb_password.display()))
        .args(["--encoding=UTF8", "--locale=C", "--no-instructions"])
        .current_dir(root);
    if let Some((uid, gid)) = user.ids() {
        command.uid(uid).gid(gid);
    }
    tracing::info!(data = %data.display(), "initialising a private PostgreSQL data directory");
    let output = command.output().await.map_err(io_error("running initdb"));
    let _ = std::fs::remove_file(&initdb_password);
    let output = output?;
    if !output.status.success() {
        return Err(LaunchError::Program {
            what: "initdb".into(),
            status: output.status,
            output: String::from_utf8_lossy(&[output.stdout, output.stderr].concat()).into_owned(),
        });
    }
    write_private(&password_file(root), &password)
}

fn write_private(path: &Path, contents: &str) -> Result<(), LaunchError> {
    let what = format!("writing {}", path.display());
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error(what.clone()))?;
    file.write_all(contents.as_bytes()).map_err(io_error(what))
}
