"""Run every benchmark in bench/ (``make bench``)."""
import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if not names:
        print("Aucun benchmark.")
        return 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}: {module.__doc__.strip().splitlines()[0]}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
