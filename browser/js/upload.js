// The upload page: pick or drop a file, see real progress, get a clear answer; then, for a video
// that needs converting for every screen, follow the conversion until it joins the rotation.
// Upload and conversion share one bar, so it never drops back to 0 between the two.

import { showBanner } from "./banner.js";
import { connect } from "./channel.js";
import { byteSize, clockTime } from "./format.js";
import { at, channelSlug } from "./where.js";

const $ = (id) => document.getElementById(id);
const PASSCODE = "simulcast.uploadPasscode";
let file = null;
let watched = null; // {id, title} of the upload whose conversion this page follows
let uploadShare = 1; // the part of the bar the upload fills; a conversion fills the rest
let limits = { max_size: null, formats: ["MP4", "WebM", "MOV", "MKV", "AVI"] };

const WORDS = {
  storage: { static: "sample video", local: "stored on this server", s3: "stored in S3" },
  status: { ready: "In the rotation", offline: "Unavailable: its storage can't be reached now" },
};

function acceptedText() {
  const size = limits.max_size ? `, up to ${byteSize(limits.max_size)}` : "";
  return `We take video files (${limits.formats.join(", ")})${size}.`;
}

async function loadLimits() {
  try {
    const response = await fetch("/uploads");
    if (!response.ok) return;
    const answer = await response.json();
    const name = (format) => (format === "webm" ? "WebM" : format.toUpperCase());
    limits = { ...limits, ...answer, formats: answer.formats.map(name) };
    $("limit").textContent = byteSize(limits.max_size);
  } catch {
    // The hint keeps its default wording.
  }
}

function choose(chosen) {
  file = chosen || null;
  $("chosen").textContent = file ? `${file.name} · ${byteSize(file.size)}` : "";
  $("send").disabled = !file;
  $("result").textContent = "";
  $("result").className = "message";
  if (file) {
    $("progress").hidden = true; // a new file: the last upload's bar goes
    $("progress-text").textContent = "";
  }
}

$("file").addEventListener("change", () => choose($("file").files[0]));
const drop = $("drop");
for (const name of ["dragenter", "dragover"]) {
  drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
}
for (const name of ["dragleave", "drop"]) {
  drop.addEventListener(name, () => drop.classList.remove("over"));
}
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  choose(event.dataTransfer.files[0]);
});

function showResult(ok, text) {
  $("result").textContent = text;
  $("result").className = `message ${ok ? "ok" : "error"}`;
}

function setBar(fraction) {
  const percent = Math.max(0, Math.min(1, fraction || 0)) * 100;
  $("progress").hidden = false;
  $("progress-fill").style.width = `${percent}%`;
  $("progress").setAttribute("aria-valuenow", percent.toFixed(0));
}

function setUploadProgress(loaded, total, startedAt) {
  const fraction = total ? loaded / total : 0;
  setBar(fraction * uploadShare);
  const seconds = (performance.now() - startedAt) / 1000;
  const speed = seconds > 0 ? loaded / seconds : 0;
  const eta = speed > 0 ? (total - loaded) / speed : 0;
  const step = uploadShare < 1 ? "Step 1 of 2 · uploading" : "Uploading";
  $("progress-text").textContent =
    `${step} ${(fraction * 100).toFixed(0)} % · ${byteSize(loaded)} of ${byteSize(total)}` +
    (speed ? ` · ${byteSize(speed)}/s · ${clockTime(eta)} left` : "");
}

// A WebM usually plays everywhere as it is; anything else is usually converted afterwards.
const likelyConverted = (chosen) => !/\.webm$/i.test(chosen.name);

function refuse(status, answer) {
  // A captions file the server could not use: the video was fine, another captions file may be.
  const fileProblem = [400, 413, 415].includes(status) && answer.field !== "captions";
  const why = answer.error || `The upload failed (${status}).`;
  showResult(false, fileProblem ? `${why} ${acceptedText()}` : why);
  // The same file would be refused again: Upload waits for another one (503: try again later).
  $("send").disabled = fileProblem;
  if (fileProblem) $("chosen").textContent = `${file.name} · not accepted; choose another file`;
  $("progress").hidden = true;
  $("progress-text").textContent = "";
}

