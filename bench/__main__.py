"""``python -m bench``: every benchmark, both modes, as a markdown table."""

from bench.run_all import main

main()
