"""Command line: ``python -m advlib <command>`` (or ``advlib <command>`` once installed).

Commands
--------
profile NAME        validate a profile and list its data sets and victims
victims             list the victim registry with paper sizes
datasets            list the data-set registry (source, licence, protocol)
fetch NAME [ROOT]   download, verify (sha256) and safely extract a real data set
fixtures [--profile P] [--out DIR] [NAME ...]
                    write fixture data sets in the real sets' layouts (the smoke profile's:
                    UrbanSound8K, ESC-50, Speech Commands v0.02, GTZAN, FSDD); with --profile,
                    those its data sets read; into $ADVLIB_FIXTURES (data/generated/fixtures)
device [--device D] check the device the pages would train on (cpu, cuda, cuda:N, mps)
page PAGE [-o OUT] [--profile P] [--dataset D] [--set KEY=VALUE ...]
                    re-execute one page of the book with the profile's parameters, changed by
                    each --set (``--set uap.n_eval=50 --set seed=1``)
unit --profile P ID [--out FILE]
                    run one unit of work of the pipeline (fills its cache entries) and write
                    its sentinel JSON; ``unit --profile P --list`` lists the profile's units;
                    ``unit --profile P --batch PAGE`` runs a page's units in one process;
                    ``unit --profile P --with-needs ID [ID ...]`` runs units and those they
                    need, in one process

A mistake (a misspelt argument, an unknown page, profile or data set, a bad ``--set``, a
missing file) prints one line ``error: ...`` to stderr and exits with status 2; ``--debug``
(anywhere on the line) shows the full traceback instead.
"""

from __future__ import annotations

import sys
import time

from advlib.cli import ArgumentParser, run


def main(argv: list[str] | None = None) -> int:
    """Run one command; a user error prints ``error: ...`` and returns 2 (see the module)."""
    return run(_main, argv)