// XMLHttpRequest, not fetch: only it reports upload progress.
$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!file || $("send").disabled) return;
  const body = new FormData();
  body.append("title", $("title").value.trim());
  if ($("channel").value) body.append("channel", $("channel").value);
  const captions = $("captions").files[0];
  if (captions) body.append("captions", captions, captions.name);
  body.append("video", file, file.name);
  const request = new XMLHttpRequest();
  const startedAt = performance.now();
  uploadShare = likelyConverted(file) ? 0.5 : 1;
  $("send").disabled = true;
  $("result").textContent = "";
  setUploadProgress(0, file.size, startedAt);
  request.upload.addEventListener("progress", (e) => setUploadProgress(e.loaded, e.total, startedAt));
  request.upload.addEventListener("load", () => {
    $("progress-text").textContent = "Uploaded · checking the video…";
  });
  request.addEventListener("load", () => {
    let answer = {};
    try {
      answer = JSON.parse(request.responseText);
    } catch {
      answer = { error: `The server answered ${request.status}.` };
    }
    if (request.status < 200 || request.status >= 300) {
      if (request.status === 401 && passcode) {
        localStorage.removeItem(PASSCODE); // changed by the operator since: ask again
        checkAccess();
      }
      refuse(request.status, answer);
      return;
    }
    const video = answer.video;
    $("form").reset();
    choose(null);
    showResult(true, `“${video.title}” (${clockTime(video.duration)}): ${answer.message}`);
    // A video waiting for approval is not listed to uploaders: nothing to follow.
    const converting = video.status === "processing" && !video.waiting;
    watched = converting ? { id: video.id, title: video.title } : null;
    if (watched) follow(video);
    else {
      setBar(1); // done: the full bar stays beside the message until the next file
      $("progress-text").textContent = "Done";
    }
    refresh();
  });
  request.addEventListener("error", () => {
    showResult(false, "The connection to the server was lost; nothing was added. Try again.");
    $("send").disabled = false;
    $("progress").hidden = true;
    $("progress-text").textContent = "";
  });
  request.open("POST", at("/uploads"));
  const passcode = localStorage.getItem(PASSCODE);
  if (passcode) request.setRequestHeader("Authorization", `Bearer ${passcode}`);
  request.send(body);
});

// The conversion of the upload just made, on the rest of the bar the upload used.
function follow(video) {
  if (!watched || video.id !== watched.id) return;
  if (video.status === "processing") {
    const progress = video.progress || 0;
    setBar(uploadShare < 1 ? uploadShare + (1 - uploadShare) * progress : 1);
    const step = uploadShare < 1 ? "Step 2 of 2 · converting" : "Converting";
    $("progress-text").textContent =
      `${step} “${watched.title}” for every screen ${(progress * 100).toFixed(0)} %`;
    return;
  }
  watched = null;
  if (video.status === "failed") {
    $("progress").hidden = true;
    $("progress-text").textContent = "";
    showResult(false, `“${video.title}” could not be converted: ${video.error}`);
  } else {
    setBar(1);
    $("progress-text").textContent = "Done";
    showResult(true, `“${video.title}” is converted and joins the rotation.`);
  }
}

function cell(className, ...content) {
  const td = document.createElement("td");
  td.className = className;
  td.append(...content);
  return td;
}

function posterCell(video) {
  if (!video.poster) return cell("poster");
  const image = document.createElement("img");
  image.src = video.poster;
  image.alt = "";
  image.width = 64;
  image.height = 36;
  image.loading = "lazy";
  return cell("poster", image);
}

function titleCell(video, playing) {
  const td = cell("title", video.title);
  if (playing) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "Now playing";
    td.append(badge);
  }
  return td;
}

function detail(text) {
  const span = document.createElement("span");
  span.className = "detail";
  span.textContent = text;
  return span;
}

