// A channel's schedule in the console: a week view of its weekly slots, the one-off dates below
// it, and a form to add, change or remove a slot. Every save sends the whole schedule
// (PUT /channels/{slug}/schedule); the server checks it and answers with the field at fault.

import { api } from "./admin-api.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const DAY_MINUTES = 1440;

const escape = (text) =>
  String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const minutes = (clock) => {
  const [h, m] = clock.split(":").map(Number);
  return h * 60 + m;
};
const label = (slot) => slot.title || slot.id;
const videoCount = (slot) => `${slot.playlist.length} video${slot.playlist.length === 1 ? "" : "s"}`;

// The path prefix of a channel's pages and endpoints: the default channel keeps the old URLs.
export const base = (channel) => (channel.default ? "" : `/c/${encodeURIComponent(channel.slug)}`);

// The blocks a weekly slot draws: one per day, and its part after midnight on the next day.
export function blocks(slot) {
  const start = minutes(slot.start);
  const length = (minutes(slot.end) - start + DAY_MINUTES) % DAY_MINUTES || DAY_MINUTES;
  const out = [];
  for (const day of slot.days) {
    const index = DAYS.indexOf(day);
    const first = Math.min(length, DAY_MINUTES - start);
    out.push({ day: index, top: start, height: first, cont: false });
    if (length > first) out.push({ day: (index + 1) % 7, top: 0, height: length - first, cont: true });
  }
  return out;
}

function weekView(slots) {
  const hours = [0, 3, 6, 9, 12, 15, 18, 21]
    .map((h) => `<span class="hour" data-top="${(h / 24) * 100}">${String(h).padStart(2, "0")}:00</span>`)
    .join("");
  const columns = DAYS.map((day, d) => {
    const here = slots.filter((s) => s.days).flatMap((s, i) =>
      blocks(s).filter((b) => b.day === d).map((b) => ({ ...b, slot: s, i })),
    ).sort((a, b) => a.top - b.top);
    const items = here.map(({ slot, top, height, cont }) => `
      <li class="slot-block" data-top="${(top / DAY_MINUTES) * 100}" data-height="${(height / DAY_MINUTES) * 100}">
        <button type="button" data-slot="${escape(slot.id)}">
          <span class="visually-hidden">Edit, ${DAY_NAMES[d]}${cont ? " (from the day before)" : ""}:</span>
          <strong>${escape(label(slot))}</strong>
          <span>${cont ? "…" : slot.start}–${slot.end}</span>
          <span class="small">${slot.boundary === "finish" ? "finishes" : "cuts"} · ${videoCount(slot)}</span>
        </button>
      </li>`).join("");
    return `
      <div class="day" role="group" aria-label="${DAY_NAMES[d]}">
        <h3>${DAY_NAMES[d].slice(0, 3)}</h3>
        <ol class="day-slots">${items || `<li class="free muted small">Default playlist all day</li>`}</ol>
      </div>`;
  }).join("");
  return `<div class="week"><div class="hours" aria-hidden="true">${hours}</div>${columns}</div>`;
}

function oneOffs(slots) {
  const dated = slots.filter((s) => s.date).sort((a, b) => (a.date + a.start).localeCompare(b.date + b.start));
  if (!dated.length) return `<p class="muted">No one-off dates.</p>`;
  return `<ul class="one-offs">${dated.map((s) => `
    <li><button type="button" data-slot="${escape(s.id)}">
      <strong>${escape(s.date)} ${s.start}–${s.end}</strong> ${escape(label(s))}
      <span class="muted small">(${videoCount(s)}, ${s.boundary === "finish" ? "finishes" : "cuts"})</span>
    </button></li>`).join("")}</ul>`;
}

