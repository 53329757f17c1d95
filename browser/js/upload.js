// The upload page: pick or drop a file, see real progress, get a clear answer.

import { byteSize, clockTime } from "./format.js";

const $ = (id) => document.getElementById(id);
let file = null;

function choose(chosen) {
  file = chosen || null;
  $("chosen").textContent = file ? `${file.name} · ${byteSize(file.size)}` : "";
  $("send").disabled = !file;
  $("result").textContent = "";
  $("result").className = "message";
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

function setProgress(loaded, total, startedAt) {
  const percent = total ? (loaded / total) * 100 : 0;
  $("progress").hidden = false;
  $("progress-fill").style.width = `${percent}%`;
  $("progress").setAttribute("aria-valuenow", percent.toFixed(0));
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
    if (request.status >= 200 && request.status < 300) {
      $("form").reset();
      choose(null);
      showResult(true, `“${answer.video.title}” (${clockTime(answer.video.duration)}): ${answer.message}`);
      refresh();
    } else {
      showResult(false, answer.error || `Upload failed (${request.status}).`);
      $("send").disabled = false;
    }
    $("progress-text").textContent = "";
  });
  request.addEventListener("error", () => {
    showResult(false, "The connection to the server was lost; nothing was added. Try again.");
    $("send").disabled = false;
  });
  request.open("POST", "/uploads");
  request.send(body);
});

async function refresh() {
  try {
    const response = await fetch("/videos", { cache: "no-store" });
    const { videos, current_index: currentIndex } = await response.json();
    const rows = videos.map((video) => {
      const row = document.createElement("tr");
      if (video.index === currentIndex) row.className = "playing";
      const cells = [
        video.index ?? "–",
        video.title,
        clockTime(video.duration),
        `${video.likes} likes · ${video.dislikes} dislikes`,
        video.status === "ready" ? video.storage : `${video.storage} (${video.status})`,
      ];
      for (const value of cells) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.append(cell);
      }
      return row;
    });
    $("videos").replaceChildren(...rows);
  } catch {
    // The list is a convenience; the next refresh will try again.
  }
}
refresh();
setInterval(refresh, 5000);
