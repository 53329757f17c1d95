// This page as a screen of the fleet: it reports what the sync engine measures to
// POST /screens/report every few seconds and on change (a small JSON POST; a beacon when the
// page goes away), and carries out the actions the console queued for it (identify, reload),
// which come back in the report's answer.
//
// Identity: `?kiosk=<id>` (the kiosk keeps its id in its config folder), else an id kept in
// localStorage. Tabs of one browser are different screens: a tab asks the others which ids they
// hold (BroadcastChannel) and takes the first free one, so a reload keeps its id and a second
// tab gets its own. The name comes from `?screen=Lobby%20left` (the kiosk's --name).

const REPORT_URL = "/screens/report";
const IDS_KEY = "simulcast.screens"; // ids this browser has used, oldest first
const TAB_KEY = "simulcast.screen"; // the id this tab holds (survives reloads)
const CHECK_MS = 1000; // how often the page looks for a change worth reporting at once
const MIN_GAP_MS = 1100; // reports at most this often (the server allows about one a second)
const IDENTIFY_MS = 10000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function stored(storage, key, fallback) {
  try {
    return JSON.parse(storage.getItem(key)) ?? fallback;
  } catch {
    return fallback; // storage blocked (private mode, policies) or garbage
  }
}

function store(storage, key, value) {
  try {
    storage.setItem(key, JSON.stringify(value));
  } catch {
    // the id then lasts as long as the page: still a screen, just not a stable one
  }
}

async function claimId() {
  const taken = new Set();
  const tabs = "BroadcastChannel" in window ? new BroadcastChannel("simulcast-screens") : null;
  let mine = null;
  if (tabs) {
    tabs.onmessage = ({ data }) => {
      if (data?.ask && mine) tabs.postMessage({ have: mine });
      else if (data?.have) taken.add(data.have);
    };
    tabs.postMessage({ ask: true });
    await sleep(150);
  }
  const known = stored(localStorage, IDS_KEY, []);
  const before = stored(sessionStorage, TAB_KEY, null);
  mine = before && !taken.has(before) ? before : known.find((id) => !taken.has(id)) || newId();
  if (!known.includes(mine)) store(localStorage, IDS_KEY, [...known, mine].slice(-20));
  store(sessionStorage, TAB_KEY, mine);
  return mine;
}

// The browser engine and its version, from the user agent (Qt WebEngine says so in it).
export function engineOf(ua) {
  const rules = [
    ["Qt WebEngine", /QtWebEngine\/([\d.]+)/],
    ["Edge", /Edg\/([\d.]+)/],
    ["Firefox", /Firefox\/([\d.]+)/],
    ["Chromium", /Chrom(?:e|ium)\/([\d.]+)/],
    ["Safari", /Version\/([\d.]+).*Safari/],
  ];
  for (const [engine, pattern] of rules) {
    const found = ua.match(pattern);
    if (found) return { engine, version: found[1] };
  }
  return { engine: "other", version: null };
}

function bufferAhead(el) {
  const t = el.currentTime;
  for (let i = 0; i < el.buffered.length; i += 1) {
    if (el.buffered.start(i) <= t + 0.05 && t <= el.buffered.end(i)) return el.buffered.end(i) - t;
  }
  return 0;
}

function droppedFrames(videos) {
  let dropped = null;
  for (const el of videos) {
    const quality = el.getVideoPlaybackQuality?.();
    if (quality) dropped = (dropped ?? 0) + quality.droppedVideoFrames;
  }
  return dropped;
}

// Its name in large type, for someone at the wall to see which screen this is.
function identify(name) {
  document.getElementById("screen-identify")?.remove();
  const banner = document.createElement("div");
  banner.id = "screen-identify";
  banner.className = "identify";
  banner.setAttribute("role", "status");
  banner.textContent = name;
  document.body.append(banner);
  setTimeout(() => banner.remove(), IDENTIFY_MS);
}

export async function startScreen(player) {
  const params = new URLSearchParams(location.search);
  const kiosk = params.get("kiosk");
  const id = kiosk || (await claimId());
  const page = kiosk ? "kiosk" : location.pathname.endsWith("/ambient") ? "/ambient" : "/";
  const { engine, version } = engineOf(navigator.userAgent);
  let name = params.get("screen") || null;
  let sentAt = 0;
  let interval = 5000; // ms between routine reports; the server says how often it wants them
  let sending = false;
  let last = null; // what the last report said, to notice changes
  let counted = { stalls: player.stalls, seeks: player.seeks, dropped: null };
  const videos = player.decks.map((deck) => deck.el);

  const snapshot = () => {
    const status = player.status();
    const item = player.active.item;
    return {
      id,
      name: params.get("screen") || null,
      page,
      engine,
      version,
      video_id: status.videoId,
      start_time: item?.start_time ?? null,
      position: status.position,
      offset_ms: status.playing ? status.offsetMs : null,
      rate: status.rate,
      buffer_s: bufferAhead(player.active.el),
      stalls: player.stalls - counted.stalls,
      seeks: player.seeks - counted.seeks,
      dropped_frames: Math.max(0, (droppedFrames(videos) ?? 0) - (counted.dropped ?? 0)),
      sound: !player.muted && !window.simulcast.wall?.silent, // a wall's silent tile: inaudible
      playing: status.playing,
    };
  };

  // What makes a report worth sending before its time: another video, sound, playing or not,
  // a stall or seek, or the offset crossing a frame or 100 ms.
  const band = (offset) => (offset === null ? -1 : Math.abs(offset) > 100 ? 2 : Math.abs(offset) > 33 ? 1 : 0);
  const changed = (now) =>
    !last ||
    now.video_id !== last.video_id ||
    now.sound !== last.sound ||
    now.playing !== last.playing ||
    now.stalls > 0 ||
    now.seeks > 0 ||
    band(now.offset_ms) !== band(last.offset_ms);

  const act = (answer) => {
    if (answer.name !== undefined) name = answer.name;
    if (answer.interval > 0) interval = answer.interval * 1000;
    // The wall tile the console gave this screen (null: none), for wall.js to follow.
    if ("wall" in answer) window.dispatchEvent(new CustomEvent("simulcast:wall", { detail: answer.wall }));
    // The channel the console moved this screen to (null: the one its address names).
    if ("channel" in answer) window.dispatchEvent(new CustomEvent("simulcast:channel", { detail: answer.channel }));
    for (const action of answer.commands || []) {
      if (action === "identify") identify(name || `Screen ${id.slice(0, 8)}`);
      if (action === "reload") location.reload();
    }
  };

  const send = async () => {
    if (sending) return;
    sending = true;
    sentAt = performance.now();
    const report = snapshot();
    try {
      const response = await fetch(REPORT_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(report),
        keepalive: true,
      });
      if (response.ok) {
        last = report;
        counted = {
          stalls: counted.stalls + report.stalls,
          seeks: counted.seeks + report.seeks,
          dropped: (counted.dropped ?? 0) + report.dropped_frames,
        };
        act(await response.json());
      }
    } catch {
      // the server is away: the counts carry over to the next report
    } finally {
      sending = false;
    }
  };

  setInterval(() => {
    const since = performance.now() - sentAt;
    if (since >= interval || (since >= MIN_GAP_MS && changed(snapshot()))) send();
  }, CHECK_MS);

  const goodbye = (bye) => {
    const body = new Blob([JSON.stringify({ ...snapshot(), bye })], { type: "application/json" });
    navigator.sendBeacon?.(REPORT_URL, body);
  };
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) goodbye(false);
  });
  window.addEventListener("pagehide", () => goodbye(true));
  window.simulcast.screen = { id, send, name: () => name };
}
