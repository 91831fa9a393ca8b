// Dollar amounts as clients read them: sums of float costs leave residue (0.1 + 0.2 gives
// 0.30000000000000004, a workflow's 10.799999999999994), so they are rounded to 1e-9 USD,
// far below any real call's cost, where they leave the service.
export const roundUsd = (usd: number): number => Math.round(usd * 1e9) / 1e9;
