"""Run every benchmark (or those producing one named figure); print `name: value unit` lines.

python bench/run.py                       # all
python bench/run.py case_lifecycle_per_s  # the benchmark that produces this figure
"""

from __future__ import annotations

import importlib
import json
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import REGISTRY  # noqa: E402


def _load_all() -> None:
    for path in sorted(HERE.glob("bench_*.py")):
        importlib.import_module(path.stem)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        _load_all()
        print(json.dumps(REGISTRY[argv[1]][1]()), flush=True)
        return 0
    _load_all()
    wanted = argv[0] if argv else None
    selected = [key for key, (names, _) in REGISTRY.items() if wanted is None or wanted in names]
    if not selected:
        print(
            f"no benchmark produces '{wanted}'; known: {sorted(n for ns, _ in REGISTRY.values() for n in ns)}"
        )
        return 2
    failed = 0
    for key in selected:
        proc = subprocess.run(
            [sys.executable, str(HERE / "run.py"), "--child", key],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            failed += 1
            print(f"# {key} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        for name, (value, unit) in result.items():
            if wanted is None or wanted == name or wanted in REGISTRY[key][0]:
                shown = f"{value:.0f}" if isinstance(value, float) and value >= 100 else f"{value:g}"
                print(f"{name}: {shown} {unit}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
