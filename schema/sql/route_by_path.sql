-- View route_by_path(service, path, route): rule 1 of schema/EXPORT.md for any method: the
-- route most of a service's ended requests for a raw path were served under (see
-- route_by_method.sql for the tie rule and null routes).
WITH votes AS (
  SELECT service, path, route, count(*) AS n
  FROM requests
  WHERE ended AND path IS NOT NULL
  GROUP BY service, path, route
),
ranked AS (
  SELECT service, path, route,
    row_number() OVER (
      PARTITION BY service, path
      ORDER BY n DESC, CASE WHEN route IS NULL THEN 1 ELSE 0 END, route
    ) AS place
  FROM votes
)
SELECT service, path, route FROM ranked WHERE place = 1
