use super::*;
use crate::model::events::EventLog;
use crate::rebuild::attribute::{reconstruct, Reconstruction};
use crate::report::counter::count_quads;
use crate::report::quads::Quad;
use crate::test_support::LogBuilder;

/// Per call: (calling goroutine, goroutine of the request it is linked to).
fn links(log: &EventLog, rec: &Reconstruction) -> Vec<(i64, Option<i64>)> {
    let _ = log;
    rec.calls
        .iter()
        .map(|c| {
            let linked = c.link.and_then(|r| rec.requests.get(r)).map(|r| r.goid);
            (c.goid, linked)
        })
        .collect()
}

/// `[caller, caller_func, callee, callee_func]` and count of every quadruple.
fn quads(log: &EventLog) -> Vec<[String; 5]> {
    let name = |s: Option<String>| s.unwrap_or_else(|| "none".to_owned());
    count_quads(log, &reconstruct(log))
        .into_iter()
        .map(|q: Quad| {
            [
                q.caller,
                name(q.caller_func),
                name(q.callee),
                name(q.callee_func),
                q.count.to_string(),
            ]
        })
        .collect()
}

fn quad(q: [&str; 5]) -> [String; 5] {
    q.map(str::to_owned)
}

/// `frontend` (pid 1, serving /a) calls a virtual IP, which NAT sends to `backend` (pid 2,
/// listening on :8080 of another namespace); the connection is `10.0.0.1:40000`.
fn vip_call(b: &mut LogBuilder) -> &mut LogBuilder {
    b.listen(0, 2, "backend", "[::]:8080", Some(20))
        .server_start(1, 1, "frontend", 10, ":8000", "/a")
        .client_start(2, 1, "frontend", 10, "198.19.0.10:80", "/b/1")
        .connect(
            3,
            1,
            "frontend",
            "10.0.0.1:40000",
            "198.19.0.10:80",
            Some(10),
        )
        .server_start_from(4, 2, "backend", 50, "/b/1", "10.0.0.1:40000")
        .server_end_with(5, 2, "backend", 50, Some(200), Some("GET /b/{id}"))
        .client_end(6, 1, "frontend", 10, Some(200))
        .server_end(7, 1, "frontend", 10)
}

#[test]
fn a_call_to_a_virtual_ip_is_linked_and_named_from_the_request() {
    let log = vip_call(&mut LogBuilder::new()).build();
    let rec = reconstruct(&log);
    assert_eq!(links(&log, &rec), [(10, Some(50))]);
    assert_eq!(
        quads(&log),
        [
            quad(["backend", "GET /b/{id}", "none", "none", "1"]),
            quad(["frontend", "/a", "backend", "GET /b/{id}", "1"]),
        ]
    );
}

#[test]
fn without_the_connect_the_call_keeps_its_address() {
    let mut b = LogBuilder::new();
    b.listen(0, 2, "backend", "[::]:8080", Some(20))
        .server_start(1, 1, "frontend", 10, ":8000", "/a")
        .client_start(2, 1, "frontend", 10, "198.19.0.10:80", "/b/1")
        .server_start_from(4, 2, "backend", 50, "/b/1", "10.0.0.1:40000")
        .client_end(6, 1, "frontend", 10, Some(200));
    let log = b.build();
    let rec = reconstruct(&log);
    assert_eq!(links(&log, &rec), [(10, None)]);
    assert!(quads(&log).contains(&quad(["frontend", "/a", "198.19.0.10:80", "/b/1", "1"])));
}

#[test]
fn concurrent_calls_on_two_connections_link_to_their_own_requests() {
    let mut b = LogBuilder::new();
    b.server_start(1, 1, "frontend", 11, ":80", "/a1")
        .server_start(2, 1, "frontend", 12, ":80", "/a2")
        .client_start(10, 1, "frontend", 11, "backend:8080", "/b")
        .client_start(11, 1, "frontend", 12, "backend:8080", "/b")
        .connect(12, 1, "frontend", "10.0.0.1:40001", "10.0.0.2:8080", None)
        .connect(13, 1, "frontend", "10.0.0.1:40002", "10.0.0.2:8080", None)
        .server_start_from(14, 2, "backend", 51, "/b", "10.0.0.1:40001")
        .server_start_from(15, 2, "backend", 52, "/b", "10.0.0.1:40002")
        .server_end(16, 2, "backend", 51)
        .server_end(17, 2, "backend", 52)
        .client_end(18, 1, "frontend", 11, Some(200))
        .client_end(19, 1, "frontend", 12, Some(200));
    let log = b.build();
    assert_eq!(
        links(&log, &reconstruct(&log)),
        [(11, Some(51)), (12, Some(52))]
    );
}

