//! Route templates: what `caller_func` and `callee_func` name.
//!
//! A request's `server_end` says which route template served it (schema 3, services with
//! routes: a `net/http.ServeMux` pattern such as `GET /users/{id}`, a gin route such as
//! `/users/:id`). `caller_func` is that route, so that `/users/1` and `/users/2` are one
//! quadruple; without a route it is the raw path. A request whose end the recording missed
//! takes the route its service served the same path under, as a call's callee does.
//!
//! A call's `callee_func` is the route the callee served the same raw path under, when the
//! callee is a recorded server: its requests with that path and the call's method say which
//! (with the most requests winning if they disagree); when none has the call's method, its
//! requests for that path with any method do. Otherwise `callee_func` is the raw path called.
//! Only requests whose end was recorded vote, since the route is known at the end.

use std::cmp::Reverse;

use crate::model::events::{EventLog, IdMap, IdSet, Sym};
use crate::rebuild::attribute::Reconstruction;
use crate::rebuild::requests::Request;

/// How many requests were served under each route (`None`: no route) for one path.
type Votes = IdMap<Option<Sym>, u64>;

/// Names `caller_func` and `callee_func`: routes when known, else raw paths.
#[derive(Debug, Default)]
pub struct Funcs {
    raw_paths: bool,
    services: IdMap<String, Sym>,
    /// (service, path, method) → the route most of those requests were served under.
    by_method: IdMap<(Sym, Sym, Sym), Option<Sym>>,
    /// (service, path) → the route most of those requests were served under, any method.
    by_path: IdMap<(Sym, Sym), Option<Sym>>,
}

/// The routes requests were served under, counted as requests end: what [`Funcs`] is made of.
///
/// One count per (service, path, method, route), a single lookup for each of millions of
/// requests (often the same key as the last); the votes by method and by path, and the
/// services, are summed from them at the end.
#[derive(Debug, Default)]
pub struct RouteVotes {
    counts: IdMap<(Sym, Sym, Option<Sym>, Option<Sym>), u64>,
}

impl RouteVotes {
    /// One request: only one whose end was recorded votes (its route is known at the end).
    pub fn learn(&mut self, r: &Request) {
        let Some(path) = r.path.filter(|_| r.end_ns().is_some()) else {
            return;
        };
        *self
            .counts
            .entry((r.service, path, r.method, r.route))
            .or_default() += 1;
    }

    /// The winners. With `raw_paths`, every func is the raw path and nothing is learned.
    pub fn into_funcs(self, log: &EventLog, raw_paths: bool) -> Funcs {
        if raw_paths {
            return Funcs {
                raw_paths,
                ..Funcs::default()
            };
        }
        let mut services = IdSet::default();
        let mut by_method: IdMap<(Sym, Sym, Sym), Votes> = IdMap::default();
        let mut by_path: IdMap<(Sym, Sym), Votes> = IdMap::default();
        for ((service, path, method, route), n) in self.counts {
            services.insert(service);
            if let Some(method) = method {
                *by_method
                    .entry((service, path, method))
                    .or_default()
                    .entry(route)
                    .or_default() += n;
            }
            *by_path
                .entry((service, path))
                .or_default()
                .entry(route)
                .or_default() += n;
        }
        Funcs {
            raw_paths,
            services: services
                .into_iter()
                .map(|s| (log.str(s).to_owned(), s))
                .collect(),
            by_method: by_method
                .into_iter()
                .map(|(k, v)| (k, winner(log, &v)))
                .collect(),
            by_path: by_path
                .into_iter()
                .map(|(k, v)| (k, winner(log, &v)))
                .collect(),
        }
    }
}

impl Funcs {
    /// Learns the routes every service served its paths under, from `rec`'s requests.
    /// With `raw_paths`, every func is the raw path and nothing is learned.
    pub fn new(log: &EventLog, rec: &Reconstruction, raw_paths: bool) -> Self {
        let mut votes = RouteVotes::default();
        if !raw_paths {
            rec.requests.all().for_each(|r| votes.learn(r));
        }
        votes.into_funcs(log, raw_paths)
    }

    /// `caller_func` of a request of `service` for `method` and `path` whose end the recording
    /// missed: the route its service served the same path under, else the raw path.
    pub fn unended(&self, service: Sym, method: Option<Sym>, path: Option<Sym>) -> Option<Sym> {
        if self.raw_paths {
            return path;
        }
        self.route(service, method, path).or(path)
    }

    /// `caller_func` of a request: its route, else (its end unseen) the route its service
    /// served the same path under, else its raw path.
    pub fn caller(&self, r: &Request) -> Option<Sym> {
        if self.raw_paths {
            return r.path;
        }
        if r.route.is_some() {
            return r.route;
        }
        if r.end_ns().is_none() {
            return self.route(r.service, r.method, r.path).or(r.path);
        }
        r.path
    }

    /// `callee_func` of a call with `method` to `path`, whose callee is the recorded server
    /// `service` (`None`: no recording saw the callee serve).
    pub fn callee(
        &self,
        service: Option<&str>,
        method: Option<Sym>,
        path: Option<Sym>,
    ) -> Option<Sym> {
        if self.raw_paths {
            return path;
        }
        let Some(service) = service.and_then(|s| self.services.get(s)) else {
            return path;
        };
        self.route(*service, method, path).or(path)
    }

    /// The route `service` served `path` under, for `method` when it served that method.
    fn route(&self, service: Sym, method: Option<Sym>, path: Option<Sym>) -> Option<Sym> {
        let path = path?;
        if let Some(route) = method.and_then(|m| self.by_method.get(&(service, path, m))) {
            return *route;
        }
        self.by_path.get(&(service, path)).copied().flatten()
    }
}

