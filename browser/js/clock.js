// ServerClock: NTP-style estimate of the server's clock from round trips to /time. The page
// never trusts its own wall clock: it measures on performance.now() (monotonic) and adds the
// estimated offset, so a device whose clock is an hour off still plays on the right frame.
// The round trip is timed by the network stack (Resource Timing) where it can be, so a busy or
// throttled main thread does not lengthen one direction; the script's own reads around fetch()
// bound what the network stack says (see estimateOffset), since engines fill it differently.

import { boundedSample, estimateOffset } from "./timing.js";

const CLOCK_REFRESH = [2000, 6000, 15000]; // ms between clock re-measurements (then the last)
const MAX_SAMPLES = 24; // clock samples remembered (old ones age out as the path changes)

export class ServerClock {
  constructor(url = "/time") {
    this.url = url;
    this.samples = [];
    this.offset = null; // server ms - performance.now() ms
    this.count = 0;
    this.timer = null;
    this.waiting = new Map(); // absolute URL -> resolve(PerformanceResourceTiming)
    try {
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) this.waiting.get(entry.name)?.(entry);
      }).observe({ type: "resource" });
    } catch {
      // no Resource Timing: the round trip is timed in JS
    }
  }

  // The network stack's own timestamps for a request (the observer sees them even when the
  // page's resource timing buffer is full); null if they do not come within timeoutMs.
  timing(url, timeoutMs) {
    return new Promise((resolve) => {
      const done = (entry) => {
        this.waiting.delete(url);
        clearTimeout(timer);
        resolve(entry);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      this.waiting.set(url, done);
    });
  }

  async sample() {
    this.count += 1;
    const url = new URL(`${this.url}?n=${this.count}`, location.href).href; // unique: findable
    const timing = this.timing(url, 300);
    const t0 = performance.now();
    const response = await fetch(url, { cache: "no-store" });
    const { server_time: serverTime } = await response.json();
    const t1 = performance.now();
    const entry = await timing;
    const precise = entry && entry.requestStart > 0 && entry.responseStart >= entry.requestStart;
    this.samples.push(
      precise
        ? boundedSample(entry.requestStart, serverTime, entry.responseStart, t0, t1)
        : boundedSample(t0, serverTime, t1, t0, t1),
    );
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    this.offset = estimateOffset(this.samples);
  }

  // Several quick round trips; resolves once an estimate exists. Failures are retried later.
  async sync(count = 5) {
    for (let i = 0; i < count; i += 1) {
      try {
        await this.sample();
      } catch {
        break; // the server is away: keep the previous estimate, the refresh timer retries
      }
    }
    return this.offset !== null;
  }

  // Re-measure soon after start (the first samples compete with the page loading), then
  // every CLOCK_REFRESH ms.
  start(round = 0) {
    clearTimeout(this.timer);
    const delay = CLOCK_REFRESH[Math.min(round, CLOCK_REFRESH.length - 1)];
    this.timer = setTimeout(() => this.sync(3).finally(() => this.start(round + 1)), delay);
  }

  get ready() {
    return this.offset !== null;
  }

  get rtt() {
    return this.samples.length ? Math.min(...this.samples.map((s) => s.rtt)) : null;
  }

  now() {
    return (performance.now() + this.offset) / 1000; // server seconds
  }
}
