// The client sync engine, shared by `/` and `/ambient` (and so the kiosk).
//
// - ServerClock (clock.js) says what time it is on the server; the page never trusts its own.
// - SyncPlayer: plays the channel's schedule in two stacked <video> elements (decks). The next
//   item is preloaded, paused on its first frame, in the hidden deck and started at its exact
//   start time; it goes in front at that instant, so a switch shows no black gap. A join seeks a
//   little ahead, waits on that frame and plays so that the frame is shown when it is due.
//   play() takes a while to get the media clock going (audio output starting, 30-150 ms): the
//   engine calls it that much early and learns the figure from each start.
// - While playing, a controller (timing.js) steers the media clock (currentTime, read at every
//   presented frame, median of the last 300 ms) with playbackRate within ±5 %, never within
//   0.3 % of 1 (Chromium loses ~21 ms each time it re-enters time-stretching), and seeks only
//   when far off (> 1 s, or > 0.25 s after a stall). requestVideoFrameCallback tells what is on
//   screen: it detects stalls and is what status() reports; its error moves in whole vsyncs,
//   so it is not fed back directly: what is steered is the media clock less the lag of the
//   frames behind it, learnt here (engines report currentTime differently against the frame
//   they show), less the refresh phase the frames hold within half a frame (timing.js
//   framePhase: moving the clock moves them a whole frame, never one refresh).
// - Each engine is measured, not named: the start latency, that lag, and what a rate change
//   costs. Where a change sets playback back (WebKitGTK: every change is a pipeline seek,
//   20-560 ms lost), the player goes still: rate 1, and a timed re-join when a frame off.
//
// Position on the schedule = server now - start_time of the item. That is all the server sends.

import {
  controlStep,
  frameDuration,
  frameError,
  framePhase,
  itemAt,
  learnLatency,
  MAX_RATE_DELTA,
  nextSeekLead,
  presentationLag,
  RATE_COST_LIMIT,
  rateChangeCost,
  REST_OFFSET,
  SEEK_THRESHOLD,
  STALL_SEEK_THRESHOLD,
  stillStep,
} from "./timing.js";

const CONTROL_INTERVAL = 250; // ms between controller steps
const START_LATENCY = 0.05; // s: first guess of play() to frames on screen, then learnt
const SEEK_LEAD = 0.25; // s: first guess of how far ahead a join seeks, then learnt
const SWITCH_EARLY = 150; // ms: the switch timer fires this early, then waits precisely
const LATE_SWITCH = 0.15; // s: a switch later than this seeks in instead of catching up
const CATCH_UP = 1.5; // s over which a start that came late makes up for it (rate <= 1.05)
const STALL_AFTER = 500; // ms without a presented frame while playing counts as a stall
const LEARN_FRAMES = 4; // frames after a start that the latency is learnt from
const PLAY_TIMEOUT = 3000; // ms: a play() whose promise never settles (WebKitGTK) stops waiting
const LAG_READINGS = 40; // frames-vs-media-clock differences kept (10 s of controller steps)
const COST_READINGS = 9; // rate changes whose cost is kept
const STILL_REJOIN_AFTER = 5000; // ms: when still, re-join at most this often

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

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

const same = (a, b) => !!a && !!b && a.id === b.id && a.start_time === b.start_time;

// One <video> element, what it holds, and the frames it recently put on screen.
class Deck {
  constructor(element) {
    this.el = element;
    this.item = null;
    this.frames = []; // [{media (s), display (local ms)}] presented while playing
    this.clock = []; // [{media: currentTime (s), display: when it was read (local ms)}]
    this.stalled = false;
    this.stalls = 0; // playback stopped for want of data or frames (reported by screen.js)
    this.onFrame = null; // a waiter for the next frames (see frameAfter)
    element.playsInline = true;
    element.addEventListener("seeking", () => this.forget());
    element.addEventListener("emptied", () => this.forget());
    element.addEventListener("waiting", () => this.stall());
    this.watchFrames();
  }

