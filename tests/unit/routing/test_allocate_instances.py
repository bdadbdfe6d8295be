"""Reading instance directories in the shared format, and refusing anything else in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.routing.allocate_builders import small_instance, write_instance
from wms.errors import ValidationFailed
from wms.routing.allocate import BatchParameters, Penalties, read_instance, solve


def test_an_instance_reads_into_lines_in_file_order(tmp_path: Path) -> None:
    instance = read_instance(small_instance(tmp_path / "small"))
    problem = instance.problem
    assert instance.name == "small"
    assert instance.warehouse_ids == (0, 1)
    assert instance.order_ids == (10, 11, 12)
    assert instance.skus == ("A", "B")
    assert problem.order.tolist() == [0, 0, 1, 2]
    assert problem.sku.tolist() == [0, 1, 0, 1]
    assert problem.qty.tolist() == [2, 1, 3, 4]
    assert problem.unit_cost.tolist() == [[255, 455], [255, 455], [455, 255], [355, 355]]
    assert problem.stock.tolist() == [[2, 1], [3, 2]]
    assert problem.penalties == Penalties(500, 300, 10_000)  # an order has two lines


def test_the_small_instance_has_the_optimum_worked_out_by_hand(tmp_path: Path) -> None:
    result = solve(read_instance(small_instance(tmp_path)).problem, BatchParameters(time_limit=2))
    # Order 10 whole from 0: 2*255 + 255 + 500; order 11 from 1: 3*255 + 500; 4 B nowhere.
    assert result.assignment.tolist() == [0, 0, 1, -1]
    assert result.cost == 1265 + 1265 + 40_000 == result.bound


def test_one_line_orders_pay_no_shipment_fees_as_in_the_readme(tmp_path: Path) -> None:
    root = write_instance(
        tmp_path,
        warehouses=[(3, 0.0, 0.0)],
        orders=[(0, 0, "A", 1, 0.0, 0.0), (1, 1, "A", 1, 0.0, 0.0)],
        stock=[(3, "A", 1)],
        unit_cost=[[250], [250]],
    )
    problem = read_instance(root).problem
    assert problem.penalties == Penalties(0, 0, 10_000)
    assert read_instance(root, penalties=Penalties(1, 2, 3)).problem.penalties == Penalties(1, 2, 3)


def test_without_a_cost_file_the_cost_model_prices_the_distance(tmp_path: Path) -> None:
    root = write_instance(
        tmp_path,
        warehouses=[(0, 0.0, 0.0), (1, 300.0, 400.0)],
        orders=[(0, 0, "A", 1, 0.0, 0.0)],
        stock=[(0, "A", 1)],
    )
    # d = 0 and 500 km: round(100 * (2 + 0.004 d + 0.5 * (1 + d / 400))).
    assert read_instance(root).problem.unit_cost.tolist() == [[250, 512]]


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="no such directory") as caught:
        read_instance(tmp_path / "nowhere")
    assert caught.value.field == "directory"


def test_a_directory_without_the_files_is_not_an_instance(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValidationFailed, match=r"is not an allocation instance: warehouses\.csv"):
        read_instance(tmp_path)


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("orders.csv", "order,sku,qty\n1,A,1\n", "missing column"),
        ("orders.csv", "order,line,sku,qty,x_km,y_km\n1,0,A,two,0,0\n", "'two' is not a whole"),
        ("orders.csv", "order,line,sku,qty,x_km,y_km\n1,0,A,0,0,0\n", "qty 0 is below 1"),
        ("orders.csv", "order,line,sku,qty,x_km,y_km\n", "no order lines"),
        ("stock.csv", "warehouse,sku,qty\n7,A,1\n", "warehouse 7 is not in warehouses.csv"),
        ("stock.csv", "warehouse,sku,qty\n0,A,1\n0,A,2\n", "appears twice"),
        ("warehouses.csv", "warehouse,x_km,y_km\n0,north,0\n", "'north' is not a number"),
        ("unit_cost_cents.csv", "order,w0,w1\n10,1,1\n", "no unit costs for order 11"),
        ("unit_cost_cents.csv", "order,w0\n10,1\n", "no value for w1"),
        ("orders.csv", b"\xff\xfe\x00bad", "cannot be read as CSV"),
    ],
)
def test_bad_files_are_refused_naming_the_file_and_the_fault(
    tmp_path: Path, file: str, content: str | bytes, message: str
) -> None:
    root = small_instance(tmp_path)
    if isinstance(content, bytes):
        (root / file).write_bytes(content)
    else:
        (root / file).write_text(content)
    with pytest.raises(ValidationFailed, match=message) as caught:
        read_instance(root)
    assert file in caught.value.message
    assert "\n" not in caught.value.message