#[test]
fn sixty_four_calls_in_flight_each_link_to_the_request_it_caused() {
    let mut b = LogBuilder::in_ns();
    for i in 0..64 {
        b.client_start(1_000 + i, 1, "frontend", 100 + i, "backend:8080", "/b");
    }
    for i in 0..64 {
        let local: &'static str = Box::leak(format!("10.0.0.1:{}", 40_000 + i).into_boxed_str());
        b.connect(2_000 + i, 1, "frontend", local, "10.0.0.2:8080", None)
            .server_start_from(3_000 + i, 2, "backend", 500 + i, "/b", local);
    }
    for i in 0..64 {
        b.server_end(4_000 + i, 2, "backend", 500 + i).client_end(
            5_000 + i,
            1,
            "frontend",
            100 + i,
            Some(200),
        );
    }
    let log = b.build();
    let want: Vec<_> = (0..64).map(|i| (100 + i, Some(500 + i))).collect();
    assert_eq!(links(&log, &reconstruct(&log)), want);
}

#[test]
fn several_requests_at_once_on_one_connection_link_by_path_then_in_order() {
    let mut b = LogBuilder::new();
    b.client_start(10, 1, "frontend", 11, "backend:8080", "/x")
        .client_start(11, 1, "frontend", 12, "backend:8080", "/y")
        .client_start(12, 1, "frontend", 13, "backend:8080", "/z")
        .client_start(12, 1, "frontend", 14, "backend:8080", "/z")
        .connect(13, 1, "frontend", "10.0.0.1:40001", "10.0.0.2:8080", None)
        // HTTP/2: four streams of one connection, /y first.
        .server_start_from(14, 2, "backend", 52, "/y", "10.0.0.1:40001")
        .server_start_from(15, 2, "backend", 51, "/x", "10.0.0.1:40001")
        .server_start_from(16, 2, "backend", 53, "/z", "10.0.0.1:40001")
        .server_start_from(17, 2, "backend", 54, "/z", "10.0.0.1:40001");
    let log = b.build();
    assert_eq!(
        links(&log, &reconstruct(&log)),
        [
            (11, Some(51)),
            (12, Some(52)),
            (13, Some(53)),
            (14, Some(54))
        ]
    );
}

#[test]
fn a_reused_local_address_belongs_to_its_latest_connect() {
    let mut b = LogBuilder::new();
    b.connect(1, 1, "frontend", "10.0.0.1:40000", "10.0.0.2:8080", None)
        .client_start(2, 1, "frontend", 11, "backend:8080", "/b")
        .server_start_from(3, 2, "backend", 51, "/b", "10.0.0.1:40000")
        // pid 1's call is still in flight when pid 3 gets the port for a connection of its own.
        .client_start(10, 3, "batch", 31, "backend:8080", "/b")
        .connect(11, 3, "batch", "10.0.0.1:40000", "10.0.0.2:8080", None)
        .client_start(12, 1, "frontend", 12, "backend:8080", "/b")
        .server_start_from(13, 2, "backend", 52, "/b", "10.0.0.1:40000")
        .client_end(20, 1, "frontend", 11, Some(200))
        .client_end(21, 3, "batch", 31, Some(200))
        .client_end(22, 1, "frontend", 12, Some(200));
    let log = b.build();
    assert_eq!(
        links(&log, &reconstruct(&log)),
        [(11, Some(51)), (31, Some(52)), (12, None)]
    );
}

#[test]
fn no_link_when_another_process_owns_the_connection() {
    let mut b = LogBuilder::new();
    b.listen(0, 2, "backend", "0.0.0.0:8080", None)
        .connect(1, 3, "batch", "10.0.0.1:40000", "10.0.0.2:8080", None)
        .client_start(2, 1, "frontend", 11, "127.0.0.1:8080", "/b")
        .server_start_from(3, 2, "backend", 51, "/b", "10.0.0.1:40000")
        .client_end(4, 1, "frontend", 11, Some(200));
    let log = b.build();
    let rec = reconstruct(&log);
    assert_eq!(links(&log, &rec), [(11, None)]);
    // Named by the address it called instead.
    assert!(quads(&log).contains(&quad(["frontend", "none", "backend", "/b", "1"])));
}

#[test]
fn a_call_that_returned_or_was_linked_is_not_linked_again() {
    let mut b = LogBuilder::new();
    b.connect(1, 1, "frontend", "10.0.0.1:40000", "10.0.0.2:8080", None)
        .client_start(2, 1, "frontend", 11, "backend:8080", "/b")
        .server_start_from(3, 2, "backend", 51, "/b", "10.0.0.1:40000")
        // An h2c upgrade serves the same request again on the same connection.
        .server_start_from(4, 2, "backend", 52, "/b", "10.0.0.1:40000")
        .client_end(5, 1, "frontend", 11, Some(200))
        .client_start(6, 1, "frontend", 12, "backend:8080", "/b")
        .client_end(7, 1, "frontend", 12, Some(200))
        .server_start_from(8, 2, "backend", 53, "/b", "10.0.0.1:40000");
    let log = b.build();
    assert_eq!(
        links(&log, &reconstruct(&log)),
        [(11, Some(51)), (12, None)]
    );
}

