// The live connection to the channel: Server-Sent Events from /video-updates.
// Every event carries the whole state, so the latest one is all a page needs. EventSource
// reconnects by itself after a network error; after an HTTP error it gives up, so this module
// starts a new one with backoff. A reconnect always begins with the full state.

export function connect(url, { onState, onConnection }) {
  let source = null;
  let backoff = 1000;

  const open = () => {
    source = new EventSource(url);
    source.onopen = () => {
      backoff = 1000;
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
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, 15000);
      }
    };
  };
  open();
  return { close: () => source?.close() };
}

// Shared page start-up: clock first (positions mean nothing without it), then the stream.
export async function startChannel({ clock, player, onState, onConnection }) {
  window.simulcast = { clock, player };
  window.simulcastStatus = () => ({ ...player.status(), connected: window.simulcast.connected });
  window.simulcast.connected = false;
  while (!(await clock.sync())) {
    onConnection?.(false);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  clock.start();
  return connect("/video-updates", {
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
}
