// Calls to the server's JSON API from the console. The session cookie goes with every
// same-origin request; an answer that is not OK becomes an Error carrying the server's reason.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, cache: "no-store" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, "The server cannot be reached; nothing was changed. Try again.");
  }
  let answer = {};
  try {
    answer = await response.json();
  } catch {
    // An empty or non-JSON answer: the status says enough.
  }
  if (!response.ok) {
    throw new ApiError(response.status, answer.error || `The server answered ${response.status}.`);
  }
  return answer;
}

// Signed-in state changes are announced to every section of the console (tabs that other
// modules add listen for these too): "admin:session" with {detail: {role}}.
export function announceSession(role) {
  document.dispatchEvent(new CustomEvent("admin:session", { detail: { role } }));
}

// An inline rename form in `cell` (a table cell of the console): its input holds `value`;
// Save calls `save(newValue)`, then `done()` redraws. Cancel is a button with
// data-action="cancel", for the table's own click handler.
export function renameIn(cell, { id, label, value, save, done }) {
  const escaped = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  cell.innerHTML = `
    <form class="rename">
      <label class="visually-hidden" for="${id}">${escaped(label)}</label>
      <input id="${id}" maxlength="80" value="${escaped(value)}">
      <button type="submit">Save</button> <button type="button" data-action="cancel">Cancel</button>
    </form>`;
  const input = cell.querySelector("input");
  input.focus();
  input.select();
  cell.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await save(input.value);
    done();
  });
}
