//! Background threads yield the CPU to serving: the threads that parse documents and write
//! the store run at a lower priority (nice 10), so a reader app's request is answered at once
//! even while a first poll of a thousand feeds keeps both cores busy. When nobody is being
//! served they run as fast as before; under a constant load of requests they get about a
//! tenth of the CPU it leaves.

use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};

/// The nice value background threads run at.
pub const BACKGROUND_NICE: i32 = 10;
/// [`BACKGROUND_NICE`] as the crate's 0–99 scale (99 highest) maps to nice values (−20–19).
const BACKGROUND_PRIORITY: u8 = 22;

/// Lowers the calling thread to [`BACKGROUND_NICE`]. Lowering needs no privilege; where it
/// fails nonetheless, the thread runs at the priority it has.
pub fn lower_current_thread() {
    let lowered = ThreadPriorityValue::try_from(BACKGROUND_PRIORITY)
        .map_err(|reason| reason.to_string())
        .and_then(|value| {
            set_current_thread_priority(ThreadPriority::Crossplatform(value))
                .map_err(|e| format!("{e:?}"))
        });
    if let Err(reason) = lowered {
        tracing::debug!(%reason, "thread priority left as it is");
    }
}

/// A thread's name and nice value from its `/proc/…/stat` line (the name may hold spaces and
/// parentheses, so the fields are counted from the last `)`).
#[cfg(test)]
fn name_and_nice(stat: &str) -> Option<(&str, i32)> {
    let (name, rest) = stat.split_once(" (")?.1.rsplit_once(')')?;
    Some((name, rest.split_whitespace().nth(16)?.parse().ok()?))
}

/// The calling thread's nice value (Linux /proc), for tests.
#[cfg(test)]
pub(crate) fn current_thread_nice() -> Option<i32> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    name_and_nice(&stat).map(|(_, nice)| nice)
}

/// The nice value a thread lowered from the calling one has (tests run under `nice` already
/// may be lower still), for tests.
#[cfg(test)]
pub(crate) fn background_nice_from_here() -> Option<i32> {
    current_thread_nice().map(|here| BACKGROUND_NICE.max(here))
}

/// The nice values of this process's threads named `name` (Linux /proc), for tests.
#[cfg(test)]
pub(crate) fn nice_of_threads_named(name: &str) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .filter_map(|stat| {
            name_and_nice(&stat)
                .filter(|(comm, _)| *comm == name)
                .map(|(_, nice)| nice)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_background_thread_runs_at_nice_10() {
        let spawn = |lower: bool| {
            std::thread::Builder::new()
                .name(if lower { "lowered" } else { "left" }.into())
                .spawn(move || {
                    if lower {
                        lower_current_thread();
                    }
                    std::thread::park_timeout(std::time::Duration::from_secs(5));
                })
                .expect("thread")
        };
        let (lowered, left) = (spawn(true), spawn(false));
        std::thread::sleep(std::time::Duration::from_millis(100));
        let (a, b) = (
            nice_of_threads_named("lowered"),
            nice_of_threads_named("left"),
        );
        for thread in [lowered, left] {
            thread.thread().unpark();
            thread.join().expect("thread");
        }
        let base = b[0];
        // Tests run under `nice` already may be lower still.
        assert_eq!(a, [BACKGROUND_NICE.max(base)]);
        assert!(base < BACKGROUND_NICE, "other threads keep their priority");
    }
}
