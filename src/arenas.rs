//! Memory arenas: glibc's malloc gives every thread that allocates under contention an arena
//! of its own (up to 8 per core) and keeps what is freed in each. A daemon whose tokio
//! workers, blocking threads, parsers and writer all allocate ended up with about twice the
//! memory it used (a soak: 80 MiB resident against 41 MiB with two arenas; a cold poll of
//! 1,000 feeds: 52 against 47 MiB). The limit can only be set before the process starts, by
//! the environment, so the process starts itself again with it.

use std::ffi::OsString;

/// glibc's knob, read once when the process starts.
const VARIABLE: &str = "MALLOC_ARENA_MAX";
/// Two arenas: threads rarely wait for one, and little memory sits idle in them.
const ARENAS: &str = "2";

/// Replaces this process with itself started with [`VARIABLE`] set, unless it is set already
/// (by the user, the unit file or a previous start), or the platform is not glibc's. Returns
/// only when the process goes on as it is (also when starting again fails).
pub fn limit() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) || std::env::var_os(VARIABLE).is_some() {
        return;
    }
    restart(std::env::args_os().collect());
}

#[cfg(unix)]
fn restart(args: Vec<OsString>) {
    use std::os::unix::process::CommandExt as _;
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = args.into_iter();
    let mut command = std::process::Command::new(exe);
    if let Some(name) = args.next() {
        command.arg0(name);
    }
    // `exec` returns only when it failed; the process then goes on with glibc's default.
    let _failed = command.args(args).env(VARIABLE, ARENAS).exec();
}

#[cfg(not(unix))]
fn restart(_args: Vec<OsString>) {}
