// The sync engine's pure maths: clock-offset estimation and the playback controller.
// No DOM, no clock reads: every function maps numbers to numbers, so the same test vectors
// check this file (in Chromium) and its Python twin, shared/timing.py.

export const SEEK_THRESHOLD = 1.0; // s: further off than this, seek instead of nudging the rate
export const DEADBAND_ENTER = 0.008; // s: at rest once the error is this small...
export const DEADBAND_EXIT = 0.02; // s: ...and stay at rest until it grows past this
export const MAX_RATE_DELTA = 0.05; // playback rate stays within 1 ± 5 %
export const GAIN = 0.5; // rate change per second of error: 40 ms off -> 2 % faster or slower
export const RATE_STEP = 0.01; // largest rate change per control step, so changes are smooth
export const KEEP_SAMPLES = 3; // the lowest-delay clock samples the estimate is taken from

// One round trip to the server's clock. t0/t1: local monotonic ms around the request;
// serverTime: the server's Unix seconds. Assumes the reply took half the round trip.
export function clockSample(t0, serverTime, t1) {
  return { rtt: t1 - t0, offset: serverTime * 1000 - (t0 + t1) / 2 };
}

// The offset (server ms - local ms) from the samples with the least delay: those had the least
// room for queueing to make the two directions unequal. Median, to shrug off one outlier.
export function estimateOffset(samples, keep = KEEP_SAMPLES) {
  if (samples.length === 0) return null;
  const best = [...samples].sort((a, b) => a.rtt - b.rtt).slice(0, keep);
  const offsets = best.map((s) => s.offset).sort((a, b) => a - b);
  const mid = Math.floor(offsets.length / 2);
  return offsets.length % 2 ? offsets[mid] : (offsets[mid - 1] + offsets[mid]) / 2;
}

const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

// One controller step. error: media position minus where the schedule says it should be (s);
// positive means ahead. prev: {rate, resting} from the previous step.
// Returns {seek, rate, resting}: seek only when far off; otherwise a rate close to 1 that moves
// at most RATE_STEP per step, and exactly 1 inside the deadband (so it never hunts).
export function controlStep(error, prev = { rate: 1, resting: false }) {
  if (!Number.isFinite(error) || Math.abs(error) > SEEK_THRESHOLD) {
    return { seek: true, rate: 1, resting: false };
  }
  const magnitude = Math.abs(error);
  const resting = prev.resting ? magnitude <= DEADBAND_EXIT : magnitude <= DEADBAND_ENTER;
  const target = resting ? 1 : 1 - clamp(GAIN * error, -MAX_RATE_DELTA, MAX_RATE_DELTA);
  const rate = clamp(target, prev.rate - RATE_STEP, prev.rate + RATE_STEP);
  return { seek: false, rate: Math.round(rate * 10000) / 10000, resting };
}

// Which item of the schedule plays at serverNow: the last one that has started.
export function itemAt(items, serverNow) {
  let found = null;
  for (const item of items) {
    if (item && item.start_time <= serverNow && (!found || item.start_time >= found.start_time)) {
      found = item;
    }
  }
  return found ?? items.find(Boolean) ?? null;
}