function statusCell(video) {
  const where = detail(WORDS.storage[video.storage] || `stored in ${video.storage}`);
  if (video.status === "processing") {
    const percent = Math.round((video.progress || 0) * 100);
    const bar = document.createElement("div");
    bar.className = "progress";
    const fill = document.createElement("div");
    fill.style.width = `${percent}%`;
    bar.append(fill);
    return cell("state", `Converting for every screen · ${percent} %`, bar, where);
  }
  if (video.status === "failed") {
    const td = cell("state message error", `Couldn't be converted: ${video.error || "unknown reason"}`);
    td.append(where);
    return td;
  }
  return cell("state", WORDS.status[video.status] || video.status, where);
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

async function refresh() {
  let converting = false;
  try {
    const response = await fetch(at("/videos", chosenPrefix()), { cache: "no-store" });
    const { videos, current_index: currentIndex } = await response.json();
    const rows = videos.map((video) => {
      const row = document.createElement("tr");
      row.dataset.id = video.id;
      const playing = video.index !== null && video.index === currentIndex;
      if (playing) row.className = "playing";
      converting ||= video.status === "processing";
      follow(video);
      row.append(
        cell("pos", video.index === null ? "–" : String(video.index + 1)),
        posterCell(video),
        titleCell(video, playing),
        cell("length", clockTime(video.duration)),
        cell("votes", `${plural(video.likes, "like")} · ${plural(video.dislikes, "dislike")}`),
        statusCell(video),
      );
      return row;
    });
    $("videos").replaceChildren(...rows);
    $("no-videos").hidden = rows.length > 0;
    $("video-table").hidden = rows.length === 0;
  } catch {
    // The list is a convenience; the next refresh will try again.
  }
  // Every second while something converts, so its progress moves; every 5 s otherwise.
  clearTimeout(refresh.timer);
  refresh.timer = setTimeout(refresh, converting || watched ? 1000 : 5000);
}
// The channel the upload goes to: this page's own, preselected; the list below follows it.
async function loadChannels() {
  try {
    const response = await fetch("/channels", { cache: "no-store" });
    if (!response.ok) return;
    const { channels } = await response.json();
    const mine = channels.find((c) => c.slug === channelSlug) || channels.find((c) => c.default);
    $("channel").replaceChildren(...channels.map((c) => new Option(c.title, c.slug, false, c === mine)));
    $("channel").dataset.defaultSlug = channels.find((c) => c.default)?.slug ?? "";
    $("channel-field").hidden = channels.length < 2;
  } catch {
    // One channel as before: the upload goes to this page's channel.
  }
}

function chosenPrefix() {
  const slug = $("channel").value;
  if (!slug) return undefined; // not loaded: this page's channel
  return slug === $("channel").dataset.defaultSlug ? "" : `/c/${encodeURIComponent(slug)}`;
}

$("channel").addEventListener("change", () => refresh());
loadLimits();
loadChannels().then(refresh);

// Who may upload (UPLOAD_ACCESS): anyone, passcode holders, or signed-in admins only.
async function session(passcode) {
  const headers = passcode ? { Authorization: `Bearer ${passcode}` } : {};
  const response = await fetch("/session", { headers, cache: "no-store" });
  return response.json();
}

function lock(form) {
  $("passcode-form").hidden = form !== "passcode";
  $("locked").hidden = form !== "admin";
  $("form").hidden = form !== null;
}

async function checkAccess() {
  try {
    const who = await session(localStorage.getItem(PASSCODE));
    if (who.may_upload) lock(null);
    else lock(who.upload_access === "token" ? "passcode" : "admin");
  } catch {
    lock(null); // the upload itself will say what is wrong
  }
}

$("passcode-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const passcode = $("passcode").value.trim();
  try {
    if ((await session(passcode)).may_upload) {
      localStorage.setItem(PASSCODE, passcode);
      $("passcode").value = "";
      $("passcode-message").textContent = "";
      lock(null);
      $("file").focus();
    } else {
      $("passcode-message").textContent = "That passcode is not right; ask the channel's operator.";
      $("passcode-message").className = "message error";
    }
  } catch {
    $("passcode-message").textContent = "The server cannot be reached; try again.";
    $("passcode-message").className = "message error";
  }
});
checkAccess();

// The operator's banner: this page plays nothing, so it follows the stream for that alone.
connect(at("/video-updates"), { onState: (state) => showBanner(state.banner) });
