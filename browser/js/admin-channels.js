// The Channels tab of /admin: every channel (create, rename, delete, its pages), and the week
// view of the chosen channel's schedule, editable (js/admin-schedule.js draws and edits it).

import { api, renameIn } from "./admin-api.js";
import { base, mountSchedule } from "./admin-schedule.js";

const escape = (text) =>
  String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function row(channel) {
  const prefix = base(channel);
  const title = escape(channel.title);
  const remove = channel.default
    ? `<span class="muted small">the default channel</span>`
    : `<button type="button" data-action="delete" aria-label="Delete ${title}">Delete</button>`;
  return `
    <tr data-slug="${escape(channel.slug)}">
      <th scope="row"><span class="channel-title">${title}</span>
        <span class="muted small">${escape(channel.slug)}</span></th>
      <td data-label="Pages">
        <a href="${prefix}/">Watch</a> · <a href="${prefix}/ambient">Ambient</a> ·
        <a href="${prefix}/upload">Upload</a></td>
      <td data-label="Slots" class="num">${channel.slots ?? 0}</td>
      <td class="actions">
        <button type="button" data-action="schedule" aria-label="Schedule of ${title}">Schedule</button>
        <button type="button" data-action="rename" aria-label="Rename ${title}">Rename</button>
        ${remove}
      </td>
    </tr>`;
}

function mountChannels(container) {
  container.innerHTML = `
    <h2 id="channels-title">Channels</h2>
    <p class="muted">Each channel has its own playlist, schedule, votes and screens. The default
      channel is at the site's own addresses; the others under <code>/c/&lt;name&gt;/</code>.</p>
    <p class="message" id="channels-message" role="status" aria-live="polite"></p>
    <div class="table-wrap">
      <table class="channels" aria-labelledby="channels-title">
        <thead><tr><th scope="col">Channel</th><th scope="col">Pages</th>
          <th scope="col" class="num">Slots</th><th scope="col">Actions</th></tr></thead>
        <tbody id="channels-rows"></tbody>
      </table>
    </div>
    <form id="channel-form" class="stack channel-form">
      <h3>New channel</h3>
      <div class="row">
        <label class="field"><span>Title</span>
          <input id="channel-title" maxlength="80" required placeholder="Lobby"></label>
        <label class="field"><span>Address name <span class="muted">(a-z, 0-9, -)</span></span>
          <input id="channel-slug" maxlength="40" required pattern="[a-z0-9][a-z0-9\\-]*"
                 placeholder="lobby" aria-describedby="channel-slug-hint"></label>
      </div>
      <p id="channel-slug-hint" class="muted small">Its pages: /c/<span id="slug-echo">lobby</span>/, /c/<span>…</span>/ambient</p>
      <button type="submit" class="primary">Create channel</button>
    </form>
    <section id="schedule" class="schedule" aria-labelledby="schedule-title" hidden></section>`;
  const $ = (id) => container.querySelector(`#${id}`);
  const message = $("channels-message");
  let channels = [];
  let timezone = "UTC";
  let chosen = null; // the slug whose schedule is open
  let slugTouched = false;
  const schedule = mountSchedule($("schedule"), (text, ok) => say(text, ok), () => refresh());

  const say = (text, ok = true) => {
    message.textContent = text;
    message.className = `message ${ok ? "ok" : "error"}`;
  };

  const refresh = async () => {
    try {
      const data = await api("GET", "/channels");
      channels = data.channels;
      timezone = data.timezone;
      $("channels-rows").innerHTML = channels.map(row).join("");
      const open = channels.find((c) => c.slug === chosen) || channels.find((c) => c.default);
      if (open) await schedule.show(open, timezone);
      chosen = open?.slug ?? null;
    } catch (error) {
      say(`Could not load the channels: ${error.message}`, false);
    }
  };

  $("channel-title").addEventListener("input", () => {
    if (slugTouched) return;
    $("channel-slug").value = $("channel-title").value.toLowerCase()
      .normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
    $("slug-echo").textContent = $("channel-slug").value || "lobby";
  });
  $("channel-slug").addEventListener("input", () => {
    slugTouched = true;
    $("slug-echo").textContent = $("channel-slug").value || "lobby";
  });
  $("channel-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { slug: $("channel-slug").value.trim(), title: $("channel-title").value.trim() };
    try {
      await api("POST", "/channels", body);
      say(`Channel “${body.title}” created: its screens open /c/${body.slug}/ambient.`);
      chosen = body.slug;
      $("channel-form").reset();
      slugTouched = false;
      await refresh();
    } catch (error) {
      say(`Not created: ${error.message}`, false);
    }
  });

  const rename = (tr, channel) =>
    renameIn(tr.querySelector("th"), {
      id: "channel-rename",
      label: "New title",
      value: channel.title,
      save: async (title) => {
        try {
          await api("PATCH", `/channels/${encodeURIComponent(channel.slug)}`, { title });
          say(`Renamed to “${title}”.`);
        } catch (error) {
          say(`Rename failed: ${error.message}`, false);
        }
      },
      done: () => refresh(),
    });

  $("channels-rows").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const tr = button.closest("tr");
    const channel = channels.find((c) => c.slug === tr.dataset.slug);
    const action = button.dataset.action;
    if (action === "cancel") return refresh();
    if (action === "rename") return rename(tr, channel);
    if (action === "schedule") {
      chosen = channel.slug;
      await schedule.show(channel, timezone);
      $("schedule").querySelector("h2")?.focus();
      return;
    }
    if (button.dataset.confirm !== "yes") {
      button.dataset.confirm = "yes";
      button.textContent = "Really delete?";
      return;
    }
    try {
      await api("DELETE", `/channels/${encodeURIComponent(channel.slug)}`);
      say(`Channel “${channel.title}” deleted; its screens went to the default channel.`);
    } catch (error) {
      say(`Not deleted: ${error.message}`, false);
    }
    refresh();
  });
  return { refresh };
}

const tab = document.getElementById("tab-channels");
const panel = mountChannels(document.getElementById("panel-channels"));
let signedIn = !document.getElementById("console").hidden;
const follow = () => {
  if (signedIn && tab.getAttribute("aria-selected") === "true") panel.refresh();
};
document.addEventListener("admin:tab", follow);
document.addEventListener("admin:session", (event) => {
  signedIn = event.detail.role === "admin";
  follow();
});
follow();
