-- Hand-written: the planner's estimate of how many agents a name pattern matches (from the
-- finer name statistics of 20261121101225), for agents(search:) totalCount past its exact cap.
CREATE FUNCTION agents_matching_estimate(pattern text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE format('EXPLAIN (FORMAT JSON) SELECT 1 FROM agents WHERE name ILIKE %L', pattern) INTO plan;
  RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$;