/// The route with the most votes; on a tie, a route over none, then the first by name, so
/// that the answer does not depend on hash order.
fn winner(log: &EventLog, votes: &Votes) -> Option<Sym> {
    votes
        .iter()
        .max_by_key(|(route, n)| (**n, route.is_some(), Reverse(route.map(|r| log.str(r)))))
        .and_then(|(route, _)| *route)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::attribute::reconstruct;
    use crate::report::callee::CalleeNames;
    use crate::test_support::LogBuilder;

    /// (caller_func, callee_func) of every call, in order, and caller_func of every request.
    fn funcs(b: &mut LogBuilder, raw: bool) -> (Vec<(String, String)>, Vec<String>) {
        let log = b.build();
        let rec = reconstruct(&log);
        let funcs = Funcs::new(&log, &rec, raw);
        let mut callees = CalleeNames::new(&log, &rec);
        let name = |s: Option<Sym>| s.map_or("none".to_owned(), |s| log.str(s).to_owned());
        let calls = rec
            .calls
            .iter()
            .map(|c| {
                let request = c.attribution.request().and_then(|r| rec.requests.get(r));
                let linked = c.link.and_then(|r| rec.requests.get(r));
                let callee = callees.resolve(c, linked, &funcs).func;
                (name(request.and_then(|r| funcs.caller(r))), name(callee))
            })
            .collect();
        let requests = rec.requests.all();
        (calls, requests.map(|r| name(funcs.caller(r))).collect())
    }

    /// `front` (pid 1) calls `users` (pid 2, serving on :8080) for /users/1 and /users/2,
    /// which `users` serves under one route.
    fn users(b: &mut LogBuilder) -> &mut LogBuilder {
        let route = Some("GET /users/{id}");
        b.server_start(1, 1, "front", 10, ":80", "/page")
            .client_start(2, 1, "front", 10, "localhost:8080", "/users/1")
            .server_start(3, 2, "users", 20, ":8080", "/users/1")
            .server_end_with(4, 2, "users", 20, Some(200), route)
            .client_end(5, 1, "front", 10, Some(200))
            .client_start(6, 1, "front", 10, "localhost:8080", "/users/2")
            .server_start(7, 2, "users", 21, ":8080", "/users/2")
            .server_end_with(8, 2, "users", 21, Some(200), route)
            .client_end(9, 1, "front", 10, Some(200))
            .server_end_with(10, 1, "front", 10, Some(200), Some("/page"))
    }

    #[test]
    fn callers_and_callees_are_named_by_route() {
        let (calls, requests) = funcs(users(&mut LogBuilder::new()), false);
        let call = ("/page".to_owned(), "GET /users/{id}".to_owned());
        assert_eq!(calls, vec![call.clone(), call]);
        assert_eq!(requests, ["/page", "GET /users/{id}", "GET /users/{id}"]);
    }

    #[test]
    fn raw_paths_ignore_routes() {
        let (calls, requests) = funcs(users(&mut LogBuilder::new()), true);
        assert_eq!(calls[0], ("/page".to_owned(), "/users/1".to_owned()));
        assert_eq!(calls[1].1, "/users/2");
        assert_eq!(requests, ["/page", "/users/1", "/users/2"]);
    }

    #[test]
    fn an_unserved_callee_keeps_the_raw_path() {
        let mut b = LogBuilder::new();
        users(&mut b).client_start(11, 1, "front", 12, "api.example:443", "/users/1");
        let (calls, _) = funcs(&mut b, false);
        assert_eq!(calls[2], ("none".to_owned(), "/users/1".to_owned()));
    }

    #[test]
    fn a_request_without_its_end_takes_its_services_route() {
        let mut b = LogBuilder::new();
        users(&mut b)
            .server_start(20, 2, "users", 22, ":8080", "/users/1")
            .server_start(21, 2, "users", 23, ":8080", "/users/9");
        let (_, requests) = funcs(&mut b, false);
        assert_eq!(requests[3..], ["GET /users/{id}", "/users/9"]);
    }

    #[test]
    fn the_calls_method_picks_among_routes_of_one_path() {
        let mut b = LogBuilder::new();
        b.method("POST")
            .server_start(1, 2, "users", 20, ":8080", "/users/1")
            .server_end_with(2, 2, "users", 20, Some(201), Some("POST /users/{id}"))
            .method("DELETE")
            .server_start(3, 2, "users", 21, ":8080", "/users/1")
            .server_end_with(4, 2, "users", 21, Some(405), None)
            .method("POST")
            .client_start(5, 1, "front", 10, "localhost:8080", "/users/1")
            .method("DELETE")
            .client_start(6, 1, "front", 11, "localhost:8080", "/users/1")
            .method("PUT")
            .client_start(7, 1, "front", 12, "localhost:8080", "/users/1");
        let (calls, _) = funcs(&mut b, false);
        let callee: Vec<&str> = calls.iter().map(|c| c.1.as_str()).collect();
        // PUT was never served: any method's route, where a route beats none on a tie.
        assert_eq!(callee, ["POST /users/{id}", "/users/1", "POST /users/{id}"]);
    }

    #[test]
    fn the_most_served_route_wins() {
        let mut log = EventLog::new();
        let (a, b) = (log.intern("/a/:x"), log.intern("/b/:x"));
        let votes: Votes = [(Some(a), 1), (Some(b), 2), (None, 2)]
            .into_iter()
            .collect();
        assert_eq!(winner(&log, &votes), Some(b));
        let votes: Votes = [(Some(b), 2), (Some(a), 2)].into_iter().collect();
        assert_eq!(winner(&log, &votes), Some(a));
        assert_eq!(winner(&log, &Votes::default()), None);
    }
}
