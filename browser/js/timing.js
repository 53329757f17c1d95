// The sync engine's pure maths: clock offset, frame error, start latency and the controller.
// No DOM, no clock reads: every function maps numbers to numbers, so the same test vectors
// (tests/timing_vectors.json) check this file in Chromium and its Python twin, shared/timing.py.
//
// Units: local times (performance.now()) in ms, server times and media times in seconds.
// An error is media position minus where the schedule says it should be, in s; + is ahead.

export const SEEK_THRESHOLD = 1.0; // s: further off than this, seek instead of nudging the rate
export const STALL_SEEK_THRESHOLD = 0.25; // s: after a stall, seek back in from this far off
export const DEADBAND_ENTER = 0.006; // s: at rest once the error is this small...
export const DEADBAND_EXIT = 0.018; // s: ...and stay at rest until it grows past this
export const MAX_RATE_DELTA = 0.05; // playback rate stays within 1 ± 5 %
export const GAIN = 0.8; // rate change per second of error: 25 ms off -> 2 % faster or slower
export const RATE_STEP = 0.01; // largest rate change per control step, so changes are smooth
export const REST_OFFSET = 0.003; // the rate never comes closer to 1 than this (see controlStep)
export const REST_SWING = 0.0015; // s: at rest, the slow drift turns round this far past 0
export const KEEP_SAMPLES = 3; // the lowest-delay clock samples the estimate is taken from
export const BOUND_SAMPLES = 8; // the latest samples whose script-timed brackets bound the offset
export const BOUND_SLACK = 1; // ms: coarse timers (Firefox rounds performance.now() to 1 ms)
export const FRAME_WINDOW = 300; // ms of recent presented frames the error is taken from
export const LATENCY_GAIN = 0.5; // how fast the learnt start latency follows what it observes
export const LATENCY_STEP = 0.03; // s: most it moves per start (one starved start teaches little)
export const MAX_LATENCY = 0.4; // s: bounds of the learnt start latency
export const MIN_LEAD = 0.12; // s: bounds of the seek lead (how far ahead a join seeks)
export const MAX_LEAD = 3.0;
export const PRESENTATION_MIN = 8; // readings before the frames-vs-media-clock lag is trusted
export const PRESENTATION_MAX = 0.05; // s: larger differences are hitches, not the pipeline's lag
export const RATE_COST_MIN = 3; // rate changes observed before their cost is trusted
export const RATE_COST_LIMIT = 0.01; // s: a rate change that moves playback more is a hitch
export const STILL_BAND = 0.035; // s: with costly rate changes, an error this large re-joins
export const MAX_FRAME = 0.2; // s: media steps longer than this between frames are jumps, not frames

const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// One round trip to the server's clock. t0/t1: local ms when the request left and the reply
// arrived; serverTime: the server's Unix seconds. Assumes the reply took half the round trip.
export function clockSample(t0, serverTime, t1) {
  return { rtt: t1 - t0, offset: serverTime * 1000 - (t0 + t1) / 2 };
}

// A sample timed by the network stack (Resource Timing: requestStart, responseStart), with the
// bounds that the script's own reads around fetch() (t0, t1) put on the offset: the server read
// its clock after t0 and before t1, whatever any engine's network stack reports.
export function boundedSample(requestStart, serverTime, responseStart, t0, t1) {
  const sample = clockSample(requestStart, serverTime, responseStart);
  const server = serverTime * 1000;
  return { ...sample, lo: server - t1 - BOUND_SLACK, hi: server - t0 + BOUND_SLACK };
}

// The offset (server ms - local ms) from the samples with the least delay: those had the least
// room for queueing to make the two directions unequal. Median, to shrug off one outlier.
// Samples with bounds (lo, hi: ms) must agree with all of the latest BOUND_SAMPLES brackets:
// a network stack that stamps a request late (seen in Firefox, both stamps equal and tens of
// ms late) looks like the quickest sample of all, and only the script's brackets expose it.
export function estimateOffset(samples, keep = KEEP_SAMPLES) {
  if (samples.length === 0) return null;
  const bracketed = samples.slice(-BOUND_SAMPLES).filter((s) => s.lo !== undefined);
  const lo = Math.max(...bracketed.map((s) => s.lo));
  const hi = Math.min(...bracketed.map((s) => s.hi));
  const bounded = bracketed.length > 0 && lo <= hi; // else the server's clock stepped: ignore
  const fits = samples.filter((s) => !bounded || (s.offset >= lo && s.offset <= hi));
  if (fits.length === 0) return (lo + hi) / 2;
  const best = [...fits].sort((a, b) => a.rtt - b.rtt).slice(0, keep);
  return median(best.map((s) => s.offset));
}

// How far the picture is from the schedule now, from the frames the compositor presented:
// frames [{media (s), display (local ms)}], each one's error carried forward to nowMs at the
// current rate. The median of the recent ones ignores one frame shown a vsync early or late.
// null when fewer than minFrames were presented within FRAME_WINDOW ms (paused, stalled...).
export function frameError(frames, nowMs, offsetMs, startTime, rate = 1, minFrames = 1) {
  const errors = frames
    .filter((f) => nowMs - f.display <= FRAME_WINDOW)
    .map((f) => {
      const shownAt = (f.display + offsetMs) / 1000;
      return f.media - (shownAt - startTime) + ((rate - 1) * (nowMs - f.display)) / 1000;
    });
  return errors.length >= Math.max(1, minFrames) ? median(errors) : null;
}

