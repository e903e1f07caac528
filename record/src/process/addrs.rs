//! The IP addresses of a process's network namespace: a server listening on a wildcard address
//! (`0.0.0.0:8080`, `[::]:8080`) answers on each of them, so `analyze` needs them to tell
//! which process a call to `10.1.2.3:8080` reached.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The addresses of the network namespace `pid` is in, IPv4 first, sorted; empty when the
/// process is gone. `/proc/PID/net` shows the namespace of that process, not record's.
pub fn namespace_addrs(pid: u32) -> Vec<IpAddr> {
    let mut out = BTreeSet::new();
    if let Ok(trie) = std::fs::read_to_string(format!("/proc/{pid}/net/fib_trie")) {
        out.extend(parse_fib_trie(&trie).into_iter().map(IpAddr::V4));
    }
    if let Ok(table) = std::fs::read_to_string(format!("/proc/{pid}/net/if_inet6")) {
        out.extend(parse_if_inet6(&table).into_iter().map(IpAddr::V6));
    }
    out.into_iter().collect()
}

/// The local addresses in a routing-trie dump: each leaf (`|-- 10.1.2.3`) is followed by its
/// routes, and a leaf with a `/32 host LOCAL` route is an address of an interface. Both the
/// Main and the Local table list them; the set removes the repeats.
fn parse_fib_trie(trie: &str) -> BTreeSet<Ipv4Addr> {
    let mut out = BTreeSet::new();
    let mut leaf = None;
    for line in trie.lines().map(str::trim) {
        if let Some(addr) = line.strip_prefix("|-- ") {
            leaf = addr.trim().parse::<Ipv4Addr>().ok();
        } else if line.starts_with('/') {
            let route: Vec<&str> = line.split_whitespace().collect();
            if route == ["/32", "host", "LOCAL"] {
                out.extend(leaf);
            }
        } else {
            // A node (`+-- 10.0.0.0/8 ...`) or a table name ends the leaf.
            leaf = None;
        }
    }
    out
}

/// IPv6 addresses from `/proc/net/if_inet6`: each line starts with the address as 32 hex
/// digits in network byte order.
fn parse_if_inet6(table: &str) -> BTreeSet<Ipv6Addr> {
    table
        .lines()
        .filter_map(|line| {
            let hex = line.split_whitespace().next()?;
            if hex.len() != 32 {
                return None;
            }
            u128::from_str_radix(hex, 16).ok().map(Ipv6Addr::from)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRIE: &str = "Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 10.244.1.0/24 2 0 2
        +-- 10.244.1.0/28 2 0 2
           |-- 10.244.1.0
              /24 link UNICAST
           |-- 10.244.1.7
              /24 link UNICAST
              /32 host LOCAL
        |-- 10.244.1.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
     +-- 127.0.0.0/8 2 0 2
           |-- 127.0.0.1
              /32 host LOCAL
     |-- 10.244.1.7
        /32 host LOCAL
";

    #[test]
    fn local_v4_addresses_from_the_routing_trie() {
        let got: Vec<String> = parse_fib_trie(TRIE).iter().map(|a| a.to_string()).collect();
        assert_eq!(got, ["10.244.1.7", "127.0.0.1"]);
        assert!(parse_fib_trie("").is_empty());
        // A route line with no leaf before it names nothing.
        assert!(parse_fib_trie("Local:\n  /32 host LOCAL\n").is_empty());
    }

    #[test]
    fn v6_addresses_from_if_inet6() {
        let table = "fd000000000000000000000000000002 04 40 00 82     eth0
fe8000000000000000fc00fffe000001 04 40 20 80     eth0
00000000000000000000000000000001 01 80 10 80       lo
short 01 80 10 80 x
";
        let got: Vec<String> = parse_if_inet6(table)
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(got, ["::1", "fd00::2", "fe80::fc:ff:fe00:1"]);
    }

    #[test]
    fn this_process_has_loopback() {
        let addrs = namespace_addrs(std::process::id());
        assert!(
            addrs.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)),
            "{addrs:?}"
        );
        assert!(namespace_addrs(u32::MAX).is_empty());
    }
}
