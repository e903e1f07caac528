use super::*;

fn namer(servers: &[(&str, &str, &str)]) -> CalleeNamer {
    let mut n = CalleeNamer::new();
    for (machine, addr, service) in servers {
        n.add_server(machine, addr, service);
    }
    n
}

/// The callee name of a call from `machine` (namespace unknown) to `host`, at any time.
fn name(n: &CalleeNamer, machine: &str, host: &str) -> String {
    let caller = Caller {
        machine,
        netns: None,
    };
    at(n, caller, host, 0)
}

fn at(n: &CalleeNamer, caller: Caller<'_>, host: &str, ts_ns: i64) -> String {
    n.service_at(caller, host, ts_ns).unwrap_or(host).to_owned()
}

fn in_netns(machine: &str, netns: i64) -> Caller<'_> {
    Caller {
        machine,
        netns: Some(netns),
    }
}

#[test]
fn loopback_forms_are_one_host() {
    let n = namer(&[("m", "0.0.0.0:9932", "demo")]);
    for host in [
        "0.0.0.0:9932",
        "127.0.0.1:9932",
        "localhost:9932",
        "LOCALHOST:9932",
        "[::1]:9932",
        ":9932",
    ] {
        assert_eq!(name(&n, "m", host), "demo", "{host}");
    }
    let n = namer(&[("m", "127.0.0.1:9932", "demo")]);
    assert_eq!(name(&n, "m", "localhost:9932"), "demo");
    assert_eq!(name(&n, "m", "[::1]:9932"), "demo");
    assert_eq!(name(&n, "m", "db.internal:9932"), "db.internal:9932");
}

#[test]
fn loopback_does_not_reach_another_machine() {
    let n = namer(&[("other", ":9932", "demo")]);
    assert_eq!(name(&n, "m", "localhost:9932"), "localhost:9932");
    assert_eq!(name(&n, "other", "localhost:9932"), "demo");
}

#[test]
fn port_wildcard_accepts_any_host() {
    let n = namer(&[("m1", ":9932", "api")]);
    assert_eq!(name(&n, "m1", "localhost:9932"), "api");
    assert_eq!(name(&n, "m2", "api.example:9932"), "api");
    assert_eq!(name(&n, "m2", "api.example:9933"), "api.example:9933");
}

#[test]
fn unserved_addresses_stay_as_written() {
    let n = namer(&[("m", "10.0.0.1:80", "web")]);
    assert_eq!(name(&n, "m", "10.0.0.1"), "web", "missing port is 80");
    assert_eq!(name(&n, "m", "10.0.0.2:80"), "10.0.0.2:80");
    assert_eq!(name(&n, "m", "example.com"), "example.com");
    assert_eq!(name(&n, "m", ""), "");
}

#[test]
fn the_best_fit_wins_and_ties_stay_unnamed() {
    let n = namer(&[("a", ":8080", "svc-a"), ("b", ":8080", "svc-b")]);
    assert_eq!(
        name(&n, "a", "x:8080"),
        "svc-a",
        "same machine beats elsewhere"
    );
    assert_eq!(
        name(&n, "c", "x:8080"),
        "x:8080",
        "two services fit equally"
    );
    assert_eq!(name(&n, "c", "b:8080"), "svc-b", "the machine's own name");
    assert_eq!(name(&n, "c", "b.cluster.local:8080"), "svc-b");
    let n = namer(&[("a", "10.0.0.9:8080", "exact"), ("a", ":8080", "wild")]);
    assert_eq!(name(&n, "a", "10.0.0.9:8080"), "exact");
}

#[test]
fn an_empty_listen_address_is_ignored() {
    let n = namer(&[("m", "", "svc")]);
    assert_eq!(name(&n, "m", "localhost:80"), "localhost:80");
}

#[test]
fn ip_forms_compare_as_addresses() {
    let n = namer(&[
        ("m", "[fd00::0:7]:8080", "v6"),
        ("m", "[::ffff:127.0.0.1]:9", "lo"),
    ]);
    assert_eq!(name(&n, "other", "[fd00::7]:8080"), "v6");
    assert_eq!(name(&n, "m", "localhost:9"), "lo");
}