export function mountSchedule(container, say, changed) {
  let channel = null;
  let slots = [];
  let videos = [];
  let editing = null; // the slot id in the form, null for a new one
  let picked = []; // the form's playlist, video ids in order

  const render = (timezone) => {
    const options = videos.map((v) => `<option value="${escape(v.id)}">${escape(v.title)}</option>`).join("");
    container.innerHTML = `
      <h2 id="schedule-title" tabindex="-1">Schedule of ${escape(channel.title)}</h2>
      <p class="muted">Times are in <strong>${escape(timezone)}</strong> (the server's
        <code>TIMEZONE</code>). Outside every slot the channel's own playlist plays; a one-off
        date replaces the weekly slots while it lasts. Every screen of the channel switches at the
        same instant.</p>
      <div class="week-wrap">${weekView(slots)}</div>
      <h3>One-off dates</h3>
      ${oneOffs(slots)}
      <form id="slot-form" class="stack slot-form" aria-labelledby="slot-form-title">
        <h3 id="slot-form-title">Add a slot</h3>
        <div class="row">
          <label class="field"><span>Title</span><input id="slot-title" maxlength="80" placeholder="Lunch"></label>
          <fieldset class="field"><legend>Repeats</legend>
            <label><input type="radio" name="kind" value="weekly" checked> every week</label>
            <label><input type="radio" name="kind" value="date"> once, on a date</label>
          </fieldset>
        </div>
        <fieldset id="slot-days" class="days"><legend>Days</legend>
          ${DAYS.map((d, i) => `<label><input type="checkbox" value="${d}"> ${DAY_NAMES[i].slice(0, 3)}</label>`).join("")}
        </fieldset>
        <label class="field" id="slot-date-field" hidden><span>Date</span><input id="slot-date" type="date"></label>
        <div class="row">
          <label class="field"><span>Starts (HH:MM)</span>
            <input id="slot-start" required inputmode="numeric" pattern="[0-2][0-9]:[0-5][0-9]" placeholder="12:00" size="6"></label>
          <label class="field"><span>Ends (HH:MM, 24:00 for midnight)</span>
            <input id="slot-end" required inputmode="numeric" pattern="[0-2][0-9]:[0-5][0-9]" placeholder="13:30" size="6"></label>
        </div>
        <fieldset class="field"><legend>At its start and end, the video playing</legend>
          <label><input type="radio" name="boundary" value="cut" checked> is cut: the switch is on the minute</label>
          <label><input type="radio" name="boundary" value="finish"> finishes first</label>
        </fieldset>
        <div class="field">
          <span id="slot-playlist-label">Plays, in order</span>
          <ol id="slot-playlist" class="picked" aria-labelledby="slot-playlist-label"></ol>
          <div class="row">
            <label class="visually-hidden" for="slot-add-video">Video to add</label>
            <select id="slot-add-video">${options}</select>
            <button type="button" id="slot-add" ${videos.length ? "" : "disabled"}>Add video</button>
          </div>
        </div>
        <div class="row">
          <button type="submit" class="primary" id="slot-save">Save slot</button>
          <button type="button" id="slot-delete" hidden>Delete slot</button>
          <button type="button" id="slot-cancel" hidden>Cancel</button>
        </div>
      </form>`;
    // Placed through the CSSOM: the pages' Content-Security-Policy refuses style attributes.
    for (const el of container.querySelectorAll("[data-top]")) {
      el.style.top = `${el.dataset.top}%`;
      if (el.dataset.height) el.style.height = `${el.dataset.height}%`;
    }
    const $ = (id) => container.querySelector(`#${id}`);
    const kind = () => container.querySelector('input[name="kind"]:checked').value;
    const showKind = () => {
      $("slot-days").hidden = kind() !== "weekly";
      $("slot-date-field").hidden = kind() !== "date";
    };
    const drawPicked = () => {
      const title = (id) => videos.find((v) => v.id === id)?.title ?? id;
      $("slot-playlist").innerHTML = picked.length
        ? picked.map((id, i) => `
          <li><span>${escape(title(id))}</span>
            <button type="button" data-move="-1" data-at="${i}" aria-label="Move ${escape(title(id))} up" ${i ? "" : "disabled"}>Up</button>
            <button type="button" data-move="1" data-at="${i}" aria-label="Move ${escape(title(id))} down" ${i < picked.length - 1 ? "" : "disabled"}>Down</button>
            <button type="button" data-remove="${i}" aria-label="Remove ${escape(title(id))}">Remove</button></li>`).join("")
        : `<li class="muted">No videos yet: the slot keeps the default playlist on until you add some.</li>`;
    };
    const fill = (slot) => {
      editing = slot ? slot.id : null;
      picked = slot ? [...slot.playlist] : [];
      $("slot-form-title").textContent = slot ? `Edit “${label(slot)}”` : "Add a slot";
      $("slot-title").value = slot?.title ?? "";
      container.querySelector(`input[name="kind"][value="${slot?.date ? "date" : "weekly"}"]`).checked = true;
      for (const box of $("slot-days").querySelectorAll("input")) box.checked = !!slot?.days?.includes(box.value);
      $("slot-date").value = slot?.date ?? "";
      $("slot-start").value = slot?.start ?? "";
      $("slot-end").value = slot?.end ?? "";
      container.querySelector(`input[name="boundary"][value="${slot?.boundary ?? "cut"}"]`).checked = true;
      $("slot-delete").hidden = !slot;
      $("slot-cancel").hidden = !slot;
      showKind();
      drawPicked();
    };
    const save = async (next, done) => {
      try {
        const answer = await api("PUT", `/channels/${encodeURIComponent(channel.slug)}/schedule`, { slots: next });
        slots = answer.slots;
        say(done);
        render(timezone);
        changed();
        return true;
      } catch (error) {
        say(`Not saved: ${error.message}`, false);
        return false;
      }
    };
    container.addEventListener("change", (event) => {
      if (event.target.name === "kind") showKind();
    });
    $("slot-add").addEventListener("click", () => {
      picked.push($("slot-add-video").value);
      drawPicked();
    });
    $("slot-playlist").addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      if (button.dataset.remove !== undefined) picked.splice(Number(button.dataset.remove), 1);
      else {
        const at = Number(button.dataset.at);
        const to = at + Number(button.dataset.move);
        [picked[at], picked[to]] = [picked[to], picked[at]];
      }
      drawPicked();
      $("slot-add").focus();
    });
    container.querySelectorAll("[data-slot]").forEach((button) =>
      button.addEventListener("click", () => {
        fill(slots.find((s) => s.id === button.dataset.slot));
        $("slot-title").focus();
      }),
    );
    $("slot-cancel").addEventListener("click", () => fill(null));
    $("slot-delete").addEventListener("click", async () => {
      const gone = slots.find((s) => s.id === editing);
      await save(slots.filter((s) => s.id !== editing), `Slot “${label(gone)}” deleted.`);
    });
    $("slot-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const slot = {
        title: $("slot-title").value.trim(),
        start: $("slot-start").value.trim(),
        end: $("slot-end").value.trim(),
        playlist: picked,
        boundary: container.querySelector('input[name="boundary"]:checked').value,
      };
      if (kind() === "weekly") {
        slot.days = [...$("slot-days").querySelectorAll("input:checked")].map((box) => box.value);
        if (!slot.days.length) return say("Pick at least one day for a weekly slot.", false);
      } else {
        slot.date = $("slot-date").value;
        if (!slot.date) return say("Pick the date of the one-off slot.", false);
      }
      if (editing) slot.id = editing;
      const next = editing ? slots.map((s) => (s.id === editing ? slot : s)) : [...slots, slot];
      await save(next, `Slot “${slot.title || slot.start}” saved: every screen follows it.`);
    });
    fill(null);
  };

  const show = async (chosen, timezone) => {
    channel = chosen;
    const [schedule, listing] = await Promise.all([
      api("GET", `/channels/${encodeURIComponent(chosen.slug)}/schedule`),
      api("GET", `${base(chosen)}/videos`),
    ]);
    slots = schedule.slots;
    videos = listing.videos.filter((v) => !v.waiting);
    container.hidden = false;
    if (container.contains(document.activeElement) && container.querySelector("form input:focus")) return;
    render(schedule.timezone ?? timezone);
  };
  return { show };
}