def _main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="advlib", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("profile", help="validate a profile and summarise it")
    p.add_argument("name")
    sub.add_parser("victims", help="list victims")
    sub.add_parser("datasets", help="list data sets")
    f = sub.add_parser("fetch", help="download a real data set")
    f.add_argument("name")
    f.add_argument(
        "root",
        nargs="?",
        default=None,
        help="data root (default $ADVLIB_DATA_ROOT or data/downloads)",
    )
    x = sub.add_parser("fixtures", help="write fixture data sets in the real sets' layouts")
    x.add_argument("names", nargs="*", help="fixture sets (default: all, or the profile's)")
    x.add_argument("--profile", default=None, help="write the fixture sets this profile reads")
    x.add_argument("--out", default=None, help="folder (default $ADVLIB_FIXTURES)")
    d = sub.add_parser("device", help="check the device models train and run on")
    d.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps ($ADVLIB_DEVICE)")
    d.add_argument("--quiet", action="store_true", help="print nothing when it is available")
    g = sub.add_parser("page", help="re-execute one page with your own parameters")
    g.add_argument("page", help="victims, frontends, attacks, uap, at, gan, scorecard, ...")
    g.add_argument(
        "-o", "--out", default=None, help="executed notebook (default PAGE-PROFILE.ipynb)"
    )
    g.add_argument("--profile", default="demo", help="the profile whose parameters to start from")
    g.add_argument("--dataset", default=None, help="the victims page's data set")
    g.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one parameter (dotted key, YAML value); repeatable",
    )
    u = sub.add_parser("unit", help="run one unit of work of the pipeline, or list them")
    u.add_argument("id", nargs="*", default=[], help="the unit's id (see --list)")
    u.add_argument("--profile", default="demo")
    u.add_argument("--list", action="store_true", help="list the profile's units")
    u.add_argument("--long", action="store_true", help="with --list: page, needs, resources")
    u.add_argument("--out", default=None, help="sentinel (default data/units/PROFILE/ID.json)")
    u.add_argument("--progress", action="store_true", help="progress bars")
    u.add_argument(
        "--with-needs",
        action="store_true",
        help="run the given units and every unit they need (needs first), in one process",
    )
    u.add_argument(
        "--batch",
        default=None,
        metavar="NAME",
        help="run every unit of one page (victims-DATASET, attacks, uap, at, gan) in one process",
    )
    args = parser.parse_args(argv)

    if args.cmd == "profile":
        from advlib.chapters import load_profile

        cfg = load_profile(args.name)
        print(f"profile {cfg['profile']} (seed {cfg['seed']}): valid")
        for name, ds in cfg["datasets"].items():
            print(f"  {name} [{ds['loader']}]: victims {', '.join(ds['victims'])}")
    elif args.cmd == "victims":
        from advlib.models.registry import VICTIMS

        for name, spec in VICTIMS.items():
            print(f"{name:16s} {spec.title:20s} paper config {spec.paper_config}  ({spec.paper})")
    elif args.cmd == "datasets":
        from advlib.data.registry import dataset_info, dataset_names

        for name in dataset_names():
            e = dataset_info(name)
            print(f"{name:20s} {e['title']}\n{'':20s} licence: {e['licence']}; {e['source']}")
    elif args.cmd == "fetch":
        from advlib.data.download import fetch
        from advlib.paths import data_root

        root = args.root or data_root()
        path = fetch(args.name, root)
        print(f"{args.name}: ready in {path}")
    elif args.cmd == "fixtures":
        from advlib.data.fixtures import fixture_set, make_smoke_data

        names = list(args.names) or None
        if args.profile is not None:
            from advlib.chapters import load_profile

            cfg = load_profile(args.profile)
            used = [fixture_set(d.get("root", "")) for d in cfg["datasets"].values()]
            names = [*(names or []), *dict.fromkeys(n for n in used if n)]
            if not names:
                print(f"profile {cfg['profile']} reads no fixture set")
                return 0
        from advlib.paths import fixtures_dir

        for name, path in make_smoke_data(args.out or fixtures_dir(), names).items():
            print(f"{name}: {path}")
    elif args.cmd == "device":
        import torch

        from advlib.device import get_device

        try:
            dev = get_device(args.device)
        except RuntimeError as exc:  # no such device here: the user's choice, one line
            raise ValueError(str(exc)) from exc
        if not args.quiet:
            extra = f", {torch.cuda.get_device_name(dev)}" if dev.type == "cuda" else ""
            print(f"device {dev} available (torch {torch.__version__}{extra})")
    elif args.cmd == "page":
        from advlib.tools.pages import run_page

        out = args.out or f"{args.page}-{args.profile}.ipynb"
        path = run_page(
            args.page, out, profile=args.profile, dataset=args.dataset, settings=args.settings
        )
        print(f"executed {args.page} ({args.profile}) -> {path}")
    elif args.cmd == "unit":
        from advlib.chapters import load_profile
        from advlib.tools.units import batches, profile_units, run_batch, run_unit, sentinel

        cfg = load_profile(args.profile)
        units = profile_units(cfg)
        if args.list:
            for uid, unit in units.items():
                if args.long:
                    print(f"{uid}\tpage={unit.page}\tgpu={unit.gpu}\ttiming={unit.timing}"
                          f"\tmem_mb={unit.mem_mb}\truntime={unit.runtime}"
                          f"\tneeds={','.join(unit.needs)}")  # fmt: skip
                else:
                    print(uid)
            return 0
        if args.batch is not None:
            if args.batch not in batches(units):
                print(f"error: no batch {args.batch!r} in profile {args.profile!r} (batches: "
                      f"{', '.join(sorted(batches(units)))})", file=sys.stderr)  # fmt: skip
                return 2
            out = args.out or sentinel(cfg["profile"], f"_batches/{args.batch}")
            rec = run_batch(units, args.batch, out, progress=args.progress)
            print(f"batch {args.batch}: {len(rec['units'])} units, {rec['computed']} computed, "
                  f"{rec['seconds']:.1f} s, peak {rec['peak_rss_mb']:.0f} MB -> {out}")  # fmt: skip
            return 0
        missing = [i for i in args.id if i not in units] or ([] if args.id else [None])
        if missing:
            print(f"error: no unit {missing[0]!r} in profile {args.profile!r} (see --list)",
                  file=sys.stderr)  # fmt: skip
            return 2
        if args.with_needs or len(args.id) > 1:
            from advlib.tools.units import run_units

            if args.out:
                print("error: --out names one unit's sentinel; give one id", file=sys.stderr)
                return 2
            t0 = time.perf_counter()
            if args.with_needs:
                recs = run_units(units, args.id, progress=args.progress)
            else:
                recs = [run_unit(units[i], sentinel(cfg["profile"], i), progress=args.progress)
                        for i in args.id]  # fmt: skip
            for rec in recs:
                print(f"{rec['id']}: {rec['computed']} computed, {rec['seconds']:.1f} s, "
                      f"peak {rec['peak_rss_mb']:.0f} MB")  # fmt: skip
            print(f"{len(recs)} units in {time.perf_counter() - t0:.1f} s")
            return 0
        (uid,) = args.id
        out = args.out or sentinel(cfg["profile"], uid)
        rec = run_unit(units[uid], out, progress=args.progress)
        n_read = len(rec["entries"]) - rec["computed"]
        print(f"{uid}: {rec['computed']} computed, {n_read} read, {rec['seconds']:.1f} s, "
              f"peak {rec['peak_rss_mb']:.0f} MB -> {out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
