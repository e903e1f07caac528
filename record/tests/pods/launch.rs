//! How a program is started in a pod, and what is kept of it once it ran.

use std::path::Path;

/// A program started in a pod, as it ran: kept after it stops, for the naming table.
#[derive(Clone)]
pub struct Started {
    pub pod: String,
    pub pid: u32,
    /// The hostname the program saw (read back from its UTS namespace).
    pub hostname: String,
    /// Whether it had a UTS namespace of its own.
    pub own_uts: bool,
    pub env: Vec<(String, String)>,
}

/// How to start a program in a pod.
pub struct Launch<'a> {
    pub bin: &'a Path,
    /// `Some`: a UTS namespace of its own with this hostname, as a pod has.
    pub hostname: Option<&'a str>,
    pub env: Vec<(String, String)>,
    /// The port it listens on: started means listening there.
    pub port: u16,
}

impl<'a> Launch<'a> {
    pub fn new(bin: &'a Path) -> Launch<'a> {
        Launch {
            bin,
            hostname: None,
            env: Vec::new(),
            port: 8080,
        }
    }

    pub fn hostname(mut self, h: &'a str) -> Self {
        self.hostname = Some(h);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }
}
