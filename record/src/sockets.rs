//! A process's TCP sockets, read from `/proc`: where it listens (how `analyze` names the callee
//! of a call to a server that opened its own listener, `Serve(l)`, whose `http.Server.Addr` is
//! then empty) and its established connections. The kernel tracepoint reports both as they
//! change; this reads what already existed when record first saw the process (keep-alive
//! connections opened before recording carry most requests). A socket is the process's when
//! one of its file descriptors refers to the socket's inode; the tables are those of the
//! process's own network namespace (`/proc/PID/net`).

use std::collections::{BTreeSet, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr};

/// TCP states in `/proc/net/tcp`.
const TCP_LISTEN: &str = "0A";
const TCP_ESTABLISHED: &str = "01";

/// What [`scan`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Inode of the process's network namespace.
    pub netns: Option<u64>,
    /// Addresses it listens on.
    pub listening: BTreeSet<String>,
    /// Its established connections that it did not accept (local port not one it listens
    /// on), as (local, remote) `ip:port`.
    pub connected: Vec<(String, String)>,
}

/// The process's listening and connected TCP sockets; empty when it is gone or unreadable.
pub fn scan(pid: u32) -> Scan {
    let inodes = socket_inodes(pid);
    let netns = netns_of(pid);
    if inodes.is_empty() {
        return Scan {
            netns,
            ..Scan::default()
        };
    }
    let mut listening = BTreeSet::new();
    let mut established = Vec::new();
    for (table, v6) in tcp_tables(pid) {
        listening.extend(parse_listeners(&table, v6, &inodes));
        established.extend(parse_established(&table, v6, &inodes));
    }
    let ports: HashSet<&str> = listening
        .iter()
        .filter_map(|a| a.rsplit(':').next())
        .collect();
    let connected = established
        .into_iter()
        .filter(|(local, _)| !local.rsplit(':').next().is_some_and(|p| ports.contains(p)))
        .collect();
    Scan {
        netns,
        listening,
        connected,
    }
}

/// The TCP tables of `pid`'s network namespace that can be read, each with whether it is
/// the IPv6 one.
fn tcp_tables(pid: u32) -> impl Iterator<Item = (String, bool)> {
    [("tcp", false), ("tcp6", true)]
        .into_iter()
        .filter_map(move |(file, v6)| {
            let table = std::fs::read_to_string(format!("/proc/{pid}/net/{file}")).ok()?;
            Some((table, v6))
        })
}

/// Inode of `pid`'s network namespace (`/proc/PID/ns/net` reads `net:[INODE]`).
pub fn netns_of(pid: u32) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok()?;
    link.to_str()?
        .strip_prefix("net:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The addresses `pid` listens on (`127.0.0.1:9932`, `[::]:80`, `unix:/run/app.sock`), sorted;
/// empty when the process is gone or unreadable (a best effort: the recording does not depend
/// on it). Unix sockets have no tracepoint of their own: this is all that names a server that
/// clients reach over one (gRPC's `unix:///run/containerd/containerd.sock`).
pub fn listening_addrs(pid: u32) -> BTreeSet<String> {
    let inodes = socket_inodes(pid);
    let mut out = BTreeSet::new();
    if inodes.is_empty() {
        return out;
    }
    for (table, v6) in tcp_tables(pid) {
        out.extend(parse_listeners(&table, v6, &inodes));
    }
    if let Ok(table) = std::fs::read_to_string(format!("/proc/{pid}/net/unix")) {
        out.extend(parse_unix_listeners(&table, &inodes));
    }
    out
}

/// Listening sockets with a name (`unix:/path`, or `unix:@name` for an abstract one) of a
/// `/proc/net/unix` table whose inode is in `inodes`.
fn parse_unix_listeners(table: &str, inodes: &HashSet<u64>) -> Vec<String> {
    /// `__SO_ACCEPTCON` in the Flags column: the socket listens.
    const ACCEPTING: u32 = 1 << 16;
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            // Num RefCount Protocol Flags Type St Inode [Path]
            let cols: Vec<&str> = line.split_whitespace().collect();
            let flags = u32::from_str_radix(cols.get(3)?, 16).ok()?;
            let inode: u64 = cols.get(6)?.parse().ok()?;
            let path = cols.get(7)?;
            (flags & ACCEPTING != 0 && inodes.contains(&inode)).then(|| format!("unix:{path}"))
        })
        .collect()
}

/// Inodes of the sockets among `pid`'s file descriptors (links read `socket:[INODE]`).
fn socket_inodes(pid: u32) -> HashSet<u64> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return HashSet::new();
    };
    dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let s = target.to_str()?;
            s.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect()
}

