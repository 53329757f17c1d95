// The client sync engine, shared by `/` and `/ambient` (and so the kiosk).
//
// - ServerClock: NTP-style estimate of the server's clock from round trips to /time. The page
//   never trusts its own wall clock: it measures on performance.now() (monotonic) and adds the
//   estimated offset, so a device whose clock is an hour off still plays on the right frame.
// - SyncPlayer: plays the channel's schedule in two stacked <video> elements. The next video is
//   preloaded, paused on its first frame, in the hidden one and started at its exact start time,
//   then shown once its first frame is up: no black gap at a switch. While playing, a controller
//   (timing.js) nudges playbackRate within ±5 % for small errors and seeks only when far off.
//
// Position on the schedule = server now - start_time of the item. That is all the server sends.

import { clockSample, controlStep, estimateOffset, itemAt } from "./timing.js";

const CONTROL_INTERVAL = 250; // ms between controller steps
const CLOCK_REFRESH = 15000; // ms between clock re-measurements
const MAX_SAMPLES = 24; // clock samples remembered (old ones age out as the path changes)

export class ServerClock {
  constructor(url = "/time") {
    this.url = url;
    this.samples = [];
    this.offset = null; // server ms - performance.now() ms
    this.timer = null;
  }

  async sample() {
    const t0 = performance.now();
    const response = await fetch(this.url, { cache: "no-store" });
    const { server_time: serverTime } = await response.json();
    const t1 = performance.now();
    this.samples.push(clockSample(t0, serverTime, t1));
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    this.offset = estimateOffset(this.samples);
  }

  // Several quick round trips; resolves once an estimate exists. Failures are retried later.
  async sync(count = 6) {
    for (let i = 0; i < count; i += 1) {
      try {
        await this.sample();
      } catch {
        break; // the server is away: keep the previous estimate, the refresh timer retries
      }
    }
    return this.offset !== null;
  }

  start() {
    if (!this.timer) this.timer = setInterval(() => this.sync(3), CLOCK_REFRESH);
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

// One <video> element and what it holds.
class Deck {
  constructor(element) {
    this.el = element;
    this.item = null;
    this.frame = null; // {mediaTime, displayTime} of the last presented frame
    this.watchFrames();
  }

  watchFrames() {
    if (!("requestVideoFrameCallback" in HTMLVideoElement.prototype)) return;
    const onFrame = (now, meta) => {
      this.frame = { mediaTime: meta.mediaTime, displayTime: meta.expectedDisplayTime ?? now };
      this.el.requestVideoFrameCallback(onFrame);
    };
    this.el.requestVideoFrameCallback(onFrame);
  }

  load(item) {
    this.item = item;
    this.frame = null;
    this.el.poster = item.poster || ""; // a frame to show while loading, never black
    this.el.src = item.video_url;
    this.el.preload = "auto";
    this.el.load();
  }

  // Media position now, to well under a frame: the last presented frame's timestamp carried
  // forward by the time since it was shown (currentTime alone moves in coarse steps).
  position() {
    const el = this.el;
    if (this.frame && !el.paused && !el.seeking) {
      const since = (performance.now() - this.frame.displayTime) / 1000;
      if (since >= -0.1 && since < 0.25) return this.frame.mediaTime + since * el.playbackRate;
    }
    return el.currentTime;
  }
}

const once = (el, name, timeoutMs) =>
  new Promise((resolve) => {
    const done = (ok) => {
      el.removeEventListener(name, onEvent);
      clearTimeout(timer);
      resolve(ok);
    };
    const onEvent = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    el.addEventListener(name, onEvent);
  });

export class SyncPlayer {
  // videos: two <video> elements stacked in the same place. hooks: {onItem, onMuted}
  constructor(videos, clock, hooks = {}) {
    this.decks = videos.map((el) => new Deck(el));
    this.active = this.decks[0];
    this.clock = clock;
    this.hooks = hooks;
    this.items = []; // [current, next] from the server
    this.control = { rate: 1, resting: false };
    this.muted = false;
    this.seeks = 0;
    this.busy = false; // a join/seek is under way on the active deck
    this.seekLead = 0.3; // s ahead to seek to, learnt from how long seeks take here
    this.switchTimer = null;
    this.shownItemId = null;
    for (const deck of this.decks) {
      deck.el.playsInline = true;
      deck.el.addEventListener("error", () => this.onMediaError(deck));
    }
    this.layer(this.active);
    setInterval(() => this.tick(), CONTROL_INTERVAL);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.clock.sync(3).then(() => this.tick());
    });
  }

  // New state from the server: the current item and the one after it.
  setSchedule(current, next) {
    this.items = [current, next].filter((item) => item && item.id);
    this.tick();
  }

  standby() {
    return this.decks.find((deck) => deck !== this.active);
  }

  layer(top) {
    for (const deck of this.decks) {
      deck.el.classList.toggle("front", deck === top);
    }
  }

  tick() {
    if (!this.clock.ready) return;
    const now = this.clock.now();
    const item = itemAt(this.items, now);
    if (!item) return;
    if (this.active.item?.id !== item.id || this.active.item.start_time !== item.start_time) {
      const standby = this.standby();
      if (standby.item?.id === item.id && standby.item.start_time === item.start_time) {
        this.swap();
      } else {
        this.join(this.active, item);
      }
    } else if (!this.busy) {
      this.steer(item, now);
    }
    this.preload(now);
    this.announce(item);
  }

