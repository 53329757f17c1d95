// The Screens tab of /admin: every screen, live (polled while the tab is shown), worst first,
// with its measured offset and remote actions (identify, reload, rename, forget), and the
// video walls (admin-walls.js): which screen shows which tile.

import { api, renameIn } from "./admin-api.js";
import { channelCell, channelsForScreens, followChannelSelects } from "./admin-screen-channel.js";
import { mountWalls, wallCell } from "./admin-walls.js";

const POLL_MS = 2000;

const escape = (text) =>
  String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function ago(seconds) {
  if (seconds < 5) return "just now";
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

function offsetCell(screen) {
  if (!screen.online || screen.offset_ms === null || screen.offset_ms === undefined) {
    return `<td class="num" data-label="Offset">—</td>`;
  }
  const ms = screen.offset_ms;
  const shown = `${ms >= 0 ? "+" : "−"}${Math.abs(ms).toFixed(1)} ms`;
  return `<td class="num offset" data-label="Offset" data-level="${screen.status}">${shown}</td>`;
}

const PAGE_NAMES = { "/": "Standard page", "/ambient": "Ambient", kiosk: "Kiosk" };
const STATUS_NAMES = { ok: "In sync", off: "A frame out", bad: "Out of sync", offline: "Offline" };

function row(screen, now, walls, channels) {
  const name = screen.name || `Unnamed ${screen.id.slice(0, 8)}`;
  const seen = ago(now - screen.last_seen);
  const state = screen.online
    ? `<span class="pill" data-state="live">Online</span>`
    : `<span class="pill" data-state="offline">Offline</span>`;
  const playing = screen.online ? escape(screen.title ?? (screen.video_id ? screen.video_id : "—")) : "—";
  const rate = screen.online && screen.rate ? screen.rate.toFixed(3) : "—";
  const buffer = screen.online && screen.buffer_s !== null ? `${screen.buffer_s.toFixed(1)} s` : "—";
  const sound = screen.sound === false ? "muted" : screen.sound ? "on" : "—";
  const engine = [screen.engine, screen.version?.split(".")[0]].filter(Boolean).join(" ");
  return `
    <tr data-id="${escape(screen.id)}" data-status="${screen.status}">
      <th scope="row">
        <span class="screen-name">${escape(name)}</span>
        <span class="muted small">${escape(PAGE_NAMES[screen.page] ?? screen.page)} · ${escape(engine)}</span>
      </th>
      <td>${state}<span class="muted small">${escape(STATUS_NAMES[screen.status])} · ${seen}</span></td>
      <td data-label="Playing">${playing}</td>
      ${offsetCell(screen)}
      <td class="num" data-label="Rate">${rate}</td>
      <td class="num" data-label="Buffer">${buffer}</td>
      <td class="num" data-label="Stalls">${screen.stalls_total ?? 0}</td>
      <td data-label="Sound">${sound}</td>
      ${wallCell(screen, walls)}
      ${channelCell(screen, channels)}
      <td class="actions">
        <button type="button" data-action="identify" aria-label="Identify ${escape(name)}">Identify</button>
        <button type="button" data-action="reload" aria-label="Reload ${escape(name)}">Reload</button>
        <button type="button" data-action="rename" aria-label="Rename ${escape(name)}">Rename</button>
        <button type="button" data-action="forget" aria-label="Forget ${escape(name)}">Forget</button>
      </td>
    </tr>`;
}

// The table is redrawn every 2 s: a keyboard user's place in it (a select by its id, an action
// button by its row and action) is put back, or Tab and Enter would land on nothing.
function focusKey(element) {
  return {
    id: element.id,
    row: element.closest("tr[data-id]")?.dataset.id,
    action: element.dataset.action,
  };
}

function refocus(rows, { id, row, action }) {
  const target = id
    ? document.getElementById(id)
    : row && action
      ? rows.querySelector(`tr[data-id="${CSS.escape(row)}"] [data-action="${CSS.escape(action)}"]`)
      : null;
  target?.focus();
}

function mountScreens(container) {
  container.innerHTML = `
    <div class="screens-head">
      <h2 id="screens-title">Screens</h2>
      <p class="muted" id="screens-summary" aria-live="polite"></p>
    </div>
    <p class="message" id="screens-message" role="status"></p>
    <div class="table-wrap">
      <table class="screens" aria-labelledby="screens-title">
        <thead>
          <tr>
            <th scope="col">Screen</th><th scope="col">State</th><th scope="col">Playing</th>
            <th scope="col" class="num">Offset</th><th scope="col" class="num">Rate</th>
            <th scope="col" class="num">Buffer</th><th scope="col" class="num">Stalls</th>
            <th scope="col">Sound</th><th scope="col">Wall</th><th scope="col">Channel</th><th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody id="screens-rows"></tbody>
      </table>
    </div>
    <p class="muted small">Offset: how far the picture is from the server's schedule, measured by the
    screen itself. Amber beyond one frame, red beyond 100 ms. A screen is offline after three
    missed reports (15 s). Identify shows the screen's name in large type on it for 10 s.</p>
    <section class="walls-section" id="walls-section" aria-labelledby="walls-title"></section>`;
  const rows = container.querySelector("#screens-rows");
  const summary = container.querySelector("#screens-summary");
  const message = container.querySelector("#screens-message");
  let editing = null; // the screen being renamed: the table is not redrawn under the input
  let timer = null;
  const walled = mountWalls(container.querySelector("#walls-section"), {
    say: (text, ok) => say(text, ok),
    refresh: () => refresh(),
  });

  const say = (text, ok = true) => {
    message.textContent = text;
    message.className = `message ${ok ? "ok" : "error"}`;
  };

  // force: redraw even while a Wall select has the focus (it just changed), keeping the focus.
  const refresh = async (force = false) => {
    if (editing) return;
    try {
      const [data, { walls }, channels] = await Promise.all([
        api("GET", "/screens"), api("GET", "/walls"), channelsForScreens(),
      ]);
      if (editing) return; // a rename began while these were on their way: keep its form
      const now = data.server_time; // last_seen is server time: the admin's clock may be off
      summary.textContent = `${data.online} online of ${data.total}`;
      walled.render(walls);
      const active = document.activeElement;
      const focused = rows.contains(active) ? focusKey(active) : null;
      if (focused && active.tagName === "SELECT" && !force) return;
      rows.innerHTML = data.screens.length
        ? data.screens.map((s) => row(s, now, walls, channels)).join("")
        : `<tr><td colspan="11" class="muted">No screens yet. Every page showing the channel
           reports here; name one with ?screen=Lobby%20left in its address.</td></tr>`;
      if (focused) refocus(rows, focused);
    } catch (error) {
      summary.textContent = "";
      say(`Could not load the screens: ${error.message}`, false);
    }
  };

  const rename = (tr) => {
    const current = tr.querySelector(".screen-name").textContent;
    editing = tr.dataset.id;
    renameIn(tr.querySelector("th"), {
      id: "rename-input",
      label: "New name",
      value: current.startsWith("Unnamed") ? "" : current,
      save: async (name) => {
        try {
          await api("PATCH", `/screens/${encodeURIComponent(editing)}`, { name });
          say(`Renamed to “${name || "unnamed"}”.`);
        } catch (error) {
          say(`Rename failed: ${error.message}`, false);
        }
        editing = null;
      },
      done: () => refresh(),
    });
  };

  followChannelSelects(rows, { say: (text, ok) => say(text, ok), refresh });

  rows.addEventListener("change", async (event) => {
    const select = event.target.closest("select.wall-select");
    if (!select) return;
    const [wall, tile] = select.value ? select.value.split(":") : [null, null];
    const body = wall ? { wall, tile: tile.split(",").map(Number) } : { wall: null };
    try {
      await api("PUT", `/screens/${encodeURIComponent(select.dataset.screen)}/wall`, body);
      say(wall ? "The screen takes its tile within 5 s." : "The screen shows the whole picture again within 5 s.");
    } catch (error) {
      say(`Could not place the screen: ${error.message}`, false);
    }
    refresh(true);
  });

  rows.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const tr = button.closest("tr");
    const id = tr.dataset.id;
    const name = tr.querySelector(".screen-name")?.textContent ?? id;
    const action = button.dataset.action;
    if (action === "cancel") {
      editing = null;
      refresh();
    } else if (action === "rename") {
      rename(tr);
    } else if (action === "forget" && button.dataset.confirm !== "yes") {
      button.dataset.confirm = "yes";
      button.textContent = "Really forget?";
    } else {
      try {
        if (action === "forget") await api("DELETE", `/screens/${encodeURIComponent(id)}`);
        else await api("POST", `/screens/${encodeURIComponent(id)}/${action}`);
        say(
          {
            identify: `${name} shows its name for 10 s (within 5 s).`,
            reload: `${name} reloads (within 5 s).`,
            forget: `${name} was forgotten; it comes back if it reports again.`,
          }[action],
        );
      } catch (error) {
        say(`${action} failed: ${error.message}`, false);
      }
      refresh();
    }
  });

  const start = () => {
    clearInterval(timer);
    refresh();
    timer = setInterval(() => document.hidden || refresh(), POLL_MS);
  };
  const stop = () => clearInterval(timer);
  return { start, stop };
}

const tab = document.getElementById("tab-screens");
const panel = mountScreens(document.getElementById("panel-screens"));
let signedIn = !document.getElementById("console").hidden; // in case the console came first
const follow = () => {
  if (signedIn && tab.getAttribute("aria-selected") === "true") panel.start();
  else panel.stop();
};
document.addEventListener("admin:tab", follow);
document.addEventListener("admin:session", (event) => {
  signedIn = event.detail.role === "admin";
  follow();
});
follow();
