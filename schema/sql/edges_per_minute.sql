-- Per caller -> callee edge (named as in quads.sql, through named_calls) and per UTC minute
-- of the calls' start: calls, errors, p99_ms. The p99 is of the edge's calls in that minute,
-- by nearest rank, with analyze's histogram floor beyond 16,384 durations (see quads.sql),
-- so a minute's figure is what `analyze quads` would give the edge over that minute alone.
-- `minute` is null for calls of a recording without a wall clock. Ordered by caller, callee,
-- minute. ms as in quads.sql.
WITH highest AS (
  SELECT caller, callee, minute, failed, duration_ns,
    CAST(floor(log2(CAST(greatest(coalesce(duration_ns, 256), 256) AS DOUBLE))) AS BIGINT) AS e
  FROM named_calls
),
floored AS (
  -- Each duration with the floor of its histogram bucket, as in quads.sql.
  SELECT caller, callee, minute, failed, duration_ns,
    CASE WHEN duration_ns < 256 THEN duration_ns
      ELSE duration_ns - duration_ns % CAST(power(2, e - 7
        - CASE WHEN power(2, e) > duration_ns THEN 1 ELSE 0 END
        + CASE WHEN power(2, e + 1) <= duration_ns THEN 1 ELSE 0 END) AS BIGINT) END AS floor_ns
  FROM highest
),
buckets AS (
  SELECT caller, callee, minute, floor_ns,
    count(*) AS c, sum(CASE WHEN failed THEN 1 ELSE 0 END) AS errs
  FROM floored
  GROUP BY caller, callee, minute, floor_ns
),
runs AS (
  SELECT caller, callee, minute, floor_ns, c, errs,
    sum(c) OVER (PARTITION BY caller, callee, minute
      ORDER BY floor_ns ASC NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto,
    sum(CASE WHEN floor_ns IS NULL THEN 0 ELSE c END) OVER (
      PARTITION BY caller, callee, minute) AS n
  FROM buckets
),
holding AS (
  SELECT caller, callee, minute, floor_ns, c, errs, n, upto - c AS below,
    floor_ns IS NOT NULL AND (upto - c) * 100 < 99 * n AND upto * 100 >= 99 * n AS at99
  FROM runs
),
figures AS (
  SELECT caller, callee, minute, CAST(sum(c) AS BIGINT) AS calls,
    CAST(sum(errs) AS BIGINT) AS errors, max(n) AS n,
    min(CASE WHEN at99 THEN floor_ns END) AS b99
  FROM holding
  GROUP BY caller, callee, minute
),
ranked AS (
  SELECT f.caller, f.callee, f.minute, f.duration_ns, h.n,
    h.below + CAST(row_number() OVER (
      PARTITION BY f.caller, f.callee, f.minute, f.floor_ns
      ORDER BY f.duration_ns ASC NULLS LAST) AS BIGINT) AS place
  FROM floored f
  JOIN holding h
    ON f.caller IS NOT DISTINCT FROM h.caller AND f.callee IS NOT DISTINCT FROM h.callee
    AND f.minute IS NOT DISTINCT FROM h.minute AND f.floor_ns = h.floor_ns
  WHERE h.n <= 16384 AND h.at99
),
exact AS (
  SELECT caller, callee, minute,
    min(CASE WHEN place * 100 >= 99 * n THEN duration_ns END) AS p99
  FROM ranked
  GROUP BY caller, callee, minute
)
SELECT f.caller, f.callee, f.minute, f.calls, f.errors,
  CASE WHEN f.n > 16384 THEN f.b99 ELSE x.p99 END / 1e6 AS p99_ms
FROM figures f
LEFT JOIN exact x
  ON f.caller IS NOT DISTINCT FROM x.caller AND f.callee IS NOT DISTINCT FROM x.callee
  AND f.minute IS NOT DISTINCT FROM x.minute
ORDER BY f.caller, f.callee, f.minute ASC NULLS FIRST
