"""Command line: ``python -m advlib <command>`` (or ``advlib <command>`` once installed).

Commands
--------
profile NAME        validate a profile and list its data sets and victims
victims             list the victim registry with paper sizes
datasets            list the data-set registry (source, licence, protocol)
fetch NAME [ROOT]   download, verify (sha256) and safely extract a real data set
device [--device D] check the device the pages would train on (cpu, cuda, cuda:N, mps)
page PAGE [-o OUT] [--profile P] [--dataset D] [--set KEY=VALUE ...]
                    re-execute one page of the book with the profile's parameters, changed by
                    each --set (``--set uap.n_eval=50 --set seed=1``)

A mistake (a misspelt argument, an unknown page, profile or data set, a bad ``--set``, a
missing file) prints one line ``error: ...`` to stderr and exits with status 2; ``--debug``
(anywhere on the line) shows the full traceback instead.
"""

from __future__ import annotations

import sys

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
        "root", nargs="?", default=None, help="downloads folder (default data/downloads)"
    )
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
        from advlib.paths import data_dir

        root = args.root or data_dir() / "downloads"
        path = fetch(args.name, root)
        print(f"{args.name}: ready in {path}")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
