// The largest dollar amount a price (per million tokens) or a budget limit may be: beyond any
// real one, and far from float8's edge (the largest double itself failed to store).
export const MAX_USD = 1_000_000_000;
