use super::*;
use crate::rebuild::attribute::reconstruct;
use crate::test_support::LogBuilder;

/// The callee name of every call, in order, and the summary.
fn names(log: &EventLog) -> (Vec<String>, Option<LinkSummary>) {
    let rec = reconstruct(log);
    let funcs = Funcs::new(log, &rec, false);
    let mut callees = CalleeNames::new(log, &rec);
    let names = rec
        .calls
        .iter()
        .map(|c| {
            let linked = c.link.and_then(|r| rec.requests.get(r));
            let id = callees.resolve(c, linked, &funcs).id;
            callees.name(id).to_owned()
        })
        .collect();
    (names, callees.summary())
}

#[test]
fn a_listener_that_began_and_one_that_ended_name_calls_only_meanwhile() {
    let mut b = LogBuilder::new();
    b.client_start(10, 1, "front", 11, "127.0.0.1:9000", "/x")
        .listen(50, 2, "late", "0.0.0.0:9000", None)
        .client_start(60, 1, "front", 12, "127.0.0.1:9000", "/x")
        // Its requests' `Addr` says :9000 too, but the socket events say when.
        .server_start(70, 2, "late", 21, ":9000", "/x")
        .listen_end(100, 2, "late", "0.0.0.0:9000", None)
        .client_start(150, 1, "front", 13, "127.0.0.1:9000", "/x");
    let (names, summary) = names(&b.build());
    assert_eq!(names, ["127.0.0.1:9000", "late", "127.0.0.1:9000"]);
    let summary = summary.unwrap_or_default();
    assert_eq!(
        (summary.calls, summary.linked, summary.unrecorded),
        (3, 0, 2)
    );
}

#[test]
fn a_listener_reported_when_recording_began_names_calls_from_the_start() {
    let mut b = LogBuilder::new();
    b.client_start(1, 1, "front", 11, "127.0.0.1:9000", "/x")
        .listen(2_000, 2, "early", "0.0.0.0:9000", None)
        .client_start(7_000, 1, "front", 12, "127.0.0.1:9001", "/x")
        .listen(9_000, 3, "later", "0.0.0.0:9001", None);
    let mut log = b.build();
    let host = log.machine("host");
    log.note_start(host, 0);
    let (names, _) = names(&log);
    // :9001 began listening long after the recording did: the call before is not its.
    assert_eq!(names, ["early", "127.0.0.1:9001"]);
}

#[test]
fn old_listeners_take_the_service_of_their_process() {
    let mut b = LogBuilder::new();
    // Two processes of one binary, named differently; `record` listed the binary's name.
    b.server_start(1, 2, "users-blue", 21, "", "/u")
        .server_start(1, 3, "users-green", 31, "", "/u")
        .client_start(2, 1, "front", 11, "10.0.0.2:8080", "/u")
        .client_start(3, 1, "front", 12, "10.0.0.3:8080", "/u");
    let mut log = b.build();
    log.add_listener("host", 2, "users", "10.0.0.2:8080");
    log.add_listener("host", 3, "users", "10.0.0.3:8080");
    let (names, summary) = names(&log);
    assert_eq!(names, ["users-blue", "users-green"]);
    assert_eq!(
        summary, None,
        "no socket events, nothing to say about links"
    );
}

#[test]
fn the_summary_counts_links_and_unrecorded_callees() {
    let mut b = LogBuilder::new();
    b.listen(0, 2, "backend", "0.0.0.0:8080", None)
        .client_start(1, 1, "front", 11, "backend.svc:80", "/b")
        .connect(2, 1, "front", "10.0.0.1:40000", "198.19.0.10:80", None)
        .server_start_from(3, 2, "backend", 21, "/b", "10.0.0.1:40000")
        .client_start(4, 1, "front", 12, "localhost:8080", "/b")
        .client_start(5, 1, "front", 13, "api.example.com:443", "/v1");
    let (names, summary) = names(&b.build());
    assert_eq!(names, ["backend", "backend", "api.example.com:443"]);
    let summary = summary.unwrap_or_default();
    assert_eq!(
        summary.to_string(),
        "1 of 3 calls linked to the requests they caused (1 to unrecorded callees, 1 named by \
         the address they called)"
    );
    let all_linked = LinkSummary {
        calls: 1300,
        linked: 1234,
        unrecorded: 66,
    };
    assert_eq!(
        all_linked.to_string(),
        "1234 of 1300 calls linked to the requests they caused (66 to unrecorded callees)"
    );
}

#[test]
fn pods_on_one_port_are_named_by_their_namespaces_addresses() {
    let mut b = LogBuilder::new();
    b.listed(2, 21, &["10.1.0.2/24"])
        .listed(3, 31, &["10.1.0.3/24"])
        .listen(0, 2, "users", "[::]:8080", Some(21))
        .listen(0, 3, "orders", "[::]:8080", Some(31))
        .client_start(1, 1, "front", 11, "10.1.0.3:8080", "/o")
        .client_start(2, 1, "front", 12, "10.1.0.2:8080", "/u")
        .client_start(3, 1, "front", 13, "backend.svc:8080", "/u");
    let (names, _) = names(&b.build());
    assert_eq!(names, ["orders", "users", "backend.svc:8080"]);
}

#[test]
fn a_callers_namespace_comes_from_its_socket_events() {
    let mut b = LogBuilder::new();
    b.listen(0, 2, "a-svc", "127.0.0.1:7000", Some(21))
        .listen(0, 3, "b-svc", "127.0.0.1:7000", Some(31))
        .client_start(1, 1, "a-client", 11, "localhost:7000", "/q")
        .connect(2, 1, "a-client", "10.1.0.2:40000", "10.9.9.9:443", Some(21))
        .client_start(3, 1, "a-client", 12, "localhost:7000", "/q");
    let (names, _) = names(&b.build());
    // Named after the pass: what the connect said holds for the earlier call too.
    assert_eq!(names, ["a-svc", "a-svc"]);
}
