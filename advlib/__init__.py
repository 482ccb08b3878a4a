"""advlib: data, victims, attacks, metrics and statistics for adversarial audio studies.

The package in floors, each importing only the floors below it (import-linter contracts in
``pyproject.toml``, run by ``make lint``):

* ``advlib.tools``: benchmarks, the browser check, notebook tools, alt text (imported by nothing);
* ``advlib.chapters``: one module per book chapter (independent of each other);
* ``advlib.study``: profiles, the ``Study`` session, records, provenance, scorecard, paper numbers;
* ``advlib.run``: attack runs, universal perturbations, transfer, playback;
* ``advlib.train``: classifier, adversarial and generator training;
* the floor: ``data``, ``models``, ``attacks``, ``metrics``, ``stats``, ``plots``, ``cache``,
  ``device``, ``paths``.
"""

__version__ = "0.1.0"
