"""Tools around the study: benchmarks (``bench_victims``, ``bench_attacks``), the browser check
of the built book, notebook tools (text sources, titles, alt text). They may import anything in
advlib; nothing in advlib imports them."""
