"""Online fetcher of ERCOT annual reports, against a local HTTP server (no internet).

The served zips are built from the real native excerpts in tests/data/ercot_native: the NP4-180-ER
2021 fall-back excerpt as a ``DAMLZHBSPP_2021`` CSV member and the two NP4-181-ER 2016 excerpts
(byte-verbatim ERCOT lines) as a ``DAMASMCPC_2016`` CSV member.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import json
import shutil
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from dcpower.iso import ErcotAdapter, MarketDataError, MarketRequest
from dcpower.iso.fetch import DEFAULT_SOURCE, FetchSource, ensure_year, fetch_prices_for_study

ROOT = Path(__file__).resolve().parents[1]
NATIVE = ROOT / "tests" / "data" / "ercot_native"
SHIPPED = ROOT / "resources_data" / "ercot"
DAM_2021_FALL = NATIVE / "DAMLZHBSPP_2021_excerpt_2021-11-06_to_08_fall_back.csv"
AS_2016 = "rpt.00013091.0000000000000000.20170101080004.DAMASMCPC_2016_excerpt_{}.csv"
DAM_MEMBER = "rpt.00013060.0000000000000000.DAMLZHBSPP_2021.csv"
AS_MEMBER = "rpt.00013091.0000000000000000.20170101080004.DAMASMCPC_2016.csv"


def _zip(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, data)
    return buf.getvalue()


def _as_2016_csv() -> bytes:
    """ERCOT's 2016 AS lines: spring-forward then fall-back excerpt, one header."""
    spring = (NATIVE / AS_2016.format("spring_forward")).read_bytes().splitlines(keepends=True)
    fall = (NATIVE / AS_2016.format("fall_back")).read_bytes().splitlines(keepends=True)
    assert spring[0] == fall[0]
    return b"".join(spring + fall[1:])


class _Server:
    def __init__(self, root: Path, base: str, paths: list[str]):
        self.root, self.base, self.paths = root, base, paths

    def source(self) -> FetchSource:
        return FetchSource(
            dam_spp_url=f"{self.base}/DAMLZHBSPP_{{year}}.zip",
            as_mcpc_url=f"{self.base}/DAMASMCPC_{{year}}.zip",
            mis_download_url=f"{self.base}/docs/{{doc_id}}.zip",
        )


class _CountingHandler(SimpleHTTPRequestHandler):
    paths: list[str]

    def do_GET(self):  # noqa: N802 (http.server naming)
        self.paths.append(self.path)
        super().do_GET()

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "DAMLZHBSPP_2021.zip").write_bytes(_zip(DAM_MEMBER, DAM_2021_FALL.read_bytes()))
    (root / "DAMASMCPC_2016.zip").write_bytes(_zip(AS_MEMBER, _as_2016_csv()))
    paths: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"paths": paths})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield _Server(root, f"http://127.0.0.1:{httpd.server_address[1]}", paths)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    d = tmp_path / "ercot"
    d.mkdir()
    return d


def _request(data_dir: Path, start: str, end: str, **kw) -> MarketRequest:
    return MarketRequest(
        settlement_point=kw.pop("settlement_point", "HB_NORTH"),
        energy_market="dam",
        start_utc=pd.Timestamp(start),
        end_utc=pd.Timestamp(end),
        timestep_minutes=60,
        data_dir=data_dir,
        **kw,
    )


def test_download_parses_and_writes_tidy_with_checksum(server, data_dir):
    paths = ensure_year(
        2021, "hb_north", data_dir, allow_download=True, source=server.source(), reports=["dam_spp"]
    )
    assert paths == [data_dir / "dam_spp_hourly_2021.csv.gz"]
    assert server.paths == ["/DAMLZHBSPP_2021.zip"]
    zip_path = data_dir / "downloads" / "DAMLZHBSPP_2021.zip"
    served = (server.root / "DAMLZHBSPP_2021.zip").read_bytes()
    assert zip_path.read_bytes() == served
    sidecar = (data_dir / "downloads" / "DAMLZHBSPP_2021.zip.sha256").read_text()
    assert sidecar == f"{hashlib.sha256(served).hexdigest()}  DAMLZHBSPP_2021.zip\n"
    assert not [p for p in data_dir.rglob("*") if p.name.endswith(".tmp")]

    # same columns and, for these three days, the very rows of the shipped 2021 file
    tidy = pd.read_csv(paths[0], dtype=str)
    shipped = pd.read_csv(SHIPPED / "dam_spp_hourly_2021.csv.gz", dtype=str)
    assert list(tidy.columns) == list(shipped.columns)
    sub = shipped[shipped["interval_start_utc"].isin(tidy["interval_start_utc"])]
    pd.testing.assert_frame_equal(tidy, sub.reset_index(drop=True))
    assert len(tidy) == 15 * (24 + 25 + 24)
    fall = tidy[(tidy["delivery_date"] == "2021-11-07") & (tidy["hour_ending"] == "2")]
    assert fall["repeated_hour_flag"].value_counts().to_dict() == {"N": 15, "Y": 15}


