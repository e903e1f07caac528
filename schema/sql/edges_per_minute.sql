-- Per caller -> callee edge (named as in quads.sql, through named_calls) and per UTC minute
-- of the calls' start: calls, errors, p99_ms. The p99 is of the edge's calls in that minute,
-- by nearest rank, with analyze's histogram floor beyond 16,384 durations (see quads.sql),
-- so a minute's figure is what `analyze quads` would give the edge over that minute alone.
-- `minute` is null for calls of a recording without a wall clock. Ordered by caller, callee,
-- minute. ms as in quads.sql.
WITH ranked AS (
  SELECT caller, callee, minute, failed, duration_ns,
    count(duration_ns) OVER (PARTITION BY caller, callee, minute) AS n,
    CAST(row_number() OVER (
      PARTITION BY caller, callee, minute ORDER BY duration_ns ASC NULLS LAST) AS BIGINT)
      AS place
  FROM named_calls
),
figures AS (
  SELECT caller, callee, minute,
    count(*) AS calls,
    sum(CASE WHEN failed THEN 1 ELSE 0 END) AS errors,
    max(n) AS n,
    min(CASE WHEN duration_ns IS NOT NULL AND place * 100 >= 99 * n THEN duration_ns END) AS p99
  FROM ranked
  GROUP BY caller, callee, minute
),
bits AS (
  SELECT f.*,
    CAST(floor(log2(CAST(greatest(coalesce(p99, 256), 256) AS DOUBLE))) AS BIGINT) AS e99
  FROM figures f
),
exps AS (
  SELECT b.*,
    e99 - CASE WHEN power(2, e99) > p99 THEN 1 ELSE 0 END
      + CASE WHEN power(2, e99 + 1) <= p99 THEN 1 ELSE 0 END AS x99
  FROM bits b
)
SELECT caller, callee, minute, calls, errors,
  CASE WHEN n > 16384 AND p99 >= 256
    THEN p99 - p99 % CAST(power(2, x99 - 7) AS BIGINT) ELSE p99 END / 1e6 AS p99_ms
FROM exps
ORDER BY caller, callee, minute ASC NULLS FIRST
