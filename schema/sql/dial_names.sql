-- View dial_names(host, pid, goid, ts_ns, service): rule 5 of schema/EXPORT.md, for each call
-- not linked on its host, the service of the recorded listener that best fits the address it
-- dialled when it started; null when none fits or the best fits are of several services.
-- Names hold while no listener of the port begins or stops (an epoch), so the fit is worked
-- out once per caller place, address dialled and epoch, not once per call. A listener may be
-- on another host than the caller, so times are compared on the wall clock, as analyze does
-- (from_wall_ns, to_wall_ns, wall_ns; the monotonic ones for a recording without a clock).
WITH changes AS (
  -- Per port ('' for unix sockets, which have none), every time a listener began or stopped.
  SELECT CASE WHEN kind = 'unix' THEN '' ELSE port END AS pkey,
    coalesce(from_wall_ns, from_ns) AS t
  FROM listeners WHERE from_ns IS NOT NULL
  UNION
  SELECT CASE WHEN kind = 'unix' THEN '' ELSE port END, coalesce(to_wall_ns, to_ns)
  FROM listeners WHERE to_ns IS NOT NULL
),
timeline AS (
  -- Changes (kind 0) and calls (kind 1) in time order, a change first at the same ns: a
  -- listener holds from its from_ns on, up to but not at its to_ns.
  SELECT pkey, t, 0 AS kind, CAST(NULL AS BIGINT) AS ts_ns, CAST(NULL AS STRING) AS host,
    CAST(NULL AS BIGINT) AS pid, CAST(NULL AS BIGINT) AS goid, CAST(NULL AS BIGINT) AS netns,
    CAST(NULL AS STRING) AS dial_kind, CAST(NULL AS STRING) AS dial_host,
    CAST(NULL AS STRING) AS dial_ip, CAST(NULL AS STRING) AS dial_port
  FROM changes
  UNION ALL
  SELECT CASE WHEN dial_kind = 'unix' THEN '' ELSE dial_port END, coalesce(wall_ns, ts_ns), 1,
    ts_ns, host, pid, goid, netns, dial_kind, dial_host, dial_ip, dial_port
  FROM calls
  WHERE link_pid IS NULL AND dialled IS NOT NULL
),
epochs AS (
  SELECT pkey, t, ts_ns, host, pid, goid, netns, dial_kind, dial_host, dial_ip, dial_port,
    -- The latest change at or before the call (null: none, the epoch since the start).
    max(CASE WHEN kind = 0 THEN t END) OVER (
      PARTITION BY pkey ORDER BY t, kind
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS epoch,
    kind
  FROM timeline
),
dials AS (
  -- One row per caller place, address and epoch; any of its times names it alike.
  SELECT pkey, host, netns, dial_kind, dial_host, dial_ip, dial_port, epoch,
    min(t) AS at_ns
  FROM epochs
  WHERE kind = 1
  GROUP BY pkey, host, netns, dial_kind, dial_host, dial_ip, dial_port, epoch
),
places AS (
  -- The listeners with their host's name in lowercase as analyze reads it (ASCII letters
  -- only, as Rust's to_ascii_lowercase: lower() would also fold other letters) and their
  -- times on the wall clock.
  SELECT l.*, CASE WHEN kind = 'unix' THEN '' ELSE port END AS pkey,
    translate(host, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS machine,
    coalesce(from_wall_ns, from_ns) AS from_t, coalesce(to_wall_ns, to_ns) AS to_t
  FROM listeners l
),
known AS (
  -- Namespaces whose addresses are known: a wildcard listener there fits only those.
  SELECT DISTINCT host, netns FROM addresses
),
held AS (SELECT DISTINCT host, netns, ip FROM addresses),
fits AS (
  SELECT d.pkey, d.host, d.netns, d.dial_kind, d.dial_host, d.dial_ip, d.dial_port, d.epoch,
    l.service,
    -- 4 exact, 3 likely, 2 loose on the caller's host, 1 loose elsewhere (report/callee/
    -- namer.rs `Fit`); null: no fit.
    CASE
      WHEN d.dial_kind = 'unix' THEN
        CASE WHEN l.kind = 'unix' AND l.listen_host = d.dial_host AND l.host = d.host
          THEN 4 END
      WHEN l.kind = 'unix' THEN NULL
      WHEN d.dial_kind = 'loopback' THEN
        CASE WHEN l.kind IN ('loopback', 'any') AND l.host = d.host THEN
          CASE
            WHEN d.netns IS NULL OR l.netns IS NULL THEN 3
            WHEN d.netns = l.netns THEN 4
          END
        END
      WHEN l.kind = 'named' THEN
        CASE WHEN d.dial_host = l.listen_host OR d.dial_ip = l.listen_ip THEN 4 END
      WHEN l.kind = 'any' THEN
        CASE
          -- Dialled by its host's name, fully qualified or not.
          WHEN l.machine <> '' AND (d.dial_host = l.machine
            OR split_part(d.dial_host, '.', 1) = l.machine
            OR split_part(l.machine, '.', 1) = d.dial_host) THEN 4
          WHEN d.dial_ip IS NOT NULL AND k.host IS NOT NULL THEN
            CASE WHEN h.ip IS NOT NULL THEN 4 END
          WHEN l.host = d.host THEN 2
          ELSE 1
        END
    END AS fit
  FROM dials d
  JOIN places l ON l.pkey = d.pkey
  LEFT JOIN known k ON k.host = l.host AND k.netns = l.netns
  LEFT JOIN held h ON h.host = l.host AND h.netns = l.netns AND h.ip = d.dial_ip
  WHERE (l.from_t IS NULL OR l.from_t <= d.at_ns) AND (l.to_t IS NULL OR d.at_ns < l.to_t)
),
best AS (
  SELECT pkey, host, netns, dial_kind, dial_host, dial_ip, dial_port, epoch,
    max(fit) AS fit
  FROM fits
  GROUP BY pkey, host, netns, dial_kind, dial_host, dial_ip, dial_port, epoch
),
named AS (
  -- Named only when the best fits are all of one service.
  SELECT f.pkey, f.host, f.netns, f.dial_kind, f.dial_host, f.dial_ip, f.dial_port, f.epoch,
    min(f.service) AS service
  FROM fits f
  JOIN best b
    ON b.pkey = f.pkey AND b.host = f.host AND b.netns IS NOT DISTINCT FROM f.netns
    AND b.dial_kind IS NOT DISTINCT FROM f.dial_kind
    AND b.dial_host IS NOT DISTINCT FROM f.dial_host
    AND b.dial_ip IS NOT DISTINCT FROM f.dial_ip
    AND b.dial_port IS NOT DISTINCT FROM f.dial_port
    AND b.epoch IS NOT DISTINCT FROM f.epoch AND b.fit = f.fit
  GROUP BY f.pkey, f.host, f.netns, f.dial_kind, f.dial_host, f.dial_ip, f.dial_port, f.epoch
  HAVING count(DISTINCT f.service) = 1
)
SELECT e.host, e.pid, e.goid, e.ts_ns, n.service
FROM epochs e
JOIN named n
  ON n.pkey = e.pkey AND n.host = e.host AND n.netns IS NOT DISTINCT FROM e.netns
  AND n.dial_kind IS NOT DISTINCT FROM e.dial_kind
  AND n.dial_host IS NOT DISTINCT FROM e.dial_host
  AND n.dial_ip IS NOT DISTINCT FROM e.dial_ip
  AND n.dial_port IS NOT DISTINCT FROM e.dial_port
  AND n.epoch IS NOT DISTINCT FROM e.epoch
WHERE e.kind = 1
