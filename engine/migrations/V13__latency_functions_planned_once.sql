-- The latency histogram's functions (V7) in PL/pgSQL: as SQL functions that cannot be
-- inlined, their bodies were parsed and planned again by every statement that counts what
-- ended (each journal flush, each single payouts' group): 8 % of PostgreSQL's CPU in a
-- profile of the mixed load test. PL/pgSQL keeps each body's plan for the session. Same
-- results.

CREATE OR REPLACE FUNCTION payrail_latency_histogram(latencies bigint[]) RETURNS bigint[]
    LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN (SELECT array_agg(coalesce(h.n, 0) ORDER BY b.i)
              FROM generate_series(1, 72) AS b (i)
              LEFT JOIN (SELECT width_bucket(ms, payrail_latency_bounds()) + 1 AS i, count(*) AS n
                           FROM unnest(latencies) AS ms GROUP BY 1) AS h USING (i));
END
$$;

CREATE OR REPLACE FUNCTION payrail_latency_add(a bigint[], b bigint[]) RETURNS bigint[]
    LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN (SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i)
              FROM unnest(a, b) WITH ORDINALITY AS h (x, y, i));
END
$$;