/// Every pod listens on `[::]:8080` in its own namespace; the namespaces' addresses are known.
fn pods() -> CalleeNamer {
    let mut n = CalleeNamer::new();
    n.add("[::]:8080", Listener::always("node", "users", Some(21)));
    n.add("[::]:8080", Listener::always("node", "orders", Some(31)));
    n.add_addrs("node", 21, &ips("10.1.0.2"));
    n.add_addrs("node", 31, &ips("10.1.0.3"));
    n
}

fn ips(a: &str) -> Vec<IpAddr> {
    ip(a).into_iter().collect()
}

#[test]
fn wildcard_listeners_on_one_port_are_told_apart_by_their_namespaces_addresses() {
    let n = pods();
    let caller = in_netns("node", 11);
    assert_eq!(at(&n, caller, "10.1.0.2:8080", 0), "users");
    assert_eq!(at(&n, caller, "10.1.0.3:8080", 0), "orders");
    // From another node too: a pod's address is its own wherever it is dialled from.
    assert_eq!(at(&n, in_netns("node-2", 11), "10.1.0.3:8080", 0), "orders");
    // A name, a virtual IP or an address of no recorded namespace: no guess.
    for host in ["users.svc:8080", "198.19.0.10:8080", "10.1.0.9:8080"] {
        assert_eq!(at(&n, caller, host, 0), host);
    }
}

#[test]
fn loopback_reaches_only_the_callers_namespace() {
    let mut n = CalleeNamer::new();
    n.add(
        "127.0.0.1:7000",
        Listener::always("node", "a-svc", Some(21)),
    );
    n.add(
        "127.0.0.1:7000",
        Listener::always("node", "b-svc", Some(31)),
    );
    assert_eq!(at(&n, in_netns("node", 21), "localhost:7000", 0), "a-svc");
    assert_eq!(at(&n, in_netns("node", 31), "127.0.0.1:7000", 0), "b-svc");
    assert_eq!(
        at(&n, in_netns("node", 41), "localhost:7000", 0),
        "localhost:7000"
    );
    // Its namespace unknown, the caller could be in either.
    assert_eq!(name(&n, "node", "localhost:7000"), "localhost:7000");
    // A listener whose namespace is known beats one whose is not.
    n.add("127.0.0.1:7000", Listener::always("node", "old", None));
    assert_eq!(at(&n, in_netns("node", 21), "localhost:7000", 0), "a-svc");
}

#[test]
fn listeners_name_calls_only_while_they_listen() {
    let mut n = CalleeNamer::new();
    let l = |service, from_ns, to_ns| Listener {
        from_ns,
        to_ns,
        ..Listener::always("m", service, None)
    };
    n.add("0.0.0.0:9000", l("first", 50, 100));
    n.add("0.0.0.0:9000", l("second", 120, i64::MAX));
    let caller = Caller {
        machine: "m",
        netns: None,
    };
    let names: Vec<String> = [10, 50, 99, 100, 110, 120, 1_000]
        .into_iter()
        .map(|t| at(&n, caller, "localhost:9000", t))
        .collect();
    assert_eq!(
        names,
        [
            "localhost:9000",
            "first",
            "first",
            "localhost:9000",
            "localhost:9000",
            "second",
            "second"
        ]
    );
    assert_eq!(n.steady(10), (i64::MIN, 50));
    assert_eq!(n.steady(100), (100, 120));
    assert_eq!(n.steady(1_000), (120, i64::MAX));
}

#[test]
fn unix_socket_targets_are_named_by_their_listener_on_the_same_host() {
    let mut n = CalleeNamer::new();
    n.add(
        "unix:/run/containerd/containerd.sock",
        Listener::always("node", "containerd", None),
    );
    n.add("unix:@shim", Listener::always("node", "shim", None));
    n.add("unix:/run/app.sock", Listener::always("node", "a", None));
    n.add("unix:/run/app.sock", Listener::always("node", "b", None));
    let target = "unix:///run/containerd/containerd.sock";
    assert_eq!(name(&n, "node", target), "containerd");
    assert_eq!(
        name(&n, "node", "unix:/run/containerd/containerd.sock"),
        "containerd"
    );
    assert_eq!(name(&n, "node", "unix-abstract:shim"), "shim");
    // Another host's socket of the same path is not this one; two servers on one path
    // (different mount namespaces) are not told apart.
    assert_eq!(name(&n, "other", target), target);
    assert_eq!(
        name(&n, "node", "unix:///run/app.sock"),
        "unix:///run/app.sock"
    );
}
