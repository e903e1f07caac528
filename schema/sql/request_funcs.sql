-- View request_funcs: every request with its func (rule 2 of schema/EXPORT.md): its route;
-- else, when it ended, its raw path; else (its end not recorded, so its route unknown) the
-- route its service served the same path and method under, else the same path, else the raw
-- path. Used for the caller_func of a request that called nothing and for the callee_func of
-- a call linked to a request.
SELECT r.host, r.pid, r.goid, r.ts_ns, r.service, r.status, r.failed, r.duration_ns,
  r.called, r.carrier,
  CASE
    WHEN r.route IS NOT NULL THEN r.route
    WHEN r.ended THEN r.path
    WHEN bm.service IS NOT NULL THEN coalesce(bm.route, r.path)
    ELSE coalesce(bp.route, r.path)
  END AS func
FROM requests r
LEFT JOIN route_by_method bm
  ON bm.service = r.service AND bm.path = r.path AND bm.method = r.method
LEFT JOIN route_by_path bp
  ON bp.service = r.service AND bp.path = r.path
