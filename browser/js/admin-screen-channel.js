// The Channel column of the console's Screens tab: which channel each screen shows, and a
// select that moves it to another one (PUT /screens/{id}/channel); the screen follows with its
// next report, without reloading.

import { api } from "./admin-api.js";

const escape = (text) =>
  String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The channels to offer, fetched with each refresh of the table.
export async function channelsForScreens() {
  try {
    return (await api("GET", "/channels")).channels;
  } catch {
    return [];
  }
}

export function channelCell(screen, channels) {
  const id = `channel-of-${screen.id}`;
  const chosen = screen.channel ?? "";
  const options = [`<option value="" ${chosen ? "" : "selected"}>Its address's</option>`]
    .concat(channels.map((c) =>
      `<option value="${escape(c.slug)}" ${c.slug === chosen ? "selected" : ""}>${escape(c.title)}</option>`))
    .join("");
  return `<td data-label="Channel">
      <label class="visually-hidden" for="${escape(id)}">Channel of ${escape(screen.name || screen.id)}</label>
      <select id="${escape(id)}" class="channel-select" data-screen="${escape(screen.id)}">${options}</select>
    </td>`;
}

// Wire the selects of `rows` (delegated): `say` reports, `refresh` redraws.
export function followChannelSelects(rows, { say, refresh }) {
  rows.addEventListener("change", async (event) => {
    const select = event.target.closest("select.channel-select");
    if (!select) return;
    const channel = select.value || null;
    try {
      await api("PUT", `/screens/${encodeURIComponent(select.dataset.screen)}/channel`, { channel });
      say(channel
        ? "The screen switches to that channel within 5 s, without reloading."
        : "The screen goes back to the channel its address names within 5 s.");
    } catch (error) {
      say(`Could not move the screen: ${error.message}`, false);
    }
    refresh(true);
  });
}
