//! Finds `initdb` and `postgres`: on PATH first, then in Debian's
//! `/usr/lib/postgresql/<version>/bin`, newest version first.

use std::path::{Path, PathBuf};

/// Where Debian and Ubuntu install each PostgreSQL major version.
const DEBIAN_VERSIONS_DIR: &str = "/usr/lib/postgresql";

/// The directory holding the PostgreSQL server programs.
#[derive(Clone, Debug)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Looks for a directory holding both `initdb` and `postgres`.
    pub fn find() -> Option<Binaries> {
        Binaries::find_in(std::env::var_os("PATH"), Path::new(DEBIAN_VERSIONS_DIR))
    }

    /// Looks on `path` (a `PATH` value), then in `<versions_dir>/<major>/bin`, newest first.
    fn find_in(path: Option<std::ffi::OsString>, versions_dir: &Path) -> Option<Binaries> {
        let on_path = path
            .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
            .unwrap_or_default();
        on_path
            .into_iter()
            .chain(version_bin_dirs(versions_dir))
            .find(|dir| has_server_programs(dir))
            .map(|dir| Binaries { dir })
    }

    /// The full path of one program, such as `initdb`.
    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The directory the programs were found in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn has_server_programs(dir: &Path) -> bool {
    // A directory that holds `initdb` and `postgres` side by side; a `postgres` alone may
    // be some other program, and Debian's wrappers on PATH carry `initdb` only as a link.
    let resolve = |name: &str| std::fs::canonicalize(dir.join(name)).ok();
    match (resolve("initdb"), resolve("postgres")) {
        (Some(initdb), Some(postgres)) => initdb.parent() == postgres.parent(),
        _ => false,
    }
}

fn version_bin_dirs(versions_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(versions_dir) else {
        return Vec::new();
    };
    let mut versions: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_binaries_hold_initdb_and_postgres() {
        let binaries = Binaries::find().expect("PostgreSQL server binaries are installed");
        assert!(binaries.program("initdb").is_file());
        assert!(binaries.program("postgres").is_file());
    }

    #[test]
    fn nothing_is_found_where_no_server_programs_are() {
        let empty = tempfile::tempdir().expect("a directory");
        let path = std::env::join_paths([empty.path()]).expect("a PATH");
        assert!(Binaries::find_in(Some(path), empty.path()).is_none());
        assert!(Binaries::find_in(None, &empty.path().join("missing")).is_none());
    }

    #[test]
    fn the_newest_debian_version_is_preferred() {
        let real = Binaries::find().expect("PostgreSQL server binaries are installed");
        let versions = tempfile::tempdir().expect("a directory");
        for major in ["9", "15", "12"] {
            let bin = versions.path().join(major).join("bin");
            std::fs::create_dir_all(&bin).expect("create");
            for program in ["initdb", "postgres"] {
                std::os::unix::fs::symlink(real.program(program), bin.join(program)).expect("link");
            }
        }
        let found = Binaries::find_in(None, versions.path()).expect("found");
        assert_eq!(found.dir(), versions.path().join("15").join("bin"));
    }
}
