"""Speech recognition for the local Transcribe stand-in: pocketsphinx (PyPI, with its English
model) over 16 kHz mono 16-bit PCM. Prints the words with their start and end in seconds as JSON:
[["today", 0.25, 0.55], ...] (fillers, silences and sentence marks left out)."""

import json
import re
import sys

from pocketsphinx import Decoder


def main() -> None:
    decoder = Decoder(samprate=16000)
    with open(sys.argv[1], "rb") as audio:
        data = audio.read()
    decoder.start_utt()
    decoder.process_raw(data, full_utt=True)
    decoder.end_utt()
    rate = decoder.config["frate"]
    words = []
    for seg in decoder.seg():
        word = re.sub(r"\(\d+\)$", "", seg.word)
        if word.startswith(("<", "[")) or not word:
            continue
        words.append([word, seg.start_frame / rate, (seg.end_frame + 1) / rate])
    json.dump(words, sys.stdout)


if __name__ == "__main__":
    main()
