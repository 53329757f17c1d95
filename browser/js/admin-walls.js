// Video walls in the console's Screens tab: make a wall (name, layout, bezels, screen size),
// adjust it live with the test pattern showing on every screen of it, and choose which screen
// shows which tile (the Wall column of the screens table). Screens follow with their next
// report, every second while the pattern shows: nobody touches the TVs.

import { api } from "./admin-api.js";

const SAVE_AFTER_MS = 400; // typing in a number field saves once it pauses

const escape = (text) =>
  String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const tileName = (tile) => `column ${tile.col + 1}, row ${tile.row + 1}`;

// The Wall cell of a screen's row: a select of every wall's tiles.
export function wallCell(screen, walls) {
  const place = screen.wall;
  const name = screen.name || `Unnamed ${screen.id.slice(0, 8)}`;
  const options = walls.flatMap((wall) =>
    wall.tiles.map((tile) => {
      const value = `${wall.id}:${tile.col},${tile.row}`;
      const here = place && place.id === wall.id && place.col === tile.col && place.row === tile.row;
      const taken = tile.screen_id && tile.screen_id !== screen.id ? ` (now ${tile.screen_name || "another screen"})` : "";
      return `<option value="${escape(value)}"${here ? " selected" : ""}>${escape(wall.name)} · ${tileName(tile)}${escape(taken)}</option>`;
    }),
  );
  if (!walls.length) return `<td data-label="Wall" class="muted">—</td>`;
  return `
    <td data-label="Wall">
      <label class="visually-hidden" for="wall-of-${escape(screen.id)}">Wall tile of ${escape(name)}</label>
      <select id="wall-of-${escape(screen.id)}" class="wall-select" data-screen="${escape(screen.id)}">
        <option value="">Not in a wall</option>${options.join("")}
      </select>
    </td>`;
}

function sizeText(wall) {
  return wall.screen_w_mm ? `${wall.screen_w_mm} × ${wall.screen_h_mm} mm screens` : "screen size not set";
}

function wallCard(wall) {
  const id = escape(wall.id);
  const field = (key, label, value, attrs = "") => `
    <label class="field" for="wall-${id}-${key}"><span>${label}</span>
      <input id="wall-${id}-${key}" data-field="${key}" value="${escape(value ?? "")}" ${attrs}>
    </label>`;
  const mm = 'type="number" inputmode="decimal" min="0" step="0.5"';
  const grid = wall.tiles
    .map(
      (tile) =>
        `<li data-empty="${tile.screen_id ? "no" : "yes"}"><span class="muted small">${tileName(tile)}</span>
         ${escape(tile.screen_id ? tile.screen_name || tile.screen_id.slice(0, 8) : "empty")}</li>`,
    )
    .join("");
  const sound = [
    `<option value=""${wall.sound_tile ? "" : " selected"}>No tile (all muted)</option>`,
    ...wall.tiles.map((tile) => {
      const on = wall.sound_tile && wall.sound_tile[0] === tile.col && wall.sound_tile[1] === tile.row;
      return `<option value="${tile.col},${tile.row}"${on ? " selected" : ""}>${tileName(tile)}</option>`;
    }),
  ].join("");
  return `
    <li class="wall" data-wall="${id}">
      <div class="wall-head">
        <h4 id="wall-${id}-title">${escape(wall.name)}</h4>
        <span class="muted small">${wall.layout} · bezel ${wall.bezel_mm} mm · gap ${wall.gap_mm} mm · ${sizeText(wall)}</span>
      </div>
      <ol class="wall-grid" data-cols="${wall.cols}" aria-label="Tiles of ${escape(wall.name)}">${grid}</ol>
      <form class="wall-form" aria-labelledby="wall-${id}-title">
        ${field("name", "Name", wall.name, 'maxlength="80" required')}
        ${field("layout", "Layout (columns x rows)", wall.layout, 'pattern="\\s*\\d+\\s*[xX×]\\s*\\d+\\s*" required')}
        ${field("bezel_mm", "Bezel (mm, one screen's border)", wall.bezel_mm, `${mm} max="200"`)}
        ${field("gap_mm", "Gap between screens (mm)", wall.gap_mm, `${mm} max="2000"`)}
        ${field("screen_w_mm", "Visible width of a screen (mm)", wall.screen_w_mm, `${mm} min="10"`)}
        ${field("screen_h_mm", "Visible height of a screen (mm)", wall.screen_h_mm, `${mm} min="10"`)}
        <label class="field" for="wall-${id}-sound_tile"><span>Sound from</span>
          <select id="wall-${id}-sound_tile" data-field="sound_tile">${sound}</select>
        </label>
        <label class="check" for="wall-${id}-pattern">
          <input type="checkbox" id="wall-${id}-pattern" data-field="pattern"${wall.pattern ? " checked" : ""}>
          Show the test pattern on this wall
        </label>
      </form>
      <div class="row">
        <button type="button" data-action="delete-wall" aria-label="Delete wall ${escape(wall.name)}">Delete wall</button>
      </div>
    </li>`;
}

// What one field of the form says, as the API wants it; undefined while it is not usable yet.
function valueOf(input) {
  const key = input.dataset.field;
  if (key === "pattern") return input.checked;
  if (key === "sound_tile") return input.value ? input.value.split(",").map(Number) : null;
  if (key === "name" || key === "layout") return input.value.trim() || undefined;
  if (input.value === "") return key.startsWith("screen_") ? null : undefined;
  const number = Number(input.value);
  return Number.isFinite(number) ? number : undefined;
}

