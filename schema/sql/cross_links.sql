-- View cross_links(host, pid, goid, ts_ns, r_host, r_pid, r_goid, r_ts_ns): rule 4 of
-- schema/EXPORT.md, each call (host, pid, goid, ts_ns) linked to the request it caused on
-- another host (r_*). analyze links greedily, request by request in time order; without
-- recursion this is done set-wise, in two stages (README.md, "Rule 4", says when the two can
-- differ):
--   A. per calling process and method+path, the n-th request of a busy period (a span in
--      which some such call is in flight) pairs with the n-th call started in it: first come,
--      first served, as Go's transport sends requests in the order calls ask for connections;
--   B. a request left without a pair takes the best call in flight still free (same method
--      and path, then the URL named the connection's address, then the earliest), the
--      earliest such request winning a call two want.
-- Times of different hosts are compared on the wall clock (`t` below: wall_ns, else ts_ns for
-- a recording without a clock), as analyze does by moving each host's times by its boot
-- time's distance from the earliest host's; ts_ns stays the key that names a row.
WITH arrivals AS (
  -- Connections (kind 0) and requests (kind 1) by the client address the server saw. Only
  -- non-loopback connections: a loopback one is only ever its own host's.
  SELECT local_addr AS addr, host, ts_ns, coalesce(wall_ns, ts_ns) AS t, 0 AS kind, pid,
    CAST(NULL AS BIGINT) AS goid, CAST(NULL AS STRING) AS method, CAST(NULL AS STRING) AS path
  FROM connects
  WHERE NOT loopback
  UNION ALL
  SELECT remote_addr, host, ts_ns, coalesce(wall_ns, ts_ns), 1, pid, goid, method, path
  FROM requests
  WHERE remote_addr IS NOT NULL
),
seen AS (
  SELECT addr, host, ts_ns, t, kind, pid, goid, method, path,
    -- The latest connection of the address at or before each row (on the wall clock),
    -- anywhere and on the row's own host.
    max(CASE WHEN kind = 0 THEN t END) OVER (
      PARTITION BY addr ORDER BY t, kind
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS latest,
    max(CASE WHEN kind = 0 THEN t END) OVER (
      PARTITION BY addr, host ORDER BY t, kind
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS latest_here
  FROM arrivals
),
owned AS (
  -- Requests whose connection was made on another host: none on their own host had the
  -- address (else `owner()` picks that one and the export linked it), so the latest
  -- anywhere is another host's. Two hosts' connections at the very same ns: the least host.
  SELECT s.host AS r_host, s.pid AS r_pid, s.goid AS r_goid, s.ts_ns AS r_ts_ns, s.t AS r_t,
    s.method, s.path, c.host AS o_host, c.pid AS o_pid, c.remote_addr AS conn_remote,
    row_number() OVER (
      PARTITION BY s.host, s.pid, s.goid, s.ts_ns ORDER BY c.host, c.pid) AS place
  FROM seen s
  JOIN connects c
    ON c.local_addr = s.addr AND coalesce(c.wall_ns, c.ts_ns) = s.latest AND NOT c.loopback
  WHERE s.kind = 1 AND s.latest_here IS NULL AND s.latest IS NOT NULL
),
xreq AS (
  SELECT r_host, r_pid, r_goid, r_ts_ns, r_t, method, path, o_host, o_pid, conn_remote
  FROM owned WHERE place = 1
),
owners AS (SELECT DISTINCT o_host, o_pid FROM xreq),
pool AS (
  -- The calls of those processes that may still be linked: not linked on their host. One
  -- may link while in flight: from its start for 10 s, or until it returned if sooner.
  SELECT c.host, c.pid, c.goid, c.ts_ns, coalesce(c.wall_ns, c.ts_ns) AS t, c.method, c.path,
    c.dialled,
    coalesce(c.wall_ns, c.ts_ns) + CASE
      WHEN c.duration_ns IS NULL OR c.duration_ns > 10000000000 THEN 10000000000
      ELSE c.duration_ns END AS until_ns
  FROM calls c
  JOIN owners o ON o.o_host = c.host AND o.o_pid = c.pid
  WHERE c.link_pid IS NULL
),
timeline AS (
  -- Stage A: per process and method+path, calls (kind 0) and requests (kind 1) in time
  -- order, a call before a request of the same ns (it may cause it).
  SELECT host AS o_host, pid AS o_pid, method, path, t, 0 AS kind, until_ns,
    host AS k_host, pid AS k_pid, goid AS k_goid, ts_ns AS k_ts
  FROM pool
  UNION ALL
  SELECT o_host, o_pid, method, path, r_t, 1, CAST(NULL AS BIGINT),
    r_host, r_pid, r_goid, r_ts_ns
  FROM xreq
),
reach AS (
  SELECT t.*,
    -- Until when a call started before this row may link.
    max(until_ns) OVER (
      PARTITION BY o_host, o_pid, method, path
      ORDER BY t, kind, k_host, k_pid, k_goid, k_ts
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach_ns
  FROM timeline t
),
busy AS (
  -- Busy periods: a call no earlier call can link beside starts one.
  SELECT r.*,
    sum(CASE WHEN kind = 0 AND (reach_ns IS NULL OR t > reach_ns) THEN 1 ELSE 0 END)
      OVER (
        PARTITION BY o_host, o_pid, method, path
        ORDER BY t, kind, k_host, k_pid, k_goid, k_ts
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS period
  FROM reach r
  -- A request when nothing is in flight is left to stage B (which finds nothing either).
  WHERE kind = 0 OR t <= reach_ns
),
numbered AS (
  SELECT b.*,
    row_number() OVER (
      PARTITION BY o_host, o_pid, method, path, period, kind
      ORDER BY t, k_host, k_pid, k_goid, k_ts) AS nth
  FROM busy b
),
paired AS (
  -- The n-th request of a period and the n-th call, when that call is in flight then.
  SELECT c.k_host AS host, c.k_pid AS pid, c.k_goid AS goid, c.k_ts AS ts_ns,
    r.k_host AS r_host, r.k_pid AS r_pid, r.k_goid AS r_goid, r.k_ts AS r_ts_ns
  FROM numbered c
  JOIN numbered r
    ON r.o_host = c.o_host AND r.o_pid = c.o_pid
    AND r.method IS NOT DISTINCT FROM c.method AND r.path IS NOT DISTINCT FROM c.path
    AND r.period = c.period AND r.nth = c.nth
  WHERE c.kind = 0 AND r.kind = 1 AND c.t <= r.t AND r.t <= c.until_ns
),
unpaired AS (
  -- Stage B: requests stage A left, each in every 10 s bucket its candidates may start in.
  SELECT x.*, CAST(floor(x.r_t / 1e10) AS BIGINT) - d.back AS bucket
  FROM xreq x
  LEFT JOIN paired p
    ON p.r_host = x.r_host AND p.r_pid = x.r_pid AND p.r_goid = x.r_goid
    AND p.r_ts_ns = x.r_ts_ns
  CROSS JOIN (SELECT 0 AS back UNION ALL SELECT 1 UNION ALL SELECT 2) d
  WHERE p.r_host IS NULL
),
free AS (
  SELECT c.*, CAST(floor(c.t / 1e10) AS BIGINT) AS bucket
  FROM pool c
  LEFT JOIN paired p
    ON p.host = c.host AND p.pid = c.pid AND p.goid = c.goid AND p.ts_ns = c.ts_ns
  WHERE p.host IS NULL
),
chosen AS (
  SELECT c.host, c.pid, c.goid, c.ts_ns, u.r_host, u.r_pid, u.r_goid, u.r_ts_ns, u.r_t,
    row_number() OVER (
      PARTITION BY u.r_host, u.r_pid, u.r_goid, u.r_ts_ns
      ORDER BY
        CASE WHEN c.method IS NOT DISTINCT FROM u.method
          AND c.path IS NOT DISTINCT FROM u.path THEN 0 ELSE 1 END,
        CASE WHEN c.dialled = u.conn_remote THEN 0 ELSE 1 END,
        c.t, c.goid, c.ts_ns) AS choice
  FROM unpaired u
  JOIN free c
    ON c.host = u.o_host AND c.pid = u.o_pid AND c.bucket = u.bucket
  WHERE c.t <= u.r_t AND u.r_t <= c.until_ns
),
taken AS (
  SELECT host, pid, goid, ts_ns, r_host, r_pid, r_goid, r_ts_ns,
    row_number() OVER (
      PARTITION BY host, pid, goid, ts_ns
      ORDER BY r_t, r_host, r_pid, r_goid, r_ts_ns) AS claim
  FROM chosen
  WHERE choice = 1
)
SELECT host, pid, goid, ts_ns, r_host, r_pid, r_goid, r_ts_ns FROM paired
UNION ALL
SELECT host, pid, goid, ts_ns, r_host, r_pid, r_goid, r_ts_ns FROM taken WHERE claim = 1
