// This page as one tile of a video wall: its <video> decks are sized and placed so the screen
// shows only its part of the picture (wall-geometry.js does the maths), every tile but one is
// muted, and a test pattern (a grid, a circle and a moving diagonal timed by the server's
// clock) can cover the whole wall for aligning bezels by eye.
//
// The tile comes from the address (?wall=3x2&tile=2,1...), or from the console: a screen
// assigned to a wall gets its tile in the answer to its reports (screen.js raises
// "simulcast:wall"), which wins over the address while it lasts, with no reload. Kept apart
// from the sync engine: the decks play exactly as on any page, only their boxes change.

import {
  cropOf,
  diagonalAt,
  pictureOnWall,
  tileFromParams,
  tileRect,
  toScreen,
  wallFrame,
} from "./wall-geometry.js";

const viewport = () => ({ width: window.innerWidth, height: window.innerHeight });
const aspectOf = (el) => (el.videoWidth && el.videoHeight ? el.videoWidth / el.videoHeight : undefined);

const SILENT_VOLUME = 1e-4; // -80 dB
const CROPS = typeof CSS !== "undefined" && CSS.supports?.("object-view-box", "inset(1px)");
const px = (value) => `${value}px`;

function setBox(el, box) {
  el.style.left = px(box.left);
  el.style.top = px(box.top);
  el.style.width = px(box.width);
  el.style.height = px(box.height);
}

// Size and place a deck so the screen shows its part of the picture: cropped in place where
// the browser can (Chromium, Qt WebEngine), else as an element as large as the whole picture.
function place(el, tile) {
  for (const key of ["left", "top", "width", "height", "object-view-box", "visibility"]) {
    el.style.removeProperty(key);
  }
  if (!tile) return;
  const view = viewport();
  const rect = tileRect(tile, view, aspectOf(el));
  if (!CROPS || !el.videoWidth) {
    setBox(el, rect);
    return;
  }
  const crop = cropOf(rect, view, { width: el.videoWidth, height: el.videoHeight });
  if (!crop) {
    el.style.visibility = "hidden"; // this screen is all letterbox
    return;
  }
  setBox(el, crop.box);
  const { top, right, bottom, left } = crop.inset;
  el.style.objectViewBox = `inset(${px(top)} ${px(right)} ${px(bottom)} ${px(left)})`;
}

function line(ctx, frame, from, to) {
  const a = toScreen(frame, from.x, from.y);
  const b = toScreen(frame, to.x, to.y);
  ctx.moveTo(a.x, a.y);
  ctx.lineTo(b.x, b.y);
}

// One frame of the test pattern, drawn in wall millimetres so it runs on across the seams.
function drawPattern(canvas, tile, seconds) {
  const view = viewport();
  const scale = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(view.width * scale)) canvas.width = Math.round(view.width * scale);
  if (canvas.height !== Math.round(view.height * scale)) canvas.height = Math.round(view.height * scale);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  const frame = wallFrame(tile, view);
  const { width, height } = frame.wall;
  ctx.fillStyle = "#111";
  ctx.fillRect(0, 0, view.width, view.height);
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#8a8f98";
  ctx.beginPath();
  const step = frame.screen.height / 6;
  for (let x = 0; x <= width; x += step) line(ctx, frame, { x, y: 0 }, { x, y: height });
  for (let y = 0; y <= height; y += step) line(ctx, frame, { x: 0, y }, { x: width, y });
  ctx.stroke();
  const picture = pictureOnWall(frame);
  ctx.strokeStyle = "#4cc2ff";
  ctx.lineWidth = 4;
  ctx.beginPath();
  const centre = toScreen(frame, width / 2, height / 2);
  ctx.ellipse(centre.x, centre.y, (height * 0.45) / frame.mmPerPxX, (height * 0.45) / frame.mmPerPxY, 0, 0, 2 * Math.PI);
  const corner = toScreen(frame, picture.x, picture.y);
  ctx.rect(corner.x, corner.y, picture.width / frame.mmPerPxX, picture.height / frame.mmPerPxY);
  ctx.stroke();
  const d = diagonalAt(frame, seconds);
  ctx.strokeStyle = "#ffd34d";
  ctx.lineWidth = 10;
  ctx.beginPath();
  line(ctx, frame, { x: d, y: 0 }, { x: d - height, y: height });
  ctx.stroke();
  ctx.fillStyle = "#fff";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.font = `600 ${Math.round(view.height / 12)}px system-ui, sans-serif`;
  // Counted from 1, as the console names tiles (the address counts from 0).
  ctx.fillText(`${tile.name} · column ${tile.col + 1}, row ${tile.row + 1}`, view.width / 2, view.height / 2);
  ctx.font = `${Math.round(view.height / 28)}px system-ui, sans-serif`;
  const size = tile.screen_w_mm ? `${tile.screen_w_mm} × ${tile.screen_h_mm} mm` : "size not set";
  ctx.fillText(
    `${tile.cols}×${tile.rows} · bezel ${tile.bezel_mm} mm · gap ${tile.gap_mm} mm · screen ${size}`,
    view.width / 2,
    view.height / 2 + view.height / 10,
  );
}

export function startWall({ player, clock }) {
  const fromAddress = tileFromParams(new URLSearchParams(location.search));
  let assigned; // undefined: the console has said nothing; null: no wall; else its tile
  let tile = null;
  let canvas = null;
  const videos = player.decks.map((deck) => deck.el);

  const silent = () => Boolean(tile && !tile.sound);

  const pattern = () => {
    if (!tile?.pattern) {
      canvas?.remove();
      canvas = null;
      return;
    }
    if (!canvas) {
      canvas = document.createElement("canvas");
      canvas.id = "wall-pattern";
      canvas.className = "wall-pattern";
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", "Wall test pattern");
      document.querySelector("main").append(canvas);
      const draw = () => {
        if (!canvas) return;
        drawPattern(canvas, tile, clock.ready ? clock.now() : performance.now() / 1000);
        requestAnimationFrame(draw);
      };
      requestAnimationFrame(draw);
    }
  };

  const apply = () => {
    const next = assigned === undefined || assigned === null ? fromAddress : assigned;
    const wasSilent = silent();
    const wasTile = Boolean(tile);
    tile = next;
    document.body.classList.toggle("wall-tile", Boolean(tile));
    // The title shows on the top-left tile only, not once per screen.
    document.body.classList.toggle("wall-corner", Boolean(tile && tile.col === 0 && tile.row === 0));
    for (const el of videos) place(el, tile);
    // A silent tile is neither muted nor at volume 0: Chromium then plays it on another clock,
    // measured 15-30 ms behind the tile with sound beside it (bench/wall.py). At -80 dB it
    // keeps the sound tile's pipeline and cannot be heard.
    if (tile || wasTile) for (const el of videos) el.volume = silent() ? SILENT_VOLUME : 1;
    if (wasSilent && !silent() && player.muted) player.unmute();
    pattern();
    window.simulcast.wall = tile ? { ...tile, silent: silent() } : null;
  };

  for (const el of videos) {
    el.addEventListener("loadedmetadata", () => place(el, tile));
    el.addEventListener("resize", () => place(el, tile));
  }
  window.addEventListener("resize", apply);
  window.addEventListener("simulcast:wall", (event) => {
    const given = event.detail ?? null;
    if (JSON.stringify(given) === JSON.stringify(assigned ?? null) && assigned !== undefined) return;
    assigned = given;
    apply();
  });
  apply();
  return { silent };
}
