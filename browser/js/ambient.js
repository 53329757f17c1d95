// Ambient mode: only the video. The title shows for a few seconds at each new video, the
// cursor hides when idle, and the first click or key goes fullscreen (and turns sound on).

import { startChannel } from "./channel.js";
import { ServerClock } from "./clock.js";
import { SyncPlayer } from "./sync.js";

const CAPTION_MS = 4000;
const CURSOR_IDLE_MS = 2000;

const caption = document.getElementById("caption");
const hint = document.getElementById("hint");
const clock = new ServerClock();
let captionTimer = null;

const player = new SyncPlayer(
  [document.getElementById("deck-a"), document.getElementById("deck-b")],
  clock,
  {
    onItem: (item) => {
      caption.textContent = item.title;
      caption.classList.add("shown");
      clearTimeout(captionTimer);
      captionTimer = setTimeout(() => caption.classList.remove("shown"), CAPTION_MS);
    },
    onMuted: (muted) => {
      hint.hidden = !muted;
    },
  },
);

function engage() {
  if (player.muted) player.unmute();
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

startChannel({ clock, player });