  announce(item) {
    if (this.shownItemId !== `${item.id}@${item.start_time}`) {
      this.shownItemId = `${item.id}@${item.start_time}`;
      this.hooks.onItem?.(item);
    }
  }

  // Keep the following item loaded and paused on its first frame in the hidden deck, and arm a
  // timer for its exact start.
  preload(now) {
    const upcoming = this.items.find((item) => item.start_time > now);
    if (!upcoming) return;
    const standby = this.standby();
    if (standby.item?.id !== upcoming.id || standby.item.start_time !== upcoming.start_time) {
      standby.load(upcoming);
      standby.el.pause();
      standby.el.muted = true;
      standby.el.currentTime = 0;
      clearTimeout(this.switchTimer);
      this.switchTimer = null;
    }
    if (!this.switchTimer) {
      const wait = (upcoming.start_time - now) * 1000;
      this.switchTimer = setTimeout(() => {
        this.switchTimer = null;
        this.tick();
      }, Math.max(0, wait));
    }
  }

  // The preloaded deck starts now; it goes in front once it shows a frame, so the old video's
  // last frame stays up meanwhile instead of a black screen.
  swap() {
    const previous = this.active;
    const next = this.standby();
    this.active = next;
    this.control = { rate: 1, resting: false };
    next.el.playbackRate = 1;
    next.el.muted = this.muted;
    const shown = () => {
      this.layer(next);
      previous.el.pause();
    };
    if ("requestVideoFrameCallback" in next.el) next.el.requestVideoFrameCallback(shown);
    else next.el.addEventListener("playing", shown, { once: true });
    setTimeout(shown, 300); // never keep the old one up for long if frames are not reported
    this.start(next);
    const offset = this.clock.now() - next.item.start_time;
    if (Math.abs(offset - next.el.currentTime) > 0.1) this.join(next, next.item); // late swap
  }

  // Seek so that playback starts exactly on schedule: seek a little ahead, wait on that frame
  // until the schedule gets there, then play. The lead adapts to how slow seeks are here.
  async join(deck, item) {
    if (deck.item !== item) {
      deck.load(item);
      this.layer(deck);
    }
    if (this.busy) return;
    this.busy = true;
    this.seeks += 1;
    try {
      for (let attempt = 0; attempt < 4 && deck.item === item; attempt += 1) {
        deck.el.pause();
        const target = this.clock.now() - item.start_time + this.seekLead;
        if (target >= item.duration - 0.05) break; // too close to the end: wait for the next
        const started = performance.now();
        deck.el.currentTime = Math.max(0, target);
        await once(deck.el, "seeked", 5000);
        const waitMs = (item.start_time + Math.max(0, target) - this.clock.now()) * 1000;
        if (waitMs >= 0) {
          await new Promise((resolve) => setTimeout(resolve, waitMs));
          this.control = { rate: 1, resting: false };
          deck.el.playbackRate = 1;
          await this.start(deck);
          break;
        }
        // The seek took longer than the lead: aim further ahead next time.
        this.seekLead = Math.min(3, ((performance.now() - started) / 1000) * 1.5 + 0.1);
      }
    } finally {
      this.busy = false;
    }
  }

  // Play; unmuted when the browser allows it, else muted (and say so, for a "tap for sound").
  async start(deck) {
    deck.el.muted = this.muted;
    try {
      await deck.el.play();
    } catch (error) {
      if (error.name !== "NotAllowedError" || this.muted) return;
      this.setMuted(true);
      await deck.el.play().catch(() => {});
    }
  }

  setMuted(muted) {
    this.muted = muted;
    this.active.el.muted = muted;
    this.hooks.onMuted?.(muted);
  }

  async unmute() {
    this.setMuted(false);
    await this.start(this.active);
  }

  steer(item, now) {
    const el = this.active.el;
    if (el.readyState < 2) return;
    const expected = now - item.start_time;
    if (expected >= item.duration) return; // past its end: the next item takes over
    const error = this.active.position() - expected;
    if (el.paused && !el.ended) {
      this.start(this.active);
    }
    const step = controlStep(error, this.control);
    this.control = step;
    if (step.seek) {
      this.join(this.active, item);
    } else if (el.playbackRate !== step.rate) {
      el.playbackRate = step.rate;
    }
  }

  onMediaError(deck) {
    // A failed load (e.g. the server restarting): forget it so the next tick loads it afresh.
    if (deck.item) setTimeout(() => { deck.item = null; this.tick(); }, 1000);
  }

  status() {
    const item = this.active.item;
    const ready = this.clock.ready && !!item;
    const expected = ready ? this.clock.now() - item.start_time : null;
    const position = ready ? this.active.position() : null;
    const el = this.active.el;
    return {
      ready,
      playing: ready && !el.paused && !el.seeking && el.readyState >= 3,
      videoId: item?.id ?? null,
      title: item?.title ?? null,
      position,
      expected,
      offsetMs: ready ? (position - expected) * 1000 : null,
      rate: el.playbackRate,
      seeks: this.seeks,
      muted: this.muted,
      clockOffsetMs: this.clock.offset,
      rttMs: this.clock.rtt,
    };
  }
}
