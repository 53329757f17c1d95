#!/usr/bin/env bash
# Regenerates the sample videos in static/ from ffmpeg's test sources.
#
# Each sample has its own background colour, its name, a large running timecode
# (seconds with two decimals, plus the frame number) and a tone of its own pitch,
# so screens that are out of sync are obvious by eye and by ear.
#
# Needs: Debian's ffmpeg (libvpx-vp9, libopus, drawtext) and the font package
# fonts-dejavu-core (`apt-get install ffmpeg fonts-dejavu-core`).
#
# Output: WebM VP9 + Opus, which plays in Chromium and in Qt WebEngine (the
# kiosk), where H.264 does not. Usage: scripts/make_samples.sh [OUT_DIR]
set -euo pipefail

out_dir="${1:-$(dirname "$0")/../static}"
font="${FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf}"
ffmpeg="${FFMPEG:-ffmpeg}"

if [[ ! -f "$font" ]]; then
    echo "font not found: $font (apt-get install fonts-dejavu-core)" >&2
    exit 1
fi
mkdir -p "$out_dir"

# name  colour  seconds  tone_hz
samples=(
    "01-red-sample   0x8b1a1a 12 440"
    "02-green-sample 0x1a6b2a 15 660"
    "03-blue-sample  0x1a3a8b 20 880"
)

make_sample() {
    local name="$1" colour="$2" seconds="$3" tone="$4"
    local fps=30
    # Seconds as S.cc built from the frame number, so the text is exact per frame
    # rather than depending on floating-point pts formatting.
    local timecode="%{eif\\:trunc(n/${fps})\\:d}.%{eif\\:mod(n,${fps})*100/${fps}\\:d\\:2}"
    local text_style="fontfile=${font}:fontcolor=white:borderw=4:bordercolor=black"
    local video_filter
    video_filter=$(printf '%s,' \
        "drawtext=${text_style}:fontsize=150:x=(w-text_w)/2:y=(h-text_h)/2-10:text='${timecode}'" \
        "drawtext=${text_style}:fontsize=36:x=(w-text_w)/2:y=24:text='${name}'" \
        "drawtext=${text_style}:fontsize=30:x=(w-text_w)/2:y=h-text_h-56:text='frame %{frame_num}'" \
        "drawtext=fontfile=${font}:fontcolor=white:fontsize=24:x=(w-text_w)*mod(n\\,${fps})/(${fps}-1):y=h-text_h-8:text='█'")
    video_filter="${video_filter%,}"

    # -g/-keyint_min 30: a keyframe every second so seeks land quickly.
    # -deadline realtime -cpu-used 8: fast encode; flat colours compress well anyway.
    "$ffmpeg" -hide_banner -loglevel error -y \
        -f lavfi -i "color=c=${colour}:s=640x360:r=${fps}:d=${seconds}" \
        -itsoffset 0.0065 -f lavfi -i "sine=frequency=${tone}:sample_rate=48000:duration=${seconds}" \
        -vf "$video_filter" \
        -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1 \
        -crf 40 -b:v 0 -g "$fps" -keyint_min "$fps" -pix_fmt yuv420p \
        -c:a libopus -b:a 48k -ac 1 \
        -t "$seconds" \
        "${out_dir}/${name}.webm"
}

for sample in "${samples[@]}"; do
    # shellcheck disable=SC2086 # split the row into its fields on purpose
    make_sample $sample
    echo "made ${out_dir}/$(echo $sample | cut -d' ' -f1).webm"
done