  watchFrames() {
    if (!("requestVideoFrameCallback" in HTMLVideoElement.prototype)) return;
    const onFrame = (now, meta) => {
      if (!this.el.paused && !this.el.seeking) {
        this.frames.push({ media: meta.mediaTime, display: meta.expectedDisplayTime ?? now });
        if (this.frames.length > 30) this.frames.shift();
        this.readClock();
        this.onFrame?.();
      }
      this.el.requestVideoFrameCallback(onFrame);
    };
    this.el.requestVideoFrameCallback(onFrame);
  }

  stall() {
    if (!this.stalled && !this.el.paused && !this.el.seeking) this.stalls += 1;
    this.stalled = true;
  }

  forget() {
    this.frames = [];
    this.clock = [];
  }

  // One reading of the media clock, kept if nothing preempted the thread between its parts.
  // Single readings jitter by a few ms while audio is time-stretched: the error is a median.
  readClock() {
    const before = performance.now();
    const media = this.el.currentTime;
    const after = performance.now();
    if (after - before > 2) return;
    this.clock.push({ media, display: (before + after) / 2 });
    if (this.clock.length > 30) this.clock.shift();
  }

  load(item) {
    this.item = item;
    this.forget();
    this.stalled = false;
    this.el.poster = item.poster || ""; // a frame to show while loading, never black
    this.el.src = item.video_url;
    this.el.preload = "auto";
    this.el.load();
  }

  async metadata(timeoutMs) {
    if (this.el.readyState < 1) await once(this.el, "loadedmetadata", timeoutMs);
  }

  // The first `count` frames presented after media time `after` (fewer on timeout).
  framesAfter(after, count, timeoutMs) {
    const found = () => this.frames.filter((f) => f.media > after + 0.001);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.onFrame = null;
        resolve(found().slice(0, count));
      };
      this.onFrame = () => {
        if (found().length >= count) finish();
      };
    });
  }

  fresh(nowMs) {
    const last = this.frames[this.frames.length - 1];
    return !!last && nowMs - last.display <= STALL_AFTER;
  }
}