def test_adapter_reads_downloaded_years_across_fall_back(server, data_dir):
    src = server.source()
    ensure_year(2021, "HB_NORTH", data_dir, allow_download=True, source=src, reports=["dam_spp"])
    adapter = ErcotAdapter()
    md = adapter.load_market_data(_request(data_dir, "2021-11-07T05:00Z", "2021-11-08T06:00Z"))
    e = md.energy_price_usd_per_mwh
    assert len(e) == 25  # operating day 2021-11-07: 25 hours
    assert e[pd.Timestamp("2021-11-07T06:00Z")] == 27.57  # HE 02:00 N (CDT)
    assert e[pd.Timestamp("2021-11-07T07:00Z")] == 28.59  # HE 02:00 Y (CST)
    assert md.provenance["files"][0]["path"] == str(data_dir / "dam_spp_hourly_2021.csv.gz")
    shipped = adapter.load_market_data(_request(SHIPPED, "2021-11-07T05:00Z", "2021-11-08T06:00Z"))
    pd.testing.assert_series_equal(e, shipped.energy_price_usd_per_mwh)
    assert "HB_NORTH" in adapter.settlement_points(data_dir)

    # AS 2016 next to a copy of the shipped DAM 2016 file: DAM is covered (no request), AS fetched
    shutil.copy(SHIPPED / "dam_spp_hourly_2016.csv.gz", data_dir)
    n_before = len(server.paths)
    out = fetch_prices_for_study([2016, 2016], "HB_HOUSTON", data_dir, True, src)
    assert out == {
        2016: [data_dir / "dam_spp_hourly_2016.csv.gz", data_dir / "as_mcpc_hourly_2016.csv.gz"]
    }
    assert server.paths[n_before:] == ["/DAMASMCPC_2016.zip"]
    req = _request(
        data_dir,
        "2016-11-06T05:00Z",
        "2016-11-07T06:00Z",
        settlement_point="HB_HOUSTON",
        reserve_products=("RRS", "REGUP", "REGDN", "NSPIN"),
    )
    md = adapter.load_market_data(req)
    r = md.reserve_price_usd_per_mw_h
    assert len(r) == 25 and len(md.energy_price_usd_per_mwh) == 25
    assert r["RRS"].tolist()[1:3] == [10.0, 15.0]  # HE 02:00 N, then Y
    assert r.loc[pd.Timestamp("2016-11-06T07:00Z"), "NSPIN"] == 1.48
    # same prices as the shipped full-year AS file
    full = adapter.load_market_data(
        _request(
            SHIPPED,
            "2016-11-06T05:00Z",
            "2016-11-07T06:00Z",
            settlement_point="HB_HOUSTON",
            reserve_products=("RRS", "REGUP", "REGDN", "NSPIN"),
        )
    )
    pd.testing.assert_frame_equal(r, full.reserve_price_usd_per_mw_h)
    # spring-forward day from the same download: 23 hours
    spring = adapter.load_market_data(
        _request(
            data_dir,
            "2016-03-13T06:00Z",
            "2016-03-14T05:00Z",
            settlement_point="HB_HOUSTON",
            reserve_products=("REGUP",),
        )
    )
    assert len(spring.reserve_price_usd_per_mw_h) == 23


def test_second_call_uses_cache_without_http(server, data_dir):
    src = server.source()
    kw = dict(allow_download=True, source=src, reports=["as_mcpc"])
    first = ensure_year(2016, "HB_NORTH", data_dir, **kw)
    tidy_bytes = first[0].read_bytes()
    assert ensure_year(2016, "HB_NORTH", data_dir, **kw) == first
    assert server.paths == ["/DAMASMCPC_2016.zip"]
    # tidy file gone, zip cached: rebuilt from the verified zip, byte-identical, still no request
    first[0].unlink()
    assert ensure_year(2016, "HB_WEST", data_dir, **{**kw, "allow_download": False}) == first
    assert first[0].read_bytes() == tidy_bytes
    assert server.paths == ["/DAMASMCPC_2016.zip"]