export function mountWalls(container, { say, refresh }) {
  container.innerHTML = `
    <h3 id="walls-title">Video walls</h3>
    <p class="muted">A wall shows one picture across several screens, each screen its tile. Put
    screens on tiles with the Wall column above; set the bezel (one screen's border), the gap
    between screens and each screen's visible size so the picture hides behind the bezels like a
    window, and turn the test pattern on to align it by eye: changes reach the screens within
    a second or two.</p>
    <ul class="walls" id="walls-list" aria-labelledby="walls-title"></ul>
    <form id="wall-new" class="wall-new" aria-labelledby="wall-new-title">
      <h4 id="wall-new-title">New wall</h4>
      <label class="field" for="wall-new-name"><span>Name</span>
        <input id="wall-new-name" maxlength="80" required placeholder="Lobby wall"></label>
      <label class="field" for="wall-new-layout"><span>Layout (columns x rows)</span>
        <input id="wall-new-layout" required value="2x2" pattern="\\s*\\d+\\s*[xX×]\\s*\\d+\\s*"></label>
      <label class="field" for="wall-new-bezel"><span>Bezel (mm)</span>
        <input id="wall-new-bezel" type="number" inputmode="decimal" min="0" max="200" step="0.5" value="0"></label>
      <label class="field" for="wall-new-gap"><span>Gap (mm)</span>
        <input id="wall-new-gap" type="number" inputmode="decimal" min="0" max="2000" step="0.5" value="0"></label>
      <label class="field" for="wall-new-width"><span>Screen width (mm, optional)</span>
        <input id="wall-new-width" type="number" inputmode="decimal" min="10" step="0.5"></label>
      <label class="field" for="wall-new-height"><span>Screen height (mm, optional)</span>
        <input id="wall-new-height" type="number" inputmode="decimal" min="10" step="0.5"></label>
      <button type="submit" class="primary">Make wall</button>
    </form>`;
  const list = container.querySelector("#walls-list");
  let shown = ""; // the walls as last drawn: redrawn only when they change, never under the cursor
  const timers = new Map();

  const save = async (wallId, input) => {
    const value = valueOf(input);
    if (value === undefined) return;
    const body = { [input.dataset.field]: value };
    const pair = ["screen_w_mm", "screen_h_mm"];
    if (pair.includes(input.dataset.field)) {
      // sizes go in pairs: send both, or wait until both are there
      const form = input.closest("form");
      const [w, h] = pair.map((key) => valueOf(form.querySelector(`[data-field="${key}"]`)));
      if ((w === null) !== (h === null)) return;
      Object.assign(body, { screen_w_mm: w, screen_h_mm: h });
    }
    try {
      await api("PATCH", `/walls/${encodeURIComponent(wallId)}`, body);
      say("Saved; the wall's screens follow within a second or two.");
    } catch (error) {
      say(`Could not save: ${error.message}`, false);
    }
    refresh();
  };

  list.addEventListener("input", (event) => {
    const input = event.target.closest("[data-field]");
    if (!input || input.type === "checkbox" || input.tagName === "SELECT") return;
    const wallId = input.closest("[data-wall]").dataset.wall;
    clearTimeout(timers.get(input.id));
    timers.set(input.id, setTimeout(() => save(wallId, input), SAVE_AFTER_MS));
  });
  list.addEventListener("change", (event) => {
    const input = event.target.closest("[data-field]");
    if (!input) return;
    clearTimeout(timers.get(input.id));
    save(input.closest("[data-wall]").dataset.wall, input);
  });
  list.addEventListener("submit", (event) => event.preventDefault());
  list.addEventListener("click", async (event) => {
    const button = event.target.closest('button[data-action="delete-wall"]');
    if (!button) return;
    if (button.dataset.confirm !== "yes") {
      button.dataset.confirm = "yes";
      button.textContent = "Really delete?";
      return;
    }
    try {
      await api("DELETE", `/walls/${encodeURIComponent(button.closest("[data-wall]").dataset.wall)}`);
      say("The wall is gone; its screens show the whole picture again.");
    } catch (error) {
      say(`Could not delete: ${error.message}`, false);
    }
    refresh();
  });

  container.querySelector("#wall-new").addEventListener("submit", async (event) => {
    event.preventDefault();
    const $ = (id) => container.querySelector(`#wall-new-${id}`).value;
    const number = (text) => (text === "" ? null : Number(text));
    try {
      const { wall } = await api("POST", "/walls", {
        name: $("name"),
        layout: $("layout"),
        bezel_mm: number($("bezel")) ?? 0,
        gap_mm: number($("gap")) ?? 0,
        screen_w_mm: number($("width")),
        screen_h_mm: number($("height")),
      });
      say(`Wall “${wall.name}” made: put screens on its tiles in the Wall column.`);
      event.target.reset();
    } catch (error) {
      say(`Could not make the wall: ${error.message}`, false);
    }
    refresh();
  });

  const render = (walls) => {
    const drawn = JSON.stringify(walls);
    if (drawn === shown || list.contains(document.activeElement)) return;
    shown = drawn;
    list.innerHTML = walls.length ? walls.map(wallCard).join("") : `<li class="muted">No walls yet.</li>`;
    // Set here, not in a style attribute: the page's CSP allows no inline styles.
    for (const grid of list.querySelectorAll(".wall-grid")) grid.style.setProperty("--cols", grid.dataset.cols);
  };
  return { render };
}
