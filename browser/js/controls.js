// The viewer's own controls on `/`: sound (mute and volume, remembered on this device), full
// screen, and their keys (M, F). Only `muted` and `volume` of the <video>s change, never their
// time or rate: the sync engine's work is untouched.

const SOUND_KEY = "simulcast.sound";

function loadSound() {
  try {
    const saved = JSON.parse(localStorage.getItem(SOUND_KEY) || "{}");
    const volume = Number(saved.volume);
    return { muted: saved.muted === true, volume: volume >= 0 && volume <= 1 ? volume : 1 };
  } catch {
    return { muted: false, volume: 1 }; // storage blocked (private mode): defaults, unsaved
  }
}

function saveSound(sound) {
  try {
    localStorage.setItem(SOUND_KEY, JSON.stringify(sound));
  } catch {
    // Not remembered; it still works for this visit.
  }
}

// player: a SyncPlayer; elements: {videos, mute, volume, sound}. Call render() from the
// player's onMuted hook. Applied at once, so a viewer who muted starts muted after a reload.
export function soundControls(player, { videos, mute, volume, sound }) {
  const prefs = loadSound();
  const applyVolume = () => {
    for (const video of videos) video.volume = prefs.volume;
    volume.value = String(prefs.volume);
  };
  const render = () => {
    mute.setAttribute("aria-pressed", String(player.muted));
    // The big "tap for sound" is for a browser that blocked sound, not for a viewer's choice.
    sound.hidden = !player.muted || prefs.muted;
  };
  const setMuted = (muted) => {
    prefs.muted = muted;
    saveSound(prefs);
    if (muted) player.setMuted(true);
    else player.unmute(); // from a click or key: the browser allows sound now
    render();
  };
  applyVolume();
  if (prefs.muted) player.setMuted(true);
  render();
  mute.addEventListener("click", () => setMuted(!player.muted));
  sound.addEventListener("click", () => setMuted(false));
  volume.addEventListener("input", () => {
    prefs.volume = Number(volume.value);
    applyVolume();
    saveSound(prefs);
    if (player.muted && prefs.volume > 0) setMuted(false); // moving the slider means "sound"
  });
  return { render, toggleMute: () => setMuted(!player.muted) };
}

// Full screen for the player (picture and controls), or nothing where the browser has none.
export function fullscreenControl(target, button) {
  if (!document.fullscreenEnabled) {
    button.hidden = true;
    return { toggle: () => {} };
  }
  const toggle = () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else target.requestFullscreen().catch(() => {});
  };
  button.addEventListener("click", toggle);
  document.addEventListener("fullscreenchange", () => {
    const on = document.fullscreenElement === target;
    button.setAttribute("aria-pressed", String(on));
    button.title = on ? "Exit full screen (F)" : "Full screen (F)";
  });
  return { toggle };
}

// Single-letter shortcuts, except while typing or with a modifier (browser shortcuts win).
export function shortcuts(keys) {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    const typing =
      target.isContentEditable ||
      target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && !["range", "checkbox", "button"].includes(target.type));
    const action = keys[event.key.toLowerCase()];
    if (typing || !action) return;
    event.preventDefault();
    action();
  });
}

const CAPTIONS_KEY = "simulcast.captions";

// The CC toggle of `/`: off unless this device turned captions on before.
export function captionsStartOn() {
  try {
    return localStorage.getItem(CAPTIONS_KEY) === "on";
  } catch {
    return false;
  }
}

export function captionsControl(captions, button) {
  const render = () => button.setAttribute("aria-pressed", String(captions.showing));
  const toggle = () => {
    captions.show(!captions.showing);
    try {
      localStorage.setItem(CAPTIONS_KEY, captions.showing ? "on" : "off");
    } catch {
      // Not remembered; it still works for this visit.
    }
    render();
  };
  button.addEventListener("click", toggle);
  render();
  return { toggle };
}