export class SyncPlayer {
  // videos: two <video> elements stacked in the same place. hooks: {onItem, onMuted}
  constructor(videos, clock, hooks = {}) {
    this.decks = videos.map((el) => new Deck(el));
    this.active = this.decks[0]; // the deck that holds, or is about to play, the current item
    this.front = this.decks[0]; // the deck on top
    this.clock = clock;
    this.hooks = hooks;
    this.items = []; // [current, next] from the server
    this.control = { rate: 1, resting: false };
    this.muted = false;
    this.seeks = 0;
    this.busy = false; // a join (load, seek, wait, play) is under way
    this.starting = false; // a timed start is under way
    this.seekLead = SEEK_LEAD;
    this.latency = { sound: START_LATENCY, muted: START_LATENCY }; // learnt, per mute state
    this.lags = []; // media clock error - frames' error (s), per controller step
    this.lag = 0; // s: how far the frames on screen trail the media clock (learnt)
    this.costs = []; // unexplained error steps right after rate changes (s)
    this.still = false; // rate changes cost more than they correct here: rate 1, re-joins
    this.lastStep = null; // {deck, item, at, error, rate, changed}: the previous control step
    this.lastJoin = 0; // performance.now() of the last join
    this.switchTimer = null;
    this.shownItemId = null;
    this.trace = []; // the last minute of controller steps, for diagnosis
    for (const deck of this.decks) {
      deck.el.addEventListener("error", () => this.onMediaError(deck));
    }
    this.layer(this.front);
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

  other(deck) {
    return this.decks.find((d) => d !== deck);
  }

  layer(top) {
    this.front = top;
    for (const deck of this.decks) deck.el.classList.toggle("front", deck === top);
  }

  setRate(el, rate) {
    if (el.playbackRate !== rate) el.playbackRate = rate;
  }

  get startLatency() {
    return this.latency[this.muted ? "muted" : "sound"];
  }

  tick() {
    if (!this.clock.ready || this.starting) return; // a timed start owns the decks meanwhile
    const now = this.clock.now();
    const item = itemAt(this.items, now);
    if (!item) {
      for (const deck of this.decks) deck.el.pause(); // nothing to play (an empty channel)
      return;
    }
    if (!same(this.active.item, item)) {
      const standby = this.other(this.active);
      if (same(standby.item, item)) this.startNext(standby); // the switch timer was late
      else this.join(item, this.decks.find((d) => d !== this.front));
    } else if (!this.busy && !this.starting) {
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

  // Keep the following item loaded and paused on its first frame in the hidden deck, with a
  // timer to start it on time. Never touches a deck that is still on screen.
  preload(now) {
    const upcoming = this.items.find((item) => item.start_time > now);
    const deck = this.other(this.active);
    if (!upcoming || deck === this.front || this.busy) return;
    if (!same(deck.item, upcoming)) {
      deck.load(upcoming);
      deck.el.pause();
      deck.el.muted = true;
      deck.el.currentTime = 0;
      this.clearSwitch();
    }
    if (!this.switchTimer) {
      const wait = (upcoming.start_time - this.startLatency - now) * 1000 - SWITCH_EARLY;
      this.switchTimer = setTimeout(() => {
        this.switchTimer = null;
        if (same(deck.item, upcoming) && this.active !== deck) this.startNext(deck);
      }, Math.max(0, wait));
    }
  }

  clearSwitch() {
    clearTimeout(this.switchTimer);
    this.switchTimer = null;
  }

  // The switch: the preloaded deck starts its item on time. If it is not ready, or this runs
  // late, it joins like a newcomer instead (seek ahead, wait, play), the old frame still up.
  async startNext(deck) {
    if (this.starting) return;
    this.active = deck;
    this.clearSwitch();
    const item = deck.item;
    if (deck.el.readyState < 2 || this.busy) {
      this.join(item, deck);
      return;
    }
    this.starting = true;
    try {
      if (!(await this.playAt(deck, item, deck.el.currentTime, LATE_SWITCH))) {
        this.starting = false;
        this.join(item, deck);
      }
    } finally {
      this.starting = false;
    }
  }

  // Seek so that playback starts exactly on schedule: seek a little ahead, wait on that frame
  // until the schedule gets there, then play. The lead adapts to how long seeks take here.
  async join(item, deck) {
    if (this.busy) return;
    this.busy = true;
    this.active = deck;
    this.clearSwitch();
    this.seeks += 1;
    this.lastJoin = performance.now();
    const current = () => this.active === deck && same(deck.item, item);
    try {
      if (!same(deck.item, item)) deck.load(item);
      await deck.metadata(5000); // so the first seek times the seek, not the load
      for (let attempt = 0; attempt < 4 && current(); attempt += 1) {
        deck.el.pause();
        const target = Math.max(0, this.clock.now() - item.start_time + this.seekLead);
        if (target >= item.duration - 0.1) break; // too close to the end: wait for the next
        const began = performance.now();
        deck.el.currentTime = target;
        await once(deck.el, "seeked", 5000);
        const seeked = performance.now();
        // Wait for data ahead, but never past the moment to play: WebKitGTK stays at
        // HAVE_CURRENT_DATA after a seek while paused, and its canplay comes only once playing.
        const spare = (item.start_time + target - this.startLatency - this.clock.now()) * 1000;
        const ready =
          deck.el.readyState >= 3 ||
          (spare > 0 && (await once(deck.el, "canplay", Math.min(3000, spare))));
        // Learn from what a join waits for; a canplay that never came says nothing of the seek.
        const took = (ready ? performance.now() : seeked) - began;
        this.seekLead = nextSeekLead(this.seekLead, took / 1000);
        if (!current() || (await this.playAt(deck, item, target, 0.03))) break;
      }
    } finally {
      this.busy = false;
    }
  }

  // Play the paused deck so that its current frame (media time `position`) is on screen when
  // the schedule reaches it, bring it to the front at that instant, and learn the latency from
  // the first frames. Returns false, without playing, if that moment passed more than
  // `tolerance` s ago.
  async playAt(deck, item, position, tolerance) {
    const due = item.start_time + position; // server time the paused frame is due
    const playAt = due - this.startLatency;
    if (this.clock.now() - playAt > tolerance) return false;
    for (let left = playAt - this.clock.now(); left > 0.002; left = playAt - this.clock.now()) {
      await sleep(left > 0.03 ? left * 1000 - 15 : left * 1000); // coarse, then a short last hop
    }
    if (this.active !== deck) return true; // superseded while waiting
    // A late start (a busy main thread fires timers late) begins a little fast instead.
    const lead = due - this.clock.now();
    const late = Math.max(0, this.startLatency - lead);
    // Never exactly 1 (see controlStep in timing.js), unless changes cost here.
    const faster = Math.min(MAX_RATE_DELTA, Math.max(REST_OFFSET, late / CATCH_UP));
    const rate = this.still ? 1 : Math.round((1 + faster) * 10000) / 10000;
    this.lastStep = null;
    this.control = { rate, resting: false };
    this.setRate(deck.el, rate);
    const calledAt = performance.now();
    const muted = this.muted;
    const started = this.start(deck);
    const reveal = () => {
      if (this.active !== deck || this.front === deck) return;
      const previous = this.front;
      this.layer(deck);
      previous.el.pause();
    };
    setTimeout(reveal, Math.max(0, (due - this.clock.now()) * 1000));
    const frames = await deck.framesAfter(position, LEARN_FRAMES, 1000);
    await Promise.race([started, sleep(PLAY_TIMEOUT)]);
    reveal();
    const error = frames.length ? this.error(deck, item) : null;
    // Far off already (the pipeline started very late on a starved machine): as after a
    // stall, the next step seeks rather than spend seconds catching up at 5 %.
    if (error === null || Math.abs(error) > STALL_SEEK_THRESHOLD) deck.stalled = true;
    if (error !== null && muted === this.muted) {
      // What the error would be at rate 1, so the catch-up does not teach a shorter latency.
      const ran = Math.max(0, performance.now() - calledAt - this.startLatency * 1000);
      const observed = error - ((rate - 1) * ran) / 1000;
      const key = muted ? "muted" : "sound";
      this.latency[key] = learnLatency(this.latency[key], lead, observed);
    }
    return true;
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

  // The error the controller steers (s, + ahead): the media clock's, less the learnt lag of
  // the frames on screen behind it, so that the frames land on time in every engine.
  error(deck, item) {
    const media = this.mediaError(deck, item);
    return media === null ? null : media - this.lag;
  }

  // How far the deck's media clock is from the schedule (s, + ahead): the median of its recent
  // readings (one per presented frame), or null while it has nothing to say (loading, paused).
  // currentTime is the pipeline's clock and moves continuously; presented frames follow it on
  // the display's vsync grid, so their error jumps by a vsync or a whole frame whenever the
  // renderer re-phases or drops one: exact as truth, jumpy as feedback. The controller steers
  // this one (a shown frame then lands within about half a vsync of its time).
  mediaError(deck, item) {
    const el = deck.el;
    if (el.paused || el.seeking || el.readyState < 2) return null;
    const args = [performance.now(), this.clock.offset, item.start_time, el.playbackRate];
    const smooth = frameError(deck.clock, ...args, 3);
    if (smooth !== null) return smooth;
    deck.readClock(); // no frames lately (a hidden tab, a stall): read it directly
    return frameError(deck.clock.slice(-1), ...args, 1);
  }

  // The error of the frames on screen (s, + ahead), from the last FRAME_WINDOW ms of them.
  displayError(deck, item, minFrames = 3) {
    const now = performance.now();
    const offset = this.clock.offset;
    return frameError(deck.frames, now, offset, item.start_time, deck.el.playbackRate, minFrames);
  }

  steer(item, now) {
    const deck = this.active;
    const el = deck.el;
    if (now - item.start_time >= item.duration - 0.05) return; // its end: the next takes over
    if (el.paused && !el.ended) {
      this.join(item, deck); // paused from outside (media keys, a blocked play): seek back in
      return;
    }
    const fresh = deck.fresh(performance.now());
    if (!fresh && !el.paused) deck.stall(); // no frames: waiting for data, or frozen
    const media = this.mediaError(deck, item);
    if (media === null) return;
    const shown = this.displayError(deck, item);
    if (fresh && shown !== null) this.learnLag(media - shown);
    const nowMs = performance.now();
    const raw = media - this.lag; // what rate changes are judged on (learnRateCost)
    this.learnRateCost(deck, item, nowMs, raw);
    // Steered: the media clock less the frames' lag, and less the refresh phase the frames hold
    // (framePhase in timing.js): within half a frame, where the renderer put them is kept.
    const phase = fresh && shown !== null ? framePhase(shown, frameDuration(deck.frames)) : 0;
    const error = raw - phase;
    const seekAbove = deck.stalled ? STALL_SEEK_THRESHOLD : SEEK_THRESHOLD;
    if (fresh) deck.stalled = false;
    let step = controlStep(error, this.control, seekAbove);
    if (this.still && !step.seek) {
      step = stillStep(error);
      if (step.seek && nowMs - this.lastJoin < STILL_REJOIN_AFTER) step = { ...step, seek: false };
    }
    this.control = step;
    if (step.seek) {
      this.lastStep = null;
      this.join(item, deck);
      return;
    }
    const changed = el.playbackRate !== step.rate;
    this.setRate(el, step.rate);
    this.lastStep = { deck, item, at: nowMs, error: raw, rate: step.rate, changed };
    this.trace.push([nowMs, error, shown, step.rate]);
    if (this.trace.length > 240) this.trace.shift();
  }

  learnLag(difference) {
    this.lags.push(difference);
    if (this.lags.length > LAG_READINGS) this.lags.shift();
    this.lag = presentationLag(this.lags) ?? this.lag;
  }

  // The error step since the previous control step that its rate does not explain, kept when
  // that step changed the rate: what a change costs here. Costly changes make the player still.
  learnRateCost(deck, item, nowMs, error) {
    const last = this.lastStep;
    if (!last || last.deck !== deck || !same(last.item, item) || !last.changed) return;
    if (nowMs - last.at > 2 * CONTROL_INTERVAL) return; // a gap (busy thread): not comparable
    const residual = error - last.error - ((last.rate - 1) * (nowMs - last.at)) / 1000;
    this.costs.push(residual);
    if (this.costs.length > COST_READINGS) this.costs.shift();
    const cost = rateChangeCost(this.costs);
    if (cost !== null && Math.abs(cost) > RATE_COST_LIMIT && !this.still) {
      this.still = true;
      this.setRate(deck.el, 1);
    }
  }

  onMediaError(deck) {
    // A failed load (e.g. the server restarting): forget it so the next tick loads it afresh.
    if (deck.item) {
      setTimeout(() => {
        deck.item = null;
        this.tick();
      }, 1000);
    }
  }

  get stalls() {
    return this.decks.reduce((sum, deck) => sum + deck.stalls, 0);
  }

  status() {
    const deck = this.active;
    const item = deck.item;
    const ready = this.clock.ready && !!item;
    const expected = ready ? this.clock.now() - item.start_time : null;
    const media = ready ? this.mediaError(deck, item) : null;
    const shown = ready ? this.displayError(deck, item) : null;
    const error = shown ?? media;
    const el = deck.el;
    const position = ready ? (error !== null ? expected + error : el.currentTime) : null;
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
      stalls: this.stalls,
      muted: this.muted,
      clockOffsetMs: this.clock.offset,
      rttMs: this.clock.rtt,
      mediaOffsetMs: media === null ? null : media * 1000,
      startLatencyMs: this.startLatency * 1000,
      seekLeadMs: this.seekLead * 1000,
      frameLagMs: this.lag * 1000,
      rateChangeCostMs: (rateChangeCost(this.costs) ?? Number.NaN) * 1000,
      still: this.still,
    };
  }
}
