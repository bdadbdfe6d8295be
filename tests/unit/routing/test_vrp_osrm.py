"""The OSRM adapter against a fake server that speaks the real ``/table/v1`` protocol."""

from __future__ import annotations

import math
import socket
from dataclasses import replace

import httpx
import pytest

from tests.fakes.osrm import FakeOsrm, running
from wms.routing.vrp import (
    Depot,
    DistanceServiceFailed,
    HaversineMatrix,
    RoutingProblem,
    SolveParameters,
    Stop,
    make_matrix,
    solve,
)
from wms.routing.vrp.osrm import OsrmMatrix

from .vrp_builders import fleet

SHANGHAI = (31.23, 121.47)  # (lat, lon)
POINTS = [
    SHANGHAI,
    (31.30, 121.50),
    (31.10, 121.30),
    (31.25, 121.60),
    (31.40, 121.45),
    (31.18, 121.42),
    (31.28, 121.39),
]


def test_reads_kilometres_and_minutes_from_the_table() -> None:
    with running(FakeOsrm(speed_mps=10.0)) as fake:
        km, minutes = make_matrix(f"osrm:{fake.url}").table(POINTS)
    great_circle, _ = HaversineMatrix(road_factor=1.0).table(POINTS)
    assert km == pytest.approx(great_circle, abs=1e-3)
    assert minutes == pytest.approx(km * 1000 / 10 / 60)  # 10 m/s
    (request,) = fake.requests
    assert request.startswith("/table/v1/driving/121.470000,31.230000;121.500000,31.300000;")
    assert "annotations=duration%2Cdistance" in request


def test_asks_a_large_table_in_blocks_the_server_accepts() -> None:
    with running(FakeOsrm(max_table_size=3)) as fake:
        whole, _ = OsrmMatrix(fake.url, max_table_size=3).table(POINTS)
        with pytest.raises(DistanceServiceFailed, match="TooBig: Too many table coordinates"):
            OsrmMatrix(fake.url, max_table_size=10).table(POINTS)
    great_circle, _ = HaversineMatrix(road_factor=1.0).table(POINTS)
    assert whole == pytest.approx(great_circle, abs=1e-3)
    assert len(fake.requests) == 9 + 1  # 3 x 3 blocks, then the refused whole table


def test_an_unroutable_pair_is_infinite_and_its_stop_is_dropped() -> None:
    stops = [Stop("NEAR", (31.30, 121.50)), Stop("POLE", (89.5, 0.0))]
    with running(FakeOsrm(unroutable_north_of=89.0)) as fake:
        problem = RoutingProblem(
            (Depot("WH", SHANGHAI),),
            tuple(stops),
            tuple(replace(v, depot="WH") for v in fleet(1)),
            metric=f"osrm:{fake.url}",
        )
        km, _ = make_matrix(problem.metric).table([SHANGHAI, (89.5, 0.0)])
        result = solve(problem, SolveParameters(time_limit_seconds=0.5, iteration_limit=50))
    assert math.isinf(km[0, 1])
    assert [route.stops for route in result.routes] == [("NEAR",)]
    assert {d.stop: d.reason for d in result.dropped} == {"POLE": "no road joins it to a depot"}


def test_a_server_that_is_down_gives_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    matrix = OsrmMatrix(f"http://127.0.0.1:{port}", retries=0)
    with pytest.raises(
        DistanceServiceFailed, match=f"cannot reach OSRM at http://127.0.0.1:{port}"
    ):
        matrix.table(POINTS[:2])


def test_a_slow_server_times_out_with_a_clear_error() -> None:
    with running(FakeOsrm(delay_seconds=1.0)) as fake:
        matrix = OsrmMatrix(fake.url, timeout_seconds=0.2, retries=0)
        with pytest.raises(DistanceServiceFailed, match=r"did not answer within 0.2 s"):
            matrix.table(POINTS[:2])


def test_retries_a_server_error_once() -> None:
    with running(FakeOsrm(fail_times=1)) as fake:
        km, _ = OsrmMatrix(fake.url, retries=1).table(POINTS[:2])
        assert km[0, 1] > 0
        fake.fail_times = 2
        with pytest.raises(DistanceServiceFailed, match="failed with HTTP 503"):
            OsrmMatrix(fake.url, retries=1).table(POINTS[:2])


def test_a_refused_query_reports_the_osrm_code_and_message() -> None:
    with running() as fake:
        matrix = OsrmMatrix(fake.url, profile="driving/extra")
        with pytest.raises(DistanceServiceFailed, match="InvalidUrl: URL string malformed"):
            matrix.table(POINTS[:2])


def test_a_server_without_distances_still_gives_kilometres_from_durations() -> None:
    def durations_only(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": "Ok", "durations": [[0, 600], [600, 0]]})

    client = httpx.Client(transport=httpx.MockTransport(durations_only))
    km, minutes = OsrmMatrix("http://osrm", client=client).table(POINTS[:2])
    assert minutes[0, 1] == 10
    assert km[0, 1] == pytest.approx(10 / 60 * 40)  # the default 40 km/h


def test_a_reply_that_is_not_a_table_is_refused() -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200, text="hi")))
    with pytest.raises(DistanceServiceFailed, match="without a JSON table"):
        OsrmMatrix("http://osrm", client=client).table(POINTS[:2])
