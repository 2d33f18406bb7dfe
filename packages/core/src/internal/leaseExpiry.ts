/** The backoff of a run whose lease expired for the n-th time (documented on `JobStore.leaseExpiryBackoff`). */
export const leaseExpiryBackoff = (expiries: number, random: number): number =>
  Math.floor(Math.min(1_000 * 2 ** Math.max(0, expiries - 1), 300_000) * (0.5 + random))
