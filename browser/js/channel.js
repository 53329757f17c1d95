// The live connection to the channel: Server-Sent Events from /video-updates.
// Every event carries the whole state, so the latest one is all a page needs. EventSource
// reconnects by itself after a network error; after an HTTP error it gives up, so this module
// starts a new one with backoff. A reconnect always begins with the full state.

import { startScreen } from "./screen.js";
import { at, follow } from "./where.js";

// `url`: the stream's address, or a function giving it at each (re)connection.
export function connect(url, { onState, onConnection, probe }) {
  let source = null;
  let backoff = 1000;
  let retry = null;
  let watching = null;

  const open = () => {
    clearTimeout(retry);
    source?.close();
    source = new EventSource(typeof url === "function" ? url() : url);
    source.onopen = () => {
      backoff = 1000;
      stopWatching();
      onConnection?.(true);
    };
    source.onmessage = (event) => {
      let state;
      try {
        state = JSON.parse(event.data);
      } catch {
        return;
      }
      onState(state);
    };
    source.onerror = () => {
      onConnection?.(false);
      watch();
      if (source.readyState === EventSource.CLOSED) {
        retry = setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, 15000);
      }
    };
  };

  // While the stream is down, try `probe` (a small request) twice a second and reconnect as
  // soon as the server answers, rather than on the browser's retry timer or our backoff.
  const watch = () => {
    if (watching || !probe) return;
    watching = setInterval(async () => {
      if (source.readyState === EventSource.OPEN) stopWatching();
      else if (await probe()) {
        stopWatching();
        open();
      }
    }, 500);
  };
  const stopWatching = () => {
    clearInterval(watching);
    watching = null;
  };

  open();
  return { close: () => source?.close(), reopen: open };
}

// Shared page start-up: clock first (positions mean nothing without it), then the stream.
// Every page is also a screen of the fleet (screen.js).
export async function startChannel({ clock, player, onState, onConnection }) {
  window.simulcast = { clock, player };
  startScreen(player);
  window.simulcastStatus = () => ({ ...player.status(), connected: window.simulcast.connected });
  window.simulcast.connected = false;
  while (!(await clock.sync())) {
    onConnection?.(false);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  clock.start();
  const stream = connect(() => at("/video-updates"), {
    probe: () => clock.sample().then(() => true, () => false),
    onState: (state) => {
      player.setSchedule(state.id ? state : null, state.next);
      onState?.(state);
    },
    onConnection: (up) => {
      window.simulcast.connected = up;
      if (up) clock.sync(3);
      onConnection?.(up);
    },
  });
  // The console moved this screen to another channel (screen.js): follow it, no reload. The
  // new stream's first event is that channel's whole state; the player joins it as at start.
  window.addEventListener("simulcast:channel", (event) => {
    if (follow(event.detail)) stream.reopen();
  });
  return stream;
}
