-- View route_by_method(service, path, method, route): rule 1 of schema/EXPORT.md, per service,
-- raw path and method, the route most of its ended requests were served under. A row exists
-- whenever such a request ended, also when the winner is "no route" (route null): a lookup
-- that finds a row takes its route, null or not, and does not fall back to route_by_path
-- (report/routes.rs `Funcs::route`).
WITH votes AS (
  SELECT service, path, method, route, count(*) AS n
  FROM requests
  WHERE ended AND path IS NOT NULL AND method IS NOT NULL
  GROUP BY service, path, method, route
),
ranked AS (
  SELECT service, path, method, route,
    -- The tie rule of `winner`: most votes, then a route over none, then the least by bytes.
    row_number() OVER (
      PARTITION BY service, path, method
      ORDER BY n DESC, CASE WHEN route IS NULL THEN 1 ELSE 0 END, route
    ) AS place
  FROM votes
)
SELECT service, path, method, route FROM ranked WHERE place = 1
