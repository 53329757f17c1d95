// The standard page: the synced player plus title, progress, votes, up next and viewers, and
// the viewer's own sound, captions and full-screen controls.

import { showBanner } from "./banner.js";
import { clockTime } from "./format.js";
import { startChannel } from "./channel.js";
import { ServerClock } from "./clock.js";
import { captionTracks } from "./captions.js";
import {
  captionsControl,
  captionsStartOn,
  fullscreenControl,
  shortcuts,
  soundControls,
} from "./controls.js";
import { SyncPlayer } from "./sync.js";
import { at } from "./where.js";

const $ = (id) => document.getElementById(id);
const clock = new ServerClock();
const videos = [$("deck-a"), $("deck-b")];
let state = null;
let myVotes = {};
let connected = false;
let sound = null; // the sound controls, made once the player exists

const player = new SyncPlayer(videos, clock, {
  onItem: (item) => {
    $("title").textContent = item.title;
    document.title = `${item.title} · Simulcast`;
    $("total").textContent = clockTime(item.duration);
    $("cc").hidden = !item.captions;
    say(""); // a message about the last video does not belong under this one
    renderVotes();
  },
  onMuted: () => sound?.render(),
});

sound = soundControls(player, {
  videos,
  mute: $("mute"),
  volume: $("volume"),
  sound: $("sound"),
});
const fullscreen = fullscreenControl($("player"), $("fullscreen"));
const cc = captionsControl(captionTracks(player, captionsStartOn()), $("cc"));
shortcuts({ m: sound.toggleMute, f: fullscreen.toggle, c: cc.toggle });

function current() {
  return player.active.item;
}

function say(text, kind = "") {
  $("message").textContent = text;
  $("message").className = `message ${text ? kind : ""}`;
}

function renderVotes() {
  const item = current();
  const counts = state && item && state.id === item.id ? state : null;
  $("likes").textContent = counts ? counts.likes : 0;
  $("dislikes").textContent = counts ? counts.dislikes : 0;
  const mine = item ? myVotes[item.id] || 0 : 0;
  $("like").setAttribute("aria-pressed", String(mine === 1));
  $("dislike").setAttribute("aria-pressed", String(mine === -1));
  // Nothing playing (an empty channel): nothing to vote on.
  const votable = Boolean(state && state.id && item);
  $("like").disabled = !votable;
  $("dislike").disabled = !votable;
}

async function vote(kind) {
  const item = current();
  if (!state || !item) return;
  if (!connected) {
    say("Your vote wasn't counted: we're reconnecting to the server. Try again in a moment.", "notice");
    return;
  }
  const index = state.id === item.id ? state.index : 0;
  let response;
  let result = {};
  try {
    // The id is what we showed the viewer; the server trusts it over a shifted index.
    response = await fetch(at(`/${kind}/${index}`), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: item.id }),
    });
    result = await response.json().catch(() => ({}));
  } catch {
    say("Your vote wasn't counted: the server can't be reached right now. Try again in a moment.", "notice");
    return;
  }
  if (!response.ok) {
    say(`Your vote wasn't counted: ${result.error || "the server could not take it."}`, "notice");
    return;
  }
  myVotes[result.id] = result.my_vote;
  if (state.id === result.id) Object.assign(state, { likes: result.likes, dislikes: result.dislikes });
  renderVotes();
  say("");
}

$("like").addEventListener("click", () => vote("like"));
$("dislike").addEventListener("click", () => vote("dislike"));

// Up next from the schedule the page plays, not the last message: while offline, the video
// that was "next" may be the one playing now, and what follows it is not known yet.
function renderNext() {
  const now = clock.ready ? clock.now() : 0;
  const upcoming = player.items.find((item) => item.start_time > now);
  const text = upcoming ? upcoming.title : "—";
  if ($("next").textContent !== text) $("next").textContent = text;
}

function renderProgress() {
  const item = current();
  if (item && clock.ready) {
    const elapsed = Math.min(item.duration, Math.max(0, clock.now() - item.start_time));
    const percent = item.duration ? (elapsed / item.duration) * 100 : 0;
    $("progress-fill").style.width = `${percent}%`;
    const shown = clockTime(elapsed);
    if ($("elapsed").textContent !== shown) {
      $("elapsed").textContent = shown;
      $("progress").setAttribute("aria-valuenow", percent.toFixed(0));
      $("progress").setAttribute("aria-valuetext", `${shown} of ${clockTime(item.duration)}`);
    }
  }
  renderNext();
  requestAnimationFrame(renderProgress);
}
requestAnimationFrame(renderProgress);
renderVotes();

// My own votes come apart from the stream, which is the same bytes for every viewer (and may
// come from nginx): asked for on every (re)connect, as the stream's first event once carried them.
async function loadMyVotes() {
  try {
    const response = await fetch(at("/my-votes"));
    if (response.ok) myVotes = (await response.json()).my_votes;
  } catch {
    return; // offline: the stream's reconnect asks again
  }
  renderVotes();
}

startChannel({
  clock,
  player,
  onState: (next) => {
    if (next.my_votes) myVotes = next.my_votes;
    state = next;
    showBanner(next.banner);
    $("empty").hidden = Boolean(next.id);
    if (!next.id) $("title").textContent = "Nothing to play yet";
    $("viewers").textContent = `${next.viewers} watching`;
    renderVotes();
  },
  onConnection: (up) => {
    connected = up;
    if (up) loadMyVotes();
    const badge = $("connection");
    badge.dataset.state = up ? "live" : "offline";
    badge.textContent = up ? "Live" : "Reconnecting…";
    if (up && $("message").classList.contains("notice")) say(""); // the problem has passed
  },
});
