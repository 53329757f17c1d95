// The operator console: sign in, then run the channel. The page follows the channel live over
// the same SSE stream as the screens; after each change it reads /videos (which shows an admin
// hidden and waiting videos too) and the audit log again.

import { connect } from "./channel.js";
import { clockTime } from "./format.js";
import { announceSession, api } from "./admin-api.js";
import { showBanner } from "./banner.js";

const $ = (id) => document.getElementById(id);
let videos = [];
let currentIndex = -1;
let live = null; // the latest channel state from the stream
let clockOffset = 0; // server time - local time, from the stream's server_time
let stream = null;
let reloadTimer = null;
let focusAfter = null; // {id, action}: where keyboard focus returns after a re-render
let dragged = null;
let editing = false; // a title is being edited: lists wait, or the typing would be lost

// -- tabs ----------------------------------------------------------------------------------------

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab, focus) => {
    for (const each of tabs) {
      const on = each === tab;
      each.setAttribute("aria-selected", String(on));
      each.tabIndex = on ? 0 : -1;
      $(each.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    history.replaceState(null, "", `#${tab.id.replace(/^tab-/, "")}`);
    document.dispatchEvent(new CustomEvent("admin:tab", { detail: { id: tab.id } }));
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab, false));
    tab.addEventListener("keydown", (event) => {
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      select(tabs[(to + tabs.length) % tabs.length], true);
    });
  });
  select(tabs.find((t) => t.id === `tab-${location.hash.slice(1)}`) || tabs[0], false);
}

// -- messages --------------------------------------------------------------------------------------

function say(text, ok = true) {
  $("message").textContent = text;
  $("message").className = `message ${ok ? "ok" : "error"}`;
}

async function act(doing, call) {
  try {
    await call();
    say(doing);
    await load();
  } catch (error) {
    if (error.status === 401) return signedOut("Your session has ended; please sign in again.");
    say(error.message, false);
    await load();
  }
}

// -- signing in and out ----------------------------------------------------------------------------

function signedOut(why = "") {
  $("console").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-message").textContent = why;
  $("sign-in-message").className = `message ${why ? "error" : ""}`;
  $("token").focus();
  announceSession(null);
}

function signedIn() {
  $("sign-in").hidden = true;
  $("console").hidden = false;
  $("sign-out").hidden = false;
  $("token").value = "";
  announceSession("admin");
  stream ??= connect("/video-updates", { onState, onConnection });
  load();
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("POST", "/session", { token: $("token").value });
    signedIn();
  } catch (error) {
    $("sign-in-message").textContent = error.message;
    $("sign-in-message").className = "message error";
  }
});

$("sign-out").addEventListener("click", async () => {
  await api("DELETE", "/session").catch(() => {});
  signedOut();
});

// -- the live channel --------------------------------------------------------------------------------

function onConnection(up) {
  const badge = $("connection");
  badge.dataset.state = up ? "live" : "offline";
  badge.textContent = up ? "Live" : "Reconnecting…";
}

function onState(state) {
  live = state;
  if (state.server_time) clockOffset = state.server_time - Date.now() / 1000;
  showBanner(state.banner);
  renderNow();
  renderOverride();
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(load, 150); // a burst of events is one reload
}

function renderNow() {
  const overriding = Boolean(live?.override);
  $("now-label").textContent = overriding ? "Override playing" : "Now playing";
  $("now-playing").textContent = live?.id ? live.title : "nothing (the channel is empty)";
  const left = live?.id ? live.start_time + live.duration - (Date.now() / 1000 + clockOffset) : 0;
  $("now-left").textContent = live?.id ? `· ${clockTime(Math.max(0, left))} left` : "";
}
setInterval(renderNow, 1000);

function renderOverride() {
  const override = live?.override;
  const ends = override ? new Date((override.ends_at - clockOffset) * 1000) : null;
  $("override-state").textContent = override
    ? `Playing “${override.title}” on every screen until ${ends.toLocaleTimeString()}.`
    : "No override: the rotation is playing.";
  $("override-end").disabled = !override;
  $("banner-clear").disabled = !live?.banner;
  if (document.activeElement !== $("banner-text")) $("banner-text").value = live?.banner || "";
}

// -- the catalog ---------------------------------------------------------------------------------------

async function load() {
  try {
    const [catalog, audit] = await Promise.all([
      api("GET", "/videos"),
      api("GET", "/admin/audit?limit=100"),
    ]);
    videos = catalog.videos;
    currentIndex = catalog.current_index;
    render();
    renderAudit(audit.entries);
  } catch (error) {
    if (error.status === 401 || error.status === 403) signedOut("Please sign in again.");
  }
}

