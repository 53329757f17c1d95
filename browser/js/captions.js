// Captions as <track>s: each deck gets the captions of the item it loads, so the browser times
// every cue by that <video>'s own clock, which the sync engine keeps on the schedule: captions
// are exactly as synced as the picture. Nothing here touches time or rate.

const TRACK_LABEL = "Captions";

// player: a SyncPlayer (its decks: a <video> and the item it holds); showing: on at start.
export function captionTracks(player, showing) {
  let on = showing;
  const videos = player.decks.map((deck) => deck.el);
  const itemOf = (video) => player.decks.find((deck) => deck.el === video)?.item;
  const apply = (video) => {
    for (const track of video.textTracks) track.mode = on ? "showing" : "hidden";
  };
  for (const video of videos) {
    // loadstart: the deck has just been given a new item (and src).
    video.addEventListener("loadstart", () => {
      const item = itemOf(video);
      for (const old of video.querySelectorAll("track")) old.remove();
      if (item?.captions) {
        const track = Object.assign(document.createElement("track"), {
          kind: "captions",
          label: TRACK_LABEL,
          src: item.captions,
        });
        video.append(track);
      }
      apply(video);
    });
  }
  return {
    get showing() {
      return on;
    },
    show(value) {
      on = value;
      for (const video of videos) apply(video);
    },
  };
}