def test_offline_names_year_shipped_files_and_config_key(server, data_dir):
    shutil.copy(SHIPPED / "as_mcpc_hourly_2023_07.csv.gz", data_dir)
    with pytest.raises(MarketDataError) as exc:
        ensure_year(2023, "HB_NORTH", data_dir, allow_download=False, source=server.source())
    msg = str(exc.value)
    assert "2023" in msg and "market.allow_download: true" in msg
    assert "DAMLZHBSPP_2023.zip" in msg and "settlement point prices files: none" in msg
    with pytest.raises(MarketDataError, match="as_mcpc_hourly_2023_07.csv.gz"):
        ensure_year(
            2023,
            "HB_NORTH",
            data_dir,
            allow_download=False,
            source=server.source(),
            reports=["as_mcpc"],
        )
    assert server.paths == []


def test_http_404_names_url(server, data_dir):
    url = f"{server.base}/DAMLZHBSPP_2019.zip"
    with pytest.raises(MarketDataError, match=rf"{url} answered HTTP 404"):
        ensure_year(2019, "HB_NORTH", data_dir, allow_download=True, source=server.source())
    assert not (data_dir / "downloads" / "DAMLZHBSPP_2019.zip").exists()
    assert not (data_dir / "dam_spp_hourly_2019.csv.gz").exists()