// How long one frame of the video lasts (s), from frames presented in a row: the median step of
// their media times (a dropped frame makes one step two frames long). null with fewer than 3.
export function frameDuration(frames) {
  const steps = [];
  for (let i = 1; i < frames.length; i += 1) {
    const step = frames[i].media - frames[i - 1].media;
    if (step > 0 && step <= MAX_FRAME) steps.push(step);
  }
  return steps.length >= 2 ? median(steps) : null;
}

// The part of the frames' error (s) that steering the media clock cannot remove: the error
// wrapped into (-frame/2, frame/2]. Frames land on the display's refresh grid, and Chromium keeps
// the refresh phase a playback started with (30 fps on 60 Hz: every frame two refreshes, on even
// or odd ones) while the media clock moves up to ~17 ms either way; the clock moves the frames
// only a whole frame at a time. So a page is as close as it gets once its frames are within
// half a frame, and it holds that phase: steering toward a mean of 0 there instead (measured)
// drags the clock until the renderer drops or repeats a frame, then back, a frame's jump each
// way. A whole frame off is still steered away. 0 when the frame duration is unknown.
export function framePhase(error, frame) {
  if (!(frame > 0)) return 0;
  return error - frame * Math.ceil(error / frame - 0.5);
}

// One controller step. error: s (+ ahead). prev: {rate, resting} from the previous step.
// Returns {seek, rate, resting}: seek only when further off than seekAbove; otherwise a rate
// within 1 ± MAX_RATE_DELTA that moves at most RATE_STEP per step, proportional to the error
// outside the deadband, a slow drift toward 0 inside it (hysteresis: it never hunts the edge).
//
// Chromium stops time-stretching audio for rates within ~0.1 % of 1, and starting it again sets
// playback back ~21 ms (measured, muted or not; moving between rates outside that band costs
// nothing). A controller that rested at exactly 1 would lose that much at every correction. So
// the rate stays at least REST_OFFSET away from 1: at rest it drifts at 1 ± REST_OFFSET
// (3 ms/s) toward the schedule and turns round REST_SWING past it.
export function controlStep(error, prev = { rate: 1, resting: false }, seekAbove = SEEK_THRESHOLD) {
  if (!Number.isFinite(error) || Math.abs(error) > seekAbove) {
    return { seek: true, rate: 1 + REST_OFFSET, resting: false };
  }
  const magnitude = Math.abs(error);
  const resting = prev.resting ? magnitude <= DEADBAND_EXIT : magnitude <= DEADBAND_ENTER;
  const toward = error > 0 ? -1 : 1; // the direction that reduces the error
  let target;
  if (resting) {
    let drift = prev.resting ? Math.sign(prev.rate - 1) || toward : toward;
    if (magnitude > REST_SWING) drift = toward;
    target = 1 + drift * REST_OFFSET;
  } else {
    target = 1 - clamp(GAIN * error, -MAX_RATE_DELTA, MAX_RATE_DELTA);
  }
  let rate = clamp(target, prev.rate - RATE_STEP, prev.rate + RATE_STEP);
  if (Math.abs(rate - 1) < REST_OFFSET) rate = 1 + (Math.sign(rate - 1) || toward) * REST_OFFSET;
  return { seek: false, rate: Math.round(rate * 10000) / 10000, resting };
}

// The start latency: play() was called leadUsed s before the schedule reached the paused
// position, and the first frames came out observedError s off (- late). The real latency was
// leadUsed - observedError; move the estimate part of the way there, by LATENCY_STEP at most.
export function learnLatency(latency, leadUsed, observedError) {
  const seen = leadUsed - observedError;
  const step = clamp(LATENCY_GAIN * (seen - latency), -LATENCY_STEP, LATENCY_STEP);
  return clamp(latency + step, 0, MAX_LATENCY);
}

// How far ahead of the schedule a join seeks: enough to cover the seek (tookSeconds, the last
// one's duration) with a margin, following fast seeks down as well as slow ones up.
export function nextSeekLead(lead, tookSeconds) {
  const wanted = tookSeconds * 1.5 + 0.08;
  return clamp(wanted > lead ? wanted : (lead + wanted) / 2, MIN_LEAD, MAX_LEAD);
}

// How far the frames on screen trail the media clock (s; + : frames behind), from recent
// readings of both errors' difference: engines report currentTime differently against the
// frame they show (Firefox's frames trail it by ~7 ms, measured). A mean, not a median: frames
// land on a vsync grid, so the readings are two-valued (a vsync apart) and a median would flip
// between the two. null until PRESENTATION_MIN readings within PRESENTATION_MAX (a stall is
// not lag).
export function presentationLag(differences) {
  const usable = differences.filter((d) => Math.abs(d) <= PRESENTATION_MAX);
  if (usable.length < PRESENTATION_MIN) return null;
  return usable.reduce((sum, d) => sum + d, 0) / usable.length;
}

// What a playbackRate change costs here (s; - : playback set back), from the unexplained
// error steps right after each change: residual = error - previous error - (rate - 1) * dt.
// Measured: ~0 in Firefox, ~0 in Chromium outside its band around 1 (-21 ms crossing it),
// -20 to -560 ms in WebKitGTK (each change is a flushing pipeline seek). null until
// RATE_COST_MIN changes were seen.
export function rateChangeCost(residuals) {
  return residuals.length >= RATE_COST_MIN ? median(residuals) : null;
}

// One step where rate changes cost more than they correct: the rate stays at 1 and an error
// beyond STILL_BAND (a frame at 30 fps) re-joins, a seek timed by the learnt start latency.
export function stillStep(error, seekAbove = STILL_BAND) {
  const seek = !Number.isFinite(error) || Math.abs(error) > seekAbove;
  return { seek, rate: 1, resting: !seek };
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
