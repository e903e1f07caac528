-- View named_calls: every call with its quadruple's names (rules 2 to 5 of
-- schema/EXPORT.md) and what is counted of it. quads.sql and edges_per_minute.sql share it.
SELECT c.host, c.minute, c.caller,
  -- Rule 2: the func of the request the call was made for; null: made for none.
  CASE
    WHEN c.req_goid IS NULL THEN NULL
    WHEN c.req_route IS NOT NULL THEN c.req_route
    WHEN c.req_ended THEN c.req_path
    WHEN bm.service IS NOT NULL THEN coalesce(bm.route, c.req_path)
    ELSE coalesce(bp.route, c.req_path)
  END AS caller_func,
  -- Rules 3 and 4: the linked request's service and func; rule 5: the listener's service,
  -- else the address as dialled.
  CASE
    WHEN lr.service IS NOT NULL THEN lr.service
    WHEN xr.service IS NOT NULL THEN xr.service
    WHEN d.service IS NOT NULL THEN d.service
    ELSE coalesce(c.dialled, '?')
  END AS callee,
  CASE
    WHEN lr.service IS NOT NULL THEN lr.func
    WHEN xr.service IS NOT NULL THEN xr.func
    WHEN dm.service IS NOT NULL THEN coalesce(dm.route, c.path)
    WHEN dp.service IS NOT NULL THEN coalesce(dp.route, c.path)
    ELSE c.path
  END AS callee_func,
  c.failed, c.duration_ns
FROM calls c
LEFT JOIN route_by_method bm
  ON bm.service = c.caller AND bm.path = c.req_path AND bm.method = c.req_method
LEFT JOIN route_by_path bp
  ON bp.service = c.caller AND bp.path = c.req_path
LEFT JOIN request_funcs lr
  ON lr.host = c.host AND lr.pid = c.link_pid AND lr.goid = c.link_goid
  AND lr.ts_ns = c.link_ts_ns
LEFT JOIN cross_links x
  ON x.host = c.host AND x.pid = c.pid AND x.goid = c.goid AND x.ts_ns = c.ts_ns
LEFT JOIN request_funcs xr
  ON xr.host = x.r_host AND xr.pid = x.r_pid AND xr.goid = x.r_goid AND xr.ts_ns = x.r_ts_ns
LEFT JOIN dial_names d
  ON d.host = c.host AND d.pid = c.pid AND d.goid = c.goid AND d.ts_ns = c.ts_ns
LEFT JOIN route_by_method dm
  ON dm.service = d.service AND dm.path = c.path AND dm.method = c.method
LEFT JOIN route_by_path dp
  ON dp.service = d.service AND dp.path = c.path
