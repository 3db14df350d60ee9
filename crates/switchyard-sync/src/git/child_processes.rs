//! The processes a fetch thread starts (`git-upload-pack` for `file://`, `ssh` for SSH), found
//! and ended when the watchdog gives the fetch up, so that a read blocked on their pipe returns
//! at once instead of holding the storage until the remote wakes up.

/// The kernel's id of the calling thread, or `None` where `/proc` does not tell it.
pub(super) fn current_thread_id() -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        let link = std::fs::read_link("/proc/thread-self").ok()?;
        link.file_name()?.to_str()?.parse().ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Sends SIGKILL to every child process that thread `tid` of this process started; returns
/// how many were signalled.
pub(super) fn kill_children_of(tid: u32) -> usize {
    #[cfg(target_os = "linux")]
    {
        let Ok(text) = std::fs::read_to_string(format!("/proc/self/task/{tid}/children")) else {
            return 0;
        };
        text.split_whitespace()
            .filter_map(|p| p.parse::<libc::pid_t>().ok())
            .filter(|&pid| pid > 0)
            // SAFETY: kill(2) touches no memory of this process. `pid` was listed as a child of
            // the fetch thread and is not reaped while that thread is blocked on its pipe, so
            // the id still names that child.
            .filter(|&pid| unsafe { libc::kill(pid, libc::SIGKILL) } == 0)
            .count()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = tid;
        0
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_child_of_this_thread_is_found_and_ended() {
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            let tid = current_thread_id();
            let child = std::process::Command::new("sleep").arg("30").spawn();
            tx.send(tid).ok();
            child.map(|mut c| c.wait())
        });
        let tid = rx.recv().ok().flatten().expect("thread id from /proc");
        // the child may take a moment to appear in the list after spawn() returned
        let mut killed = 0;
        for _ in 0..100 {
            killed = kill_children_of(tid);
            if killed > 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(killed, 1);
        let status = worker.join().expect("join").expect("spawn").expect("wait");
        assert!(!status.success(), "killed, not finished: {status:?}");
    }
}