def test_corrupt_cached_zip_raises(server, data_dir):
    kw = dict(allow_download=True, source=server.source(), reports=["dam_spp"])
    (tidy,) = ensure_year(2021, "HB_NORTH", data_dir, **kw)
    tidy.unlink()
    zip_path = data_dir / "downloads" / "DAMLZHBSPP_2021.zip"
    blob = bytearray(zip_path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    zip_path.write_bytes(bytes(blob))
    with pytest.raises(
        MarketDataError, match=r"corrupt or was changed.*Delete .*DAMLZHBSPP_2021\.zip"
    ):
        ensure_year(2021, "HB_NORTH", data_dir, **kw)
    assert server.paths == ["/DAMLZHBSPP_2021.zip"]
    assert not tidy.exists()


def test_wrong_year_and_unknown_point(server, data_dir):
    # a "2022" report that holds 2021 operating days is refused and nothing tidy is written
    shutil.copy(server.root / "DAMLZHBSPP_2021.zip", server.root / "DAMLZHBSPP_2022.zip")
    kw = dict(allow_download=True, source=server.source(), reports=["dam_spp"])
    with pytest.raises(MarketDataError, match="outside 2022"):
        ensure_year(2022, "HB_NORTH", data_dir, **kw)
    assert not (data_dir / "dam_spp_hourly_2022.csv.gz").exists()
    with pytest.raises(MarketDataError, match=r"'HB_NOWHERE' has no prices.*HB_WEST"):
        ensure_year(2021, "HB_NOWHERE", data_dir, **kw)


@pytest.mark.parametrize("bad", ["wrong year", "not a zip", "zip without a report"])
def test_bad_download_is_validated_before_it_is_cached(server, data_dir, bad):
    """A bad answer is never stored under the year's name; offline runs then say "not
    shipped" (not "check the URL"), and the right report downloads normally afterwards."""
    served = server.root / "DAMLZHBSPP_2022.zip"
    if bad == "wrong year":
        shutil.copy(server.root / "DAMLZHBSPP_2021.zip", served)
    elif bad == "not a zip":
        served.write_bytes(b"<html>maintenance</html>")
    else:
        served.write_bytes(_zip("readme.txt", b"hello"))
    kw = dict(source=server.source(), reports=["dam_spp"])
    with pytest.raises(MarketDataError, match="(?i)nothing was cached|no CSV or xlsx"):
        ensure_year(2022, "HB_NORTH", data_dir, allow_download=True, **kw)
    cached = data_dir / "downloads" / "DAMLZHBSPP_2022.zip"
    assert not cached.exists() and not cached.with_name(cached.name + ".sha256").exists()
    with pytest.raises(MarketDataError, match="is not shipped"):
        ensure_year(2022, "HB_NORTH", data_dir, allow_download=False, **kw)
    assert ensure_year(2021, "HB_NORTH", data_dir, allow_download=True, **kw)


def test_bad_cached_zip_is_named_with_how_to_remove_it(server, data_dir):
    """A wrong-year zip cached (with its checksum) by an older version: the error names it and
    the command that removes it."""
    data = (server.root / "DAMLZHBSPP_2021.zip").read_bytes()
    cached = data_dir / "downloads" / "DAMLZHBSPP_2022.zip"
    cached.parent.mkdir()
    cached.write_bytes(data)
    sidecar = cached.with_name(cached.name + ".sha256")
    sidecar.write_text(f"{hashlib.sha256(data).hexdigest()}  {cached.name}\n")
    with pytest.raises(MarketDataError) as err:
        ensure_year(2022, "HB_NORTH", data_dir, allow_download=False, reports=["dam_spp"])
    msg = str(err.value)
    assert "outside 2022" in msg and f"rm '{cached}' '{sidecar}'" in msg
    assert "URL" not in msg


def test_mis_document_list_resolution(server, data_dir):
    """A ``#doc=`` template reads ERCOT's MIS JSON list and fetches the newest matching DocID."""
    (server.root / "docs").mkdir()
    shutil.copy(server.root / "DAMASMCPC_2016.zip", server.root / "docs" / "222.zip")

    def doc(doc_id: str, name: str, published: str) -> dict:
        constructed = f"rpt.00013091.0000000000000000.{name}.zip"
        return {
            "Document": {
                "DocID": doc_id,
                "FriendlyName": name,
                "ConstructedName": constructed,
                "PublishDate": published,
            }
        }

    docs = [
        doc("333", "DAMASMCPC_2017", "2018-01-01T02:00:04-06:00"),
        doc("222", "DAMASMCPC_2016", "2017-01-01T02:00:04-06:00"),  # newest 2016 copy
        doc("111", "DAMASMCPC_2016", "2016-12-25T02:00:04-06:00"),
    ]
    listing = {"ListDocsByRptTypeRes": {"DocumentList": docs}}
    (server.root / "list13091.json").write_text(json.dumps(listing))
    src = FetchSource(
        dam_spp_url=f"{server.base}/list13060.json#doc=DAMLZHBSPP_{{year}}",
        as_mcpc_url=f"{server.base}/list13091.json#doc=DAMASMCPC_{{year}}",
        mis_download_url=f"{server.base}/docs/{{doc_id}}.zip",
    )
    paths = ensure_year(
        2016, "HB_NORTH", data_dir, allow_download=True, source=src, reports=["as_mcpc"]
    )
    assert paths == [data_dir / "as_mcpc_hourly_2016.csv.gz"]
    assert server.paths == ["/list13091.json", "/docs/222.zip"]  # fragment never sent
    with pytest.raises(MarketDataError, match=r"lists no document 'DAMASMCPC_2015'"):
        ensure_year(
            2015, "HB_NORTH", data_dir, allow_download=True, source=src, reports=["as_mcpc"]
        )
    # the default source uses the same mechanism on ERCOT's MIS
    assert DEFAULT_SOURCE.dam_spp_url.endswith("reportTypeId=13060#doc=DAMLZHBSPP_{year}")
    assert DEFAULT_SOURCE.as_mcpc_url.endswith("reportTypeId=13091#doc=DAMASMCPC_{year}")
    assert "mirDownload?doclookupId={doc_id}" in DEFAULT_SOURCE.mis_download_url


@pytest.mark.skipif(importlib.util.find_spec("openpyxl") is not None, reason="openpyxl installed")
def test_xlsx_member_without_openpyxl_says_so(server, data_dir):
    (server.root / "DAMLZHBSPP_2020.zip").write_bytes(
        _zip("rpt.00013060.0000000000000000.DAMLZHBSPP_2020.xlsx", b"PK not really a workbook")
    )
    with pytest.raises(MarketDataError, match=r"openpyxl, which is not installed.*only CSV"):
        ensure_year(2020, "HB_NORTH", data_dir, allow_download=True, source=server.source())


def test_argument_checks(data_dir):
    with pytest.raises(MarketDataError, match="not a calendar year"):
        ensure_year("2021", "HB_NORTH", data_dir, allow_download=False)  # type: ignore[arg-type]
    with pytest.raises(MarketDataError, match="subset of"):
        ensure_year(2021, "HB_NORTH", data_dir, allow_download=False, reports=["rtm"])
    bad = FetchSource(dam_spp_url="http://127.0.0.1:9/DAMLZHBSPP.zip", as_mcpc_url="x{year}")
    with pytest.raises(MarketDataError, match=r"must contain '\{year\}'"):
        ensure_year(2019, "HB_NORTH", data_dir, allow_download=True, source=bad)
