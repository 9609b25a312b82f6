"""Imported last by the job forkserver (``supervisor.start_forkserver``): it
freezes what the preloads built, so that the children keep sharing it.

Every child is forked from the forkserver and shares its memory copy-on-write.
Python's cyclic garbage collector, running in a child, would visit every
preloaded object (yt-dlp's extractors, Pillow, Django) and write to its
header, copying nearly every page of them into each child. ``gc.freeze()``
moves those objects to a permanent generation that collections leave alone.
"""

import gc

gc.freeze()
