//! Addresses as the recordings write them: a call's URL `host[:port]`, a server's `Addr`, a
//! socket's `ip:port`. Parsing is forgiving (a malformed address is only a name that matches
//! nothing) and shared by every stage that compares addresses: loading (is a connection's own
//! address loopback?), linking and callee naming.

use std::net::IpAddr;

/// Splits `host[:port]`, `[v6][:port]` or a bare IPv6 address.
/// The socket of a unix-domain address, `/path` or `@name` (abstract): a listener's
/// `unix:/path` or `unix:@name` (as record writes them), or a gRPC target `unix:///path`,
/// `unix:/path`, `unix:relative/path` or `unix-abstract:name`. `None`: not a unix address.
pub fn unix_socket(addr: &str) -> Option<String> {
    if let Some(name) = addr.strip_prefix("unix-abstract:") {
        // /proc/net/unix shows an abstract socket's name after an `@`.
        return (!name.is_empty()).then(|| format!("@{name}"));
    }
    let rest = addr.strip_prefix("unix:")?;
    let path = rest.strip_prefix("//").unwrap_or(rest);
    (!path.is_empty()).then(|| path.to_string())
}

pub fn split_host_port(addr: &str) -> (&str, Option<&str>) {
    if let Some(rest) = addr.strip_prefix('[') {
        if let Some((host, after)) = rest.split_once(']') {
            return (host, after.strip_prefix(':'));
        }
        return (addr, None);
    }
    match addr.rsplit_once(':') {
        // More than one colon without brackets: a bare IPv6 address, no port.
        Some((host, _)) if host.contains(':') => (addr, None),
        Some((host, port)) => (host, Some(port)),
        None => (addr, None),
    }
}

/// A host name or address, lowercase, without a trailing dot.
pub fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether a (normalized) host is one of the names of this machine's loopback interface.
pub fn is_loopback(host: &str) -> bool {
    matches!(host, "" | "localhost" | "::1") || host.starts_with("127.")
}

/// Whether an `ip:port` is on the loopback interface (a connection's own address: reachable
/// only from its own network namespace).
pub fn is_loopback_addr(addr: &str) -> bool {
    let (host, _) = split_host_port(addr);
    match ip(host) {
        Some(ip) => ip.is_loopback(),
        None => is_loopback(&normalize_host(host)),
    }
}

/// The address a host is, when it is an IP literal; IPv4-mapped IPv6 addresses as IPv4, the
/// way Go and `record` write them. A zone (`fe80::1%eth0`) is dropped.
pub fn ip(host: &str) -> Option<IpAddr> {
    let host = host.split_once('%').map_or(host, |(h, _)| h);
    host.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// An IP address as `quadtrace.processes` lists it: bare, or with a prefix length
/// (`10.1.0.7/24`).
pub fn interface_ip(s: &str) -> Option<IpAddr> {
    ip(s.split_once('/').map_or(s, |(ip, _)| ip).trim())
}

/// The port as a number string. The scheme is not recorded, so a missing port is taken as
/// plain HTTP's 80; Go also accepts service names in `Addr`.
pub fn normalize_port(port: Option<&str>) -> String {
    match port {
        None | Some("") | Some("http") => "80".to_owned(),
        Some("https") => "443".to_owned(),
        Some(p) => p.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_addresses() {
        assert_eq!(split_host_port("a:1"), ("a", Some("1")));
        assert_eq!(split_host_port(":1"), ("", Some("1")));
        assert_eq!(split_host_port("a"), ("a", None));
        assert_eq!(split_host_port("[::1]:9"), ("::1", Some("9")));
        assert_eq!(split_host_port("[::1]"), ("::1", None));
        assert_eq!(split_host_port("::1"), ("::1", None));
        assert_eq!(split_host_port("[oops"), ("[oops", None));
    }

    #[test]
    fn loopback_addresses() {
        for a in [
            "127.0.0.1:5",
            "127.9.9.9:5",
            "[::1]:5",
            "localhost:5",
            "[::ffff:127.0.0.1]:5",
        ] {
            assert!(is_loopback_addr(a), "{a}");
        }
        for a in [
            "10.0.0.1:5",
            "[::]:5",
            "0.0.0.0:5",
            "example.com:5",
            "[fe80::1%eth0]:5",
        ] {
            assert!(!is_loopback_addr(a), "{a}");
        }
    }

    #[test]
    fn ips_are_canonical() {
        assert_eq!(ip("::ffff:10.0.0.1"), ip("10.0.0.1"));
        assert_eq!(ip("fe80::1%eth0"), ip("fe80::1"));
        assert_eq!(ip("0:0::1"), ip("::1"));
        assert_eq!(ip("example.com"), None);
        assert_eq!(interface_ip("10.1.0.7/24"), ip("10.1.0.7"));
        assert_eq!(interface_ip(" fd00::7 "), ip("fd00::7"));
    }

    #[test]
    fn ports_default_to_http() {
        assert_eq!(normalize_port(None), "80");
        assert_eq!(normalize_port(Some("https")), "443");
        assert_eq!(normalize_port(Some("8080")), "8080");
    }

    #[test]
    fn unix_sockets_of_listeners_and_grpc_targets() {
        for (addr, want) in [
            ("unix:/run/c.sock", Some("/run/c.sock")),
            ("unix:///run/c.sock", Some("/run/c.sock")),
            ("unix:rel/c.sock", Some("rel/c.sock")),
            ("unix:@grpc", Some("@grpc")),
            ("unix-abstract:grpc", Some("@grpc")),
            ("unix:", None),
            ("127.0.0.1:80", None),
            ("unixhost:80", None),
        ] {
            assert_eq!(unix_socket(addr).as_deref(), want, "{addr}");
        }
    }
}
