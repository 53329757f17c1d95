// The upload page: pick or drop a file, see real progress, get a clear answer; then, for a video
// that needs converting for every screen, follow the conversion until it joins the rotation.

import { byteSize, clockTime } from "./format.js";

const $ = (id) => document.getElementById(id);
const PASSCODE = "simulcast.uploadPasscode";
let file = null;
let watched = null; // {id, title} of the upload whose conversion this page follows

function choose(chosen) {
  file = chosen || null;
  $("chosen").textContent = file ? `${file.name} · ${byteSize(file.size)}` : "";
  $("send").disabled = !file;
  $("result").textContent = "";
  $("result").className = "message";
  if (file) $("progress").hidden = true; // a new file: the last upload's bar goes
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
  return percent;
}

function setProgress(loaded, total, startedAt) {
  const percent = setBar(total ? loaded / total : 0);
  const seconds = (performance.now() - startedAt) / 1000;
  const speed = seconds > 0 ? loaded / seconds : 0;
  const eta = speed > 0 ? (total - loaded) / speed : 0;
  $("progress-text").textContent =
    `${percent.toFixed(0)} % · ${byteSize(loaded)} of ${byteSize(total)}` +
    (speed ? ` · ${byteSize(speed)}/s · ${clockTime(eta)} left` : "");
}

// XMLHttpRequest, not fetch: only it reports upload progress.
$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!file) return;
  const body = new FormData();
  body.append("title", $("title").value.trim());
  body.append("video", file, file.name);
  const request = new XMLHttpRequest();
  const startedAt = performance.now();
  $("send").disabled = true;
  setProgress(0, file.size, startedAt);
  request.upload.addEventListener("progress", (e) => setProgress(e.loaded, e.total, startedAt));
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
    $("progress-text").textContent = "";
    if (request.status >= 200 && request.status < 300) {
      const video = answer.video;
      $("form").reset();
      choose(null);
      showResult(true, `“${video.title}” (${clockTime(video.duration)}): ${answer.message}`);
      // A video waiting for approval is not listed to uploaders: nothing to follow.
      const converting = video.status === "processing" && !video.waiting;
      watched = converting ? { id: video.id, title: video.title } : null;
      if (watched) follow(video);
      else setBar(1); // done: the full bar stays beside the message until the next file
      refresh();
    } else {
      if (request.status === 401 && passcode) {
        localStorage.removeItem(PASSCODE); // changed by the operator since: ask again
        checkAccess();
      }
      showResult(false, answer.error || `Upload failed (${request.status}).`);
      $("send").disabled = false;
      $("progress").hidden = true;
    }
  });
  request.addEventListener("error", () => {
    showResult(false, "The connection to the server was lost; nothing was added. Try again.");
    $("send").disabled = false;
  });
  request.open("POST", "/uploads");
  const passcode = localStorage.getItem(PASSCODE);
  if (passcode) request.setRequestHeader("Authorization", `Bearer ${passcode}`);
  request.send(body);
});

// The conversion of the upload just made, shown on the bar the upload used.
function follow(video) {
  if (!watched || video.id !== watched.id) return;
  if (video.status === "processing") {
    const percent = setBar(video.progress);
    $("progress-text").textContent =
      `Converting “${watched.title}” for every screen · ${percent.toFixed(0)} %`;
    return;
  }
  watched = null;
  $("progress").hidden = true;
  $("progress-text").textContent = "";
  if (video.status === "failed") {
    showResult(false, `“${video.title}” could not be converted: ${video.error}`);
  } else {
    showResult(true, `“${video.title}” is converted and joins the rotation.`);
  }
}

function posterCell(video) {
  const cell = document.createElement("td");
  if (video.poster) {
    const image = document.createElement("img");
    image.src = video.poster;
    image.alt = "";
    image.width = 64;
    image.height = 36;
    image.loading = "lazy";
    image.style.objectFit = "cover";
    cell.append(image);
  }
  return cell;
}

function statusCell(video) {
  const cell = document.createElement("td");
  if (video.status === "processing") {
    const percent = Math.round((video.progress || 0) * 100);
    const bar = document.createElement("div");
    bar.className = "progress";
    const fill = document.createElement("div");
    fill.style.width = `${percent}%`;
    bar.append(fill);
    cell.append(`${video.storage} · converting ${percent} %`, bar);
  } else if (video.status === "failed") {
    cell.className = "message error";
    cell.textContent = `${video.storage} · not converted: ${video.error || "unknown reason"}`;
  } else {
    cell.textContent = video.status === "ready" ? video.storage : `${video.storage} (${video.status})`;
  }
  return cell;
}

function textCell(value) {
  const cell = document.createElement("td");
  cell.textContent = value;
  return cell;
}

async function refresh() {
  let converting = false;
  try {
    const response = await fetch("/videos", { cache: "no-store" });
    const { videos, current_index: currentIndex } = await response.json();
    const rows = videos.map((video) => {
      const row = document.createElement("tr");
      row.dataset.id = video.id;
      if (video.index === currentIndex) row.className = "playing";
      converting ||= video.status === "processing";
      follow(video);
      row.append(
        textCell(video.index ?? "–"),
        posterCell(video),
        textCell(video.title),
        textCell(clockTime(video.duration)),
        textCell(`${video.likes} likes · ${video.dislikes} dislikes`),
        statusCell(video),
      );
      return row;
    });
    $("videos").replaceChildren(...rows);
  } catch {
    // The list is a convenience; the next refresh will try again.
  }
  // Every second while something converts, so its progress moves; every 5 s otherwise.
  clearTimeout(refresh.timer);
  refresh.timer = setTimeout(refresh, converting || watched ? 1000 : 5000);
}
refresh();

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
