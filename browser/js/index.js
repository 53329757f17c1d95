// The standard page: the synced player plus title, progress, votes, up next and viewers.

import { clockTime } from "./format.js";
import { startChannel } from "./channel.js";
import { ServerClock } from "./clock.js";
import { SyncPlayer } from "./sync.js";

const $ = (id) => document.getElementById(id);
const clock = new ServerClock();
let state = null;
let myVotes = {};

const player = new SyncPlayer([$("deck-a"), $("deck-b")], clock, {
  onItem: (item) => {
    $("title").textContent = item.title;
    document.title = `${item.title} · Simulcast`;
    $("total").textContent = clockTime(item.duration);
    renderVotes();
  },
  onMuted: (muted) => {
    $("sound").hidden = !muted;
  },
});

$("sound").addEventListener("click", () => player.unmute());

function current() {
  return player.active.item;
}

function renderVotes() {
  const item = current();
  const counts = state && item && state.id === item.id ? state : null;
  $("likes").textContent = counts ? counts.likes : 0;
  $("dislikes").textContent = counts ? counts.dislikes : 0;
  const mine = item ? myVotes[item.id] || 0 : 0;
  $("like").setAttribute("aria-pressed", String(mine === 1));
  $("dislike").setAttribute("aria-pressed", String(mine === -1));
}

async function vote(kind) {
  const item = current();
  if (!state || !item) return;
  const index = state.id === item.id ? state.index : 0;
  try {
    // The id is what we showed the viewer; the server trusts it over a shifted index.
    const response = await fetch(`/${kind}/${index}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: item.id }),
    });
    const result = await response.json();
    if (!response.ok) throw new Error(result.error || response.statusText);
    myVotes[result.id] = result.my_vote;
    if (state.id === result.id) Object.assign(state, { likes: result.likes, dislikes: result.dislikes });
    renderVotes();
    $("message").textContent = "";
  } catch (error) {
    $("message").textContent = `Your vote did not go through: ${error.message}`;
  }
}

$("like").addEventListener("click", () => vote("like"));
$("dislike").addEventListener("click", () => vote("dislike"));

function renderProgress() {
  const item = current();
  if (item && clock.ready) {
    const elapsed = Math.min(item.duration, Math.max(0, clock.now() - item.start_time));
    const percent = item.duration ? (elapsed / item.duration) * 100 : 0;
    $("progress-fill").style.width = `${percent}%`;
    $("progress").setAttribute("aria-valuenow", percent.toFixed(0));
    $("elapsed").textContent = clockTime(elapsed);
  }
  requestAnimationFrame(renderProgress);
}
requestAnimationFrame(renderProgress);

startChannel({
  clock,
  player,
  onState: (next) => {
    if (next.my_votes) myVotes = next.my_votes;
    state = next;
    $("empty").hidden = Boolean(next.id);
    if (!next.id) $("title").textContent = "Nothing to play yet";
    $("next").textContent = next.next ? next.next.title : "—";
    $("viewers").textContent = `${next.viewers} watching`;
    renderVotes();
  },
  onConnection: (up) => {
    const badge = $("connection");
    badge.dataset.state = up ? "live" : "offline";
    badge.textContent = up ? "Live" : "Reconnecting…";
  },
});
