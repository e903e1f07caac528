-- The quadruples of `analyze quads` (rule 6 of schema/EXPORT.md), in its order: count
-- descending, then the four names ascending with null ("none") first.
--
-- Columns: caller, caller_func, callee, callee_func (null: "none"), count, errors (BIGINT),
-- p50_ms, p99_ms (DOUBLE, null: no duration; exactly analyze's ns / 1e6). To print the CSV of
-- `analyze quads --format csv`, the driver writes null names as `none`, null ms as an empty
-- field, ms as the shortest decimal that reads back as the same double, without exponent and
-- without a trailing `.0` (Rust's `f64` Display: 0.000001, 12, 1.5), and quotes a field
-- holding a comma, quote or line break as RFC 4180 does.
WITH counted AS (
  SELECT caller, caller_func, callee, callee_func, failed, duration_ns FROM named_calls
  UNION ALL
  -- A request that called nothing, unless it only carried a gRPC request or switched
  -- protocols (both counted as the request they became).
  SELECT service, func, CAST(NULL AS STRING), CAST(NULL AS STRING), failed, duration_ns
  FROM request_funcs
  WHERE NOT called AND NOT carrier AND (status IS NULL OR status <> 101)
),
highest AS (
  -- e: the highest set bit of a duration of 256 ns or more (log2 in doubles, corrected by one
  -- either way below where rounding misses a power of two).
  SELECT caller, caller_func, callee, callee_func, failed, duration_ns,
    CAST(floor(log2(CAST(greatest(coalesce(duration_ns, 256), 256) AS DOUBLE))) AS BIGINT) AS e
  FROM counted
),
floored AS (
  -- Each duration with the floor of its bucket in analyze's histogram: itself below 256 ns,
  -- else with all but its top eight significant bits cleared (null: no duration).
  SELECT caller, caller_func, callee, callee_func, failed, duration_ns,
    CASE WHEN duration_ns < 256 THEN duration_ns
      ELSE duration_ns - duration_ns % CAST(power(2, e - 7
        - CASE WHEN power(2, e) > duration_ns THEN 1 ELSE 0 END
        + CASE WHEN power(2, e + 1) <= duration_ns THEN 1 ELSE 0 END) AS BIGINT) END AS floor_ns
  FROM highest
),
buckets AS (
  -- Calls and errors per quadruple and bucket (one null bucket: the calls without a
  -- duration). A GROUP BY, so computed in parallel however many calls a quadruple has, into
  -- at most 7,296 buckets per quadruple.
  SELECT caller, caller_func, callee, callee_func, floor_ns,
    count(*) AS c, sum(CASE WHEN failed THEN 1 ELSE 0 END) AS errs
  FROM floored
  GROUP BY caller, caller_func, callee, callee_func, floor_ns
),
runs AS (
  -- upto: the durations in this bucket and those below; n: the quadruple's durations.
  SELECT caller, caller_func, callee, callee_func, floor_ns, c, errs,
    sum(c) OVER (PARTITION BY caller, caller_func, callee, callee_func
      ORDER BY floor_ns ASC NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto,
    sum(CASE WHEN floor_ns IS NULL THEN 0 ELSE c END) OVER (
      PARTITION BY caller, caller_func, callee, callee_func) AS n
  FROM buckets
),
holding AS (
  -- Nearest rank: the p-th percentile of n durations is the one at the least place with
  -- place*100 >= p*n; at50 and at99 mark the bucket holding that place.
  SELECT caller, caller_func, callee, callee_func, floor_ns, c, errs, n, upto - c AS below,
    floor_ns IS NOT NULL AND (upto - c) * 100 < 50 * n AND upto * 100 >= 50 * n AS at50,
    floor_ns IS NOT NULL AND (upto - c) * 100 < 99 * n AND upto * 100 >= 99 * n AS at99
  FROM runs
),
figures AS (
  -- Beyond 16,384 durations analyze reports the floor of the bucket holding the place.
  SELECT caller, caller_func, callee, callee_func,
    CAST(sum(c) AS BIGINT) AS calls, CAST(sum(errs) AS BIGINT) AS errors, max(n) AS n,
    min(CASE WHEN at50 THEN floor_ns END) AS b50,
    min(CASE WHEN at99 THEN floor_ns END) AS b99
  FROM holding
  GROUP BY caller, caller_func, callee, callee_func
),
ranked AS (
  -- Up to 16,384 durations, the exact value: the durations of the buckets holding the places
  -- (a join with a few rows per quadruple), ranked within their bucket.
  SELECT f.caller, f.caller_func, f.callee, f.callee_func, f.duration_ns, h.n, h.at50, h.at99,
    h.below + CAST(row_number() OVER (
      PARTITION BY f.caller, f.caller_func, f.callee, f.callee_func, f.floor_ns
      ORDER BY f.duration_ns ASC NULLS LAST) AS BIGINT) AS place
  FROM floored f
  JOIN holding h
    ON f.caller IS NOT DISTINCT FROM h.caller AND f.caller_func IS NOT DISTINCT FROM h.caller_func
    AND f.callee IS NOT DISTINCT FROM h.callee AND f.callee_func IS NOT DISTINCT FROM h.callee_func
    AND f.floor_ns = h.floor_ns
  WHERE h.n <= 16384 AND (h.at50 OR h.at99)
),
exact AS (
  SELECT caller, caller_func, callee, callee_func,
    min(CASE WHEN at50 AND place * 100 >= 50 * n THEN duration_ns END) AS p50,
    min(CASE WHEN at99 AND place * 100 >= 99 * n THEN duration_ns END) AS p99
  FROM ranked
  GROUP BY caller, caller_func, callee, callee_func
)
SELECT f.caller, f.caller_func, f.callee, f.callee_func, f.calls AS count, f.errors,
  CASE WHEN f.n > 16384 THEN f.b50 ELSE x.p50 END / 1e6 AS p50_ms,
  CASE WHEN f.n > 16384 THEN f.b99 ELSE x.p99 END / 1e6 AS p99_ms
FROM figures f
LEFT JOIN exact x
  ON f.caller IS NOT DISTINCT FROM x.caller AND f.caller_func IS NOT DISTINCT FROM x.caller_func
  AND f.callee IS NOT DISTINCT FROM x.callee AND f.callee_func IS NOT DISTINCT FROM x.callee_func
ORDER BY f.calls DESC, f.caller ASC NULLS FIRST, f.caller_func ASC NULLS FIRST,
  f.callee ASC NULLS FIRST, f.callee_func ASC NULLS FIRST