/// The columns of each row of a `/proc/net/tcp{,6}` table in TCP state `state` whose inode is
/// in `inodes` (`sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode`).
fn own_rows<'t>(
    table: &'t str,
    state: &'t str,
    inodes: &'t HashSet<u64>,
) -> impl Iterator<Item = Vec<&'t str>> + 't {
    table.lines().skip(1).filter_map(move |line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 10 || cols[3] != state {
            return None;
        }
        let inode: u64 = cols[9].parse().ok()?;
        inodes.contains(&inode).then_some(cols)
    })
}

/// Listening sockets of a `/proc/net/tcp{,6}` table whose inode is in `inodes`.
fn parse_listeners(table: &str, v6: bool, inodes: &HashSet<u64>) -> Vec<String> {
    own_rows(table, TCP_LISTEN, inodes)
        .filter_map(|cols| parse_addr(cols[1], v6))
        .collect()
}

/// Established sockets of a `/proc/net/tcp{,6}` table whose inode is in `inodes`, as
/// (local, remote).
fn parse_established(table: &str, v6: bool, inodes: &HashSet<u64>) -> Vec<(String, String)> {
    own_rows(table, TCP_ESTABLISHED, inodes)
        .filter_map(|cols| Some((parse_addr(cols[1], v6)?, parse_addr(cols[2], v6)?)))
        .collect()
}

/// `0100007F:2694` → `127.0.0.1:9876`. The address is hex of the kernel's bytes, printed as
/// 32-bit words in host (little-endian) order; the port is plain hex.
fn parse_addr(field: &str, v6: bool) -> Option<String> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for word in addr.as_bytes().chunks(8) {
        let w = u32::from_str_radix(std::str::from_utf8(word).ok()?, 16).ok()?;
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    match (v6, bytes.len()) {
        (false, 4) => Some(format!(
            "{}:{port}",
            Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
        )),
        (true, 16) => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            let ip = Ipv6Addr::from(octets);
            Some(match ip.to_ipv4_mapped() {
                Some(v4) => format!("{v4}:{port}"),
                None => format!("[{ip}]:{port}"),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_named_unix_listeners_of_the_process_only() {
        let table = "Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 4242 /run/containerd/containerd.sock
0000000000000000: 00000002 00000000 00010000 0001 01 4243 @grpc-abstract
0000000000000000: 00000003 00000000 00000000 0001 03 4244 /run/containerd/containerd.sock
0000000000000000: 00000002 00000000 00010000 0001 01 4245
0000000000000000: 00000002 00000000 00010000 0001 01 9999 /run/other.sock
";
        let inodes = HashSet::from([4242, 4243, 4244, 4245]);
        assert_eq!(
            parse_unix_listeners(table, &inodes),
            [
                "unix:/run/containerd/containerd.sock",
                "unix:@grpc-abstract"
            ]
        );
    }

    #[test]
    fn parses_v4_and_v6_listeners_of_the_process_only() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:4A8C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0
   1: 00000000:26D4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0 100 0 0 10 0
   2: 0100007F:4A8C 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0
   3: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0 100 0 0 10 0";
        let inodes = HashSet::from([111, 222]);
        assert_eq!(
            parse_listeners(v4, false, &inodes),
            vec!["127.0.0.1:19084", "0.0.0.0:9940"]
        );
        let v6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0 100 0 0 10 0
   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:2694 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0 100 0 0 10 0";
        let inodes = HashSet::from([333, 444, 555]);
        assert_eq!(
            parse_listeners(v6, true, &inodes),
            vec!["[::]:80", "[::1]:8080", "127.0.0.1:9876"]
        );
    }

    #[test]
    fn established_sockets_of_the_process_are_found() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:4A8C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0
   1: 0101A8C0:D2F0 0A0013C6:0050 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 100 0 0 10 0
   2: 0100007F:4A8C 0100007F:D2F1 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0 100 0 0 10 0";
        let inodes = HashSet::from([111, 222]);
        assert_eq!(
            parse_established(v4, false, &inodes),
            vec![(
                "192.168.1.1:54000".to_string(),
                "198.19.0.10:80".to_string()
            )]
        );
    }

    #[test]
    fn this_process_connected_and_listening_is_found() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let client = std::net::TcpStream::connect(addr).expect("connect");
        let (_server, _) = l.accept().expect("accept");
        let local = client.local_addr().expect("local").to_string();
        let found = scan(std::process::id());
        assert!(found.listening.contains(&addr.to_string()), "{found:?}");
        // The client end is ours; the accepted end (local port = the listener's) is not a
        // connection this process made.
        assert_eq!(
            found
                .connected
                .iter()
                .filter(|(_, r)| *r == addr.to_string())
                .collect::<Vec<_>>(),
            vec![&(local, addr.to_string())],
            "{found:?}"
        );
        assert!(found.netns.is_some());
        assert_eq!(scan(u32::MAX), Scan::default());
    }

    #[test]
    fn this_process_listening_is_found() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let found = listening_addrs(std::process::id());
        assert!(found.contains(&format!("127.0.0.1:{port}")), "{found:?}");
        assert!(listening_addrs(u32::MAX).is_empty());
    }
}
