"""Shipped market data and the native test fixtures match their SHA256SUMS (sha256sum format)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUMS_FILES = (
    ROOT / "resources_data" / "ercot" / "SHA256SUMS",
    ROOT / "resources_data" / "ercot" / "tariffs" / "SHA256SUMS",
    ROOT / "resources_data" / "ercot" / "events" / "SHA256SUMS",
    ROOT / "tests" / "data" / "ercot_native" / "SHA256SUMS",
    ROOT / "resources_data" / "generic_example" / "SHA256SUMS",
    ROOT / "resources_data" / "sites" / "SHA256SUMS",
)


def _entries(sums: Path) -> list[tuple[str, str]]:
    """(hex digest, relative file name) per non-blank line of a ``sha256sum`` file."""
    out = []
    for n, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        assert sep and len(digest) == 64, f"{sums}:{n}: not '<sha256>  <file>': {line!r}"
        out.append((digest.lower(), name.lstrip("*")))
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.mark.parametrize("sums", SUMS_FILES, ids=lambda p: str(p.parent.relative_to(ROOT)))
def test_every_listed_file_exists_and_matches(sums):
    entries = _entries(sums)
    assert entries, f"{sums} lists no files"
    names = [name for _, name in entries]
    assert len(names) == len(set(names)), f"{sums} lists a file twice"
    missing = [name for name in names if not (sums.parent / name).is_file()]
    assert not missing, f"{sums} lists files that do not exist: {missing}"
    wrong = [name for digest, name in entries if _sha256(sums.parent / name) != digest]
    assert not wrong, f"checksum mismatch in {sums.parent}: {wrong}"


@pytest.mark.parametrize("sums", SUMS_FILES, ids=lambda p: str(p.parent.relative_to(ROOT)))
def test_every_shipped_data_file_is_listed(sums):
    # data files only (a subfolder such as tariffs/ keeps its own checksums)
    listed = {name for _, name in _entries(sums)}
    data = {
        p.name
        for p in sums.parent.iterdir()
        if p.is_file() and p.name.endswith((".csv", ".csv.gz", ".parquet"))
    }
    assert data - listed == set(), f"{sums.parent}: files without a checksum: {data - listed}"


def test_ercot_shipped_years_and_modest_size():
    names = {name for _, name in _entries(SUMS_FILES[0])}
    for year in (2016, 2021, 2022, 2023, 2024):
        assert f"dam_spp_hourly_{year}.csv.gz" in names
    for year in (2016, 2022, 2023, 2024):
        assert f"as_mcpc_hourly_{year}.csv.gz" in names
    sizes = {n: (SUMS_FILES[0].parent / n).stat().st_size for n in names}
    assert max(sizes.values()) < 1_000_000, sizes  # each shipped file stays under 1 MB
