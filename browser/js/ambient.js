// Ambient mode: only the video. The title shows for a few seconds at each new video, the
// cursor hides when idle, and the first click or key goes fullscreen (and turns sound on).
// A TV has no one to ask what is wrong, so its own states are full-screen cards: an empty
// channel says where to add videos (with a QR code of the upload page), and a server away
// for longer than the known schedule lasts says it is reconnecting instead of freezing.

import { showBanner } from "./banner.js";
import { captionTracks } from "./captions.js";
import { startChannel } from "./channel.js";
import { ServerClock } from "./clock.js";
import { SyncPlayer } from "./sync.js";
import { itemAt } from "./timing.js";
import { startWall } from "./wall.js";

const TITLE_MS = 4000;
const CURSOR_IDLE_MS = 2000;
const CARD_CHECK_MS = 500;
const RECONNECT_GRACE_MS = 2000;

const $ = (id) => document.getElementById(id);
const titleCard = $("title-card");
const clock = new ServerClock();
let titleTimer = null;
let connected = false;
let lostAt = performance.now();
let channelEmpty = false;
let wall = null; // this screen as a tile of a video wall (wall.js), once started

const player = new SyncPlayer([$("deck-a"), $("deck-b")], clock, {
  onItem: (item) => {
    titleCard.textContent = item.title;
    titleCard.classList.add("shown");
    clearTimeout(titleTimer);
    titleTimer = setTimeout(() => titleCard.classList.remove("shown"), TITLE_MS);
  },
  onMuted: (muted) => {
    $("sound-hint").hidden = !muted || Boolean(wall?.silent());
  },
});

// Signage mostly runs muted: captions are on whenever a video has them.
captionTracks(player, true);

function engage() {
  if (player.muted) player.unmute(); // a wall's silent tiles too: their volume stays 0
  if (!document.fullscreenElement) document.documentElement.requestFullscreen?.().catch(() => {});
}
document.addEventListener("click", engage);
document.addEventListener("keydown", engage);

let idleTimer = null;
document.addEventListener("mousemove", () => {
  document.body.classList.remove("idle");
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => document.body.classList.add("idle"), CURSOR_IDLE_MS);
});
document.body.classList.add("idle");

// The kiosk loads this page from a small server of its own and names the real one here.
const server = document.querySelector('meta[name="simulcast-server"]')?.content || location.origin;
const uploadUrl = `${server.replace(/^https?:\/\//, "")}/upload`;
for (const element of document.querySelectorAll(".upload-url")) element.textContent = uploadUrl;
document.querySelector("#empty .qr").alt = `QR code of ${server}/upload`;

// Which card, if any: the schedule in hand keeps playing through an outage; only when it has
// run out (or never came) does the screen say it is reconnecting, after a short grace so a
// page load or a blip shows nothing.
function scheduleRunsNow() {
  if (!clock.ready) return false;
  const now = clock.now();
  const item = itemAt(player.items, now);
  return Boolean(item) && now < item.start_time + item.duration;
}

function renderCards() {
  const away = !connected && performance.now() - lostAt > RECONNECT_GRACE_MS;
  $("reconnecting").hidden = !away || scheduleRunsNow();
  $("empty").hidden = !connected || !channelEmpty;
}
setInterval(renderCards, CARD_CHECK_MS);

startChannel({
  clock,
  player,
  onState: (state) => {
    channelEmpty = !state.id;
    showBanner(state.banner);
    renderCards();
  },
  onConnection: (up) => {
    if (connected && !up) lostAt = performance.now();
    connected = up;
    renderCards();
  },
});
wall = startWall({ player, clock });
