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
ranked AS (
  SELECT caller, caller_func, callee, callee_func, failed, duration_ns,
    count(duration_ns) OVER (PARTITION BY caller, caller_func, callee, callee_func) AS n,
    CAST(row_number() OVER (
      PARTITION BY caller, caller_func, callee, callee_func
      ORDER BY duration_ns ASC NULLS LAST) AS BIGINT) AS place
  FROM counted
),
figures AS (
  -- Nearest rank: the p-th percentile of n durations is the least with place*100 >= p*n.
  SELECT caller, caller_func, callee, callee_func,
    count(*) AS calls,
    sum(CASE WHEN failed THEN 1 ELSE 0 END) AS errors,
    max(n) AS n,
    min(CASE WHEN duration_ns IS NOT NULL AND place * 100 >= 50 * n THEN duration_ns END) AS p50,
    min(CASE WHEN duration_ns IS NOT NULL AND place * 100 >= 99 * n THEN duration_ns END) AS p99
  FROM ranked
  GROUP BY caller, caller_func, callee, callee_func
),
bits AS (
  -- Beyond 16,384 durations analyze reports the floor of the value's histogram bucket: the
  -- value with all but its top eight significant bits cleared. e: its highest set bit
  -- (log2 in doubles, corrected by one either way where rounding misses a power of two).
  SELECT f.*,
    CAST(floor(log2(CAST(greatest(coalesce(p50, 256), 256) AS DOUBLE))) AS BIGINT) AS e50,
    CAST(floor(log2(CAST(greatest(coalesce(p99, 256), 256) AS DOUBLE))) AS BIGINT) AS e99
  FROM figures f
),
exps AS (
  SELECT b.*,
    e50 - CASE WHEN power(2, e50) > p50 THEN 1 ELSE 0 END
      + CASE WHEN power(2, e50 + 1) <= p50 THEN 1 ELSE 0 END AS x50,
    e99 - CASE WHEN power(2, e99) > p99 THEN 1 ELSE 0 END
      + CASE WHEN power(2, e99 + 1) <= p99 THEN 1 ELSE 0 END AS x99
  FROM bits b
)
SELECT caller, caller_func, callee, callee_func, calls AS count, errors,
  CASE WHEN n > 16384 AND p50 >= 256
    THEN p50 - p50 % CAST(power(2, x50 - 7) AS BIGINT) ELSE p50 END / 1e6 AS p50_ms,
  CASE WHEN n > 16384 AND p99 >= 256
    THEN p99 - p99 % CAST(power(2, x99 - 7) AS BIGINT) ELSE p99 END / 1e6 AS p99_ms
FROM exps
ORDER BY calls DESC, caller ASC NULLS FIRST, caller_func ASC NULLS FIRST,
  callee ASC NULLS FIRST, callee_func ASC NULLS FIRST