function stateText(video) {
  if (video.waiting) return "waiting for approval";
  if (video.status === "processing") return `converting ${Math.round((video.progress || 0) * 100)} %`;
  if (video.status === "failed") return `not converted: ${video.error || "unknown reason"}`;
  if (video.status === "offline") return "offline (its storage is unreachable)";
  if (video.hidden) return "hidden";
  return video.index === currentIndex ? "now playing" : "ready";
}

const PLACES = { static: "shipped sample", local: "local disk", s3: "S3" };

function button(label, action, video, handler, name = `${label}: ${video.title}`) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.dataset.action = action;
  element.setAttribute("aria-label", name);
  element.addEventListener("click", () => {
    focusAfter = { id: video.id, action };
    handler();
  });
  return element;
}

function card(video, actions) {
  const item = document.createElement("li");
  item.className = "card";
  item.dataset.id = video.id;
  if (video.index !== null && video.index === currentIndex) item.classList.add("playing");
  const poster = document.createElement(video.poster ? "img" : "div");
  poster.className = "poster";
  if (video.poster) {
    poster.src = video.poster;
    poster.alt = "";
    poster.loading = "lazy";
  }
  const info = document.createElement("div");
  info.className = "about";
  const title = document.createElement("p");
  title.className = "title";
  title.textContent = video.title;
  const meta = document.createElement("p");
  meta.className = "meta";
  meta.textContent = [
    clockTime(video.duration),
    PLACES[video.storage] || video.storage,
    `${video.likes} likes`,
    `${video.dislikes} dislikes`,
    stateText(video),
  ].join(" · ");
  info.append(title, meta);
  const buttons = document.createElement("div");
  buttons.className = "actions";
  buttons.append(...actions);
  item.append(poster, info, buttons);
  return item;
}

function rename(video) {
  const item = document.querySelector(`li[data-id="${CSS.escape(video.id)}"]`);
  const title = item.querySelector(".title");
  const form = document.createElement("form");
  form.className = "rename";
  const input = document.createElement("input");
  input.value = video.title;
  input.maxLength = 200;
  input.required = true;
  input.setAttribute("aria-label", `New title for ${video.title}`);
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Save";
  form.append(input, save);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    editing = false;
    focusAfter = { id: video.id, action: "rename" };
    act(`Renamed to “${input.value.trim()}”.`, () =>
      api("PATCH", `/videos/${video.id}`, { title: input.value.trim() }),
    );
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    editing = false;
    focusAfter = { id: video.id, action: "rename" };
    render();
  });
  editing = true;
  title.replaceWith(form);
  input.focus();
  input.select();
}

function remove(video) {
  if (!confirm(`Delete “${video.title}”? Its file is deleted too.`)) return;
  act(`Deleted “${video.title}”.`, () => api("DELETE", `/videos/${video.id}`));
}

function common(video) {
  return [
    button(video.hidden ? "Show" : "Hide", "hide", video, () =>
      act(`${video.hidden ? "Shown" : "Hidden"}: “${video.title}”.`, () =>
        api("PATCH", `/videos/${video.id}`, { hidden: !video.hidden }),
      ),
    ),
    button("Rename", "rename", video, () => rename(video)),
    button("Delete", "delete", video, () => remove(video)),
  ];
}

function reorder(ids, doing) {
  return act(doing, () => api("PUT", "/playlist", { ids }));
}

function move(video, by) {
  const ids = rotation().map((v) => v.id);
  const from = ids.indexOf(video.id);
  const to = from + by;
  if (to < 0 || to >= ids.length) return;
  ids.splice(to, 0, ...ids.splice(from, 1));
  reorder(ids, `Moved “${video.title}” to position ${to + 1}.`);
}

const rotation = () =>
  videos.filter((v) => v.index !== null).sort((a, b) => a.index - b.index);

