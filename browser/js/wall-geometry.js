// A video wall's geometry, pure (no DOM, no clock): which part of the picture one screen shows.
//
// The wall is measured in millimetres. Each screen shows a visible area of W × H mm; between the
// visible areas of two neighbours lie both their bezels and the gap between the screens. The
// picture is fitted to the whole wall (letterboxed on the wall, not on each screen) and every
// screen is a window onto it: what falls behind the bezels is hidden, so a diagonal line stays
// straight across screens. Without a measured screen size a screen's CSS pixels are taken at
// 96 per inch (a tile then still shows its part; only the bezels need real sizes).
//
// A tile is described by the same fields on the URL (?wall=3x2&tile=2,1&bezel=12&gap=1&size=
// 1210x680&sound=0,0&pattern=1) and in the server's answer to a screen's report.

export const MAX_SIDE = 10; // columns or rows of a wall, at most
export const DEFAULT_ASPECT = 16 / 9; // the picture's, until the video says
const MM_PER_CSS_PX = 25.4 / 96;

function whole(text, low, high) {
  if (!/^\d+$/.test(text ?? "")) return null;
  const value = Number(text);
  return value >= low && value <= high ? value : null;
}

function millimetres(text, low, high) {
  if (text === null || text === undefined || text === "") return null;
  const value = Number(text);
  return Number.isFinite(value) && value >= low && value <= high ? value : null;
}

// "3x2" -> {cols: 3, rows: 2}; null when it is not a layout.
export function parseLayout(text) {
  const found = /^\s*(\d+)\s*[x×]\s*(\d+)\s*$/i.exec(text ?? "");
  if (!found) return null;
  const cols = whole(found[1], 1, MAX_SIDE);
  const rows = whole(found[2], 1, MAX_SIDE);
  return cols && rows ? { cols, rows } : null;
}

// "2,1" -> {col: 2, row: 1} (from 0) inside the layout; null otherwise.
export function parseTile(text, layout) {
  const found = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(text ?? "");
  if (!found || !layout) return null;
  const col = whole(found[1], 0, layout.cols - 1);
  const row = whole(found[2], 0, layout.rows - 1);
  return col === null || row === null ? null : { col, row };
}

// The tile a page's address asks for, or null (no wall, or a wall it cannot use).
export function tileFromParams(params) {
  const layout = parseLayout(params.get("wall"));
  const tile = parseTile(params.get("tile"), layout);
  if (!tile) return null;
  const size = /^\s*([\d.]+)\s*[x×]\s*([\d.]+)\s*$/i.exec(params.get("size") ?? "");
  const soundAt = params.has("sound") ? parseTile(params.get("sound"), layout) : { col: 0, row: 0 };
  return {
    name: params.get("wall"),
    ...layout,
    ...tile,
    bezel_mm: millimetres(params.get("bezel"), 0, 200) ?? 0,
    gap_mm: millimetres(params.get("gap"), 0, 2000) ?? 0,
    screen_w_mm: size ? millimetres(size[1], 10, 20000) : null,
    screen_h_mm: size ? millimetres(size[2], 10, 20000) : null,
    sound: Boolean(soundAt && soundAt.col === tile.col && soundAt.row === tile.row),
    pattern: ["1", "on", "true"].includes(params.get("pattern")),
  };
}

// Millimetres of the wall <-> pixels of this screen: the screen's visible size, the pitch from
// one screen to the next, the wall's size and where this tile's visible area begins.
export function wallFrame(tile, viewport) {
  const measured = tile.screen_w_mm > 0 && tile.screen_h_mm > 0;
  const width = measured ? tile.screen_w_mm : viewport.width * MM_PER_CSS_PX;
  const height = measured ? tile.screen_h_mm : viewport.height * MM_PER_CSS_PX;
  const seam = 2 * (tile.bezel_mm || 0) + (tile.gap_mm || 0);
  return {
    mmPerPxX: width / viewport.width,
    mmPerPxY: height / viewport.height,
    screen: { width, height },
    seam,
    wall: {
      width: tile.cols * width + (tile.cols - 1) * seam,
      height: tile.rows * height + (tile.rows - 1) * seam,
    },
    origin: { x: tile.col * (width + seam), y: tile.row * (height + seam) },
  };
}

// Where the picture lies on the wall (mm): as large as fits, centred.
export function pictureOnWall(frame, aspect = DEFAULT_ASPECT) {
  const ratio = aspect > 0 && Number.isFinite(aspect) ? aspect : DEFAULT_ASPECT;
  const width = Math.min(frame.wall.width, frame.wall.height * ratio);
  const height = width / ratio;
  return { x: (frame.wall.width - width) / 2, y: (frame.wall.height - height) / 2, width, height };
}

// A point of the wall (mm) in this screen's pixels.
export function toScreen(frame, x, y) {
  return { x: (x - frame.origin.x) / frame.mmPerPxX, y: (y - frame.origin.y) / frame.mmPerPxY };
}

// The rectangle (screen pixels, may reach far outside the screen) the whole picture takes so
// that this screen shows its part: what a <video> element is sized and placed to.
export function tileRect(tile, viewport, aspect = DEFAULT_ASPECT) {
  const frame = wallFrame(tile, viewport);
  const picture = pictureOnWall(frame, aspect);
  const corner = toScreen(frame, picture.x, picture.y);
  return {
    left: corner.x,
    top: corner.y,
    width: picture.width / frame.mmPerPxX,
    height: picture.height / frame.mmPerPxY,
  };
}

// What a screen draws of `rect` (tileRect's) where browsers can crop a video's picture in
// place (CSS object-view-box): the element covers only the part of the screen the picture
// reaches, and shows that part of the video's own pixels (video: its width and height). Far
// cheaper than an element as large as the wall clipped by the screen, which software
// compositors draw whole. null when the picture does not reach this screen (a letterbox tile).
export function cropOf(rect, viewport, video) {
  const left = Math.max(0, rect.left);
  const top = Math.max(0, rect.top);
  const right = Math.min(viewport.width, rect.left + rect.width);
  const bottom = Math.min(viewport.height, rect.top + rect.height);
  if (right <= left || bottom <= top) return null;
  const sx = video.width / rect.width;
  const sy = video.height / rect.height;
  return {
    box: { left, top, width: right - left, height: bottom - top },
    inset: {
      top: (top - rect.top) * sy,
      right: (rect.left + rect.width - right) * sx,
      bottom: (rect.top + rect.height - bottom) * sy,
      left: (left - rect.left) * sx,
    },
  };
}

// The test pattern's moving diagonal: its offset along the wall (mm) at server time t (s),
// the same on every screen, one sweep every `period` s across the wall's width plus height.
export function diagonalAt(frame, t, period = 8) {
  const span = frame.wall.width + frame.wall.height;
  return (((t / period) % 1) + 1) % 1 * span;
}