#[test]
fn a_call_whose_request_never_came_does_not_take_a_later_one() {
    let s = 1_000; // ms
    let mut b = LogBuilder::new();
    // A long call to a server nobody recorded, then one to the recorded one, same path.
    b.client_start(0, 1, "frontend", 11, "backend:8080", "/b")
        .client_start(20 * s, 1, "frontend", 12, "backend:8080", "/b")
        .connect(
            20 * s + 1,
            1,
            "frontend",
            "10.0.0.1:40000",
            "10.0.0.2:8080",
            None,
        )
        .server_start_from(20 * s + 2, 2, "backend", 52, "/b", "10.0.0.1:40000")
        .client_end(30 * s, 1, "frontend", 11, Some(200));
    let log = b.build();
    assert_eq!(
        links(&log, &reconstruct(&log)),
        [(11, None), (12, Some(52))]
    );
}

#[test]
fn a_call_to_the_address_the_connection_dialled_comes_before_other_calls() {
    let mut b = LogBuilder::new();
    // The first call goes to a replica nobody recorded, with the same path.
    b.client_start(1, 1, "frontend", 11, "10.0.0.3:8080", "/b")
        .client_start(2, 1, "frontend", 12, "10.0.0.2:8080", "/b")
        .connect(3, 1, "frontend", "10.0.0.1:40000", "10.0.0.2:8080", None)
        .server_start_from(4, 2, "backend", 52, "/b", "10.0.0.1:40000");
    let log = b.build();
    assert_eq!(
        links(&log, &reconstruct(&log)),
        [(11, None), (12, Some(52))]
    );
}

#[test]
fn loopback_connections_link_only_within_the_servers_host_and_namespace() {
    let mut b = LogBuilder::new();
    // Two pods, each with a client on 127.0.0.1:45000 in its own namespace, both in flight.
    b.listed(2, 21, &["10.1.0.2"])
        .listen(0, 2, "a-svc", "127.0.0.1:7000", Some(21))
        .client_start(1, 1, "a-client", 11, "localhost:7000", "/q")
        .connect(
            2,
            1,
            "a-client",
            "127.0.0.1:45000",
            "127.0.0.1:7000",
            Some(21),
        )
        .client_start(3, 4, "b-client", 41, "localhost:7000", "/q")
        .connect(
            4,
            4,
            "b-client",
            "127.0.0.1:45000",
            "127.0.0.1:7000",
            Some(31),
        )
        .server_start_from(5, 2, "a-svc", 51, "/q", "127.0.0.1:45000")
        .on_host("other")
        .client_start(6, 1, "elsewhere", 61, "localhost:7000", "/q")
        .connect(
            7,
            1,
            "elsewhere",
            "127.0.0.1:45001",
            "127.0.0.1:7000",
            Some(21),
        )
        .on_host("host")
        .server_start_from(8, 2, "a-svc", 52, "/q", "127.0.0.1:45001");
    let log = b.build();
    assert_eq!(
        links(&log, &reconstruct(&log)),
        [(11, Some(51)), (41, None), (61, None)]
    );
}

#[test]
fn an_owner_on_the_servers_host_comes_first() {
    let mut b = LogBuilder::new();
    b.on_host("h1")
        .client_start(1, 1, "front-1", 11, "api:80", "/b")
        .connect(2, 1, "front-1", "10.0.0.5:40000", "10.9.0.1:80", None)
        .on_host("h2")
        .client_start(3, 1, "front-2", 21, "api:80", "/b")
        .connect(4, 1, "front-2", "10.0.0.5:40000", "10.9.0.1:80", None)
        .server_start_from(5, 9, "api", 91, "/b", "10.0.0.5:40000");
    let log = b.build();
    assert_eq!(
        links(&log, &reconstruct(&log)),
        [(11, None), (21, Some(91))]
    );
}

#[test]
fn the_calls_in_flight_are_swept_as_they_return() {
    let mut log = EventLog::new();
    let (proc, service) = (log.process("h", 1), log.intern("svc"));
    let call = |i: i64| ClientCall {
        proc,
        service,
        goid: i,
        ts_ns: 10 * i,
        method: None,
        host: None,
        path: None,
        end_ns: Some(10 * i + 5),
        status: None,
        error: false,
        attribution: crate::rebuild::evidence::Attribution::NONE,
        link: None,
        epoch: 0,
    };
    let mut links = Links::default();
    let mut calls = crate::rebuild::window::Window::default();
    for i in 0..10_000 {
        let index = calls.push(call(i));
        links.call_started(proc, index, &calls);
    }
    let kept = links.flight.first().map_or(0, |f| f.calls.len());
    assert!(kept <= MIN_SWEEP, "{kept} calls kept");
}