function render() {
  // Not under a drag either: a switch or another admin's change arriving mid-drag would rebuild
  // the list under the pointer and the drop would land on nodes no longer in it.
  if (editing || dragged) return;
  // Lists are rebuilt on every change (ours or another admin's): focus stays where it was.
  const focused = document.activeElement;
  const within = focused?.closest?.("li[data-id]");
  if (!focusAfter && within && focused.dataset.action) {
    focusAfter = { id: within.dataset.id, action: focused.dataset.action };
  }
  const playing = rotation();
  $("playlist").replaceChildren(
    ...playing.map((video, i) => {
      const item = card(video, [
        button("Up", "up", video, () => move(video, -1), `Move up: ${video.title}`),
        button("Down", "down", video, () => move(video, 1), `Move down: ${video.title}`),
        button("Play next", "next", video, () =>
          act(`“${video.title}” plays next.`, () => api("POST", `/videos/${video.id}/next`)),
        ),
        button("Play now", "override", video, () => override(video)),
        ...common(video),
      ]);
      item.querySelector('[data-action="up"]').disabled = i === 0;
      item.querySelector('[data-action="down"]').disabled = i === playing.length - 1;
      item.draggable = true;
      return item;
    }),
  );
  const resting = videos.filter((v) => v.index === null && !v.waiting);
  $("resting").replaceChildren(...resting.map((video) => card(video, common(video))));
  $("resting-empty").hidden = resting.length > 0;
  const waiting = videos.filter((v) => v.waiting);
  $("waiting").replaceChildren(
    ...waiting.map((video) =>
      card(video, [
        button("Approve", "approve", video, () =>
          act(`Approved “${video.title}”.`, () => api("POST", `/videos/${video.id}/approve`)),
        ),
        button("Delete", "delete", video, () => remove(video)),
      ]),
    ),
  );
  $("waiting-empty").hidden = waiting.length > 0;
  $("waiting-count").textContent = waiting.length ? `(${waiting.length})` : "";
  const options = videos
    .filter((v) => v.status === "ready" && !v.waiting)
    .map((v) => new Option(v.title, v.id));
  const chosen = $("override-video").value;
  $("override-video").replaceChildren(...options);
  if (chosen) $("override-video").value = chosen;
  if (focusAfter) {
    const item = document.querySelector(`li[data-id="${CSS.escape(focusAfter.id)}"]`);
    const target = item?.querySelector(`[data-action="${focusAfter.action}"]:not(:disabled)`);
    (target || item?.querySelector("button:not(:disabled)"))?.focus();
    focusAfter = null;
  }
}

// -- drag and drop (the Up/Down buttons do the same from the keyboard) --------------------------

const list = $("playlist");
list.addEventListener("dragstart", (event) => {
  dragged = event.target.closest("li");
  if (!dragged) return;
  dragged.classList.add("dragging");
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", dragged.dataset.id);
});
list.addEventListener("dragover", (event) => {
  if (!dragged) return;
  event.preventDefault();
  const over = event.target.closest("li");
  if (!over || over === dragged) return;
  const box = over.getBoundingClientRect();
  const after = event.clientY > box.top + box.height / 2;
  over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
});
list.addEventListener("drop", (event) => {
  if (!dragged) return;
  event.preventDefault();
  const ids = [...list.children].map((item) => item.dataset.id);
  const title = dragged.querySelector(".title").textContent;
  const position = ids.indexOf(dragged.dataset.id) + 1;
  dragged.classList.remove("dragging");
  dragged = null;
  reorder(ids, `Moved “${title}” to position ${position}.`);
});
list.addEventListener("dragend", () => {
  if (!dragged) return;
  dragged.classList.remove("dragging");
  dragged = null;
  render(); // dropped outside the list: back to the order the server has
});

// -- override and banner ---------------------------------------------------------------------------

function override(video) {
  act(`“${video.title}” is playing on every screen.`, () =>
    api("POST", "/override", { id: video.id }),
  );
}

$("override-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const video = videos.find((v) => v.id === $("override-video").value);
  if (video) override(video);
});
$("override-end").addEventListener("click", () =>
  act("Override ended: the rotation resumes.", () => api("DELETE", "/override")),
);
$("banner-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("banner-text").value.trim();
  act("The banner is on every screen.", () => api("PUT", "/banner", { text }));
});
$("banner-clear").addEventListener("click", () =>
  act("Banner cleared.", () => api("DELETE", "/banner")),
);
$("skip").addEventListener("click", () =>
  act("Skipped to the next video.", () => api("POST", "/skip")),
);

// -- the audit log ---------------------------------------------------------------------------------

function renderAudit(entries) {
  $("audit").replaceChildren(
    ...entries.map((entry) => {
      const row = document.createElement("tr");
      const when = new Date(entry.at * 1000).toLocaleString();
      const who = [entry.role || "anonymous", entry.via, entry.ip].filter(Boolean).join(" · ");
      const detail = Object.entries(entry.detail || {})
        .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
        .join(", ");
      const what = detail ? `${entry.action} (${detail})` : entry.action;
      for (const text of [when, who, what, entry.target || ""]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

// -- start -----------------------------------------------------------------------------------------

setupTabs();
api("GET", "/session").then(
  (session) => {
    if (session.role === "admin") signedIn();
    else if (!session.admin_enabled) {
      signedOut("The console is off: the server has no ADMIN_TOKEN set.");
      $("sign-in-form").querySelector("button").disabled = true;
    } else signedOut();
    const approval = session.approval
      ? "UPLOAD_APPROVAL is on: new uploads wait here until approved."
      : "UPLOAD_APPROVAL is off: uploads join the rotation at once.";
    $("approval-mode").textContent = approval;
  },
  () => signedOut("The server cannot be reached; reload the page to try again."),
);
