"""Running attacks over data: per-clip attack runs (:mod:`advlib.run.runner`), universal
perturbations (:mod:`advlib.run.universal`), transfer between victims
(:mod:`advlib.run.transfer`) and success after simulated playback (:mod:`advlib.run.playback`).
These, with :mod:`advlib.train`, are the only places that loop over data, time things and talk
to the cache."""
