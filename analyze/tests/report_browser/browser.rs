//! Running headless Chromium on a page: its DOM once scripts have run, or a screenshot.
//!
//! Each run gets a profile directory of its own (runs may overlap) and a time limit, and its
//! output goes to files rather than pipes, so a large DOM cannot fill a pipe and stall it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one run may take before it is killed and the test fails.
const LIMIT: Duration = Duration::from_secs(90);

/// A Chromium to run, when one is installed.
pub struct Browser {
    program: &'static str,
}

impl Browser {
    /// The first of Debian's `chromium` and its other common names that runs.
    pub fn find() -> Option<Browser> {
        ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find(|program| {
                Command::new(program)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
            .map(|program| Browser { program })
    }

    /// The DOM of `url` as serialized after its scripts ran, and Chromium's log.
    pub fn dump_dom(&self, dir: &Path, url: &str) -> (String, String) {
        let out = dir.join("dom.html");
        let log = self.run(dir, &["--dump-dom", url], &out);
        (std::fs::read_to_string(&out).unwrap_or_default(), log)
    }

    /// A screenshot of `url` in a window `width` x `height` into `png`; Chromium's log.
    pub fn screenshot(&self, dir: &Path, url: &str, png: &Path, size: (u32, u32)) -> String {
        let shot = format!("--screenshot={}", png.display());
        let window = format!("--window-size={},{}", size.0, size.1);
        self.run(
            dir,
            &[&shot, &window, "--hide-scrollbars", url],
            &dir.join("stdout"),
        )
    }

    /// Runs Chromium headless with `args`, stdout into `out`; returns its log (stderr).
    fn run(&self, dir: &Path, args: &[&str], out: &Path) -> String {
        let profile = unique(dir, "profile");
        let log = unique(dir, "log");
        let mut child = Command::new(self.program)
            .args([
                "--headless",
                // Root in a container has no sandbox to give.
                "--no-sandbox",
                "--disable-gpu",
                // A container's /dev/shm is often too small.
                "--disable-dev-shm-usage",
                "--no-first-run",
                // Let the page's script run before the DOM is taken.
                "--virtual-time-budget=2000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .stdin(Stdio::null())
            .stdout(File::create(out).expect("stdout file"))
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("chromium starts");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("chromium wait") {
                break status;
            }
            if started.elapsed() > LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium {args:?} took more than {LIMIT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(status.success(), "chromium {args:?}: {status}\n{log}");
        log
    }
}

/// A path in `dir` no other run uses.
fn unique(dir: &Path, name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    dir.join(format!("{name}-{n}"))
}

/// The `file://` URL of a page, with `fragment` (no `#`) when not empty.
pub fn file_url(page: &Path, fragment: &str) -> String {
    // A temp dir's path is plain ASCII on the systems this runs on; spaces are all that may
    // need encoding. Windows' `C:\x` is `/C:/x` in a URL.
    let mut path = page
        .display()
        .to_string()
        .replace(' ', "%20")
        .replace('\\', "/");
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    let fragment = if fragment.is_empty() {
        String::new()
    } else {
        format!("#{fragment}")
    };
    format!("file://{path}{fragment}")
}
