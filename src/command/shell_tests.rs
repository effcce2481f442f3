//! The real runner with a real `sh` (no network): exit statuses, the
//! streamed and kept output, the child's environment, the timeout, and a
//! cancel that stops the whole process group.

use super::*;
use crate::command::{CommandRunner, CommandSpec, Exit, TAIL_LINES};
use crate::signal::Cancel;

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn runner(groups: bool) -> (ShellRunner, Buf) {
    let buf = Buf::default();
    (ShellRunner::with_output(Box::new(buf.clone()), groups), buf)
}

fn spec(script: &str) -> CommandSpec {
    CommandSpec::new("hook pre-traffic", script, Duration::from_secs(20))
}

#[tokio::test]
async fn exit_status_and_prefixed_output_are_reported() {
    let (r, out) = runner(false);
    let res = r
        .run(&spec("echo one; echo two >&2; exit 3"), &Cancel::new())
        .await;
    assert_eq!(res.exit, Exit::Code(3));
    assert_eq!(res.tail.len(), 2);
    let text = out.text();
    assert!(text.contains("[hook pre-traffic] one\n"), "{text}");
    assert!(text.contains("[hook pre-traffic] two\n"), "{text}");
    assert!(text.contains("[hook pre-traffic] exit 3 after"), "{text}");
    assert!(!text.contains("::group::"), "{text}");
}

#[tokio::test]
async fn github_actions_output_is_inside_a_group() {
    let (r, out) = runner(true);
    let res = r.run(&spec("echo hi"), &Cancel::new()).await;
    assert!(res.succeeded());
    let text = out.text();
    assert!(text.starts_with("::group::hook pre-traffic\n"), "{text}");
    assert!(text.ends_with("::endgroup::\n"), "{text}");
}

#[tokio::test]
async fn only_the_last_lines_are_kept() {
    let (r, _) = runner(false);
    let res = r
        .run(
            &spec("for i in $(seq 1 30); do echo line $i; done"),
            &Cancel::new(),
        )
        .await;
    assert_eq!(res.tail.len(), TAIL_LINES);
    assert_eq!(res.tail.last().map(String::as_str), Some("line 30"));
    assert_eq!(res.tail.first().map(String::as_str), Some("line 11"));
}

#[tokio::test]
async fn the_child_gets_the_run_variables_and_not_the_parents_inputs() {
    // Set by the process-wide environment: a name no other test reads.
    std::env::set_var("ALB_ROLLOUT_STEPS_SHELL_TEST", "10,50");
    let (r, _) = runner(false);
    let s = spec("echo \"hook=$ALB_ROLLOUT_HOOK steps=${ALB_ROLLOUT_STEPS_SHELL_TEST:-unset}\"")
        .with_env(vec![("ALB_ROLLOUT_HOOK".into(), "pre-traffic".into())]);
    let res = r.run(&s, &Cancel::new()).await;
    assert_eq!(res.tail, vec!["hook=pre-traffic steps=unset".to_string()]);
}

#[tokio::test]
async fn a_command_past_its_timeout_is_stopped() {
    let (r, _) = runner(false);
    let mut s = spec("sleep 30");
    s.timeout = Duration::from_millis(200);
    let res = r.run(&s, &Cancel::new()).await;
    assert_eq!(res.exit, Exit::TimedOut);
    assert!(res.duration < Duration::from_secs(5), "{:?}", res.duration);
}

/// Running, not a zombie: in a container nothing may reap the orphan.
fn alive(pid: i32) -> bool {
    // A little time for the kernel to deliver the SIGKILL.
    std::thread::sleep(Duration::from_millis(100));
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with(['Z', 'X'])),
        // SAFETY: signal 0 only checks that the process exists.
        Err(_) => unsafe { libc::kill(pid, 0) == 0 },
    }
}

#[tokio::test]
async fn a_cancel_stops_the_whole_process_group() {
    let dir = std::env::temp_dir().join(format!("alb-rollout-pg-{}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    let (r, _) = runner(false);
    // Written whole, then renamed: the cancel must not catch a half-written file.
    let script = format!(
        "sleep 60 & echo $! > {0}.tmp; mv {0}.tmp {0}; wait",
        dir.display()
    );
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    let pidfile = dir.clone();
    tokio::spawn(async move {
        while !pidfile.exists() {
            sleep(Duration::from_millis(20)).await;
        }
        c2.cancel("test");
    });
    let res = r.run(&spec(&script), &cancel).await;
    assert_eq!(res.exit, Exit::Cancelled);
    let pid: i32 = std::fs::read_to_string(&dir)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _ = std::fs::remove_file(&dir);
    assert!(!alive(pid), "the child sleep {pid} outlived the cancel");
}

#[tokio::test]
async fn a_child_that_ignores_sigterm_is_killed_after_the_grace() {
    let (r, _) = runner(false);
    let s = spec("trap '' TERM; sleep 60").with_grace(Duration::from_millis(300));
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        sleep(Duration::from_millis(200)).await;
        c2.cancel("test");
    });
    let started = Instant::now();
    let res = r.run(&s, &cancel).await;
    assert_eq!(res.exit, Exit::Cancelled);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_missing_shell_command_is_exit_127() {
    let (r, _) = runner(false);
    let res = r
        .run(&spec("definitely-not-a-command-xyz"), &Cancel::new())
        .await;
    assert_eq!(res.exit, Exit::Code(127));
}

#[tokio::test]
async fn a_command_dropped_mid_run_leaves_no_process_behind() {
    let dir = std::env::temp_dir().join(format!("alb-rollout-drop-{}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    let (r, _) = runner(false);
    let script = format!(
        "sleep 60 & echo $! > {0}.tmp; mv {0}.tmp {0}; wait",
        dir.display()
    );
    let s = spec(&script).with_grace(Duration::from_millis(200));
    let cancel = Cancel::new();
    let run = r.run(&s, &cancel);
    let pidfile = dir.clone();
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::pin!(run);
        loop {
            tokio::select! {
                _ = &mut run => return false,
                _ = sleep(Duration::from_millis(20)) => if pidfile.exists() { return true },
            }
        }
    })
    .await;
    assert_eq!(waited.ok(), Some(true), "the command ended by itself");
    // The run future is dropped here, as a cancelled analysis drops it.
    let pid: i32 = std::fs::read_to_string(&dir)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _ = std::fs::remove_file(&dir);
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        !alive(pid),
        "the child sleep {pid} outlived the dropped command"
    );
}
